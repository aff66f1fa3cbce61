//! feed-rs glue: RSS / Atom / JSON Feed bytes in, [`ParsedFeed`] out.

use chrono::{DateTime, Utc};
use feed_rs::model::{Entry, Feed, FeedType, Link, Text};
use feed_rs::parser::{Builder, ParseErrorKind, ParseFeedError};
use url::Url;

use super::compat;
use super::normalize::{self, Markup};
use super::reading::{self, SummarySource};
use super::seen::{Known, SeenKeys};

#[derive(Debug, Clone)]
pub struct ParsedFeed {
    pub title: Option<String>,
    pub site_url: Option<String>,
    /// RSS `<ttl>`: how long (minutes) the feed asks readers to cache it.
    pub ttl_minutes: Option<u32>,
    /// The language the feed declares (RSS `<language>`, Atom `xml:lang`), in lowercase.
    pub language: Option<String>,
    /// In the feed's own order; nothing is sorted.
    pub entries: Vec<NewEntry>,
    /// The WebSub hub the feed names (`<link rel="hub">`), and the topic URL to subscribe
    /// to there (`<link rel="self">`), both absolute.
    pub websub: Option<WebSubLinks>,
    /// The key of every entry the document holds, those left unread included.
    pub seen: SeenKeys,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSubLinks {
    pub hub: String,
    pub topic: String,
}

/// One entry, already flattened to plain text and absolute URLs.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    /// Stable across polls: `id:…`, `link:…` or `hash:…`.
    pub entry_key: String,
    /// The feed's title, or a label made from the text (see `title_from_text`).
    pub title: String,
    /// The feed gave no title of its own (none, or a cut of the text's beginning).
    pub title_from_text: bool,
    pub url: Option<String>,
    /// One line of text, ending on a whole sentence or "…".
    pub summary: String,
    pub summary_source: SummarySource,
    /// Paragraphs as a reader sees them, separated by `\n`.
    pub content_text: String,
    /// The first strong sentence of the post, or empty.
    pub lead: String,
    /// The post's section headings, in order.
    pub headings: Vec<String>,
    /// Other ways into the post, each a sentence of its text.
    pub angles: super::Angles,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub categories: Vec<String>,
    pub image_url: Option<String>,
}

/// The message is meant for the subscriber and starts with "not a feed: ".
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{0}")]
    Invalid(String),
}

/// Parses a fetched document.
///
/// Takes raw bytes, not text, so the XML prolog's declared encoding
/// (ISO-8859-1, windows-1252, ...) is what decodes it. `source_url` (the
/// final URL after redirects) is the base for relative links when the feed
/// declares none.
pub fn parse_feed(bytes: &[u8], source_url: Option<&url::Url>) -> Result<ParsedFeed, ParseError> {
    parse_feed_except(bytes, source_url, &Known::default())
}

/// [`parse_feed`], leaving out the entries `known` holds: their keys are in
/// [`ParsedFeed::seen`], but their text is never read.
pub fn parse_feed_except(
    bytes: &[u8],
    source_url: Option<&url::Url>,
    known: &Known,
) -> Result<ParsedFeed, ParseError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Invalid(
            "not a feed: the document is empty".into(),
        ));
    }
    let parser = Builder::new()
        .base_uri(source_url.map(Url::as_str))
        // feed-rs would otherwise invent ids (random UUIDs included) for
        // entries without one; an empty id tells us to build our own key.
        .id_generator(|_, _, _| String::new())
        .timestamp_parser(super::timestamps::parse)
        .build();
    let translated = compat::translate_except(bytes, source_url.map(Url::as_str), known);
    let translated_bytes: &[u8] = translated.bytes.as_ref();
    let feed = match parser.parse(translated_bytes) {
        Ok(feed) => feed,
        // A stray byte in a UTF-8 feed (a mis-encoded quote in one post) loses one
        // character, not the whole feed: read it again with that byte replaced, as
        // browsers and feedparser do.
        Err(ParseFeedError::XmlReader(_)) if std::str::from_utf8(translated_bytes).is_err() => {
            let lossy = String::from_utf8_lossy(translated_bytes);
            parser
                .parse(lossy.as_bytes())
                .map_err(|e| describe(&e, bytes))?
        }
        Err(e) => return Err(describe(&e, bytes)),
    };
    if feed.entries.is_empty() && translated.entries > translated.dropped {
        return Err(ParseError::Invalid(format!(
            "not a feed: it holds {} but none of them could be read",
            plural(translated.entries, "entry", "entries")
        )));
    }
    let json = feed.feed_type == FeedType::JSON;
    let mut parsed = convert(feed, source_url, known);
    for raw in &translated.raw {
        parsed.seen.push_raw(*raw);
    }
    if json && parsed.websub.is_none() {
        parsed.websub = json_feed_hub(bytes, source_url);
    }
    Ok(parsed)
}

