//! Angles: other ways into a post than its lead, each taken whole from the post's own text
//! (extractive: nothing is written, no model runs, nothing leaves the machine). Worked out
//! once when a post is read and stored with it; a missing angle is empty, never invented.
//!
//! - **key sentence**: the sentence that carries the post (scored below), other than the
//!   lead, which captions already have;
//! - **quote**: a sentence of 60–200 characters that stands on its own: it does not open
//!   with a pronoun or connective that points at the sentence before ("It", "This",
//!   "But", "Dies", "Mais"…), is no question, and is neither the lead nor the key sentence;
//! - **question**: the title when it asks one, else the first question of the text;
//! - **number**: the best-scored sentence with a specific figure (400 million, 3.5×, 40 %,
//!   10,000): a year, or a number opening a list, alone does not count.
//!
//! Every candidate first passes `standalone::stands_alone`, the lead's test: a whole
//! sentence of 4 words to 280 characters that is no byline, credit, boilerplate or link.
//!
//! **How the key sentence is scored** (TextRank, Mihalcea and Tarau 2004): the candidate
//! sentences are the nodes of a graph in which two sentences are linked with the weight
//! `shared / (ln(1 + words a) + ln(1 + words b))`, where `shared` counts the content words
//! both use. Content words are the lowercased words of four letters or more (a
//! language-blind stand-in for a stop-word list), or pairs of characters in scripts
//! written without spaces. Each sentence's centrality is its PageRank over this graph
//! (damping 0.85, 30 rounds). A sentence that shares words with the title gets up to half
//! again its score, since the title says what the post is about. The highest score wins,
//! the earlier sentence on a tie. Only the first [`MAX_CANDIDATES`] candidates are scored,
//! which bounds the work on very long posts.
//!
//! The teaser ("In this post: A, B and C") is made from the stored headings when a caption
//! is written, because its words depend on the feed's language.

use std::collections::HashSet;

use super::sentences;
use super::standalone::{is_unspaced, stands_alone, MAX_CHARS};

/// Sentences scored per post.
pub const MAX_CANDIDATES: usize = 80;
/// A quote's length, in characters.
pub const QUOTE_MIN_CHARS: usize = 60;
pub const QUOTE_MAX_CHARS: usize = 200;
const DAMPING: f64 = 0.85;
const ROUNDS: usize = 30;
/// How much of its score a sentence gains by using every word of the title.
const TITLE_BONUS: f64 = 0.5;

/// The angles of one post; each is empty when the post has none.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Angles {
    pub key_sentence: String,
    pub quote: String,
    pub question: String,
    pub number: String,
}

impl Angles {
    /// The stored form (a JSON object).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// Angles from their stored form; `None` when they cannot be read.
    pub fn from_json(stored: &str) -> Option<Angles> {
        serde_json::from_str(stored).ok()
    }
}

/// The angles of a post from its cleaned text (paragraphs one to a line) and its lead.
/// `title` is the author's title, or empty when the title was made from the text.
pub fn of(title: &str, content_text: &str, lead: &str) -> Angles {
    let candidates: Vec<&str> = content_text
        .lines()
        .flat_map(sentences::sentences)
        .filter(|s| stands_alone(s, title))
        .take(MAX_CANDIDATES)
        .collect();
    let scores = scores(&candidates, title);
    // Best first; the sort is stable, so earlier sentences win ties.
    let mut ranked: Vec<usize> = (0..candidates.len()).collect();
    ranked.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let best = |keep: &dyn Fn(&str) -> bool| -> String {
        ranked
            .iter()
            .map(|&i| candidates[i])
            .find(|s| keep(s))
            .unwrap_or_default()
            .to_owned()
    };
    let key_sentence = best(&|s| s != lead && !is_question(s));
    let quote = best(&|s| s != lead && s != key_sentence && is_quotable(s));
    let number = best(&|s| has_figure(s));
    let question = if is_question(title) && title.chars().count() <= MAX_CHARS {
        title.trim().to_owned()
    } else {
        candidates
            .iter()
            .find(|s| is_question(s) && !opens_with_reference(s))
            .map(|s| (*s).to_owned())
            .unwrap_or_default()
    };
    Angles {
        key_sentence,
        quote,
        question,
        number,
    }
}

