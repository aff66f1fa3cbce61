//! Every post of real blogs' feeds (tests/fixtures/real, see its SOURCES file) read as a
//! subscriber would see it: parsed, then captioned with the built-in templates for every
//! platform. Fails with a count per kind of fault, and the first examples of each.

use std::collections::BTreeMap;
use std::path::Path;

use captionfeed::captions::Platform;
use captionfeed::feeds::angles::{QUOTE_MAX_CHARS, QUOTE_MIN_CHARS};
use captionfeed::feeds::{parse_feed, sentences::sentences};
use captionfeed::preview::caption_posts;

const UNTITLED: &str = "(untitled)";
const EXAMPLES_PER_FAULT: usize = 4;

/// Words a summary or caption never carries: the blog's machinery, not the post.
const BOILERPLATE: &[&str] = &[
    "appeared first on",
    "continue reading",
    "read more »",
    "read more…",
    "share this:",
    "click to share",
    "subscribe to our newsletter",
    "[…]",
    "[...]",
    "[&hellip;]",
];

/// Lines that introduce a post rather than say anything: bylines, dates, credits.
const LINE_STARTS: &[&str] = &[
    "posted on",
    "posted by",
    "posted in",
    "published on",
    "published:",
    "published ",
    "updated on",
    "updated:",
    "last updated",
    "written by",
    "by ",
    "photo by",
    "photo:",
    "photo credit",
    "image:",
    "image by",
    "image credit",
    "credit:",
    "credits:",
    "foto:",
    "source:",
];

const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may ",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

#[derive(Default)]
struct Faults {
    by_kind: BTreeMap<&'static str, Vec<String>>,
    posts: usize,
    captions: usize,
    /// X captions of posts with text, and those that carry more than the title and link.
    x_with_text: usize,
    x_more_than_title: usize,
}

impl Faults {
    fn add(&mut self, kind: &'static str, example: String) {
        self.by_kind.entry(kind).or_default().push(example);
    }
}

fn starts_like_a_byline(text: &str) -> bool {
    let lower = text.trim_start().to_lowercase();
    LINE_STARTS.iter().any(|s| lower.starts_with(s))
        || MONTHS.iter().any(|m| lower.starts_with(m))
        // "2026-02-05 …", "05.02.2026 …"
        || lower
            .split_whitespace()
            .next()
            .is_some_and(|w| w.chars().filter(char::is_ascii_digit).count() >= 6
                && w.chars().all(|c| c.is_ascii_digit() || "-./".contains(c)))
        || {
            let head: String = lower.chars().take(200).collect();
            head.contains("cc by") || head.contains("creative commons")
        }
}

