//! A digest as a message: plain-text and HTML parts from askama templates, grouped by
//! post. Feed text reaches headers only through [`header_safe`], and the HTML part only
//! through askama's escaping.

use askama::Template;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;

use super::outbox::{Digest, DigestCaption};
use super::DigestError;
use crate::captions::composer::{self, ComposerLink};
use crate::captions::Platform;
use crate::desk::CaptionId;
use crate::queue::links::{self as queue_links, LinkAction};
use chrono_tz::Tz;

pub struct CaptionBlock {
    pub caption_id: CaptionId,
    /// The desk's order of platforms (unknown ones last).
    pub order: usize,
    pub platform: String,
    pub platform_id: Option<Platform>,
    /// The post's address, which link-only composers share when the caption has none.
    pub post_url: Option<String>,
    /// The variant's label, for any but the default one: two captions of one platform
    /// are told apart by it.
    pub variant: Option<String>,
    pub text: String,
    pub length: i32,
    pub limit: i32,
    /// In today's queue: the caption is queued, and its links can take it out.
    pub queued: bool,
}

/// What the signed approve / skip / snooze links of a digest are made with.
pub struct ReviewLinks<'a> {
    pub base_url: &'a url::Url,
    pub key: &'a [u8],
    /// Unix seconds after which the links are refused.
    pub expires: i64,
}

impl CaptionBlock {
    /// (label, address) of this caption's signed queue links.
    pub fn review_links(&self, links: &ReviewLinks<'_>) -> Vec<(&'static str, String)> {
        LinkAction::ALL
            .into_iter()
            .map(|action| {
                let path = if self.queued {
                    queue_links::path_queued(links.key, &self.caption_id, action, links.expires)
                } else {
                    queue_links::path(links.key, &self.caption_id, action, links.expires)
                };
                let href = links
                    .base_url
                    .join(&path)
                    .map(|u| u.to_string())
                    .unwrap_or_else(|_| format!("{}{path}", links.base_url));
                (action.label(), href)
            })
            .collect()
    }

    /// The platform's compose box with this caption in it; `mastodon_chooser` is the
    /// absolute address of the page that asks for the reader's Mastodon instance.
    pub fn composer(&self, mastodon_chooser: &str) -> Option<ComposerLink> {
        if self.text.is_empty() {
            return None;
        }
        composer::link(
            self.platform_id?,
            &self.text,
            self.post_url.as_deref(),
            mastodon_chooser,
        )
    }
}

pub struct PostGroup {
    /// Opens the post on the desk: `{desk_url}?post={post_id}`.
    pub post_id: String,
    /// What follows the desk's address to show this group there: `?post=…` for a post,
    /// `?platform=…` for a platform of today's queue.
    pub desk_query: String,
    pub title: String,
    pub url: Option<String>,
    pub feed_title: String,
    pub captions: Vec<CaptionBlock>,
}

/// Groups captions by post, keeping the order the posts came in; each post's captions
/// in the desk's order of platforms (X first).
pub fn group(captions: Vec<DigestCaption>) -> Vec<PostGroup> {
    let mut groups: Vec<(String, PostGroup)> = Vec::new();
    for c in captions {
        let platform = c.platform.parse::<Platform>().ok();
        let block = CaptionBlock {
            caption_id: c.caption_id.clone(),
            order: platform
                .and_then(|p| Platform::ALL.iter().position(|q| *q == p))
                .unwrap_or(Platform::ALL.len()),
            platform: platform
                .map(|p| p.display_name().to_string())
                .unwrap_or_else(|| c.platform.clone()),
            platform_id: platform,
            post_url: c.post_url.clone(),
            variant: Some(c.variant)
                .filter(|v| v != crate::captions::DEFAULT_VARIANT)
                .map(|v| crate::captions::variant_label(&v).into_owned()),
            text: c.body,
            length: c.length,
            limit: c.char_limit,
            queued: false,
        };
        match groups.iter_mut().find(|(id, _)| *id == c.post_id) {
            Some((_, g)) => g.captions.push(block),
            None => groups.push((
                c.post_id.clone(),
                PostGroup {
                    desk_query: format!("?post={}", c.post_id),
                    post_id: c.post_id,
                    // Posts are stored with a title or a label made from their text; one
                    // with neither (no text, no address words) is named by its first
                    // caption's beginning.
                    title: if c.post_title.trim().is_empty() {
                        crate::feeds::normalize::fallback_title(&block.text)
                    } else {
                        c.post_title
                    },
                    url: c.post_url,
                    feed_title: c
                        .feed_title
                        .filter(|t| !t.trim().is_empty())
                        .unwrap_or(c.feed_url),
                    captions: vec![block],
                },
            )),
        }
    }
    let mut groups: Vec<PostGroup> = groups.into_iter().map(|(_, g)| g).collect();
    for g in &mut groups {
        // Stable: a platform's variants keep the order they came in.
        g.captions.sort_by_key(|c| c.order);
    }
    groups
}