/// TextRank centrality of each sentence, with the title bonus.
fn scores(sentences: &[&str], title: &str) -> Vec<f64> {
    let words: Vec<HashSet<String>> = sentences.iter().map(|s| content_words(s)).collect();
    let n = sentences.len();
    let mut weights = vec![vec![0.0; n]; n];
    for a in 0..n {
        for b in a + 1..n {
            let shared = words[a].intersection(&words[b]).count();
            if shared == 0 {
                continue;
            }
            let norm = (1.0 + words[a].len() as f64).ln() + (1.0 + words[b].len() as f64).ln();
            let w = shared as f64 / norm;
            weights[a][b] = w;
            weights[b][a] = w;
        }
    }
    let out_sums: Vec<f64> = weights.iter().map(|row| row.iter().sum()).collect();
    let mut rank = vec![1.0; n];
    for _ in 0..ROUNDS {
        rank = (0..n)
            .map(|i| {
                let inflow: f64 = (0..n)
                    .filter(|&j| out_sums[j] > 0.0)
                    .map(|j| weights[j][i] / out_sums[j] * rank[j])
                    .sum();
                (1.0 - DAMPING) + DAMPING * inflow
            })
            .collect();
    }
    let title_words = content_words(title);
    rank.iter()
        .zip(&words)
        .map(|(r, w)| {
            let share = if title_words.is_empty() {
                0.0
            } else {
                w.intersection(&title_words).count() as f64 / title_words.len() as f64
            };
            r * (1.0 + TITLE_BONUS * share)
        })
        .collect()
}

/// Lowercased words of four letters or more; pairs of characters in scripts written
/// without spaces.
fn content_words(text: &str) -> HashSet<String> {
    if is_unspaced(text) {
        let chars: Vec<char> = text.chars().filter(|c| c.is_alphanumeric()).collect();
        return chars.windows(2).map(|w| w.iter().collect()).collect();
    }
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4)
        .map(str::to_lowercase)
        .collect()
}

fn is_question(text: &str) -> bool {
    let t = text
        .trim_end()
        .trim_end_matches(['"', '\'', '”', '’', '»', ')', '」']);
    t.ends_with('?') || t.ends_with('？')
}

/// Words that, opening a sentence, point at what came before it (or hang from it): such a
/// sentence does not stand alone as a quote. English, German, French, Spanish, Dutch,
/// Portuguese and Italian, compared lowercased.
const REFERRING_OPENERS: &[&str] = &[
    // English
    "it",
    "its",
    "it's",
    "this",
    "that",
    "these",
    "those",
    "they",
    "them",
    "their",
    "he",
    "she",
    "his",
    "her",
    "him",
    "there",
    "here",
    "so",
    "but",
    "and",
    "or",
    "also",
    "however",
    "then",
    "thus",
    "therefore",
    "because",
    "which",
    "although",
    "though",
    "yet",
    "still",
    "instead",
    "meanwhile",
    "moreover",
    "furthermore",
    "besides",
    "hence",
    "such",
    "both",
    "another",
    "others",
    "otherwise",
    "plus",
    "nor",
    "anyway",
    "which",
    "whereas",
    "while",
    "as",
    "same",
    "likewise",
    "similarly",
    "again",
    "finally",
    "first",
    "second",
    "next",
    "above",
    "below",
    // German
    "es",
    "dies",
    "das",
    "diese",
    "dieser",
    "dieses",
    "er",
    "sie",
    "aber",
    "und",
    "auch",
    "denn",
    "deshalb",
    "dann",
    "daher",
    "doch",
    "jedoch",
    "trotzdem",
    "dabei",
    "damit",
    "dort",
    "hier",
    // French
    "il",
    "elle",
    "ils",
    "elles",
    "cela",
    "ce",
    "ceci",
    "ça",
    "mais",
    "et",
    "donc",
    "alors",
    "aussi",
    "puis",
    "ensuite",
    "pourtant",
    "cependant",
    "ainsi",
    // Spanish and Portuguese
    "esto",
    "eso",
    "esta",
    "este",
    "ella",
    "ellos",
    "pero",
    "y",
    "también",
    "entonces",
    "sin",
    "isso",
    "isto",
    "ele",
    "ela",
    "eles",
    "mas",
    "então",
    "também",
    "porém",
    // Dutch
    "het",
    "dit",
    "dat",
    "deze",
    "hij",
    "zij",
    "ze",
    "maar",
    "en",
    "ook",
    "dus",
    "daarom",
    "toen",
    "daar",
    "hier",
    // Italian
    "esso",
    "essa",
    "questo",
    "questa",
    "quello",
    "quella",
    "lui",
    "lei",
    "loro",
    "ma",
    "anche",
    "quindi",
    "allora",
    "poi",
    "però",
];

/// The sentence's first word points back at the one before it, or it opens mid-thought
/// (in lower case, or with a dash or bracket).
fn opens_with_reference(sentence: &str) -> bool {
    let first = sentence
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’');
    let lower = first.to_lowercase().replace('’', "'");
    let opens_lower = sentence
        .chars()
        .find(|c| c.is_alphanumeric())
        .is_some_and(char::is_lowercase);
    opens_lower
        || sentence.starts_with(['-', '–', '—', '(', '[', '…', ','])
        || REFERRING_OPENERS.contains(&lower.as_str())
}

fn is_quotable(sentence: &str) -> bool {
    let chars = sentence.chars().count();
    (QUOTE_MIN_CHARS..=QUOTE_MAX_CHARS).contains(&chars)
        && !is_question(sentence)
        && !opens_with_reference(sentence)
        && balanced(sentence)
}

