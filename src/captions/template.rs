//! Default caption templates and the context they are rendered with.
//!
//! Output is plain text pasted into a compose box, so nothing is escaped;
//! whoever puts a caption into HTML escapes it there.

use std::borrow::Cow;

use super::hashtags::HashtagRules;
use super::language::Language;
use super::platform::Platform;
use super::PostView;

/// Words kept from the feed summary before any platform-specific fitting;
/// feeds that put the whole article in the summary would otherwise produce
/// walls of text on platforms with huge limits.
const SUMMARY_MAX_WORDS: usize = 50;
/// Words of article text offered as `excerpt` (LinkedIn's longer body).
const EXCERPT_MAX_WORDS: usize = 90;
/// Categories considered at all; bounds work on feeds that tag everything.
const MAX_CATEGORIES: usize = 30;

// Each default is written for how the platform's feed reads and the room it gives, and
// each takes a different way into the post, so that no two platforms get the same text
// when the post has the material (a lead and a key sentence at least):
// - X: the title, the key sentence (else the lead, else the summary) and the link;
// - Bluesky: the hook first (the lead), then the title and the link; without a lead, the
//   title and the summary;
// - Mastodon: the title, the lead and the key sentence, the link, hashtags at the end;
// - Threads: the title, a quote (else the summary), the link and one topic tag;
// - LinkedIn: a longer text broken into short paragraphs (lead, key sentence, quote,
//   figure, teaser) that ends with a question: the post's own, else an open one;
// - Instagram: the title, the lead, "Link in bio" (no links there) and up to 5 hashtags;
// - Facebook: the title, the summary, the quote as a pull quote (it may repeat a sentence of
//   the summary, as pull quotes do), the post's question and the link.
// The lead and the angles are whole sentences, so fitting drops them whole before the
// title is cut (see `fit`). Missing fields leave blank lines behind on purpose: `tidy`
// collapses them. How many hashtags each platform gets is the feed's cap (see
// `hashtags`), applied before a template runs; the templates show them all.
// X has no blank lines to spare: the hook's line break comes with it.
const X_TEMPLATE: &str = "{{ title }}\
{% if key_sentence %}\n{{ key_sentence }}{% else %}{% if lead %}\n{{ lead }}\
{% else %}{% if summary %}\n{{ summary }}{% endif %}{% endif %}{% endif %}\n\
{{ url }}\n\n{{ hashtags|join(' ') }}";
const MASTODON_TEMPLATE: &str = "{{ title }}\n\n\
{% if lead %}{{ lead }} {{ key_sentence }}{% else %}{{ summary }}{% endif %}\n\n\
{{ url }}\n{{ hashtags|join(' ') }}";
const BLUESKY_TEMPLATE: &str = "{% if lead %}{{ lead }}\n\n{{ title }}\
{% else %}{{ title }}\n\n{{ summary }}{% endif %}\n{{ url }}";
// Threads allows a single topic tag per post (its cap is 1).
const THREADS_TEMPLATE: &str = "{{ title }}\n\n\
{% if quote %}{{ quote }}{% else %}{{ summary }}{% endif %}\n\n\
{{ url }}\n{{ hashtags|join(' ') }}";
const LINKEDIN_TEMPLATE: &str = "{{ title }}\n\n\
{% if lead %}{{ lead }}\n\n{{ key_sentence }}\n\n{{ quote }}\n\n{{ number }}\
{% else %}{{ excerpt if excerpt|length > summary|length else summary }}{% endif %}\n\n\
{{ teaser }}\n\n\
{% if question %}{{ question }}{% else %}{% if lead %}What do you think?{% endif %}{% endif %}\n\n\
{% if url %}Read more: {{ url }}{% endif %}\n\n\
{{ hashtags|join(' ') }}";
// Instagram captions cannot hold clickable links, so the URL is never pasted.
const INSTAGRAM_TEMPLATE: &str = "{{ title }}\n\n\
{% if lead %}{{ lead }}{% else %}{{ summary }}{% endif %}\n\n\
{% if url %}Link in bio.{% endif %}\n\n\
{{ hashtags|join(' ') }}";
const FACEBOOK_TEMPLATE: &str =
    "{{ title }}\n\n{{ summary }}\n\n{{ quote }}\n\n{{ question }}\n\n{{ url }}";

/// Source of the default template for `platform` with its fixed words in
/// `language`.
pub(crate) fn default_template_in(platform: Platform, language: Language) -> Cow<'static, str> {
    let english = default_template(platform);
    match (platform, language) {
        (_, Language::En) => english.into(),
        (Platform::Linkedin, _) => english
            .replace(Language::En.read_more(), language.read_more())
            .replace(
                Language::En.what_do_you_think(),
                language.what_do_you_think(),
            )
            .into(),
        (Platform::Instagram, _) => english
            .replace(Language::En.link_in_bio(), language.link_in_bio())
            .into(),
        _ => english.into(),
    }
}

