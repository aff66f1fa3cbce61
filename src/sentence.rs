//! Messages shown to people as sentences, whichever layer worded them.

/// A message as a sentence: capital first letter, and a full stop unless it already ends
/// with one, a question mark or an exclamation mark ("Try again in a moment!" stays so).
pub fn sentence(message: &str) -> String {
    let trimmed = message.trim();
    let mut chars = trimmed.chars();
    match chars.next() {
        Some(first) => {
            let mut out = first.to_uppercase().chain(chars).collect::<String>();
            if !trimmed.ends_with(['.', '!', '?']) {
                out.push('.');
            }
            out
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::sentence;

    #[test]
    fn a_message_becomes_one_sentence_with_one_end_mark() {
        assert_eq!(sentence("not a feed"), "Not a feed.");
        assert_eq!(sentence("  done.  "), "Done.");
        assert_eq!(sentence("try again in a moment!"), "Try again in a moment!");
        assert_eq!(sentence("is this yours?"), "Is this yours?");
        assert_eq!(sentence(""), "");
    }
}