/// Today's queue as a digest shows it: one group per platform (the desk's order), its
/// captions in time order, each labelled with its time in `zone` and its post's title.
pub fn group_queue(
    captions: Vec<(DigestCaption, chrono::NaiveDateTime)>,
    zone: Tz,
) -> Vec<PostGroup> {
    let mut groups: Vec<(usize, PostGroup)> = Vec::new();
    for (c, at) in captions {
        let platform = c.platform.parse::<Platform>().ok();
        let order = platform
            .and_then(|p| Platform::ALL.iter().position(|q| *q == p))
            .unwrap_or(Platform::ALL.len());
        let name = platform
            .map(|p| p.display_name().to_string())
            .unwrap_or_else(|| c.platform.clone());
        let title = if c.post_title.trim().is_empty() {
            crate::feeds::normalize::fallback_title(&c.body)
        } else {
            c.post_title.clone()
        };
        let block = CaptionBlock {
            caption_id: c.caption_id,
            order,
            platform: format!(
                "{} · {title}",
                at.and_utc().with_timezone(&zone).format("%H:%M")
            ),
            platform_id: platform,
            post_url: c.post_url,
            variant: None,
            text: c.body,
            length: c.length,
            limit: c.char_limit,
            queued: true,
        };
        match groups
            .iter_mut()
            .find(|(o, g)| *o == order && g.title == name)
        {
            Some((_, g)) => g.captions.push(block),
            None => groups.push((
                order,
                PostGroup {
                    post_id: String::new(),
                    desk_query: format!("?platform={}", c.platform),
                    title: name,
                    url: None,
                    feed_title: String::new(),
                    captions: vec![block],
                },
            )),
        }
    }
    groups.sort_by_key(|(order, _)| *order);
    groups
        .into_iter()
        .map(|(_, mut g)| {
            let n = g.captions.len();
            g.feed_title = format!("{n} caption{} today", if n == 1 { "" } else { "s" });
            g
        })
        .collect()
}

/// The most posts one message shows. A digest after a long pause (or from a very busy
/// account) would otherwise grow without bound, and mail servers refuse large messages;
/// the rest are on the desk, and the message says how many and where.
pub const MAX_POSTS_SHOWN: usize = 30;

#[derive(Template)]
#[template(path = "email/digest.txt")]
struct TextPart<'a> {
    summary: &'a str,
    posts: &'a [PostGroup],
    more: Option<&'a str>,
    desk_url: &'a str,
    settings_url: &'a str,
    unsubscribe_url: &'a str,
    mastodon_chooser: &'a str,
    review: Option<&'a ReviewLinks<'a>>,
}

#[derive(Template)]
#[template(path = "email/digest.html")]
struct HtmlPart<'a> {
    subject: &'a str,
    summary: &'a str,
    posts: &'a [PostGroup],
    more: Option<&'a str>,
    desk_url: &'a str,
    settings_url: &'a str,
    unsubscribe_url: &'a str,
    mastodon_chooser: &'a str,
    review: Option<&'a ReviewLinks<'a>>,
}