/// Source of the default template for `platform`, e.g. to show in a preview.
pub(crate) fn default_template(platform: Platform) -> &'static str {
    match platform {
        Platform::X => X_TEMPLATE,
        Platform::Mastodon => MASTODON_TEMPLATE,
        Platform::Bluesky => BLUESKY_TEMPLATE,
        Platform::Threads => THREADS_TEMPLATE,
        Platform::Linkedin => LINKEDIN_TEMPLATE,
        Platform::Instagram => INSTAGRAM_TEMPLATE,
        Platform::Facebook => FACEBOOK_TEMPLATE,
    }
}

/// Everything a template can use. All text is whitespace-normalized,
/// single-line and free of control characters.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub(crate) struct Context {
    pub title: String,
    pub summary: String,
    pub excerpt: String,
    pub url: String,
    pub author: String,
    /// `YYYY-MM-DD`, or empty.
    pub published: String,
    pub categories: Vec<String>,
    pub hashtags: Vec<String>,
    pub image: String,
    pub feed_title: String,
    /// The post's first strong sentence, or empty.
    pub lead: String,
    /// The post's angles (`feeds::angles`), each a sentence of it or empty.
    pub key_sentence: String,
    pub quote: String,
    pub question: String,
    pub number: String,
    /// Its section headings as one line in the feed's language, or empty.
    pub teaser: String,
}

impl Context {
    /// A realistic post, used to try a template before it is saved.
    pub(crate) fn sample() -> Self {
        let categories: Vec<String> = ["Rust", "performance", "web development"]
            .map(String::from)
            .to_vec();
        Context {
            title: "How we made our feed reader fast".into(),
            summary: "Profiling a Rust service and what we changed: fewer allocations, \
                      a better index and caching parsed feeds."
                .into(),
            excerpt: "We profiled the service under real traffic and found three hot spots.".into(),
            url: "https://blog.example.com/fast-feeds".into(),
            author: "Ann Example".into(),
            published: "2023-11-14".into(),
            hashtags: hashtags(&categories),
            categories,
            image: "https://blog.example.com/fast-feeds.png".into(),
            feed_title: "Example Engineering".into(),
            lead: "We profiled the service under real traffic and found three hot spots.".into(),
            key_sentence: "Most of the time went into parsing the same feeds again.".into(),
            quote: "The fastest feed is the one you never parse twice.".into(),
            question: "Why was a feed reader slow at all?".into(),
            number: "Median response time fell from 180 ms to 12 ms.".into(),
            teaser: "In this post: Profiling, Allocations and Caching.".into(),
        }
    }

    /// The context of `post` with the built-in hashtag rules.
    #[cfg(test)]
    pub(crate) fn from_post(post: &PostView) -> Self {
        Self::from_post_in(post, &HashtagRules::default(), Language::En)
    }

    /// The context of `post`, its hashtags made under a feed's `rules`, the words it adds
    /// in `language`.
    pub(crate) fn from_post_in(post: &PostView, rules: &HashtagRules, language: Language) -> Self {
        Self::read(post, rules, language).within_bounds()
    }

    /// Every field cut to what a template's variables may hold (see
    /// `bounds`), so the pasting and minijinja paths see the same text. Only
    /// degenerate posts (a title of 2,000 characters, a word of 3,000) are
    /// touched; an address that long is dropped rather than broken.
    fn within_bounds(mut self) -> Self {
        for text in [
            &mut self.title,
            &mut self.summary,
            &mut self.excerpt,
            &mut self.author,
            &mut self.feed_title,
            &mut self.lead,
            &mut self.key_sentence,
            &mut self.quote,
            &mut self.question,
            &mut self.number,
            &mut self.teaser,
        ] {
            let kept = within_bytes(text, super::limits::MAX_FIELD_BYTES).len();
            text.truncate(kept);
        }
        for address in [&mut self.url, &mut self.image] {
            if address.len() > super::limits::MAX_FIELD_BYTES {
                address.clear();
            }
        }
        self
    }

