//! Text placed in XML documents we write (caption feeds, OPML).

/// Escaped for element text and attribute values, without the control characters that
/// XML 1.0 forbids (a feed's stray U+0001 must not break every reader of ours).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Writing to a String cannot fail.
    let _ = write_escaped(&mut out, text);
    out
}

fn write_escaped(out: &mut impl std::fmt::Write, text: &str) -> std::fmt::Result {
    for c in text.chars() {
        match c {
            '&' => out.write_str("&amp;")?,
            '<' => out.write_str("&lt;")?,
            '>' => out.write_str("&gt;")?,
            '"' => out.write_str("&quot;")?,
            '\'' => out.write_str("&apos;")?,
            '\t' | '\n' | '\r' => out.write_char(c)?,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.write_char(c)?,
        }
    }
    Ok(())
}

/// askama's escaper for `.xml` templates (see askama.toml), the same as [`escape`].
#[derive(Clone, Copy)]
pub struct Xml;

impl askama::filters::Escaper for Xml {
    fn write_escaped_str<W: std::fmt::Write>(&self, mut dest: W, text: &str) -> std::fmt::Result {
        write_escaped(&mut dest, text)
    }
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
