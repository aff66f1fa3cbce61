//! What captions are made from, worked out once per post when its feed is read: the text
//! as a reader sees it, the best summary there is, the lead sentence, the section headings,
//! and a title (the feed's, or one made from the text when the feed has none).

use super::angles::{self, Angles};
use super::article::{self, Article};
use super::normalize::{self, Markup};
use super::sentences::{self, ends_a_sentence};
pub use super::standalone::is_link_or_address;
use super::standalone::{self, stands_alone};

/// A lead is one sentence a caption can carry whole, on X too.
pub const LEAD_MAX_CHARS: usize = standalone::MAX_CHARS;
/// Section headings kept per post, and characters per heading.
const MAX_HEADINGS: usize = 30;
const HEADING_MAX_CHARS: usize = 200;
/// Words from which a title that merely opens the text is taken for an automatic one.
const AUTO_TITLE_MIN_WORDS: usize = 5;
/// Words of a label made from the text for a post without a title.
const LABEL_WORDS: usize = 10;

/// Where a post's summary came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SummarySource {
    /// The feed's own summary, and a real one.
    #[default]
    Feed,
    /// The first paragraphs of the post: the page's description may replace it.
    Text,
    /// The post page's `og:description` (or `twitter:` or meta description).
    Page,
}

impl SummarySource {
    pub fn as_str(self) -> &'static str {
        match self {
            SummarySource::Feed => "feed",
            SummarySource::Text => "text",
            SummarySource::Page => "page",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "text" => SummarySource::Text,
            "page" => SummarySource::Page,
            _ => SummarySource::Feed,
        }
    }
}

/// A feed field as it came: its raw text and how to read it.
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    pub raw: &'a str,
    pub markup: Markup,
}

/// A post read once, for every caption made from it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    /// The feed's title, or a label made from the text when the feed gives none.
    pub title: String,
    /// The title is not the author's: there was none, or it only repeats the text's
    /// beginning (micro.blog, Mastodon-style feeds). Captions then use the text once.
    pub title_from_text: bool,
    /// Ends on a whole sentence, or with "…" where a sentence had to be cut.
    pub summary: String,
    pub summary_source: SummarySource,
    /// Paragraphs one to a line, without headings, captions, credits and boilerplate.
    pub content_text: String,
    /// The first strong sentence of the post, or empty.
    pub lead: String,
    pub headings: Vec<String>,
    /// Other ways into the post than its lead, each a sentence of its text.
    pub angles: Angles,
    /// First inline images, of the content then of the summary, as written.
    pub images: Vec<String>,
}

/// Reads a post from its feed fields. `title` is already plain text; `url` is the post's
/// address, whose last path segment labels a post with neither title nor text.
pub fn read(
    title: &str,
    summary: Option<Field<'_>>,
    content: Option<Field<'_>>,
    url: Option<&str>,
) -> Reading {
    let read_field = |f: Field<'_>| match f.markup {
        Markup::Html => article::read_html(f.raw),
        Markup::Plain => article::read_plain(f.raw),
    };
    let summary_article = summary.map(read_field).unwrap_or_default();
    let content_article = content.map(read_field).unwrap_or_default();
    let has_content = content_article.paragraphs().next().is_some();
    let mut body = if has_content {
        content_article.clone()
    } else {
        summary_article.clone()
    };

    let given = normalize::one_line(title);
    let cut_marked = without_cut_mark(&given).len() < given.len();
    // A copy of the title on its own line is a heading, and the title the author's; one
    // ending in a cut mark is the text's beginning, cut.
    let heading_copy = !given.is_empty() && !cut_marked && drop_leading_title(&mut body, &given);
    let title_from_text =
        given.is_empty() || (!heading_copy && is_cut_of(&given, &one_line_text(&body)));
    let body_text = one_line_text(&body);

    let mut summary_read = summary_article.clone();
    if !given.is_empty() && !cut_marked && !title_from_text {
        drop_leading_title(&mut summary_read, &given);
    }
    let feed_summary = one_line_text(&summary_read);
    let not_a_summary = feed_summary.is_empty()
        || is_link_or_address(&feed_summary)
        || (has_content && is_copy_of(&feed_summary, &body_text))
        || ends_in_cut_mark(&feed_summary);
    let real_summary = !not_a_summary;
    let (summary, summary_source) = if real_summary {
        (
            sentences::cut_to_sentences(&feed_summary, normalize::SUMMARY_CHARS),
            SummarySource::Feed,
        )
    } else {
        (summary_of(&body), SummarySource::Text)
    };

    let title = if title_from_text && given.is_empty() {
        label(&summary, url)
    } else {
        given
    };
    let images = [&content_article, &summary_article]
        .into_iter()
        .filter_map(|a| a.first_image.clone())
        .collect();
    let lead = lead_of(&body, &title);
    let content_text = body.text();
    Reading {
        angles: angles::of(authors_title(&title, title_from_text), &content_text, &lead),
        lead,
        headings: body
            .headings()
            .take(MAX_HEADINGS)
            .map(|h| normalize::truncate_words(h, HEADING_MAX_CHARS))
            .collect(),
        content_text,
        title,
        title_from_text,
        summary,
        summary_source,
        images,
    }
}

