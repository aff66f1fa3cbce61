use super::*;

fn paragraphs(html: &str) -> Vec<String> {
    read_html(html).paragraphs().map(str::to_owned).collect()
}

#[test]
fn figure_captions_and_credit_lines_are_not_text() {
    let article = read_html(
        r#"<figure><img src="/bear.jpg"><figcaption>Kamchatka Brown Bear (Ursus arctos), By Robert F. Tobler Wikimedia CC BY-SA 4.0</figcaption></figure>
        <p>Bears wake up hungry in spring.</p>
        <div class="wp-caption"><img src="/b.jpg"><p class="wp-caption-text">A bear</p></div>
        <p>Photo by Jane Doe on Unsplash</p>
        <p><em>Image: NASA</em></p>
        <p>They eat sedges first.</p>"#,
    );
    assert_eq!(
        article.paragraphs().collect::<Vec<_>>(),
        ["Bears wake up hungry in spring.", "They eat sedges first."]
    );
    assert_eq!(article.first_image.as_deref(), Some("/bear.jpg"));
}

#[test]
fn bylines_and_dates_at_the_top_are_dropped() {
    assert_eq!(
        paragraphs(
            "<p>Posted on February 5, 2026</p><p>By Ana Baker</p>\
             <p>The synth arrived in a box of parts.</p><p>By evening it played a note.</p>"
        ),
        [
            "The synth arrived in a box of parts.",
            "By evening it played a note."
        ]
    );
}

#[test]
fn tables_of_contents_are_dropped_whatever_their_form() {
    let anchors = read_html(
        r##"<p>Intro.</p><ul><li><a href="#one">Introduction: The World of DIY Synthesizers</a></li>
        <li><a href="#two">1: The mki x es.EDU DIY System</a><ul><li><a href="#two-a">Sub</a></li></ul></li>
        <li><a href="#three">2: Building the Power Supply</a></li></ul>
        <h2 id="one">Introduction</h2><p>Synths are fun.</p>
        <ul><li>A real list</li><li>of things</li></ul>"##,
    );
    assert_eq!(
        article_text(&anchors),
        "Intro.\nSynths are fun.\nA real list\nof things"
    );
    assert_eq!(anchors.headings().collect::<Vec<_>>(), ["Introduction"]);

    let headed = read_html(
        "<h2>Table of Contents</h2><ol><li>Why</li><li>How</li></ol><h2>Why</h2><p>Because.</p>",
    );
    assert_eq!(article_text(&headed), "Because.");
    assert_eq!(headed.headings().collect::<Vec<_>>(), ["Why"]);

    let nav = read_html(
        r##"<nav class="toc"><a href="#a">A</a></nav><div id="ez-toc-container"><p>Contents</p></div><p>Body.</p>"##,
    );
    assert_eq!(article_text(&nav), "Body.");
}

fn article_text(a: &Article) -> String {
    a.text()
}

#[test]
fn sharing_blocks_code_and_boilerplate_are_dropped() {
    assert_eq!(
        paragraphs(
            r#"<p>We moved the blog to a static site.</p>
            <pre><code>fn main() { println!("hi"); }</code></pre>
            <p>It is <code>fast</code> now.</p>
            <div class="sharedaddy sd-sharing-enabled"><h3>Share this:</h3><ul><li><a href="x">Twitter</a></li></ul></div>
            <div class="jp-relatedposts"><p>Related</p></div>
            <p>The post <a href="https://b/">Moving</a> appeared first on <a href="https://b">Blog</a>.</p>
            <p class="more">Continue reading <span>Moving</span> &rarr;</p>
            <form><input name="email"><button>Subscribe</button></form>"#
        ),
        ["We moved the blog to a static site.", "It is fast now."]
    );
}

#[test]
fn headings_are_kept_apart_from_paragraphs() {
    let article = read_html("<h1>Part one</h1><p>Text.</p><h2>Part <em>two</em></h2><p>More.</p>");
    assert_eq!(
        article.headings().collect::<Vec<_>>(),
        ["Part one", "Part two"]
    );
    assert_eq!(article.text(), "Text.\nMore.");
}

#[test]
fn plain_text_goes_through_the_same_rules() {
    let article = read_plain("Posted on 2026-01-02\n\nHello there, friends.\nPhoto: me");
    assert_eq!(article.text(), "Hello there, friends.");
}

#[test]
fn unclosed_and_broken_markup_still_reads() {
    assert_eq!(
        paragraphs("<p>unclosed <b>bold <i>it<p>next"),
        ["unclosed bold it", "next"]
    );
    assert_eq!(paragraphs("a < b and c > d"), ["a < b and c > d"]);
    assert!(paragraphs("").is_empty());
}

#[test]
fn deep_nesting_is_read_in_linear_time() {
    // As deep as the input cap allows.
    let depth = 150_000;
    let html = format!(
        "{}<p>deep text.</p>{}",
        "<div><span>".repeat(depth),
        "</span></div>".repeat(depth)
    );
    let started = std::time::Instant::now();
    let article = read_html(&html);
    assert_eq!(article.text(), "deep text.");
    // Far above the few milliseconds this takes: a bound, not a benchmark.
    assert!(started.elapsed() < std::time::Duration::from_secs(20));

    // Deeply nested skipped blocks only count their depth.
    let shared = format!(
        "<div class=\"share\">{}x{}</div><p>after.</p>",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    );
    assert_eq!(read_html(&shared).text(), "after.");
}

#[test]
fn huge_bodies_are_read_only_up_to_the_caps() {
    let paragraph = "<p>Words that go on and on for a very long time indeed.</p>";
    let html = paragraph.repeat(5 * 1024 * 1024 / paragraph.len() + 1);
    assert!(html.len() > 5 * 1024 * 1024);
    let article = read_html(&html);
    let text = article.text();
    let chars: usize = article.blocks.iter().map(|b| b.text.chars().count()).sum();
    assert!(chars <= MAX_TEXT_CHARS, "{chars}");
    assert!(text.starts_with("Words that go on"));

    // One enormous block (no markup at all) is capped the same way.
    let blob = "x".repeat(5 * 1024 * 1024);
    assert!(read_html(&blob).text().chars().count() <= MAX_TEXT_CHARS);
}

proptest::proptest! {
    /// Text pushed a word at a time reads exactly as pushed a character at a time: spaces,
    /// line breaks and other whitespace runs become one space, and the cap on characters
    /// falls in the same place.
    #[test]
    fn text_reads_the_same_pushed_by_words_or_by_characters(
        pieces in proptest::collection::vec("[a-zé€ .\t\n\u{a0}\u{2003}]{0,40}", 0..8),
        room in proptest::prop_oneof![proptest::strategy::Just(MAX_TEXT_CHARS), 0..120usize],
    ) {
        let used = MAX_TEXT_CHARS - room;
        let mut by_words = State { chars: used, ..State::default() };
        let mut by_chars = State { chars: used, ..State::default() };
        for piece in &pieces {
            by_words.push_text(piece);
            by_chars.push_chars(piece);
        }
        proptest::prop_assert_eq!(&by_words.text, &by_chars.text);
        proptest::prop_assert_eq!(by_words.chars, by_chars.chars);
        proptest::prop_assert_eq!(by_words.space, by_chars.space);
    }
}
