//! A post's HTML body as a reader sees it: paragraphs and section headings, in order,
//! without what a reader skips (figure captions, code blocks, navigation and tables of
//! contents, sharing and subscription blocks, forms).
//!
//! Readability crates (dom_smoothie, readabilityrs, libreadability, readability-rs) were
//! weighed and not taken: they find the article inside a whole web page by scoring
//! candidate nodes, but a feed body already is the article, a fragment, often a single short
//! paragraph that their length thresholds throw away; and none keeps headings apart from
//! paragraphs. What feed bodies do need, dropping captions, credits, bylines and
//! boilerplate, is a short list of element and line rules, so one more pass of the
//! html5ever tokenizer (already here for [`super::html`]) does it in linear time with no
//! tree to build: deep nesting costs nothing but a counter.
//!
//! Line rules (bylines, credits, boilerplate) are [`super::lines`]'s.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

use super::html::{is_block, raw_kind_to_skip};
use super::lines;
// Blocks are what the article yields and the line rules judge; both import them.
pub use super::block::{Block, BlockKind};

/// Bytes of HTML read from one body; the rest is ignored. Far above any real post, it
/// bounds the work a hostile feed can cause.
pub const MAX_HTML_BYTES: usize = 2 * 1024 * 1024;
/// Characters of text kept from one body; every use of the text needs its beginning only.
pub const MAX_TEXT_CHARS: usize = 100_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Article {
    pub blocks: Vec<Block>,
    /// `src` of the first `<img>`, as written (possibly relative).
    pub first_image: Option<String>,
}

impl Article {
    pub fn paragraphs(&self) -> impl Iterator<Item = &str> {
        self.blocks
            .iter()
            .filter(|b| b.kind == BlockKind::Paragraph)
            .map(|b| b.text.as_str())
    }

    pub fn headings(&self) -> impl Iterator<Item = &str> {
        self.blocks
            .iter()
            .filter(|b| b.kind == BlockKind::Heading)
            .map(|b| b.text.as_str())
    }

    /// Paragraphs one to a line.
    pub fn text(&self) -> String {
        self.paragraphs().collect::<Vec<_>>().join("\n")
    }
}

/// Reads an HTML fragment; never fails, because feed HTML is routinely broken and a
/// best-effort text beats no text.
pub fn read_html(html: &str) -> Article {
    let html = head(html, MAX_HTML_BYTES);
    let tokenizer = Tokenizer::new(Sink::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let mut state = tokenizer.sink.state.into_inner();
    state.flush();
    Article {
        blocks: lines::keep_what_a_reader_reads(state.blocks),
        first_image: state.first_image,
    }
}

/// Plain text (one paragraph a line), through the same line rules.
pub fn read_plain(text: &str) -> Article {
    let text = head(text, MAX_HTML_BYTES);
    let blocks = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .map(|text| Block {
            kind: BlockKind::Paragraph,
            text,
        })
        .collect();
    Article {
        blocks: lines::keep_what_a_reader_reads(blocks),
        first_image: None,
    }
}

/// The first `max` bytes of `s`, cut at a character boundary.
fn head(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Elements a reader skips whole: captions, code, navigation, forms, footers.
fn skipped_element(name: &str) -> bool {
    matches!(
        name,
        "figcaption" | "pre" | "nav" | "form" | "button" | "select" | "footer" | "audio" | "video"
    )
}

/// Class and id words of the blocks blogs add around a post: sharing, subscribing,
/// related posts, tables of contents, captions and credits, post metadata.
const SKIPPED_CLASS_WORDS: &[&str] = &[
    "share",
    "sharing",
    "sharedaddy",
    "sharethis",
    "addtoany",
    "social",
    "subscribe",
    "subscription",
    "newsletter",
    "signup",
    "related",
    "relatedposts",
    "toc",
    "caption",
    "credit",
    "credits",
    "byline",
    "postmeta",
    "postmetadata",
    "meta",
];

fn has_skipped_class(tag: &Tag) -> bool {
    tag.attrs
        .iter()
        .filter(|a| matches!(&*a.name.local, "class" | "id"))
        .any(|a| {
            a.value
                .to_ascii_lowercase()
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|word| SKIPPED_CLASS_WORDS.contains(&word))
        })
}

fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
    )
}

