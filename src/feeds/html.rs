//! HTML fragment to caption-ready plain text.
//!
//! html2text was tried and rejected here: it renders for a terminal
//! (`[link]` markers, `## ` headings, table borders, `[alt]` for images),
//! which is noise in a social caption. A tokenizer pass is enough for feed
//! fragments: entities decode, tags drop, script/style bodies vanish, block
//! elements become line breaks, and the first `<img>` is noted on the way.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// Text and first image source of an HTML fragment.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// Blocks separated by `\n`, whitespace inside blocks collapsed.
    pub text: String,
    /// `src` of the first `<img>`, as written (possibly relative).
    pub first_image: Option<String>,
}

/// Extracts readable text from an HTML fragment; never fails, because feed
/// HTML is routinely broken and a best-effort text beats no text.
pub fn extract(html: &str) -> Extracted {
    let tokenizer = Tokenizer::new(Sink::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let state = tokenizer.sink.state.into_inner();
    Extracted {
        text: state.out,
        first_image: state.first_image,
    }
}

/// Whitespace between two pieces of text that is still to be written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Gap {
    #[default]
    None,
    Space,
    Line,
}

#[derive(Default)]
struct State {
    out: String,
    gap: Gap,
    /// Element whose contents are being dropped (script, style, ...).
    skipping: Option<String>,
    first_image: Option<String>,
}

#[derive(Default)]
struct Sink {
    state: RefCell<State>,
}

/// Elements whose contents are never reader-visible text, with how the tokenizer must
/// read their contents. Shared with [`super::article`].
pub(super) fn raw_kind_to_skip(name: &str) -> Option<Option<RawKind>> {
    match name {
        "script" => Some(Some(RawKind::ScriptData)),
        "style" | "noscript" | "iframe" | "xmp" | "noembed" | "noframes" => {
            Some(Some(RawKind::Rawtext))
        }
        "textarea" | "title" => Some(Some(RawKind::Rcdata)),
        "template" | "head" | "svg" | "math" | "object" => Some(None),
        _ => None,
    }
}

/// Elements that end a paragraph of text. Shared with [`super::article`].
pub(super) fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "hr"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "blockquote"
            | "pre"
            | "table"
            | "tr"
            | "thead"
            | "tbody"
            | "tfoot"
            | "caption"
            | "section"
            | "article"
            | "aside"
            | "header"
            | "footer"
            | "nav"
            | "main"
            | "figure"
            | "figcaption"
            | "address"
            | "details"
            | "summary"
            | "form"
            | "fieldset"
            | "body"
            | "html"
    )
}

impl State {
    fn push_text(&mut self, s: &str) {
        for c in s.chars() {
            if c.is_whitespace() {
                self.gap = self.gap.max(Gap::Space);
                continue;
            }
            if !self.out.is_empty() {
                match self.gap {
                    Gap::Line => self.out.push('\n'),
                    Gap::Space => self.out.push(' '),
                    Gap::None => {}
                }
            }
            self.gap = Gap::None;
            self.out.push(c);
        }
    }

    fn tag(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        if let Some(skipped) = &self.skipping {
            if tag.kind == TagKind::EndTag && skipped == name {
                self.skipping = None;
            }
            return TokenSinkResult::Continue;
        }
        if tag.kind == TagKind::StartTag {
            if let Some(raw) = raw_kind_to_skip(name) {
                if !tag.self_closing || raw.is_some() {
                    self.skipping = Some(name.to_owned());
                }
                return raw.map_or(TokenSinkResult::Continue, TokenSinkResult::RawData);
            }
            if name == "img" && self.first_image.is_none() {
                self.first_image = tag
                    .attrs
                    .iter()
                    .find(|a| &*a.name.local == "src" && !a.value.trim().is_empty())
                    .map(|a| a.value.trim().to_owned());
            }
        }
        if is_block(name) {
            self.gap = Gap::Line;
        } else if matches!(name, "td" | "th") {
            self.gap = self.gap.max(Gap::Space);
        }
        TokenSinkResult::Continue
    }
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
mod tests {
    use super::*;

    fn text(html: &str) -> String {
        extract(html).text
    }

    #[test]
    fn decodes_entities_and_strips_tags() {
        assert_eq!(
            text("<p>Caf&eacute; &amp; <b>bar</b>&nbsp;&#8212; &lt;ok&gt;</p>"),
            "Café & bar — <ok>"
        );
    }

    #[test]
    fn drops_script_and_style_bodies() {
        let t = text(
            "<p>a<script>alert('</p>x')</script>b</p><style>p{color:red}</style>\
             <noscript>enable js</noscript><template><p>tpl</p></template>c",
        );
        assert_eq!(t, "ab\nc");
    }

    #[test]
    fn blocks_become_lines_and_whitespace_collapses() {
        let t =
            text("<h2>Head</h2>\n\n<p>one\n   two</p><ul><li>x</li><li>y</li></ul>line<br>break");
        assert_eq!(t, "Head\none two\nx\ny\nline\nbreak");
        assert_eq!(text("<td>a</td><td>b</td>"), "a b");
        assert_eq!(text("a<b>b</b>c"), "abc");
    }

    #[test]
    fn notes_first_image() {
        let e = extract("<p>x</p><img alt='' src=' /a.png '><img src='/b.png'>");
        assert_eq!(e.first_image.as_deref(), Some("/a.png"));
        assert_eq!(e.text, "x");
    }

    #[test]
    fn tolerates_broken_html() {
        assert_eq!(text("<p>unclosed <b>bold <i>it"), "unclosed bold it");
        assert_eq!(text("a < b and c > d"), "a < b and c > d");
        assert_eq!(text(""), "");
    }
}