/// Quotes and brackets closed as they are opened: half a quotation is no quote.
fn balanced(sentence: &str) -> bool {
    let count = |c: char| sentence.chars().filter(|&x| x == c).count();
    count('"') % 2 == 0
        && count('(') == count(')')
        && count('“') == count('”')
        && count('«') == count('»')
}

/// A sentence with a specific figure: a number that is neither a bare year nor a list's
/// opening "1." ("400 million rows", "3.5×", "40 %", "10,000").
fn has_figure(sentence: &str) -> bool {
    sentence
        .split_whitespace()
        .enumerate()
        .any(|(i, word)| is_figure(word, i == 0))
}

fn is_figure(word: &str, first: bool) -> bool {
    let core = word.trim_matches(|c: char| !c.is_alphanumeric() && !"%×$€£¥".contains(c));
    let digits: String = core.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return false;
    }
    // A word mostly of letters ("mp3", "H2O", "COVID-19") names something.
    let letters = core.chars().filter(|c| c.is_alphabetic()).count();
    if letters > digits.len() {
        return false;
    }
    let is_year = digits.len() == 4
        && core.chars().all(|c| c.is_ascii_digit() || c == 's')
        && (digits.starts_with("19") || digits.starts_with("20"));
    let list_number = first && word.ends_with(['.', ')']) && digits.len() <= 2;
    !is_year && !list_number
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "Every deploy used to mean a maintenance window for our team.\n\
        Our largest table has 400 million rows, and a naive ALTER TABLE took an exclusive lock for minutes.\n\
        It was painful. This post walks through the expand and contract migration pattern we adopted.\n\
        Expand and contract migrations let old and new application versions share one table while a column moves.\n\
        Why does a rename need two deploys?\n\
        We backfill the new column in batches, and the migration pattern keeps every table online.";

    #[test]
    fn each_angle_is_a_sentence_of_the_text_chosen_for_its_job() {
        let a = of(
            "Zero-downtime migrations",
            TEXT,
            "Every deploy used to mean a maintenance window for our team.",
        );
        let sentences: Vec<&str> = TEXT.lines().flat_map(sentences::sentences).collect();
        for angle in [&a.key_sentence, &a.quote, &a.question, &a.number] {
            assert!(sentences.contains(&angle.as_str()), "{angle:?} in {a:?}");
        }
        assert_eq!(a.question, "Why does a rename need two deploys?");
        assert!(a.number.contains("400 million"), "{a:?}");
        // The most connected sentence: it shares "migration", "pattern", "table" with others.
        assert!(a.key_sentence.contains("migration"), "{a:?}");
        assert!(
            !a.quote.starts_with("It ") && !a.quote.starts_with("This "),
            "{a:?}"
        );
        assert_ne!(a.quote, a.key_sentence);
    }

    #[test]
    fn a_title_that_asks_is_the_question() {
        let a = of("Is Rust worth it?", TEXT, "");
        assert_eq!(a.question, "Is Rust worth it?");
    }

    #[test]
    fn missing_angles_are_empty_not_invented() {
        assert_eq!(of("A title", "", ""), Angles::default());
        let a = of("Short", "Hello there.\nBy Ann Example", "");
        assert_eq!(a, Angles::default());
        let a = of(
            "Only a lead",
            "We shipped the new importer this week.",
            "We shipped the new importer this week.",
        );
        assert_eq!(a.key_sentence, "");
        assert_eq!(a.quote, "");
    }

    #[test]
    fn quotes_stand_on_their_own() {
        for bad in [
            "It turned out that the cache was the slowest part of the whole request path.",
            "But the cache was the slowest part of the whole request path in the end, we found.",
            "and the cache was the slowest part of the whole request path in the end, we found.",
            "The cache was \"the slowest part of the whole request path in the end, we found.",
            "Short and sweet.",
        ] {
            assert!(!is_quotable(bad), "{bad}");
        }
        assert!(is_quotable(
            "The cache was the slowest part of the whole request path, and nobody had looked."
        ));
    }

    #[test]
    fn figures_are_specific_numbers_not_years_or_list_marks() {
        assert!(has_figure("Our table has 400 million rows."));
        assert!(has_figure("It got 3.5× faster."));
        assert!(has_figure("Costs fell by 40% in a month."));
        assert!(has_figure("We moved 10,000 rows at a time."));
        assert!(!has_figure("In 2024 we moved house."));
        assert!(!has_figure("1. Install the tool first."));
        assert!(!has_figure("We listened to mp3 files on COVID-19 walks."));
        assert!(!has_figure("Back in the 1990s it was different."));
    }

    #[test]
    fn stored_angles_read_back_and_tolerate_missing_fields() {
        let a = of("Zero-downtime migrations", TEXT, "");
        assert_eq!(Angles::from_json(&a.to_json()), Some(a));
        assert_eq!(
            Angles::from_json("{\"quote\":\"Q.\"}").map(|a| a.quote),
            Some("Q.".to_owned())
        );
        assert_eq!(Angles::from_json("not json"), None);
    }
}
