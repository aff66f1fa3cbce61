//! Whether a sentence of a post can stand on its own in a caption: the test the lead and
//! every angle pass.

use super::lines;
use super::sentences::ends_a_sentence;

/// A sentence a caption can carry whole, on X too.
pub const MAX_CHARS: usize = 280;
/// Words of a sentence below which it is too slight to stand alone ("Hi!", "Update:").
const MIN_WORDS: usize = 4;
/// The same for scripts written without spaces (Chinese, Japanese), in characters.
const MIN_CHARS_UNSPACED: usize = 12;

/// Long enough to say something, short enough to carry whole, and none of a byline,
/// credit, heading (the title), bare link or a fragment cut short.
pub fn stands_alone(sentence: &str, title: &str) -> bool {
    // Most sentences of a post are too long to carry whole: that is told by their bytes
    // alone (a character is at most four), before any character is counted.
    if sentence.len() > 4 * MAX_CHARS {
        return false;
    }
    let chars = sentence.chars().count();
    if chars > MAX_CHARS {
        return false;
    }
    let long_enough = if is_unspaced(sentence) {
        chars >= MIN_CHARS_UNSPACED
    } else {
        sentence.split_whitespace().nth(MIN_WORDS - 1).is_some()
    };
    long_enough
        && ends_a_sentence(sentence)
        && !sentence.ends_with('…')
        && !sentence.ends_with("...")
        && !sentence.trim_end().ends_with(':')
        && !sentence.eq_ignore_ascii_case(title)
        && !is_link_or_address(sentence)
        && !sentence.contains("://")
        && !lines::is_byline(sentence)
        && !lines::is_credit(sentence)
        && !lines::is_boilerplate(sentence)
}

/// Written in a script without spaces between words.
pub fn is_unspaced(text: &str) -> bool {
    text.chars().any(is_unspaced_script)
}

/// Chinese, Japanese and Thai are written without spaces between words.
pub fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF   // kana
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified
        | 0x0E00..=0x0E7F // Thai
    )
}

/// Text that is only a link, an e-mail address or an address-like token (a wallet or a
/// hash), none of which is a summary.
pub fn is_link_or_address(text: &str) -> bool {
    // At most three words: a fourth ends the look, however long the text (a whole post's
    // summary is asked about too).
    let words: Vec<&str> = text.split_whitespace().take(4).collect();
    !words.is_empty()
        && words.len() <= 3
        && words.iter().any(|w| {
            let w = w.trim_matches(|c: char| !c.is_alphanumeric());
            w.contains("://")
                || w.starts_with("www.")
                || (w.contains('@') && w.contains('.'))
                || (w.chars().count() >= 24 && w.chars().all(|c| c.is_ascii_alphanumeric()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_at_most_three_words_whatever_follows() {
        assert!(is_link_or_address("https://blog.example/post"));
        assert!(is_link_or_address("Read: www.blog.example now"));
        assert!(!is_link_or_address("Read it at www.blog.example today"));
        let long = format!("www.blog.example {}", "word ".repeat(10_000));
        assert!(!is_link_or_address(&long));
        assert!(!is_link_or_address("   "));
    }

    #[test]
    fn a_sentence_stands_alone_between_four_words_and_the_character_limit() {
        assert!(stands_alone("The poller reads every feed.", "Title"));
        assert!(!stands_alone("Three words only.", "Title"));
        let at_limit = format!("{} end.", "word ".repeat((MAX_CHARS - 5) / 5));
        assert!(at_limit.chars().count() <= MAX_CHARS);
        assert!(stands_alone(&at_limit, "Title"));
        let over = format!("{} end.", "word ".repeat(MAX_CHARS / 5 + 1));
        assert!(!stands_alone(&over, "Title"));
        // Four bytes a character: counted by characters, not bytes.
        let wide = format!("{} 𝔞𝔟 𝔠𝔡 𝔢𝔣.", "𝔞".repeat(MAX_CHARS - 12));
        assert!(wide.len() > MAX_CHARS && wide.chars().count() <= MAX_CHARS);
        assert!(stands_alone(&wide, "Title"));
    }
}