    fn read(post: &PostView, rules: &HashtagRules, language: Language) -> Self {
        if post.title_from_text {
            return Self::from_untitled_post(post, rules, language);
        }
        let title = clean_text(&post.title);
        // Only the first words of long texts are ever used; cleaning whole
        // articles dominated caption generation.
        let title_words = title.split(' ').count();
        let article = clean_words(
            without_leading_title(&post.content_text, &title),
            EXCERPT_MAX_WORDS + 1,
        );
        let mut summary = clean_words(&post.summary, SUMMARY_MAX_WORDS + title_words + 1);
        // Feeds often repeat the title as the description.
        if summary.eq_ignore_ascii_case(&title) {
            summary.clear();
        }
        if summary.is_empty() {
            summary = article.clone();
        }
        let categories: Vec<String> = post
            .categories
            .iter()
            .map(|c| clean_text(c))
            .filter(|c| !c.is_empty())
            .take(MAX_CATEGORIES)
            .collect();
        Context {
            summary: cut_words(&summary, SUMMARY_MAX_WORDS),
            excerpt: cut_words(&article, EXCERPT_MAX_WORDS),
            url: post.url.as_deref().map(clean_url).unwrap_or_default(),
            author: post.author.as_deref().map(clean_text).unwrap_or_default(),
            published: post
                .published
                .map(|d| d.date_naive().to_string())
                .unwrap_or_default(),
            hashtags: super::hashtags::hashtags(&categories, rules),
            categories,
            image: post.image_url.as_deref().map(clean_url).unwrap_or_default(),
            feed_title: post
                .feed_title
                .as_deref()
                .map(clean_text)
                .unwrap_or_default(),
            lead: clean_text(&post.lead),
            key_sentence: clean_text(&post.angles.key_sentence),
            quote: clean_text(&post.angles.quote),
            question: clean_text(&post.angles.question),
            number: clean_text(&post.angles.number),
            teaser: clean_text(&super::teaser::teaser(&post.headings, language)),
            title,
        }
        .without_repeats()
    }

    /// Each sentence said once: an angle that repeats the title or an earlier field (in
    /// the order lead, key sentence, quote, question, number) is left empty, so a
    /// template can use them side by side. A title that asks a question is the question
    /// only where the title is not shown.
    fn without_repeats(mut self) -> Self {
        let same = |a: &str, b: &str| !a.is_empty() && a.eq_ignore_ascii_case(b);
        if same(&self.key_sentence, &self.lead) {
            self.key_sentence.clear();
        }
        if [&self.lead, &self.key_sentence]
            .iter()
            .any(|s| same(&self.quote, s))
        {
            self.quote.clear();
        }
        if [&self.title, &self.lead, &self.key_sentence, &self.quote]
            .iter()
            .any(|s| same(&self.question, s))
        {
            self.question.clear();
        }
        if [&self.lead, &self.key_sentence, &self.quote, &self.question]
            .iter()
            .any(|s| same(&self.number, s))
        {
            self.number.clear();
        }
        self
    }

    /// The context without the lead and angles that hold a link as X sees one (bare
    /// domains included) beside the post's own link: on X a second link in the hook
    /// competes with the post's for the click and its preview card. `None` when none does.
    /// A sentence is skipped rather than cut, as fitting does; the next way in takes its
    /// place in the templates.
    pub(crate) fn without_linked_angles(&self) -> Option<Self> {
        if self.url.is_empty() {
            return None;
        }
        let linked = |s: &str| !s.is_empty() && !super::count::find_urls(s, true).is_empty();
        let fields = [
            &self.lead,
            &self.key_sentence,
            &self.quote,
            &self.question,
            &self.number,
        ];
        if !fields.iter().any(|s| linked(s)) {
            return None;
        }
        let mut out = self.clone();
        for field in [
            &mut out.lead,
            &mut out.key_sentence,
            &mut out.quote,
            &mut out.question,
            &mut out.number,
        ] {
            if linked(field) {
                field.clear();
            }
        }
        Some(out)
    }

    /// The same context with only the lead and angles `kept`, as fitting drops them.
    #[cfg(test)]
    pub(crate) fn keeping(&self, kept: Kept) -> Self {
        if kept.angles() {
            return self.clone();
        }
        Context {
            lead: if kept.lead() {
                self.lead.clone()
            } else {
                String::new()
            },
            key_sentence: String::new(),
            quote: String::new(),
            question: String::new(),
            number: String::new(),
            teaser: String::new(),
            ..self.clone()
        }
    }

    /// A post whose title is only a label made from its text: the text itself stands where
    /// a title would (fitting cuts it like one), once, with no summary, excerpt, lead or
    /// angle to repeat it.
    fn from_untitled_post(post: &PostView, rules: &HashtagRules, language: Language) -> Self {
        let titled = PostView {
            title: if post.summary.trim().is_empty() {
                post.title.clone()
            } else {
                post.summary.clone()
            },
            summary: String::new(),
            content_text: String::new(),
            title_from_text: false,
            lead: String::new(),
            headings: Vec::new(),
            angles: crate::feeds::Angles::default(),
            ..post.clone()
        };
        Self::read(&titled, rules, language)
    }
}