/// The WebSub hub of a JSON Feed (its `hubs` list, which feed-rs does not keep), with
/// `feed_url` as the topic, else the address it was fetched from.
fn json_feed_hub(bytes: &[u8], source_url: Option<&Url>) -> Option<WebSubLinks> {
    #[derive(serde::Deserialize)]
    struct Hub {
        #[serde(rename = "type")]
        kind: String,
        url: String,
    }
    #[derive(serde::Deserialize)]
    struct Hubs {
        feed_url: Option<String>,
        #[serde(default)]
        hubs: Vec<Hub>,
    }
    let declared: Hubs = serde_json::from_slice(bytes).ok()?;
    let http = |raw: &str| {
        normalize::absolute_url(raw, source_url).filter(|u| matches!(u.scheme(), "http" | "https"))
    };
    let hub = declared.hubs.iter().find_map(|h| {
        // "WebSub", and "PubSubHubbub" from before it was renamed.
        let kind = h.kind.to_ascii_lowercase();
        (kind == "websub" || kind == "pubsubhubbub")
            .then(|| http(&h.url))
            .flatten()
    })?;
    let topic = declared
        .feed_url
        .as_deref()
        .and_then(http)
        .or_else(|| source_url.cloned())?;
    Some(WebSubLinks {
        hub: hub.to_string(),
        topic: topic.to_string(),
    })
}

fn describe(err: &ParseFeedError, bytes: &[u8]) -> ParseError {
    let why = match err {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) if looks_like_html(bytes) => {
            "this is an HTML web page, not an RSS, Atom or JSON feed".to_owned()
        }
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => {
            "no RSS, Atom or JSON Feed content found".to_owned()
        }
        ParseFeedError::ParseError(kind) => kind.to_string(),
        ParseFeedError::IoError(e) => format!("could not read the document: {e}"),
        ParseFeedError::JsonSerde(e) => format!("invalid JSON Feed: {e}"),
        ParseFeedError::JsonUnsupportedVersion(v) => format!("unsupported JSON Feed version {v:?}"),
        ParseFeedError::XmlReader(e) => format!("malformed XML: {e}"),
    };
    ParseError::Invalid(format!("not a feed: {why}"))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Subscribers often paste a blog's home page instead of its feed; saying
/// so is more helpful than "no feed root".
fn looks_like_html(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    head.contains("<!doctype html") || head.contains("<html")
}

fn convert(feed: Feed, source_url: Option<&Url>, known: &Known) -> ParsedFeed {
    let site = site_link(&feed.links).and_then(|href| normalize::absolute_url(href, source_url));
    let fallback_base = site.as_ref().or(source_url);
    let feed_author = feed
        .authors
        .iter()
        .find_map(|p| person_name(&p.name, p.email.as_deref()));
    let rss = matches!(
        feed.feed_type,
        FeedType::RSS0 | FeedType::RSS1 | FeedType::RSS2
    );
    let title = feed
        .title
        .as_ref()
        .map(|t| text_as_title(t, rss))
        .filter(|t| !t.is_empty());
    let ttl_minutes = feed.ttl;
    // A tag is short; anything longer or multi-line is not one.
    let language = feed
        .language
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty() && l.len() <= 35 && !l.contains(char::is_whitespace))
        .map(str::to_owned);
    let websub = websub_links(&feed.links, source_url);
    let mut seen = SeenKeys::default();
    let mut entries = Vec::with_capacity(feed.entries.len());
    for entry in feed.entries {
        match convert_entry(entry, fallback_base, feed_author.as_deref(), rss, known) {
            Converted::Known(key) => seen.push(&key),
            Converted::New(entry) => {
                seen.push(&entry.entry_key);
                entries.push(*entry);
            }
        }
    }
    ParsedFeed {
        title,
        site_url: site.map(String::from),
        ttl_minutes,
        language,
        entries,
        websub,
        seen,
    }
}

enum Converted {
    /// Stored already, by its key; left unread.
    Known(String),
    New(Box<NewEntry>),
}