fn is_heading(name: &str) -> bool {
    matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// An element being dropped with everything inside it.
struct Skipping {
    name: String,
    /// Open elements of the same name inside it.
    depth: usize,
}

/// The outermost list being read, to tell a table of contents from a list.
struct List {
    /// Where its blocks begin in the output.
    first_block: usize,
    /// Lists open inside it.
    depth: usize,
    items: usize,
    /// Items that link within the page (`href="#…"`).
    anchor_items: usize,
    item_has_anchor: bool,
    /// A "Table of contents" heading came just before it.
    after_toc_heading: bool,
}

impl List {
    fn is_toc(&self) -> bool {
        self.after_toc_heading || (self.items >= 2 && self.anchor_items * 2 >= self.items)
    }
}

#[derive(Default)]
struct State {
    blocks: Vec<Block>,
    text: String,
    /// Whitespace seen since the last character written.
    space: bool,
    in_heading: usize,
    skipping: Option<Skipping>,
    list: Option<List>,
    toc_heading_pending: bool,
    first_image: Option<String>,
    chars: usize,
}

#[derive(Default)]
struct Sink {
    state: RefCell<State>,
}

impl State {
    fn push_text(&mut self, s: &str) {
        // Word by word while the limit is far: pushing character by character was a tenth
        // of the parser threads' time on a first poll. Near the limit, the loop below.
        let mut rest = s;
        while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
            let from_word = &rest[start..];
            let (word, after) = from_word.split_at(
                from_word
                    .find(char::is_whitespace)
                    .unwrap_or(from_word.len()),
            );
            // Bytes bound characters from above.
            if self.chars + 1 + word.len() >= MAX_TEXT_CHARS {
                return self.push_chars(rest);
            }
            self.space |= start > 0;
            if self.space && !self.text.is_empty() {
                self.text.push(' ');
                self.chars += 1;
            }
            self.space = false;
            self.text.push_str(word);
            self.chars += word.chars().count();
            rest = after;
        }
        if self.chars < MAX_TEXT_CHARS {
            self.space |= !rest.is_empty();
        }
    }

    fn push_chars(&mut self, s: &str) {
        for c in s.chars() {
            if self.chars >= MAX_TEXT_CHARS {
                return;
            }
            if c.is_whitespace() {
                self.space = true;
                continue;
            }
            if self.space && !self.text.is_empty() {
                self.text.push(' ');
                self.chars += 1;
            }
            self.space = false;
            self.text.push(c);
            self.chars += 1;
        }
    }

    /// Ends the current block.
    fn flush(&mut self) {
        self.space = false;
        if self.text.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.text);
        let kind = if self.in_heading > 0 {
            BlockKind::Heading
        } else {
            BlockKind::Paragraph
        };
        if kind == BlockKind::Heading && lines::is_toc_heading(&text) {
            self.toc_heading_pending = true;
            return;
        }
        // A "Contents" heading names the list right after it, not one further down.
        self.toc_heading_pending = false;
        self.blocks.push(Block { kind, text });
    }

    fn start(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        if let Some(raw) = raw_kind_to_skip(name) {
            if !tag.self_closing || raw.is_some() {
                self.skipping = Some(Skipping {
                    name: name.to_owned(),
                    depth: 0,
                });
            }
            return raw.map_or(TokenSinkResult::Continue, TokenSinkResult::RawData);
        }
        if !is_void(name) && !tag.self_closing && (skipped_element(name) || has_skipped_class(tag))
        {
            if is_block(name) || skipped_element(name) {
                self.flush();
            }
            self.skipping = Some(Skipping {
                name: name.to_owned(),
                depth: 0,
            });
            return TokenSinkResult::Continue;
        }
        match name {
            "img" if self.first_image.is_none() => {
                self.first_image = attr(tag, "src")
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned);
            }
            "ul" | "ol" => match &mut self.list {
                Some(list) => list.depth += 1,
                None => {
                    self.flush();
                    self.list = Some(List {
                        first_block: self.blocks.len(),
                        depth: 0,
                        items: 0,
                        anchor_items: 0,
                        item_has_anchor: false,
                        after_toc_heading: std::mem::take(&mut self.toc_heading_pending),
                    });
                }
            },
            "li" => {
                if let Some(list) = &mut self.list {
                    list.items += 1;
                    list.item_has_anchor = false;
                }
            }
            "a" => {
                if let Some(list) = &mut self.list {
                    if attr(tag, "href").is_some_and(|h| h.trim_start().starts_with('#'))
                        && !list.item_has_anchor
                    {
                        list.item_has_anchor = true;
                        list.anchor_items += 1;
                    }
                }
            }
            _ => {}
        }
        if is_block(name) {
            self.flush();
        }
        if is_heading(name) {
            self.in_heading += 1;
        } else if matches!(name, "td" | "th") {
            self.space = true;
        }
        TokenSinkResult::Continue
    }

    fn end(&mut self, tag: &Tag) {
        let name: &str = &tag.name;
        if is_block(name) {
            self.flush();
        }
        if is_heading(name) {
            self.in_heading = self.in_heading.saturating_sub(1);
        }
        if matches!(name, "ul" | "ol") {
            match &mut self.list {
                Some(list) if list.depth > 0 => list.depth -= 1,
                Some(_) => {
                    if let Some(list) = self.list.take() {
                        if list.is_toc() {
                            self.blocks.truncate(list.first_block);
                        }
                    }
                }
                None => {}
            }
        }
    }

    fn tag(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        if let Some(skipping) = &mut self.skipping {
            // A captioned figure is skipped for its caption, but its image is the post's.
            if tag.kind == TagKind::StartTag && &*tag.name == "img" && self.first_image.is_none() {
                self.first_image = attr(tag, "src")
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned);
            }
            if *tag.name == *skipping.name {
                match tag.kind {
                    TagKind::StartTag if !tag.self_closing => skipping.depth += 1,
                    TagKind::EndTag if skipping.depth == 0 => self.skipping = None,
                    TagKind::EndTag => skipping.depth -= 1,
                    TagKind::StartTag => {}
                }
            }
            return TokenSinkResult::Continue;
        }
        match tag.kind {
            TagKind::StartTag => self.start(tag),
            TagKind::EndTag => {
                self.end(tag);
                TokenSinkResult::Continue
            }
        }
    }
}

fn attr<'t>(tag: &'t Tag, name: &str) -> Option<&'t str> {
    tag.attrs
        .iter()
        .find(|a| &*a.name.local == name)
        .map(|a| &*a.value)
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut state = self.state.borrow_mut();
        match token {
            Token::TagToken(tag) => state.tag(&tag),
            Token::CharacterTokens(text) if state.skipping.is_none() => {
                state.push_text(&text);
                TokenSinkResult::Continue
            }
            _ => TokenSinkResult::Continue,
        }
    }
}

#[cfg(test)]
#[path = "article_tests.rs"]
mod tests;
