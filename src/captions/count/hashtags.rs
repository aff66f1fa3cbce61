//! Counting hashtags as the platforms that cap them (Threads, Instagram) see them.

use std::ops::Range;

/// Number of hashtags in `text`: `#` not glued to a word, followed by letters,
/// marks, digits or `_` with at least one non-digit (`#2024` is no tag on
/// any platform). Inside links, `#fragment` is not a tag.
pub(crate) fn count_hashtags(text: &str) -> usize {
    if !text.contains(['#', '＃']) {
        return 0;
    }
    count_hashtags_outside(text, &super::find_urls(text, true))
}

/// [`count_hashtags`] when the links (`find_urls(text, true)`) are known.
pub(crate) fn count_hashtags_outside(text: &str, links: &[Range<usize>]) -> usize {
    text.match_indices(['#', '＃'])
        .filter(|&(i, hash)| {
            let glued = text[..i]
                .chars()
                .next_back()
                .is_some_and(|p| p.is_alphanumeric() || p == '_' || p == '&');
            !glued
                && !links.iter().any(|l| l.contains(&i))
                && text[i + hash.len()..]
                    .chars()
                    .take_while(|&t| t.is_alphanumeric() || t == '_' || is_mark(t))
                    .any(|t| !t.is_ascii_digit())
        })
        .count()
}

fn is_mark(c: char) -> bool {
    matches!(
        c,
        '\u{300}'..='\u{36F}' | '\u{200C}' | '\u{200D}' | '\u{FE0F}'
    ) || unicode_normalization::char::is_combining_mark(c)
}

#[cfg(test)]
mod tests {
    use super::count_hashtags;

    #[test]
    fn what_counts_as_a_hashtag() {
        assert_eq!(count_hashtags("#Rust and #WebDev"), 2);
        assert_eq!(count_hashtags("#2024 #1st"), 1);
        assert_eq!(count_hashtags("C# and a#b and &#39;"), 0);
        assert_eq!(count_hashtags("# alone, ##"), 0);
        assert_eq!(count_hashtags("#CaféCulture #트위터 #ашок"), 3);
        assert_eq!(count_hashtags("see https://example.com/#anchor"), 0);
        assert_eq!(count_hashtags("(#tag)."), 1);
    }
}
