//! Text placed in XML documents we write (caption feeds, OPML).

/// Escaped for element text and attribute values, without the control characters that
/// XML 1.0 forbids (a feed's stray U+0001 must not break every reader of ours).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn text_is_escaped_and_stripped_of_forbidden_characters() {
        assert_eq!(
            escape("a<b>&\"'\u{0}\u{1b}\tz"),
            "a&lt;b&gt;&amp;&quot;&apos;\tz"
        );
    }
}