/// The title when the author wrote it; empty when it was made from the text.
pub fn authors_title(title: &str, title_from_text: bool) -> &str {
    if title_from_text {
        ""
    } else {
        title
    }
}

fn one_line_text(article: &Article) -> String {
    article.paragraphs().collect::<Vec<_>>().join(" ")
}

/// `text` without a trailing cut mark ("…", "...").
fn without_cut_mark(text: &str) -> &str {
    text.trim_end()
        .trim_end_matches('…')
        .trim_end_matches("...")
        .trim_end()
}

fn ends_in_cut_mark(text: &str) -> bool {
    let t = text.trim_end();
    // "Soon…" ends a sentence; "and then the…" is a cut: a mark right after a word.
    (t.ends_with('…') || t.ends_with("..."))
        && !without_cut_mark(t).ends_with(['.', '!', '?', '。', '！', '？'])
        && without_cut_mark(t)
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
        && sentences::sentences(t).len() > 1
}

/// `summary` is the text or its beginning, cut: a copy, not a summary.
fn is_copy_of(summary: &str, text: &str) -> bool {
    let core = without_cut_mark(summary);
    !core.is_empty() && starts_with_loosely(text, core)
}

/// `title` only repeats the beginning of `text`, cut mid-sentence: micro.blog's and
/// Mastodon-style feeds' automatic titles. Short titles that open the first sentence
/// ("Barfi" in "Barfi to indyjski deser…") are the author's: automatic ones are cut from
/// several words on, or say they were cut.
fn is_cut_of(title: &str, text: &str) -> bool {
    let core = without_cut_mark(title);
    let cut_mark = core.len() < title.trim_end().len();
    (cut_mark || core.split_whitespace().count() >= AUTO_TITLE_MIN_WORDS)
        && !core.is_empty()
        && text.chars().count() > core.chars().count()
        && starts_with_loosely(text, core)
        && (cut_mark || !ends_a_sentence(core) || text_continues_sentence(text, core))
}

/// The text goes on in the same sentence after `head`.
fn text_continues_sentence(text: &str, head: &str) -> bool {
    sentences::sentences(text)
        .first()
        .is_some_and(|first| first.chars().count() > head.chars().count())
}

/// Prefix comparison that ignores case and whitespace differences.
fn starts_with_loosely(text: &str, head: &str) -> bool {
    let mut text = text.chars().filter(|c| !c.is_whitespace());
    head.chars().filter(|c| !c.is_whitespace()).all(|c| {
        text.next()
            .is_some_and(|t| t.to_lowercase().eq(c.to_lowercase()))
    })
}

/// Removes a copy of the title that opens the body: a heading or paragraph of its own, or
/// the first sentence of the first paragraph. Returns whether there was one.
fn drop_leading_title(body: &mut Article, title: &str) -> bool {
    let bare = |a: &str| a.trim().trim_end_matches(['.', ':', '!', '?']).to_owned();
    let same = |a: &str| bare(a).eq_ignore_ascii_case(&bare(title));
    let Some(first) = body.blocks.first_mut() else {
        return false;
    };
    if same(&first.text) {
        body.blocks.remove(0);
        return true;
    }
    // A heading glued to the text when the feed stripped its markup: "Join usWe welcome…".
    if let Some(rest) = first.text.strip_prefix(title) {
        if rest.chars().next().is_some_and(char::is_uppercase) {
            first.text = rest.to_owned();
            return true;
        }
    }
    let sentences = sentences::sentences(&first.text);
    match sentences.first() {
        Some(opening) if sentences.len() > 1 && same(opening) => {
            let at = first.text.find(opening).unwrap_or(0) + opening.len();
            first.text = first.text[at..].trim().to_owned();
            true
        }
        _ => false,
    }
}

/// The first paragraphs, as many whole sentences as fit.
fn summary_of(body: &Article) -> String {
    let mut text = String::new();
    for p in body.paragraphs() {
        if text.chars().count() > normalize::SUMMARY_CHARS {
            break;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(p);
    }
    let cut = sentences::cut_to_sentences(&text, normalize::SUMMARY_CHARS);
    if cut.ends_with("...") {
        format!("{}…", cut.trim_end_matches('.').trim_end())
    } else {
        cut
    }
}

/// The first sentence that can lead a caption: long enough to say something, short enough
/// to carry whole, and none of a byline, credit, heading, bare link or a fragment cut short.
fn lead_of(body: &Article, title: &str) -> String {
    for paragraph in body.paragraphs() {
        for sentence in sentences::sentences(paragraph) {
            if stands_alone(sentence, title) {
                return sentence.to_owned();
            }
        }
    }
    String::new()
}

/// A label for a post without a title: its first words, else the words of its address.
fn label(summary: &str, url: Option<&str>) -> String {
    let from_text = normalize::fallback_title(summary);
    if !from_text.is_empty() {
        return from_text;
    }
    let slug = url
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| {
            u.path_segments()?
                .rev()
                .find(|s| !s.is_empty() && !s.starts_with("index"))
                .map(str::to_owned)
        })
        .map(|s| s.trim_end_matches(".html").replace(['-', '_'], " "))
        .unwrap_or_default();
    let words: Vec<&str> = slug.split_whitespace().take(LABEL_WORDS).collect();
    words.join(" ")
}

#[cfg(test)]
#[path = "reading_tests.rs"]
mod tests;
