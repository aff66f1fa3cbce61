//! Captions for a feed nobody follows yet, with the default templates: what the landing
//! page, `POST /api/v1/preview` and `captionfeed preview` show. Nothing is stored.
//!
//! Every request goes through the guarded [`Fetcher`] (each redirect hop and each feed a
//! page names included), so a preview reaches no more than a subscription would.

use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use crate::captions::{generate, Caption, Platform, PostView};
use crate::feeds::discover::{feeds_of_page, looks_like_html};
use crate::feeds::{parse_feed, FetchError, FetchOutcome, Fetcher, ParsedFeed, Validators};

/// How long a whole preview (page, its feed, the feed itself) may take: someone waits on it.
pub const PREVIEW_BUDGET: Duration = Duration::from_secs(20);

/// How many posts the landing page and the API show by default.
pub const PREVIEW_POSTS: usize = 3;

/// A post and the captions each platform would get.
#[derive(Debug, Clone)]
pub struct PostPreview {
    pub title: String,
    pub url: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub captions: Vec<Caption>,
}

#[derive(Debug, Clone)]
pub struct FeedPreview {
    /// The feed's address: the one typed, or the one the typed page named.
    pub feed_url: Url,
    pub title: Option<String>,
    pub posts: Vec<PostPreview>,
}

/// Why there is no preview; `Display` is a sentence for the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("that address is not on the public internet, so captionfeed will not fetch it ({0})")]
    Refused(String),
    #[error("could not read {url}: {error}")]
    Unreachable { url: String, error: FetchError },
    #[error("{0}")]
    NotAFeed(String),
    #[error("this page names no RSS, Atom or JSON feed, and none was found at the usual addresses; enter the feed's address")]
    NoFeedFound,
    #[error("the site took longer than {} seconds to answer", PREVIEW_BUDGET.as_secs())]
    TooSlow,
}

/// The feed at `url` (or the first feed the page at `url` names) with its newest `newest`
/// posts captioned for `platforms`, within [`PREVIEW_BUDGET`].
pub async fn preview(
    fetcher: &Fetcher,
    url: &Url,
    platforms: &[Platform],
    newest: usize,
) -> Result<FeedPreview, PreviewError> {
    let (parsed, feed_url) = tokio::time::timeout(PREVIEW_BUDGET, load_feed(fetcher, url))
        .await
        .map_err(|_| PreviewError::TooSlow)??;
    Ok(FeedPreview {
        posts: caption_posts(&parsed, platforms, Some(newest)),
        title: parsed.title,
        feed_url,
    })
}

/// Fetches and parses the feed at `url`; when `url` is an HTML page, the first feed it
/// names (or one found at the common paths). Returns the feed and its address.
pub async fn load_feed(fetcher: &Fetcher, url: &Url) -> Result<(ParsedFeed, Url), PreviewError> {
    let (body, final_url) = fetch(fetcher, url).await?;
    match parse_feed(&body, Some(&final_url)) {
        Ok(parsed) => Ok((parsed, url.clone())),
        Err(e) if !looks_like_html(&body) => Err(PreviewError::NotAFeed(e.to_string())),
        Err(_) => {
            let candidates = feeds_of_page(fetcher, &body, &final_url).await;
            let first = candidates.first().ok_or(PreviewError::NoFeedFound)?;
            let feed_url = Url::parse(&first.url).map_err(|_| PreviewError::NoFeedFound)?;
            let (body, final_url) = fetch(fetcher, &feed_url).await?;
            parse_feed(&body, Some(&final_url))
                .map(|parsed| (parsed, feed_url))
                .map_err(|e| PreviewError::NotAFeed(e.to_string()))
        }
    }
}

async fn fetch(fetcher: &Fetcher, url: &Url) -> Result<(bytes::Bytes, Url), PreviewError> {
    match fetcher.fetch(url.as_str(), &Validators::default()).await {
        Ok(FetchOutcome::Fetched {
            body, final_url, ..
        }) => Ok((body, final_url)),
        Ok(FetchOutcome::NotModified) => Err(PreviewError::Unreachable {
            url: url.to_string(),
            error: FetchError::Other(
                "the server answered 304 Not Modified to an unconditional request".into(),
            ),
        }),
        Err(FetchError::Refused(why)) => Err(PreviewError::Refused(why)),
        Err(error) => Err(PreviewError::Unreachable {
            url: url.to_string(),
            error,
        }),
    }
}

/// The captions of a parsed feed's posts: all of them in the feed's order, or only the
/// `newest` n by publication date (undated ones last, then in the feed's order).
pub fn caption_posts(
    parsed: &ParsedFeed,
    platforms: &[Platform],
    newest: Option<usize>,
) -> Vec<PostPreview> {
    let mut entries: Vec<_> = parsed.entries.iter().collect();
    if let Some(n) = newest {
        // Stable: entries with equal dates keep the feed's order.
        entries.sort_by(|a, b| {
            b.published
                .is_some()
                .cmp(&a.published.is_some())
                .then(b.published.cmp(&a.published))
        });
        entries.truncate(n);
    }
    entries
        .into_iter()
        .map(|entry| {
            let post = PostView {
                title: entry.title.clone(),
                url: entry.url.clone(),
                summary: entry.summary.clone(),
                content_text: entry.content_text.clone(),
                author: entry.author.clone(),
                published: entry.published,
                categories: entry.categories.clone(),
                image_url: entry.image_url.clone(),
                feed_title: parsed.title.clone(),
                lead: entry.lead.clone(),
                title_from_text: entry.title_from_text,
                headings: entry.headings.clone(),
                angles: entry.angles.clone(),
            };
            PostPreview {
                captions: generate(&post, platforms),
                title: post.title,
                url: post.url,
                published: post.published,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(dates: &[Option<i64>]) -> ParsedFeed {
        let xml = format!(
            r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title><link>https://b.example/</link><description>d</description>{}</channel></rss>"#,
            dates
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let date = d
                        .and_then(|s| DateTime::from_timestamp(s, 0))
                        .map(|d| format!("<pubDate>{}</pubDate>", d.to_rfc2822()))
                        .unwrap_or_default();
                    format!("<item><guid>p{i}</guid><title>Post {i}</title><link>https://b.example/{i}</link>{date}</item>")
                })
                .collect::<String>()
        );
        parse_feed(xml.as_bytes(), None).unwrap()
    }

    #[test]
    fn the_newest_posts_come_first_and_undated_ones_last() {
        let parsed = feed(&[
            None,
            Some(1_700_000_000),
            Some(1_800_000_000),
            Some(1_600_000_000),
        ]);
        let titles = |n| {
            caption_posts(&parsed, &[Platform::X], n)
                .into_iter()
                .map(|p| p.title)
                .collect::<Vec<_>>()
        };
        assert_eq!(titles(Some(3)), ["Post 2", "Post 1", "Post 3"]);
        assert_eq!(titles(None), ["Post 0", "Post 1", "Post 2", "Post 3"]);
    }

    #[test]
    fn each_post_gets_one_caption_per_platform_within_its_limit() {
        let posts = caption_posts(&feed(&[Some(1_700_000_000)]), &Platform::ALL, Some(3));
        assert_eq!(posts.len(), 1);
        let platforms: Vec<Platform> = posts[0].captions.iter().map(|c| c.platform).collect();
        assert_eq!(platforms, Platform::ALL);
        for caption in &posts[0].captions {
            assert!(caption.text.contains("Post 0"), "{caption:?}");
            assert!(caption.length <= caption.limit);
        }
    }
}