/// What fitting changes in a [`Context`]: the rest stays as in the full one.
#[derive(Debug, Clone)]
pub(crate) struct Shortened<'a> {
    pub title: std::borrow::Cow<'a, str>,
    pub summary: std::borrow::Cow<'a, str>,
    pub excerpt: std::borrow::Cow<'a, str>,
    /// How many of the hashtags are kept, from the front.
    pub hashtags: usize,
    pub url: bool,
    /// Which of the lead and the angles are kept: they are whole sentences, so they are
    /// dropped, never cut.
    pub angles: Kept,
}

/// How much of the lead and the angles a shortening keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    All,
    /// The lead only: the first sentence, and usually the shortest way in.
    Lead,
    Nothing,
}

impl Kept {
    /// From most to least.
    pub(crate) const ALL: [Kept; 3] = [Kept::All, Kept::Lead, Kept::Nothing];

    pub(crate) fn lead(self) -> bool {
        self != Kept::Nothing
    }

    pub(crate) fn angles(self) -> bool {
        self == Kept::All
    }
}

impl<'a> Shortened<'a> {
    /// Nothing shortened.
    pub(crate) fn whole(ctx: &'a Context) -> Self {
        Shortened {
            title: ctx.title.as_str().into(),
            summary: ctx.summary.as_str().into(),
            excerpt: ctx.excerpt.as_str().into(),
            hashtags: ctx.hashtags.len(),
            url: true,
            angles: Kept::All,
        }
    }

    /// The full context with these parts shortened.
    #[cfg(test)]
    pub(crate) fn apply(&self, full: &Context) -> Context {
        Context {
            title: self.title.clone().into_owned(),
            summary: self.summary.clone().into_owned(),
            excerpt: self.excerpt.clone().into_owned(),
            url: if self.url {
                full.url.clone()
            } else {
                String::new()
            },
            hashtags: full.hashtags[..self.hashtags.min(full.hashtags.len())].to_vec(),
            ..full.keeping(self.angles)
        }
    }
}

/// Renders `platform`'s default template (tests compare against it).
#[cfg(test)]
pub(crate) fn render(platform: Platform, ctx: &Context) -> Result<String, String> {
    // As captions are made: with the platform's default hashtag cap.
    let cap = super::hashtags::HashtagCaps::default().get(platform);
    let ctx = Context {
        hashtags: ctx.hashtags.iter().take(cap).cloned().collect(),
        ..ctx.clone()
    };
    super::engine::TemplateSet::defaults()
        .render(platform, super::DEFAULT_VARIANT, &ctx)
        .map_err(|e| e.to_string())
}

/// Trims every line, keeps at most one blank line in a row and trims the
/// ends, so empty fields never leave gaps or trailing spaces behind.
pub(crate) fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_blank = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            pending_blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if pending_blank { "\n\n" } else { "\n" });
        }
        out.push_str(line);
        pending_blank = false;
    }
    out
}

/// Collapses all whitespace to single spaces and drops control characters
/// (NUL, stray escape codes), since every field ends up on one line of a
/// plain-text post.
/// The longest prefix of `text` within `max` bytes that ends on a character.
pub(crate) fn within_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

pub(crate) fn clean_text(s: &str) -> String {
    clean_words(s, usize::MAX)
}

/// [`clean_text`] of the first `n` words only (one more is enough for
/// [`cut_words`] to know it must add an ellipsis).
fn clean_words(s: &str, n: usize) -> String {
    let mut out = String::new();
    let mut kept = 0;
    for word in s.split_whitespace() {
        if kept == n {
            break;
        }
        let visible = word.trim_matches(|c: char| c.is_control());
        if visible.is_empty() {
            continue;
        }
        if kept > 0 {
            out.push(' ');
        }
        // Copied whole unless a control character hides inside the word.
        if visible.chars().any(char::is_control) {
            out.extend(visible.chars().filter(|c| !c.is_control()));
        } else {
            out.push_str(visible);
        }
        kept += 1;
    }
    out
}

/// Only absolute http(s) links are pasted; anything else (relative paths,
/// `javascript:`, `mailto:`) would be dead or unsafe text in a post.
fn clean_url(s: &str) -> String {
    let s = s.trim();
    let is_http = ["http://", "https://"].iter().any(|scheme| {
        s.get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
    });
    if is_http
        && s.len() > "https://".len()
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        s.to_owned()
    } else {
        String::new()
    }
}