/// Feed text made fit for a header: control characters (CR and LF above all, which would
/// start a new header) become spaces, runs of space shrink, and it is cut to `max` characters.
pub fn header_safe(text: &str, max: usize) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let joined = words.join(" ");
    if joined.chars().count() <= max {
        joined
    } else {
        let mut cut: String = joined.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// The platforms of today's queue, in words: "Bluesky and Mastodon".
fn platform_names(groups: &[PostGroup]) -> String {
    let names: Vec<&str> = groups.iter().map(|g| g.title.as_str()).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The subject of a "today's queue" digest.
pub fn queue_subject(groups: &[PostGroup]) -> String {
    let captions: usize = groups.iter().map(|p| p.captions.len()).sum();
    header_safe(
        &format!(
            "Today's queue: {captions} caption{} on {}",
            if captions == 1 { "" } else { "s" },
            platform_names(groups)
        ),
        120,
    )
}

pub fn subject(posts: &[PostGroup]) -> String {
    let captions: usize = posts.iter().map(|p| p.captions.len()).sum();
    let first = posts.first().map(|p| p.title.as_str()).unwrap_or("");
    let text = match posts.len() {
        0 => "New captions".to_string(),
        1 => format!("{captions} new captions: {first}"),
        n => format!("{captions} new captions for {n} posts: {first} and more"),
    };
    header_safe(&text, 120)
}

/// What the message leaves out, said in a sentence; `None` when it shows everything.
fn more_than_shown(rest: &[PostGroup]) -> Option<String> {
    if rest.is_empty() {
        return None;
    }
    let captions: usize = rest.iter().map(|p| p.captions.len()).sum();
    Some(format!(
        "{captions} more caption{} for {} more post{} {} waiting on your desk:",
        if captions == 1 { "" } else { "s" },
        rest.len(),
        if rest.len() == 1 { "" } else { "s" },
        if captions == 1 { "is" } else { "are" },
    ))
}

/// Everything a message needs besides the captions.
pub struct Envelope<'a> {
    pub from: &'a Mailbox,
    /// The copy desk, where every caption is, shown or not.
    pub desk_url: &'a str,
    pub settings_url: &'a str,
    pub unsubscribe_url: &'a str,
    /// The page that asks for the reader's Mastodon instance, for Mastodon composer links.
    pub mastodon_chooser: &'a str,
    /// Signed approve / skip / snooze links under each caption, when given.
    pub review: Option<&'a ReviewLinks<'a>>,
    /// A test digest (sent on request, outside the schedule): its subject says so.
    pub test: bool,
    /// The groups are today's queue, one per platform (see [`group_queue`]).
    pub todays_queue: bool,
}

/// The plain-text and HTML parts (`pub` for the browser test that renders the HTML).
pub fn bodies(
    envelope: &Envelope<'_>,
    subject: &str,
    posts: &[PostGroup],
) -> Result<(String, String), DigestError> {
    let captions: usize = posts.iter().map(|p| p.captions.len()).sum();
    let summary = if envelope.todays_queue {
        format!(
            "Today's queue: {captions} caption{} go{} out today on {}. Skip or snooze one from here, or change it on the queue page.",
            if captions == 1 { "" } else { "s" },
            if captions == 1 { "es" } else { "" },
            platform_names(posts)
        )
    } else {
        format!(
            "{captions} new caption{} for {} post{}, ready to copy.",
            if captions == 1 { "" } else { "s" },
            posts.len(),
            if posts.len() == 1 { "" } else { "s" }
        )
    };
    let shown = &posts[..posts.len().min(MAX_POSTS_SHOWN)];
    let more = more_than_shown(&posts[shown.len()..]);
    let text = TextPart {
        summary: &summary,
        posts: shown,
        more: more.as_deref(),
        desk_url: envelope.desk_url,
        settings_url: envelope.settings_url,
        unsubscribe_url: envelope.unsubscribe_url,
        mastodon_chooser: envelope.mastodon_chooser,
        review: envelope.review,
    }
    .render()
    .map_err(|e| DigestError::Render(e.to_string()))?;
    let html = HtmlPart {
        subject,
        summary: &summary,
        posts: shown,
        more: more.as_deref(),
        desk_url: envelope.desk_url,
        settings_url: envelope.settings_url,
        unsubscribe_url: envelope.unsubscribe_url,
        mastodon_chooser: envelope.mastodon_chooser,
        review: envelope.review,
    }
    .render()
    .map_err(|e| DigestError::Render(e.to_string()))?;
    Ok((text, html))
}

pub fn message(
    envelope: &Envelope<'_>,
    digest: &Digest,
    posts: &[PostGroup],
) -> Result<Message, DigestError> {
    let subject = if envelope.todays_queue {
        queue_subject(posts)
    } else if envelope.test {
        format!("Test digest: {}", subject(posts))
    } else {
        subject(posts)
    };
    let (text, html) = bodies(envelope, &subject, posts)?;
    let to: Mailbox = digest
        .recipient
        .parse()
        .map_err(|e| DigestError::Render(format!("recipient {:?}: {e}", digest.recipient)))?;
    let unsubscribe = header_safe(envelope.unsubscribe_url, 2000);
    Message::builder()
        .from(envelope.from.clone())
        .to(to)
        .subject(subject)
        // Stable per digest: a resend after a crash is recognisably the same message.
        .message_id(Some(digest.message_id.clone()))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{unsubscribe}>"),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".into(),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html),
                ),
        )
        .map_err(|e| DigestError::Render(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Digest, Vec<PostGroup>) {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(7, 0, 0)
            .unwrap();
        let digest = Digest {
            id: "0193example".into(),
            user_id: "u1".into(),
            period_key: "daily:2026-11-23T07:00:00+00:00".into(),
            recipient: "reader@example.com".into(),
            message_id: "<digest-0193example@captions.example>".into(),
            created_at: at,
            attempts: 0,
            next_attempt_at: at,
            lease_until: None,
            last_error: None,
            sent_at: None,
            lease_token: None,
        };
        let caption = |post: &str, platform: &str, body: &str| DigestCaption {
            post_id: post.into(),
            post_title: if post == "p1" {
                "Crème brûlée & <script> tags".into()
            } else {
                "Shipping Rust at work".into()
            },
            post_url: Some(format!("https://blog.example/{post}")),
            feed_title: Some("The Example Blog".into()),
            feed_url: "https://blog.example/feed.xml".into(),
            platform: platform.into(),
            variant: "default".into(),
            body: body.into(),
            length: i32::try_from(body.chars().count()).unwrap(),
            char_limit: 500,
            caption_id: CaptionId(format!("{post}-{platform}")),
        };
        let posts = group(vec![
            caption(
                "p1",
                "mastodon",
                "Crème brûlée & <script> tags\n\nhttps://blog.example/p1 #Cooking",
            ),
            caption(
                "p1",
                "x",
                "Crème brûlée & <script> tags https://blog.example/p1",
            ),
            caption(
                "p2",
                "bluesky",
                "Shipping Rust at work: what we learned.\nhttps://blog.example/p2",
            ),
        ]);
        (digest, posts)
    }

    #[test]
    fn a_digest_has_a_text_and_an_html_part_grouped_by_post() {
        let (digest, posts) = sample();
        assert_eq!(posts.len(), 2);
        assert_eq!(posts[0].captions.len(), 2);
        let from: Mailbox = "captionfeed <digest@captions.example>".parse().unwrap();
        let message = message(
            &Envelope {
                from: &from,
                desk_url: "https://captions.example/captions",
                settings_url: "https://captions.example/settings",
                unsubscribe_url: "https://captions.example/unsubscribe/u1/sig",
                mastodon_chooser: "https://captions.example/share/mastodon",
                review: None,
                test: false,
                todays_queue: false,
            },
            &digest,
            &posts,
        )
        .unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        assert!(raw.contains("Content-Type: multipart/alternative"));
        assert!(raw.contains("Content-Type: text/plain"));
        assert!(raw.contains("Content-Type: text/html"));
        assert!(raw.contains("Message-ID: <digest-0193example@captions.example>"));
        assert!(raw.contains("List-Unsubscribe: <https://captions.example/unsubscribe/u1/sig>"));
        let html = HtmlPart {
            subject: "s",
            summary: "s",
            posts: &posts,
            more: None,
            desk_url: "",
            settings_url: "",
            unsubscribe_url: "",
            mastodon_chooser: "",
            review: None,
        }
        .render()
        .unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("Crème brûlée &#38; &#60;script&#62; tags"));
        if let Ok(path) = std::env::var("CAPTIONFEED_TEST_WRITE_DIGEST_EXAMPLE") {
            std::fs::write(path, &raw).unwrap();
        }
    }

    fn text_part(posts: &[PostGroup]) -> String {
        let from: Mailbox = "captionfeed <digest@captions.example>".parse().unwrap();
        let envelope = Envelope {
            from: &from,
            desk_url: "https://captions.example/captions",
            settings_url: "https://captions.example/settings",
            unsubscribe_url: "https://captions.example/unsubscribe/u1/sig",
            mastodon_chooser: "https://captions.example/share/mastodon",
            review: None,
            test: false,
            todays_queue: false,
        };
        bodies(&envelope, "subject", posts).unwrap().0
    }

    #[test]
    fn the_text_part_has_one_blank_line_between_blocks() {
        let (_, posts) = sample();
        let text = text_part(&posts);
        assert!(!text.contains("\n\n\n\n"), "{text}");
        // The caption, its composer link, one blank line, the next caption.
        assert!(
            text.contains("https://blog.example/p1\nPost on X: https://x.com/intent/tweet?text=Cr%C3%A8me%20br%C3%BBl%C3%A9e%20%26%20%3Cscript%3E%20tags%20https%3A%2F%2Fblog.example%2Fp1\n\n--- Mastodon"),
            "{text}"
        );
    }

    #[test]
    fn every_caption_has_its_composer_link_in_both_parts() {
        let (_, posts) = sample();
        let text = text_part(&posts);
        let html = HtmlPart {
            subject: "s",
            summary: "s",
            posts: &posts,
            more: None,
            desk_url: "",
            settings_url: "",
            unsubscribe_url: "",
            mastodon_chooser: "https://captions.example/share/mastodon",
            review: None,
        }
        .render()
        .unwrap();
        for post in &posts {
            for c in &post.captions {
                let link = c
                    .composer("https://captions.example/share/mastodon")
                    .expect("X, Mastodon and Bluesky have composers");
                assert_eq!(
                    link.href,
                    format!("{}{}", link.base, composer::encode(&c.text))
                );
                assert!(
                    text.contains(&format!("{}: {}\n", link.label, link.href)),
                    "{text}"
                );
                assert!(
                    html.contains(&format!("<a href=\"{}\"", link.href)),
                    "{html}"
                );
            }
        }
        assert!(text
            .contains("Post on Mastodon: https://captions.example/share/mastodon?text=Cr%C3%A8me"));
        assert!(text.contains("Post on Bluesky: https://bsky.app/intent/compose?text=Shipping"));
    }

    #[test]
    fn a_long_digest_shows_the_first_posts_and_says_where_the_rest_are() {
        let (_, sample_posts) = sample();
        let one = &sample_posts[1];
        let posts: Vec<PostGroup> = (0..MAX_POSTS_SHOWN + 2)
            .map(|i| PostGroup {
                post_id: format!("p{i}"),
                desk_query: format!("?post=p{i}"),
                title: format!("Post number {i}"),
                url: one.url.clone(),
                feed_title: one.feed_title.clone(),
                captions: one
                    .captions
                    .iter()
                    .map(|c| CaptionBlock {
                        caption_id: c.caption_id.clone(),
                        order: c.order,
                        platform: c.platform.clone(),
                        platform_id: c.platform_id,
                        post_url: c.post_url.clone(),
                        variant: c.variant.clone(),
                        text: c.text.clone(),
                        length: c.length,
                        limit: c.limit,
                        queued: c.queued,
                    })
                    .collect(),
            })
            .collect();
        let text = text_part(&posts);
        assert!(text.contains("Post number 29"), "{text}");
        assert!(!text.contains("Post number 30"), "{text}");
        assert!(
            text.contains("2 more captions for 2 more posts are waiting on your desk: https://captions.example/captions"),
            "{text}"
        );
        assert!(
            text.starts_with("32 new captions for 32 posts, ready to copy."),
            "{text}"
        );
    }

    #[test]
    fn captions_come_in_the_desks_order_with_a_link_to_the_post_on_the_desk() {
        let (_, posts) = sample();
        let order: Vec<&str> = posts[0]
            .captions
            .iter()
            .map(|c| c.platform.as_str())
            .collect();
        assert_eq!(order, ["X", "Mastodon"]);
        let text = text_part(&posts);
        assert!(
            text.contains("Open on the desk: https://captions.example/captions?post=p1"),
            "{text}"
        );
    }

    #[test]
    fn header_text_never_carries_a_line_break() {
        assert_eq!(header_safe("x\r\nBcc: a@evil", 100), "x Bcc: a@evil");
        assert_eq!(header_safe("tab\there\u{0}", 100), "tab here");
        assert_eq!(header_safe("abcdef", 4), "abc…");
    }
}
