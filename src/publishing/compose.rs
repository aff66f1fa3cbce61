//! The [`Outgoing`] of one queued caption: its text, its feed's language, a link card from
//! its post (title, summary) and the post's image as the images worker stored it (fetched
//! through the guarded fetcher), scaled down when it is over what a network takes.

use std::io::Cursor;

use diesel::prelude::*;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;

use crate::accounts::UserId;
use crate::db::schema::{captions, feeds, post_images, posts, subscriptions};
use crate::db::AnyConnection;
use crate::desk::CaptionId;
use crate::publish::outgoing::{Image, LinkPreview, Outgoing};

/// Bluesky takes blobs of at most 1,000,000 bytes for a card thumbnail.
pub const MAX_THUMB_BYTES: usize = 1_000_000;
/// A card thumbnail is shown at most about 1,000 pixels wide; larger only costs bytes.
const MAX_THUMB_SIDE: u32 = 1_000;

type Row = (
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
);

/// The caption as it goes out; `None` when it is not the account's (or was deleted).
pub fn outgoing(
    conn: &mut AnyConnection,
    user: &UserId,
    caption_id: &CaptionId,
) -> QueryResult<Option<Outgoing>> {
    let row: Option<Row> = captions::table
        .inner_join(posts::table.inner_join(feeds::table))
        .inner_join(subscriptions::table)
        .filter(captions::user_id.eq(user.as_str()))
        .filter(captions::id.eq(caption_id))
        .select((
            captions::body,
            posts::id,
            posts::title,
            posts::url,
            posts::summary,
            feeds::language,
            subscriptions::language,
        ))
        .first(conn)
        .optional()?;
    let Some((text, post_id, title, url, summary, feed_language, chosen_language)) = row else {
        return Ok(None);
    };
    // The subscriber's choice for the feed, else what the feed says it is written in.
    let language = Some(chosen_language)
        .filter(|l| !l.trim().is_empty())
        .or(feed_language.filter(|l| !l.trim().is_empty()));
    let stored: Option<(Option<String>, Option<Vec<u8>>)> = post_images::table
        .filter(post_images::post_id.eq(&post_id))
        .select((post_images::content_type, post_images::data))
        .first(conn)
        .optional()?;
    let image = match stored {
        Some((Some(mime), Some(bytes))) => fitted(bytes, mime).map(|(bytes, mime)| Image {
            bytes,
            mime,
            alt: title.clone(),
        }),
        _ => None,
    };
    let media_id = crate::queue::outcomes::kept_media(conn, caption_id)?;
    Ok(Some(Outgoing {
        caption_id: caption_id.to_string(),
        text,
        language,
        link: url.map(|url| LinkPreview {
            url,
            title,
            description: summary,
        }),
        image,
        media_id,
    }))
}

/// The image as it can be sent: as it is when small enough, else scaled down and encoded
/// as JPEG until it fits. `None` when it cannot be read or made small enough: the card
/// then goes without a thumbnail rather than the caption waiting.
pub fn fitted(bytes: Vec<u8>, mime: String) -> Option<(Vec<u8>, String)> {
    if bytes.len() <= MAX_THUMB_BYTES {
        return Some((bytes, mime));
    }
    let decoded = image::load_from_memory(&bytes).ok()?;
    let mut side = MAX_THUMB_SIDE;
    for quality in [85u8, 70, 55, 40] {
        let scaled = decoded.resize(side, side, FilterType::Triangle).to_rgb8();
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(Cursor::new(&mut out), quality)
            .encode_image(&scaled)
            .ok()?;
        if out.len() <= MAX_THUMB_BYTES {
            return Some((out, "image/jpeg".to_string()));
        }
        side = side * 3 / 4;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb};

    fn noisy_png(side: u32) -> Vec<u8> {
        // Noise does not compress, so the PNG is large.
        let mut seed = 0x2545_f491_u32;
        let img = ImageBuffer::from_fn(side, side, |_, _| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let [r, g, b, _] = seed.to_le_bytes();
            Rgb([r, g, b])
        });
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn an_image_over_a_megabyte_is_scaled_down_under_it_and_a_small_one_is_kept() {
        let big = noisy_png(1200);
        assert!(big.len() > MAX_THUMB_BYTES, "{}", big.len());
        let (bytes, mime) = fitted(big, "image/png".into()).expect("fitted");
        assert!(bytes.len() <= MAX_THUMB_BYTES, "{}", bytes.len());
        assert_eq!(mime, "image/jpeg");
        let read = image::load_from_memory(&bytes).expect("a readable JPEG");
        assert!(read.width() <= MAX_THUMB_SIDE && read.height() <= MAX_THUMB_SIDE);

        let small = noisy_png(20);
        let kept = fitted(small.clone(), "image/png".into()).expect("kept");
        assert_eq!(kept, (small, "image/png".to_string()));
    }

    #[test]
    fn an_unreadable_large_image_is_left_out() {
        assert_eq!(
            fitted(vec![0u8; MAX_THUMB_BYTES + 1], "image/png".into()),
            None
        );
    }
}