/// `article` without a leading copy of `title` (a cleaned title), when that
/// copy stands alone: the whole text, a line of its own, or a sentence of its
/// own ("Title." or a title ending in `.!?…`). A title that only begins the
/// first sentence ("Rust is fast" in "Rust is fast because …") is part of the
/// article and stays. Compared word by word, ASCII case ignored, so the
/// article's own spacing and line breaks decide.
fn without_leading_title<'a>(article: &'a str, title: &str) -> &'a str {
    let words: Vec<&str> = title.split(' ').filter(|w| !w.is_empty()).collect();
    let Some((&last, first)) = words.split_last() else {
        return article;
    };
    let mut rest = article;
    for &word in first {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        if !same_word(&rest[..end], word) {
            return article;
        }
        rest = &rest[end..];
    }
    rest = rest.trim_start();
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let found = &rest[..end];
    let ends_sentence = |w: &str| w.ends_with(['.', '!', '?', '…']);
    let sentence = if same_word(found, last) {
        ends_sentence(last)
    } else {
        // "Title." where the title has no full stop of its own.
        match found.char_indices().next_back() {
            Some((i, c)) if ".!?…".contains(c) && same_word(&found[..i], last) => true,
            _ => return article,
        }
    };
    let after = &rest[end..];
    let spacing = &after[..after.len() - after.trim_start().len()];
    let own_line =
        after.trim().is_empty() || spacing.contains(['\n', '\r', '\u{2028}', '\u{2029}']);
    if own_line || sentence {
        after.trim_start()
    } else {
        article
    }
}

/// Whether a word of raw text is `clean` once its control characters are
/// dropped, ignoring ASCII case.
fn same_word(raw: &str, clean: &str) -> bool {
    let mut raw = raw.chars().filter(|c| !c.is_control());
    let mut clean = clean.chars();
    loop {
        match (raw.next(), clean.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(&b) => {}
            _ => return false,
        }
    }
}

/// The first `n` words of whitespace-normalized `text`, with "…" when
/// anything was cut. Cutting already-cut text again is consistent, which the
/// fitting search relies on.
pub(crate) fn cut_words(text: &str, n: usize) -> String {
    WordCuts::new(text).cut(n).into_owned()
}

/// [`cut_words`] of one text for many `n`: fitting cuts the same prose and
/// title again and again, so where the words end is found once. On text
/// with single spaces only (all the context's text) a cut is then a slice;
/// other text is split and joined as it comes.
pub(crate) struct WordCuts<'a> {
    text: &'a str,
    /// Where each space is, when the text is single-spaced.
    spaces: Option<Vec<usize>>,
}

impl<'a> WordCuts<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let single_spaced = !(text.starts_with(' ') || text.ends_with(' ') || text.contains("  "));
        let spaces = single_spaced.then(|| {
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b' ')
                .map(|(i, _)| i)
                .collect()
        });
        WordCuts { text, spaces }
    }

    /// How many words a cut can keep at most (space-separated, as cut).
    pub(crate) fn words(&self) -> usize {
        match &self.spaces {
            _ if self.text.is_empty() => 0,
            Some(spaces) => spaces.len() + 1,
            None => self.text.split(' ').filter(|w| !w.is_empty()).count(),
        }
    }

    /// The first `n` words, with "…" when anything was cut.
    pub(crate) fn cut(&self, n: usize) -> std::borrow::Cow<'a, str> {
        let Some(spaces) = &self.spaces else {
            return cut_words_split(self.text, n).into();
        };
        if self.text.is_empty() || n == 0 {
            return "".into();
        }
        match spaces.get(n - 1) {
            None => self.text.into(),
            Some(&end) => with_ellipsis(&self.text[..end]).into(),
        }
    }
}

impl<'a> WordCuts<'a> {
    /// The most words, at most `n` and fewer than all, that end on a whole sentence; only
    /// for single-spaced text (every cleaned field).
    pub(crate) fn sentence_end_at_most(&self, n: usize) -> Option<usize> {
        let spaces = self.spaces.as_ref()?;
        let n = n.min(spaces.len());
        (1..=n).rev().find(|&m| {
            let start = if m == 1 { 0 } else { spaces[m - 2] + 1 };
            ends_sentence(&self.text[start..spaces[m - 1]])
        })
    }

    /// The first `n` words as they are, where [`Self::sentence_end_at_most`] found a
    /// sentence ending: a cut there needs no ellipsis.
    pub(crate) fn cut_at_sentence(&self, n: usize) -> std::borrow::Cow<'a, str> {
        match self.spaces.as_ref().and_then(|s| s.get(n.checked_sub(1)?)) {
            Some(&end) => self.text[..end].into(),
            None => self.cut(n),
        }
    }
}

