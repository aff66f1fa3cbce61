//! A caption published as a status (methods/statuses, methods/media).
//!
//! Exactly once: the status carries an `Idempotency-Key` made from the caption's id, and the
//! instance answers a repeat within the hour with the status it already made instead of a
//! second one. That covers a crash between sending and recording; a caption retried later
//! than that is the worker's to have recorded.
//!
//! An image is uploaded once per caption: the caller keeps the media id an upload gave
//! ([`publish_keeping_media`]) and a retry attaches that media again, uploading anew only
//! when the instance no longer has it (it removes unattached media after a while).

use std::time::Duration;

use serde_json::{json, Value};

use super::client::{Client, MastodonError};
use crate::publish::outgoing::{Image, Outgoing, PublishError, Published};

/// The waits between looks at an image still being processed (206): about 16 seconds in
/// all, then the caption is retried later rather than holding a worker.
pub const MEDIA_POLLS: [Duration; 7] = [
    Duration::from_millis(200),
    Duration::from_millis(400),
    Duration::from_millis(800),
    Duration::from_millis(1600),
    Duration::from_millis(3200),
    Duration::from_secs(5),
    Duration::from_secs(5),
];

/// Mastodon's default `description_limit`; a longer alt text is refused with the upload.
const DESCRIPTION_LIMIT: usize = 1500;

/// The key that makes a caption's status unique on its instance.
pub fn idempotency_key(caption_id: &str) -> String {
    format!("captionfeed-caption-{caption_id}")
}

/// Publishes `out` on the instance at `service_url` (its origin) with the account's token.
pub async fn publish(
    client: &Client,
    service_url: &str,
    token: &str,
    out: &Outgoing,
) -> Result<Published, PublishError> {
    publish_keeping_media(client, service_url, token, out, &mut None).await
}

/// As [`publish`]; `uploaded` is set to the id of an image this try uploaded, whatever
/// happens after, for the caller to keep with the caption (`out.media_id` on its retry).
pub async fn publish_keeping_media(
    client: &Client,
    service_url: &str,
    token: &str,
    out: &Outgoing,
    uploaded: &mut Option<String>,
) -> Result<Published, PublishError> {
    Ok(post_status(client, service_url, token, out, uploaded).await?)
}

async fn post_status(
    client: &Client,
    origin: &str,
    token: &str,
    out: &Outgoing,
    uploaded: &mut Option<String>,
) -> Result<Published, MastodonError> {
    let media_ids = match &out.image {
        Some(image) => {
            let kept = out.media_id.as_deref();
            vec![media_for(client, origin, token, image, kept, uploaded).await?]
        }
        None => Vec::new(),
    };
    let mut status = json!({"status": out.text, "media_ids": media_ids});
    // Mastodon takes ISO 639 language codes, without a region.
    if let Some(language) = out.language.as_deref().and_then(|l| l.split('-').next()) {
        if !language.is_empty() {
            status["language"] = json!(language.to_ascii_lowercase());
        }
    }
    let url = client.url(origin, "/api/v1/statuses")?;
    let answer = client
        .send(
            client
                .post(url)
                .bearer_auth(token)
                .header("Idempotency-Key", idempotency_key(&out.caption_id))
                .json(&status),
        )
        .await?;
    published(&answer.body)
}

fn published(status: &Value) -> Result<Published, MastodonError> {
    let uri = status["uri"].as_str().unwrap_or_default();
    if uri.is_empty() {
        // Posted, probably, without an address to show: the same key finds it again.
        return Err(MastodonError::Retry {
            message: "the instance answered the status without its address".into(),
            retry_after: None,
        });
    }
    let web_url = status["url"]
        .as_str()
        .filter(|u| !u.is_empty())
        .unwrap_or(uri);
    Ok(Published {
        uri: uri.to_string(),
        web_url: web_url.to_string(),
    })
}

/// The media to attach: the one an earlier try uploaded when the instance still has it
/// (waiting, as after an upload, while it is processed), else the image uploaded now.
async fn media_for(
    client: &Client,
    origin: &str,
    token: &str,
    image: &Image,
    kept: Option<&str>,
    uploaded: &mut Option<String>,
) -> Result<String, MastodonError> {
    if let Some(id) = kept {
        let url = client.url(origin, &format!("/api/v1/media/{id}"))?;
        match client.send(client.get(url).bearer_auth(token)).await {
            Ok(answer) if answer.status == 200 => return Ok(id.to_string()),
            Ok(_) => return processed(client, origin, token, id).await,
            // Gone (404): removed by the instance since; uploaded again below.
            Err(MastodonError::Refused { status: 404, .. }) => {}
            Err(other) => return Err(other),
        }
    }
    let (id, ready) = upload_image(client, origin, token, image).await?;
    *uploaded = Some(id.clone());
    if ready {
        return Ok(id);
    }
    processed(client, origin, token, &id).await
}

/// Waits, a bounded while, until the instance has processed the media `id` (206 while it
/// works on it): a status refuses media still processing.
async fn processed(
    client: &Client,
    origin: &str,
    token: &str,
    id: &str,
) -> Result<String, MastodonError> {
    let path = format!("/api/v1/media/{id}");
    for wait in MEDIA_POLLS {
        tokio::time::sleep(wait).await;
        let url = client.url(origin, &path)?;
        let answer = client.send(client.get(url).bearer_auth(token)).await?;
        if answer.status == 200 {
            return Ok(id.to_string());
        }
    }
    Err(MastodonError::Retry {
        message: "the instance is still processing the image".into(),
        retry_after: Some(60),
    })
}

/// Uploads the image (POST /api/v2/media); its id, whether or not it is processed yet.
async fn upload_image(
    client: &Client,
    origin: &str,
    token: &str,
    image: &Image,
) -> Result<(String, bool), MastodonError> {
    let extension = image.mime.rsplit('/').next().unwrap_or("bin");
    let file = reqwest::multipart::Part::bytes(image.bytes.clone())
        .file_name(format!("image.{extension}"))
        .mime_str(&image.mime)
        .map_err(|_| MastodonError::Refused {
            status: 0,
            message: format!("the image's type {} is not a media type", image.mime),
        })?;
    let description: String = image.alt.chars().take(DESCRIPTION_LIMIT).collect();
    let form = reqwest::multipart::Form::new()
        .part("file", file)
        .text("description", description);
    let url = client.url(origin, "/api/v2/media")?;
    let answer = client
        .send(client.post(url).bearer_auth(token).multipart(form))
        .await?;
    let id = answer.body["id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .ok_or_else(|| MastodonError::Retry {
            message: "the instance took the image without an id".into(),
            retry_after: None,
        })?;
    // 200: processed at once (small images, Mastodon 4.0 and later); 202: not yet.
    Ok((id, answer.status != 202))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_captions_and_stable() {
        assert_eq!(
            idempotency_key("0193a1b2c3d4"),
            idempotency_key("0193a1b2c3d4")
        );
        assert_ne!(idempotency_key("a"), idempotency_key("b"));
    }

    #[test]
    fn a_status_is_known_by_its_uri_and_shown_by_its_url() {
        let status = json!({"uri": "https://m.example/users/ann/statuses/1", "url": "https://m.example/@ann/1"});
        assert_eq!(
            published(&status),
            Ok(Published {
                uri: "https://m.example/users/ann/statuses/1".into(),
                web_url: "https://m.example/@ann/1".into()
            })
        );
        assert!(matches!(
            published(&json!({})),
            Err(MastodonError::Retry { .. })
        ));
    }
}
