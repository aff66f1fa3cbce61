//! Messages shown to people as sentences, whichever layer worded them.

/// A message as a sentence: capital first letter, final full stop.
pub fn sentence(message: &str) -> String {
    let mut chars = message.trim().trim_end_matches('.').chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>() + ".",
        None => String::new(),
    }
}