/// Whether `word` closes a sentence: it ends in `.`, `!` or `?` (before any closing quote
/// or bracket), and is no initial or abbreviation with inner dots ("J.", "e.g.", "U.S.").
fn ends_sentence(word: &str) -> bool {
    let word = word.trim_end_matches(['"', '\'', '”', '’', ')', '»']);
    let Some(body) = word.strip_suffix(['.', '!', '?']) else {
        return false;
    };
    body.chars().filter(|c| c.is_alphanumeric()).count() > 1 && !body.contains('.')
}

/// [`cut_words`] for any spacing: splits and joins.
fn cut_words_split(text: &str, n: usize) -> String {
    let mut words = text.split(' ').filter(|w| !w.is_empty());
    let kept: Vec<&str> = words.by_ref().take(n).collect();
    if words.next().is_none() {
        return kept.join(" ");
    }
    if kept.is_empty() {
        return String::new();
    }
    with_ellipsis(&kept.join(" "))
}

fn with_ellipsis(kept: &str) -> String {
    // "word,…" reads badly; the ellipsis already marks the break.
    let kept = kept.trim_end_matches([',', ';', ':', '.', '-', '–', '—']);
    let mut out = String::with_capacity(kept.len() + '…'.len_utf8());
    out.push_str(kept);
    if !out.ends_with('…') {
        out.push('…');
    }
    out
}

