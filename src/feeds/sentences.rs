//! Sentences of plain text, and cuts that end on one.
//!
//! A sentence ends at `.`, `!`, `?` or `…` followed by a space (or the end), and at the
//! full-width `。！？` wherever they stand. A full stop after a single letter ("J. Smith")
//! or a common abbreviation ("e.g.", "Dr.") does not end one, nor does one between digits
//! ("3.5"), which needs no rule: no space follows it. A question or exclamation that
//! runs on in lower case ("“Is anyone still using Emacs?” but the interesting part…", "Why?
//! asked she") is quoted inside a sentence, not the end of one.

/// Abbreviations whose full stop does not end a sentence (compared lowercased).
const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "st", "no", "fig", "approx", "z.b",
    "bzw", "usw", "ca", "vgl", "p.ex", "cf",
];

fn ends_with_abbreviation(head: &str) -> bool {
    let word = head
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("")
        .trim_end_matches('.');
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    (letters == 1 && word.chars().count() == 1)
        || ABBREVIATIONS.contains(&word.to_lowercase().as_str())
}

/// The bytes a sentence's end may start with: ASCII `.!?`, and the lead byte of `…`
/// (E2) and of the full-width `。` (E3) and `！？` (EF).
const MAY_END: [bool; 256] = {
    let mut table = [false; 256];
    table[b'.' as usize] = true;
    table[b'!' as usize] = true;
    table[b'?' as usize] = true;
    table[0xE2] = true;
    table[0xE3] = true;
    table[0xEF] = true;
    table
};

/// The sentences of `text`, trimmed, in order; the last one may lack an ending.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut at = 0;
    // Only a few characters can end a sentence: skip to the next byte that may start one
    // (ASCII `.!?`, or the lead byte of `…` and the full-width stops) instead of decoding
    // every character, which was most of a post's reading when it was first stored. Both
    // kinds of byte only ever start a character, so `i` is always a character boundary.
    while let Some(offset) = bytes[at..].iter().position(|&b| MAY_END[usize::from(b)]) {
        let i = at + offset;
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        let end = i + c.len_utf8();
        at = end;
        let mut chars = text[end..]
            .char_indices()
            .map(|(j, q)| (end + j, q))
            .peekable();
        let boundary = match c {
            '。' | '！' | '？' => true,
            '.' | '!' | '?' | '…' => {
                // Closing quotes and brackets belong to the sentence they close.
                let mut end_at = end;
                while let Some(&(j, q)) = chars.peek() {
                    if matches!(
                        q,
                        '"' | '\'' | '”' | '’' | '»' | ')' | ']' | '.' | '!' | '?' | '…'
                    ) {
                        end_at = j + q.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                at = end_at;
                let next_is_space = chars.peek().is_none_or(|&(_, n)| n.is_whitespace());
                let quoted = end_at > end || c != '.';
                let runs_on = quoted
                    && text[end_at..]
                        .trim_start()
                        .chars()
                        .next()
                        .is_some_and(char::is_lowercase);
                if next_is_space
                    && !runs_on
                    && !(c == '.' && ends_with_abbreviation(&text[start..i]))
                {
                    push(&mut out, &text[start..end_at]);
                    start = end_at;
                }
                continue;
            }
            _ => false,
        };
        if boundary {
            // Closing quotes after a full-width stop stay with it.
            let mut end_at = end;
            while let Some(&(j, q)) = chars.peek() {
                if matches!(q, '」' | '』' | '”' | '）') {
                    end_at = j + q.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            push(&mut out, &text[start..end_at]);
            start = end_at;
            at = end_at;
        }
    }
    push(&mut out, &text[start..]);
    out
}

fn push<'a>(out: &mut Vec<&'a str>, s: &'a str) {
    let s = s.trim();
    if !s.is_empty() {
        out.push(s);
    }
}

/// Whether `text` ends where a sentence does (or in a symbol such as an emoji, which no
/// cut leaves behind).
pub fn ends_a_sentence(text: &str) -> bool {
    let end = text
        .trim_end()
        .trim_end_matches(['"', '\'', '”', '’', '»', ')', ']', '」', '』']);
    match end.chars().next_back() {
        None => true,
        Some(c) => ".!?…。！？".contains(c) || !(c.is_alphanumeric() || ",;:-–".contains(c)),
    }
}

/// As many whole sentences of `text` (one line) as fit in `max_chars`; when not even the
/// first one does, it is cut at a word and ends with "…".
pub fn cut_to_sentences(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut chars = 0;
    for sentence in sentences(text) {
        let n = sentence.chars().count();
        let needed = if out.is_empty() { n } else { n + 1 };
        if chars + needed > max_chars {
            if out.is_empty() {
                return super::normalize::truncate_words(sentence, max_chars);
            }
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(sentence);
        chars += needed;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_end_at_stops_not_at_abbreviations_or_numbers() {
        assert_eq!(
            sentences("We shipped v2.5 today! Dr. Smith said so, e.g. in Slack. Next? Soon…"),
            [
                "We shipped v2.5 today!",
                "Dr. Smith said so, e.g. in Slack.",
                "Next?",
                "Soon…"
            ]
        );
        assert_eq!(
            sentences("He said \"stop.\" Then J. R. left"),
            ["He said \"stop.\"", "Then J. R. left"]
        );
        // A quoted question that the sentence runs on from stays inside it.
        assert_eq!(
            sentences(
                "People asked “Is anyone still using Emacs?” but I am using it again. \
                 Why? Because it works. Really? yes, and iPhone users agree. It ends. iOS next."
            ),
            [
                "People asked “Is anyone still using Emacs?” but I am using it again.",
                "Why?",
                "Because it works.",
                "Really? yes, and iPhone users agree.",
                "It ends.",
                "iOS next."
            ]
        );
        assert_eq!(
            sentences("私は食事に興味がありません。毎日同じです。"),
            ["私は食事に興味がありません。", "毎日同じです。"]
        );
        assert!(sentences("   ").is_empty());
    }

    #[test]
    fn cuts_keep_whole_sentences_or_say_they_cut() {
        let text = "One two three. Four five six. Seven eight nine.";
        assert_eq!(cut_to_sentences(text, 100), text);
        assert_eq!(cut_to_sentences(text, 30), "One two three. Four five six.");
        assert_eq!(cut_to_sentences(text, 10), "One two…");
        assert_eq!(cut_to_sentences("A whole thought", 100), "A whole thought");
        assert_eq!(
            cut_to_sentences("First thought. And then a second that was", 20),
            "First thought."
        );
    }

    #[test]
    fn sentence_ends_include_symbols_but_not_words() {
        assert!(ends_a_sentence("Done."));
        assert!(ends_a_sentence("Done!”"));
        assert!(ends_a_sentence("Bäcker Görtz 📍"));
        assert!(ends_a_sentence("終わり。"));
        assert!(!ends_a_sentence("and then"));
        assert!(!ends_a_sentence("and then,"));
    }
}
