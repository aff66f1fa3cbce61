//! Site URL → feed URL: people paste a blog's address, not its feed's.
//!
//! The page's `<link rel="alternate">` tags (RSS, Atom, JSON Feed) come first; a page
//! without them is tried at the paths blog engines commonly use. Every request goes
//! through the guarded [`Fetcher`], so discovery reaches no more than feed fetching.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use url::Url;

use super::{parse_feed, FetchOutcome, Fetcher, Validators};

/// Paths tried when a page names no feed, in order.
const COMMON_PATHS: &[&str] = &[
    "/feed",
    "/rss.xml",
    "/atom.xml",
    "/index.xml",
    "/feed.xml",
    "/feed.json",
    "/rss",
];

/// How long all the common-path guesses together may take.
const GUESS_BUDGET: std::time::Duration = std::time::Duration::from_secs(15);

/// A feed a page offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub url: String,
    /// The link's title, else the kind ("RSS", "Atom", "JSON Feed").
    pub label: String,
}

/// The feeds an HTML page offers: its `<link rel="alternate">` tags, else whatever answers
/// as a feed at the common paths of its site. `base` is the page's final URL.
pub async fn feeds_of_page(fetcher: &Fetcher, page: &[u8], base: &Url) -> Vec<Candidate> {
    let found = alternate_links(&String::from_utf8_lossy(page), base);
    if !found.is_empty() {
        return found;
    }
    // A person waits on this: the guesses share one time budget, not one each.
    tokio::time::timeout(GUESS_BUDGET, try_common_paths(fetcher, base))
        .await
        .unwrap_or_default()
}

async fn try_common_paths(fetcher: &Fetcher, base: &Url) -> Vec<Candidate> {
    let mut found: Vec<Candidate> = Vec::new();
    for path in COMMON_PATHS {
        let Ok(candidate) = base.join(path) else {
            continue;
        };
        let fetched = fetcher
            .fetch(candidate.as_str(), &Validators::default())
            .await;
        let Ok(FetchOutcome::Fetched {
            body, final_url, ..
        }) = fetched
        else {
            continue;
        };
        let Ok(parsed) = parse_feed(&body, Some(&final_url)) else {
            continue;
        };
        // /feed and /rss often redirect to one and the same feed.
        let url = final_url.to_string();
        if found.iter().all(|c| c.url != url) {
            found.push(Candidate {
                label: parsed.title.unwrap_or_else(|| "Feed".into()),
                url,
            });
        }
    }
    found
}

pub fn looks_like_html(body: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&body[..body.len().min(2048)]).to_ascii_lowercase();
    head.contains("<html") || head.contains("<!doctype html") || head.contains("<head")
}

/// The feeds a page names with `<link rel="alternate" type="…">`, absolute, in page order.
pub fn alternate_links(html: &str, base: &Url) -> Vec<Candidate> {
    let tokenizer = Tokenizer::new(LinkSink::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let links = tokenizer.sink.links.into_inner();
    let mut out: Vec<Candidate> = Vec::new();
    for (href, kind, title) in links {
        let Ok(url) = base.join(href.trim()) else {
            continue;
        };
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        let url = url.to_string();
        if out.iter().all(|c| c.url != url) {
            out.push(Candidate {
                url,
                label: title
                    .filter(|t| !t.trim().is_empty())
                    .map(|t| format!("{} ({kind})", t.trim()))
                    .unwrap_or_else(|| kind.to_string()),
            });
        }
    }
    out
}

fn feed_kind(mime: &str) -> Option<&'static str> {
    match mime.trim().to_ascii_lowercase().as_str() {
        "application/rss+xml" => Some("RSS"),
        "application/atom+xml" => Some("Atom"),
        "application/feed+json" | "application/json" => Some("JSON Feed"),
        _ => None,
    }
}

#[derive(Default)]
struct LinkSink {
    /// (href, kind, title)
    links: RefCell<Vec<(String, &'static str, Option<String>)>>,
}

impl LinkSink {
    fn tag(&self, tag: &Tag) -> TokenSinkResult<()> {
        if tag.kind != TagKind::StartTag {
            return TokenSinkResult::Continue;
        }
        match &*tag.name {
            // Their contents are not markup; a "<link" in a script is not a link.
            "script" => return TokenSinkResult::RawData(RawKind::ScriptData),
            "style" => return TokenSinkResult::RawData(RawKind::Rawtext),
            "link" => {}
            _ => return TokenSinkResult::Continue,
        }
        let attr = |name: &str| {
            tag.attrs
                .iter()
                .find(|a| &*a.name.local == name)
                .map(|a| a.value.to_string())
        };
        let is_alternate = attr("rel").is_some_and(|rel| {
            rel.split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case("alternate"))
        });
        let kind = attr("type").as_deref().and_then(feed_kind);
        if let (true, Some(kind), Some(href)) = (is_alternate, kind, attr("href")) {
            self.links.borrow_mut().push((href, kind, attr("title")));
        }
        TokenSinkResult::Continue
    }
}

impl TokenSink for LinkSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) => self.tag(&tag),
            _ => TokenSinkResult::Continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://blog.example/posts/").unwrap()
    }

    #[test]
    fn finds_rss_atom_and_json_feed_links_made_absolute() {
        let html = r#"<!doctype html><html><head>
            <link rel="stylesheet" href="/style.css">
            <link rel="alternate" type="application/rss+xml" title="Ann's posts" href="/feed.xml">
            <LINK REL="Alternate feed" TYPE="application/atom+xml" href="atom.xml">
            <link rel="alternate" type="application/feed+json" href="https://blog.example/feed.json">
            <link rel="alternate" type="text/html" hreflang="fr" href="/fr/">
            <link rel="alternate" type="application/rss+xml" href="/feed.xml">
            <script>document.write('<link rel="alternate" type="application/rss+xml" href="/fake">')</script>
            </head><body></body></html>"#;
        let found = alternate_links(html, &base());
        let urls: Vec<&str> = found.iter().map(|c| c.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://blog.example/feed.xml",
                "https://blog.example/posts/atom.xml",
                "https://blog.example/feed.json",
            ]
        );
        assert_eq!(found[0].label, "Ann's posts (RSS)");
        assert_eq!(found[1].label, "Atom");
    }
}