/// The hashtags of `categories` under the built-in rules (see
/// [`super::hashtags`]); the `hashtags` filter and tests use it.
pub(crate) fn hashtags(categories: &[String]) -> Vec<String> {
    super::hashtags::hashtags(categories, &HashtagRules::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context {
            title: "Async Rust in practice".into(),
            summary: "What we learned moving a service to Tokio.".into(),
            excerpt: "A longer look at what we learned moving a busy service to Tokio, and what we would do differently.".into(),
            url: "https://blog.example.com/async-rust".into(),
            categories: vec!["Rust".into(), "async".into(), "Tokio".into(), "web dev".into(), "perf".into(), "ops".into()],
            hashtags: hashtags(&[
                "Rust".into(), "async".into(), "Tokio".into(), "web dev".into(), "perf".into(), "ops".into(),
            ]),
            ..Context::default()
        }
    }

    #[test]
    fn all_defaults_compile_and_render() {
        for p in Platform::ALL {
            let text = render(p, &ctx()).unwrap();
            assert!(text.starts_with("Async Rust in practice"), "{p:?}: {text}");
            assert!(!text.contains("\n\n\n"), "{p:?}");
            assert!(text.lines().all(|l| l.trim() == l), "{p:?}");
        }
    }

    #[test]
    fn x_default() {
        assert_eq!(
            render(Platform::X, &ctx()).unwrap(),
            "Async Rust in practice\nWhat we learned moving a service to Tokio.\n\
             https://blog.example.com/async-rust\n\n#Rust #Async"
        );
        // The key sentence is the hook when there is one, else the lead.
        let angled = Context {
            lead: "We moved a busy service to Tokio in a month.".into(),
            key_sentence: "Blocking calls inside async tasks were the one thing that hurt.".into(),
            ..ctx()
        };
        assert_eq!(
            render(Platform::X, &angled).unwrap(),
            "Async Rust in practice\nBlocking calls inside async tasks were the one thing \
             that hurt.\nhttps://blog.example.com/async-rust\n\n#Rust #Async"
        );
        let lead_only = Context {
            key_sentence: String::new(),
            ..angled
        };
        assert!(render(Platform::X, &lead_only)
            .unwrap()
            .contains("\nWe moved a busy service to Tokio in a month.\nhttps://"));
    }

    #[test]
    fn linkedin_ends_with_the_posts_question_or_an_open_one() {
        let angled = Context {
            lead: "We moved a busy service to Tokio in a month.".into(),
            key_sentence: "Blocking calls inside async tasks were the one thing that hurt.".into(),
            teaser: "In this post: Runtime, Blocking and Tracing.".into(),
            ..ctx()
        };
        let text = render(Platform::Linkedin, &angled).unwrap();
        assert!(
            text.contains("Tracing.\n\nWhat do you think?\n\nRead more: https://"),
            "{text}"
        );
        let asking = Context {
            question: "Should every service be async?".into(),
            ..angled
        };
        let text = render(Platform::Linkedin, &asking).unwrap();
        assert!(
            text.contains("\n\nShould every service be async?\n\nRead more: "),
            "{text}"
        );
        assert!(!text.contains("What do you think?"));
        let de = default_template_in(Platform::Linkedin, Language::De);
        assert!(
            de.contains("Was meinen Sie?") && de.contains("Weiterlesen:"),
            "{de}"
        );
    }

    #[test]
    fn mastodon_default() {
        assert_eq!(
            render(Platform::Mastodon, &ctx()).unwrap(),
            "Async Rust in practice\n\nWhat we learned moving a service to Tokio.\n\n\
             https://blog.example.com/async-rust\n#Rust #Async #Tokio #WebDev"
        );
    }

    #[test]
    fn threads_has_at_most_one_hashtag() {
        let text = render(Platform::Threads, &ctx()).unwrap();
        assert_eq!(text.matches('#').count(), 1);
        assert!(text.ends_with("https://blog.example.com/async-rust\n#Rust"));
    }

    #[test]
    fn linkedin_prefers_longer_excerpt() {
        let text = render(Platform::Linkedin, &ctx()).unwrap();
        assert!(text.contains("A longer look at"));
        assert!(!text.contains("What we learned moving a service"));
        assert!(text
            .contains("\n\nRead more: https://blog.example.com/async-rust\n\n#Rust #Async #Tokio"));
        assert!(!text.contains("#WebDev"));
    }

    #[test]
    fn instagram_never_pastes_the_url() {
        let text = render(Platform::Instagram, &ctx()).unwrap();
        assert!(!text.contains("https://"));
        assert!(text.contains("\n\nLink in bio.\n\n#Rust #Async #Tokio #WebDev #Perf"));
        assert!(!text.contains("#Ops"));
        let no_url = Context {
            url: String::new(),
            ..ctx()
        };
        assert!(!render(Platform::Instagram, &no_url)
            .unwrap()
            .contains("Link in bio"));
    }

    #[test]
    fn fixed_words_come_in_the_feeds_language() {
        let (set, _) = super::super::engine::TemplateSet::with_overrides_in(Language::De, []);
        let de = |p| {
            set.render(p, super::super::DEFAULT_VARIANT, &ctx())
                .unwrap()
        };
        assert!(
            de(Platform::Linkedin).contains("\n\nWeiterlesen: https://blog.example.com/async-rust")
        );
        assert!(de(Platform::Instagram).contains("\n\nLink in der Bio.\n\n"));
        assert_eq!(
            de(Platform::X),
            render(Platform::X, &ctx())
                .unwrap()
                .replace("#Rust #Async", &ctx().hashtags.join(" "))
        );
        for language in Language::ALL {
            let linkedin = default_template_in(Platform::Linkedin, language);
            let instagram = default_template_in(Platform::Instagram, language);
            assert!(linkedin.contains(language.read_more()), "{language:?}");
            assert!(instagram.contains(language.link_in_bio()), "{language:?}");
            assert!(super::super::engine::validate(&linkedin).is_ok());
            assert!(super::super::engine::validate(&instagram).is_ok());
        }
    }

    #[test]
    fn empty_fields_leave_no_gaps() {
        let bare = Context {
            title: "Only a title".into(),
            ..Context::default()
        };
        for p in Platform::ALL {
            assert_eq!(render(p, &bare).unwrap(), "Only a title", "{p:?}");
        }
        let no_summary = Context {
            summary: String::new(),
            excerpt: String::new(),
            ..ctx()
        };
        assert_eq!(
            render(Platform::Facebook, &no_summary).unwrap(),
            "Async Rust in practice\n\nhttps://blog.example.com/async-rust"
        );
        assert!(render(Platform::X, &Context::default()).unwrap().is_empty());
    }

    #[test]
    fn feed_text_is_not_escaped_or_interpreted() {
        let hostile = Context {
            title: "<b>Tom & Jerry</b> {{ 7*7 }} {% raw %}".into(),
            ..Context::default()
        };
        assert_eq!(
            render(Platform::Facebook, &hostile).unwrap(),
            "<b>Tom & Jerry</b> {{ 7*7 }} {% raw %}"
        );
    }

    #[test]
    fn cut_words_rules() {
        assert_eq!(cut_words("one two three", 5), "one two three");
        assert_eq!(cut_words("one two three", 3), "one two three");
        assert_eq!(cut_words("one, two, three", 2), "one, two…");
        assert_eq!(cut_words("one two three", 0), "");
        assert_eq!(cut_words(&cut_words("a b c d e", 3), 3), "a b c…");
        assert_eq!(cut_words(&cut_words("a b c d e", 3), 2), "a b…");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// The slicing fast path cuts exactly where splitting and joining does.
        #[test]
        fn cut_words_slices_like_it_splits(
            words in proptest::collection::vec("[a-c,.…;—]{0,3}", 0..12),
            spaces in proptest::collection::vec(1usize..3, 12),
            n in 0usize..14,
        ) {
            let mut text = String::new();
            for (w, gap) in words.iter().zip(&spaces) {
                text.push_str(w);
                text.push_str(&" ".repeat(*gap));
            }
            for text in [text.trim().to_owned(), text.clone(), text.split_whitespace().collect::<Vec<_>>().join(" ")] {
                proptest::prop_assert_eq!(cut_words(&text, n), cut_words_split(&text, n), "{:?}", text);
                let all = WordCuts::new(&text).words();
                proptest::prop_assert_eq!(cut_words(&text, all), cut_words_split(&text, usize::MAX), "{:?}", text);
                if all > 1 {
                    proptest::prop_assert!(cut_words(&text, all - 1).ends_with('…'), "{:?}", text);
                }
            }
        }
    }

    proptest::proptest! {
        /// Word by word, text is cleaned as filtering the whole text and
        /// splitting it would.
        #[test]
        fn clean_text_drops_controls_and_collapses_whitespace(s in "[a \u{0}\u{7}\t\n\u{A0}\u{85}é\u{1F}]{0,24}") {
            let visible: String = s.chars().filter(|c| c.is_whitespace() || !c.is_control()).collect();
            let expected = visible.split_whitespace().collect::<Vec<_>>().join(" ");
            proptest::prop_assert_eq!(clean_text(&s), expected);
        }
    }

    #[test]
    fn clean_words_keeps_the_first_words_only() {
        assert_eq!(clean_words("  a\u{0}b \n c  d e", 3), "ab c d");
        assert_eq!(clean_words("\u{7} x", 5), "x");
        assert_eq!(clean_words("a b", 0), "");
    }

    #[test]
    fn tidy_rules() {
        assert_eq!(tidy("  a  \n\n\n\n b \n \n\nc\n\n"), "a\n\nb\n\nc");
        assert_eq!(tidy("\n\n a\nb"), "a\nb");
        assert_eq!(tidy(" \n "), "");
    }

    #[test]
    fn a_title_repeated_as_the_first_line_or_sentence_is_dropped_from_the_excerpt() {
        let title = "Rust is fast";
        for (content, excerpt) in [
            ("Rust is fast\n\nBecause of LLVM.", "Because of LLVM."),
            ("  rust IS fast\nBecause of LLVM.", "Because of LLVM."),
            ("Rust is fast. Because of LLVM.", "Because of LLVM."),
            (
                "Rust is fast: a look at LLVM.",
                "Rust is fast: a look at LLVM.",
            ),
            ("Rust is fast", ""),
            // Only the start of the first sentence: it is the article's text.
            (
                "Rust is fast because of LLVM.",
                "Rust is fast because of LLVM.",
            ),
            (
                "Rust is faster than you think.",
                "Rust is faster than you think.",
            ),
            ("Rust is", "Rust is"),
            ("Go is fast\nToo.", "Go is fast Too."),
        ] {
            let ctx = Context::from_post(&PostView {
                title: title.into(),
                content_text: content.into(),
                ..PostView::default()
            });
            assert_eq!(ctx.excerpt, excerpt, "{content:?}");
        }
        // A title that is a sentence itself, then more on the same line.
        let ctx = Context::from_post(&PostView {
            title: "It works!".into(),
            content_text: "It works! Here is how.".into(),
            ..PostView::default()
        });
        assert_eq!(ctx.excerpt, "Here is how.");
    }

    #[test]
    fn context_from_post() {
        let post = PostView {
            title: "  Hello\n  world\u{0}  ".into(),
            url: Some(" https://example.com/hello ".into()),
            summary: "Hello world".into(),
            content_text: "Hello world\n\nFirst   paragraph.\n\nSecond.".into(),
            author: Some("Ann".into()),
            published: chrono::DateTime::from_timestamp(1_700_000_000, 0),
            categories: vec!["Rust".into(), " ".into()],
            image_url: Some("javascript:alert(1)".into()),
            feed_title: None,
            lead: " First   paragraph. ".into(),
            ..PostView::default()
        };
        let ctx = Context::from_post(&post);
        assert_eq!(ctx.lead, "First paragraph.");
        assert_eq!(ctx.title, "Hello world");
        assert_eq!(ctx.summary, "First paragraph. Second.");
        assert_eq!(ctx.excerpt, "First paragraph. Second.");
        assert_eq!(ctx.url, "https://example.com/hello");
        assert_eq!(ctx.published, "2023-11-14");
        assert_eq!(ctx.categories, ["Rust"]);
        assert_eq!(ctx.hashtags, ["#Rust"]);
        assert_eq!(ctx.image, "");
        assert_eq!(ctx.feed_title, "");
    }
}