fn convert_entry(
    entry: Entry,
    fallback_base: Option<&Url>,
    feed_author: Option<&str>,
    rss: bool,
    known: &Known,
) -> Converted {
    // Content's own xml:base is kept raw by feed-rs; inherited bases are
    // not kept at all, so the site link stands in for them.
    let content_base = entry
        .base
        .as_deref()
        .and_then(|b| normalize::absolute_url(b, fallback_base));
    let content_base = content_base.as_ref().or(fallback_base);

    let url = site_link(&entry.links)
        .and_then(|href| normalize::absolute_url(href, fallback_base))
        .map(String::from);
    // An id or a link gives the key before any text is read; only an entry with neither
    // is keyed by its text.
    let has_source_id = !entry.id.trim().is_empty();
    let declared_key = (has_source_id || url.is_some()).then(|| {
        normalize::entry_key(
            has_source_id.then_some(entry.id.as_str()),
            url.as_deref(),
            "",
            None,
            "",
        )
    });
    if let Some(key) = declared_key.as_ref().filter(|k| known.contains(k)) {
        return Converted::Known(key.clone());
    }

    let title = entry
        .title
        .as_ref()
        .map(|t| text_as_title(t, rss))
        .unwrap_or_default();
    let summary_field = entry.summary.as_ref().map(|t| reading::Field {
        raw: &t.content,
        markup: markup_of(t),
    });
    let content_field = entry.content.as_ref().and_then(|c| {
        Some(reading::Field {
            raw: c.body.as_deref()?,
            markup: Markup::from_mime(c.content_type.as_str()),
        })
    });
    let read = reading::read(&title, summary_field, content_field, url.as_deref());

    let published = entry.published.or(entry.updated);
    let entry_key = if let Some(key) = declared_key {
        key
    } else {
        // Hashed as before reading got finer, so these entries keep their keys.
        let text = [content_field, summary_field]
            .into_iter()
            .flatten()
            .map(|f| normalize::body_text(f.raw, f.markup).text)
            .find(|t| !t.is_empty())
            .unwrap_or_default();
        normalize::entry_key(None, None, &read.title, published, &text)
    };

    let inline_images = read.images.iter().map(String::as_str);
    let image_url = declared_image(&entry)
        .into_iter()
        .chain(inline_images)
        .find_map(|src| normalize::absolute_url(src, content_base))
        .map(String::from);

    let author = entry
        .authors
        .iter()
        .find_map(|p| person_name(&p.name, p.email.as_deref()))
        .or_else(|| feed_author.map(str::to_owned));

    Converted::New(Box::new(NewEntry {
        entry_key,
        title: read.title,
        title_from_text: read.title_from_text,
        url,
        summary: read.summary,
        summary_source: read.summary_source,
        content_text: read.content_text,
        lead: read.lead,
        angles: read.angles,
        headings: read.headings,
        author,
        published,
        categories: normalize::categories(entry.categories.iter().map(|c| {
            c.label
                .as_deref()
                .filter(|l| !l.trim().is_empty())
                .unwrap_or(&c.term)
        })),
        image_url,
    }))
}

/// The page a human would visit: an alternate (or untyped) link, not the
/// feed's self link or an attachment.
/// A hub is only worth subscribing to with a topic: the hub identifies the feed by its
/// `self` URL, falling back to the address it was fetched from. Only http(s) hubs.
fn websub_links(links: &[Link], source_url: Option<&Url>) -> Option<WebSubLinks> {
    let with_rel = |rel: &str| {
        links
            .iter()
            .find(|l| l.rel.as_deref() == Some(rel))
            .and_then(|l| normalize::absolute_url(&l.href, source_url))
            .filter(|u| matches!(u.scheme(), "http" | "https"))
    };
    let hub = with_rel("hub")?;
    let topic = with_rel("self").or_else(|| source_url.cloned())?;
    Some(WebSubLinks {
        hub: hub.to_string(),
        topic: topic.to_string(),
    })
}

fn site_link(links: &[Link]) -> Option<&str> {
    let is_page = |l: &&Link| {
        matches!(l.rel.as_deref(), None | Some("alternate"))
            && l.media_type.as_deref().is_none_or(|t| t.contains("html"))
    };
    links
        .iter()
        .find(is_page)
        .or_else(|| {
            links
                .iter()
                .find(|l| matches!(l.rel.as_deref(), None | Some("alternate")))
        })
        .map(|l| l.href.as_str())
}

/// Images the publisher attached on purpose, in order of intent:
/// thumbnails, then image media/enclosures, then image-typed links.
fn declared_image(entry: &Entry) -> Vec<&str> {
    let thumbnails = entry
        .media
        .iter()
        .flat_map(|m| &m.thumbnails)
        .map(|t| t.image.uri.as_str());
    let media = entry
        .media
        .iter()
        .flat_map(|m| &m.content)
        .filter(|c| {
            c.content_type
                .as_ref()
                .is_some_and(|t| is_image(t.as_str()))
        })
        .filter_map(|c| c.url.as_ref().map(Url::as_str));
    let links = entry
        .links
        .iter()
        .filter(|l| l.media_type.as_deref().is_some_and(is_image))
        .map(|l| l.href.as_str());
    thumbnails.chain(media).chain(links).collect()
}

fn is_image(mime: &str) -> bool {
    mime.trim().to_ascii_lowercase().starts_with("image/")
}

fn markup_of(text: &Text) -> Markup {
    Markup::from_mime(text.content_type.as_str())
}

/// feed-rs types RSS titles text/plain, but in the wild they carry
/// entities and markup, so RSS titles are read as HTML. Atom and JSON Feed
/// declare their types properly and are taken at their word.
fn text_as_title(text: &Text, rss: bool) -> String {
    let markup = if rss { Markup::Html } else { markup_of(text) };
    normalize::title_text(&text.content, markup)
}

/// feed-rs stores RSS `<author>` as a person named "author" whose e-mail is
/// the element text; other formats give a real name.
fn person_name(name: &str, email: Option<&str>) -> Option<String> {
    let name = normalize::one_line(name);
    if name == "author" || name.is_empty() {
        return email.and_then(normalize::author_from_email);
    }
    Some(name)
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
