//! feedparser's own corpus read by both parsers. Python's feedparser reads feeds in every
//! dialect the web has produced since 2002; its source distribution ships a test document
//! per case it handles (`tests/wellformed`). For each document where feedparser finds a
//! first entry with a title or a link, our first entry should have the same title (as plain
//! text) and the same link. The cases where we still differ, on purpose or not, are listed
//! in docs/feeds.md with why; this test keeps that list true.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use captionfeed::feeds::parse_feed;
use url::Url;

const FEEDPARSER: &str = "feedparser-6.0.12";
const AGREEMENT_TARGET: f64 = 0.95;

/// feedparser's answer for one document (see feedparser_answers.py).
#[derive(serde::Deserialize)]
struct Answer {
    file: String,
    base: String,
    title: String,
    link: String,
}

/// `tests/wellformed` of feedparser's source distribution, which `.ci/feedparser` fetches.
/// Missing under CI, the test fails; on a developer's machine it says how to get it.
fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".ci/cache")
        .join(FEEDPARSER)
        .join("tests/wellformed");
    let version = FEEDPARSER.trim_start_matches("feedparser-");
    let feedparser_installed = std::process::Command::new("python3")
        .args([
            "-c",
            &format!("import sys, feedparser; sys.exit(feedparser.__version__ != {version:?})"),
        ])
        .status()
        .is_ok_and(|s| s.success());
    if dir.is_dir() && feedparser_installed {
        return Some(dir);
    }
    let missing = format!(
        "feedparser's corpus ({}) or feedparser {version} itself is missing: run `bash .ci/feedparser`",
        dir.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{missing}");
    }
    eprintln!("{missing}; feedparser corpus test not run");
    None
}

fn feedparser_answers(corpus: &Path) -> Vec<Answer> {
    let output = std::process::Command::new("python3")
        .args(["-c", include_str!("feedparser_answers.py")])
        .arg(corpus)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "feedparser_answers.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("feedparser_answers.py prints JSON")
}

/// The same address written two ways ("http://a.example" and "http://a.example/") is one.
fn same_link(ours: Option<&str>, theirs: &str) -> bool {
    let canonical = |s: &str| Url::parse(s).map_or_else(|_| s.to_owned(), String::from);
    canonical(ours.unwrap_or_default()) == canonical(theirs)
}

/// What we read differently from feedparser in `file`, if anything.
fn disagreement(corpus: &Path, answer: &Answer) -> Option<String> {
    let bytes = std::fs::read(corpus.join(&answer.file)).expect("corpus file");
    let base = Url::parse(&answer.base).expect("base URL");
    let parsed = match parse_feed(&bytes, Some(&base)) {
        Ok(parsed) => parsed,
        Err(e) => return Some(e.to_string()),
    };
    let Some(first) = parsed.entries.first() else {
        return Some("no entries".to_owned());
    };
    // Where feedparser finds no title, ours is a stand-in made from the text: not compared.
    let title_differs = !answer.title.is_empty()
        && first.title.split_whitespace().collect::<Vec<_>>().join(" ") != answer.title;
    let link_differs = !same_link(first.url.as_deref(), &answer.link);
    (title_differs || link_differs).then(|| {
        format!(
            "title {:?} vs {:?}, link {:?} vs {:?}",
            first.title, answer.title, first.url, answer.link
        )
    })
}

/// The corpus files docs/feeds.md names (as `wellformed/…` in backquotes).
fn documented_disagreements() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/feeds.md"))
        .expect("docs/feeds.md");
    doc.split('`')
        .filter_map(|quoted| quoted.strip_prefix("wellformed/"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_first_entry_of_feedparsers_corpus_reads_as_feedparser_reads_it() {
    let Some(corpus) = corpus() else { return };
    let answers = feedparser_answers(&corpus);
    assert!(
        answers.len() > 200,
        "feedparser finds a first entry in {} documents only: is the corpus whole?",
        answers.len()
    );
    let disagreements: Vec<(String, String)> = answers
        .iter()
        .filter_map(|a| disagreement(&corpus, a).map(|why| (a.file.clone(), why)))
        .collect();
    let agreed = answers.len() - disagreements.len();
    let share = agreed as f64 / answers.len() as f64;
    let listing: String = disagreements
        .iter()
        .map(|(file, why)| format!("\n  {file}: {why}"))
        .collect();
    eprintln!(
        "feedparser corpus: {agreed} of {} first entries agree ({:.1}%){listing}",
        answers.len(),
        share * 100.0
    );
    assert!(
        share >= AGREEMENT_TARGET,
        "only {:.1}% agree with feedparser, below {:.0}%",
        share * 100.0,
        AGREEMENT_TARGET * 100.0
    );
    let found: BTreeSet<String> = disagreements.into_iter().map(|(file, _)| file).collect();
    let documented = documented_disagreements();
    let undocumented: Vec<_> = found.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&found).collect();
    assert!(
        undocumented.is_empty() && stale.is_empty(),
        "docs/feeds.md must list exactly the disagreements left: missing {undocumented:?}, \
         no longer disagreeing {stale:?}"
    );
}