/// Whether a caption says anything besides the post's title, its link and hashtags.
/// (A title cut to fit counts as the title: its words are the title's.)
fn carries_more_than_title_and_link(caption: &str, title: &str) -> bool {
    let bare = |w: &str| {
        w.trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase()
    };
    let title_words: std::collections::HashSet<String> =
        title.split_whitespace().map(bare).collect();
    caption.split_whitespace().any(|w| {
        !w.starts_with("http")
            && !w.starts_with('#')
            && !bare(w).is_empty()
            && !title_words.contains(&bare(w))
    })
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn ends_a_sentence(text: &str) -> bool {
    let end = text
        .trim_end()
        .trim_end_matches(['"', '\'', '”', '’', '»', ')', ']']);
    match end.chars().next_back() {
        None => true,
        // Text that ends in an emoji or a symbol was not cut mid-word either.
        Some(c) => ".!?…。！？:".contains(c) || !(c.is_alphanumeric() || ",;-".contains(c)),
    }
}

/// The texts of in-page links (`href="#…"`) of an HTML body: what a table of contents is
/// made of.
fn in_page_link_texts(html: &str) -> Vec<String> {
    let mut texts = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("href=\"#").or_else(|| rest.find("href='#")) {
        rest = &rest[at..];
        let Some(open_end) = rest.find('>') else {
            break;
        };
        let after = &rest[open_end + 1..];
        let Some(close) = after.find("</a>") else {
            break;
        };
        let text = one_line(&strip_tags(&after[..close]));
        if text.chars().count() > 3 {
            texts.push(text);
        }
        rest = &after[close..];
    }
    texts
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// What the raw feed says about each entry, read with feed-rs alone: whether it names a
/// page (a link, or an RSS guid that is a permalink) and the in-page links of its HTML.
struct Raw {
    has_link: bool,
    toc: Vec<String>,
}

fn raw_entries(bytes: &[u8]) -> Vec<Raw> {
    let text = String::from_utf8_lossy(bytes);
    // One corpus feed has a stray non-UTF-8 byte; feed-rs alone refuses it.
    let feed = feed_rs::parser::parse(text.as_bytes()).expect("feed-rs reads every corpus file");
    feed.entries
        .iter()
        .map(|e| {
            let guid_is_page = e.id.starts_with("http")
                && !text.contains(&format!("isPermaLink=\"false\">{}<", e.id));
            let html = [
                e.content.as_ref().and_then(|c| c.body.clone()),
                e.summary.as_ref().map(|s| s.content.clone()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("\n");
            Raw {
                has_link: !e.links.is_empty() || guid_is_page,
                toc: in_page_link_texts(&html),
            }
        })
        .collect()
}

/// Each file's address when SOURCES gives one: some feeds link their posts relatively.
fn addresses(dir: &Path) -> BTreeMap<String, url::Url> {
    std::fs::read_to_string(dir.join("SOURCES"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let fields: Vec<&str> = l.split(" | ").collect();
            let url = url::Url::parse(fields.get(5)?.trim()).ok()?;
            Some((fields[0].trim().to_owned(), url))
        })
        .collect()
}

fn check_file(path: &Path, address: Option<&url::Url>, faults: &mut Faults) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let bytes = std::fs::read(path).unwrap();
    let parsed = match parse_feed(&bytes, address) {
        Ok(parsed) => parsed,
        Err(e) => return faults.add("feed rejected", format!("{name}: {e}")),
    };
    let raw = raw_entries(&bytes);
    assert_eq!(raw.len(), parsed.entries.len(), "{name}: entry count");
    let previews = caption_posts(&parsed, &Platform::ALL, None);
    for ((entry, preview), raw) in parsed.entries.iter().zip(&previews).zip(&raw) {
        faults.posts += 1;
        let at = format!("{name}: {:?}", entry.url.as_deref().unwrap_or(&entry.title));
        let summary = one_line(&entry.summary);
        let summary_lower = summary.to_lowercase();
        let title = one_line(&entry.title);

        if title.contains(UNTITLED) {
            faults.add("(untitled) as a title", at.clone());
        }
        if raw.has_link && entry.url.is_none() {
            faults.add("missing link", at.clone());
        }
        if !summary.is_empty() && starts_like_a_byline(&summary) {
            faults.add(
                "summary opens with a byline, date or credit",
                format!("{at}: {}", summary.chars().take(90).collect::<String>()),
            );
        }
        let toc_in_summary = raw
            .toc
            .iter()
            .filter(|t| summary.contains(t.as_str()))
            .count();
        if toc_in_summary >= 2
            || ["table of contents", "inhaltsverzeichnis", "目次", "目录"]
                .iter()
                .any(|t| summary_lower.contains(t))
        {
            faults.add("table of contents in summary", at.clone());
        }
        if let Some(b) = BOILERPLATE.iter().find(|b| summary_lower.contains(*b)) {
            faults.add("boilerplate in summary", format!("{at}: {b:?}"));
        }
        let full = one_line(&entry.content_text);
        let marked = summary.ends_with('…') || summary.ends_with("...");
        if !marked
            && !summary.is_empty()
            && full.len() > summary.len()
            && full.starts_with(&summary)
            && !ends_a_sentence(&summary)
        {
            faults.add(
                "cut without …",
                format!(
                    "{at}: …{}",
                    summary
                        .chars()
                        .rev()
                        .take(40)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect::<String>()
                ),
            );
        }
        let bare_title = title.trim_end_matches(['…', '.']).trim();
        // A title made from the text is a label; captions use the text instead of it.
        if !entry.title_from_text
            && bare_title.chars().count() >= 12
            && summary.starts_with(bare_title)
        {
            faults.add(
                "title repeated in its body",
                format!("{at}: {bare_title:?}"),
            );
        }
        let lead = &entry.lead;
        if !lead.is_empty() {
            if !entry.content_text.contains(lead.as_str()) {
                faults.add("lead not a sentence of the post", format!("{at}: {lead:?}"));
            }
            if starts_like_a_byline(lead)
                || entry.headings.iter().any(|h| h == lead)
                || BOILERPLATE.iter().any(|b| lead.to_lowercase().contains(b))
            {
                faults.add(
                    "lead is a byline, credit, heading or boilerplate",
                    format!("{at}: {lead:?}"),
                );
            }
        }

        let angles = &entry.angles;
        let post_sentences: Vec<&str> = entry.content_text.lines().flat_map(sentences).collect();
        for (name, angle) in [
            ("key sentence", &angles.key_sentence),
            ("quote", &angles.quote),
            ("question", &angles.question),
            ("number", &angles.number),
        ] {
            if angle.is_empty() || (name == "question" && *angle == title) {
                continue;
            }
            if !post_sentences.contains(&angle.as_str()) {
                faults.add(
                    "angle not a whole sentence of the post",
                    format!("{at}: {name} {angle:?}"),
                );
            }
            let lower = angle.to_lowercase();
            if starts_like_a_byline(angle)
                || entry.headings.iter().any(|h| h == angle)
                || BOILERPLATE.iter().any(|b| lower.contains(b))
                || lower.contains("://")
            {
                faults.add(
                    "angle is a byline, credit, heading or boilerplate",
                    format!("{at}: {name} {angle:?}"),
                );
            }
        }
        let quote_chars = angles.quote.chars().count();
        if !angles.quote.is_empty() && !(QUOTE_MIN_CHARS..=QUOTE_MAX_CHARS).contains(&quote_chars) {
            faults.add(
                "quote of the wrong length",
                format!("{at}: {:?}", angles.quote),
            );
        }
        // A post with the material for it (a lead, a key sentence and a quote) gets a
        // different text on every platform.
        // (A post titled from its text is its text, once, everywhere.)
        if !entry.title_from_text
            && !entry.lead.is_empty()
            && !angles.key_sentence.is_empty()
            && !angles.quote.is_empty()
        {
            for (i, a) in preview.captions.iter().enumerate() {
                for b in &preview.captions[i + 1..] {
                    if a.text == b.text {
                        faults.add(
                            "two platforms with the same text",
                            format!("{at}: {:?} and {:?}", a.platform, b.platform),
                        );
                    }
                }
            }
        }

        for caption in &preview.captions {
            faults.captions += 1;
            if caption.length > caption.limit || caption.error.is_some() || caption.text.is_empty()
            {
                faults.add(
                    "caption does not fit or is missing",
                    format!(
                        "{at} on {:?}: {}/{} {:?}",
                        caption.platform, caption.length, caption.limit, caption.error
                    ),
                );
            }
            let has_text = !entry.title_from_text && !entry.content_text.trim().is_empty();
            if caption.platform == Platform::X && has_text {
                faults.x_with_text += 1;
                if carries_more_than_title_and_link(&caption.text, &title) {
                    faults.x_more_than_title += 1;
                } else {
                    faults.add(
                        "X caption only the title and link",
                        format!("{at}: {:?}", caption.text),
                    );
                }
            }
            let where_ = format!("{at} on {:?}", caption.platform);
            let text = &caption.text;
            if text.contains(UNTITLED) {
                faults.add("(untitled) in a caption", where_.clone());
            }
            // "Title\n\nTitle, and then the text": the body opens with the title again.
            // (A caption that opens with its lead may end that lead with the title's words.)
            let after_title = text
                .strip_prefix(bare_title)
                .map(|rest| rest.trim_start_matches(['…', '.', ' ', '\n']));
            if bare_title.chars().count() >= 12
                && after_title.is_some_and(|rest| rest.starts_with(bare_title))
            {
                faults.add("title repeated in a caption", where_.clone());
            }
            let lower = text.to_lowercase();
            if let Some(b) = BOILERPLATE.iter().find(|b| lower.contains(*b)) {
                faults.add("boilerplate in a caption", format!("{where_}: {b:?}"));
            }
            if raw.has_link && caption.platform != Platform::Instagram && !text.contains("http") {
                faults.add("caption without the post's link", where_.clone());
            }
        }
    }
}

#[test]
fn every_post_of_real_feeds_reads_as_its_author_meant_it() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "SOURCES"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "the corpus holds {} feeds", files.len());
    let addresses = addresses(&dir);
    let mut faults = Faults::default();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        check_file(file, addresses.get(name.as_ref()), &mut faults);
    }
    let mut report = format!(
        "{} feeds, {} posts, {} captions; X captions of posts with text carrying more than \
         the title and link: {} of {}\n",
        files.len(),
        faults.posts,
        faults.captions,
        faults.x_more_than_title,
        faults.x_with_text,
    );
    for (kind, examples) in &faults.by_kind {
        report.push_str(&format!("{kind}: {}\n", examples.len()));
        for e in examples.iter().take(EXAMPLES_PER_FAULT) {
            report.push_str(&format!("    {e}\n"));
        }
    }
    println!("{report}");
    assert!(faults.by_kind.is_empty(), "{report}");
}
