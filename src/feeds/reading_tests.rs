use super::*;

fn html(raw: &str) -> Option<Field<'_>> {
    Some(Field {
        raw,
        markup: Markup::Html,
    })
}

#[test]
fn a_real_feed_summary_is_kept_and_ends_on_a_sentence() {
    let r = read(
        "Building a synth",
        html("A weekend with a soldering iron and a box of parts. What went wrong, and what it sounds like."),
        html("<p>Posted on February 5, 2026</p><p>The kit arrived on Friday.</p><p>It has 400 parts.</p>"),
        None,
    );
    assert_eq!(r.summary_source, SummarySource::Feed);
    assert_eq!(
        r.summary,
        "A weekend with a soldering iron and a box of parts. What went wrong, and what it sounds like."
    );
    assert_eq!(
        r.content_text,
        "The kit arrived on Friday.\nIt has 400 parts."
    );
    assert_eq!(r.lead, "The kit arrived on Friday.");
    assert!(!r.title_from_text);
}

#[test]
fn a_cut_copy_of_the_content_is_not_a_summary() {
    let content =
        "<p>The kit arrived on Friday. It has 400 parts and a manual in three languages.</p>\
                   <p>By Sunday the power supply worked.</p>";
    for summary in [
        "The kit arrived on Friday. It has 400 parts and a manual [&hellip;]",
        "The kit arrived on Friday. It has 400 parts and a manual",
        "The kit arrived on Friday. It has 400 parts and a manual in three languages. By Sunday the power supply worked.",
    ] {
        let r = read("Kit", html(summary), html(content), None);
        assert_eq!(r.summary_source, SummarySource::Text, "{summary}");
        assert_eq!(
            r.summary,
            "The kit arrived on Friday. It has 400 parts and a manual in three languages. By Sunday the power supply worked.",
            "{summary}"
        );
    }
}

#[test]
fn links_addresses_and_boilerplate_are_not_summaries() {
    let content = html("<p>Episode 12 is about seed phrases and how not to lose them.</p>");
    for summary in [
        "https://example.com/ep12",
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        "ana@example.com",
        "The post Ep 12 appeared first on Crypto Cast.",
    ] {
        let r = read("Ep 12", html(summary), content, None);
        assert_eq!(r.summary_source, SummarySource::Text, "{summary}");
        assert_eq!(
            r.summary, "Episode 12 is about seed phrases and how not to lose them.",
            "{summary}"
        );
    }
}

#[test]
fn long_text_is_summarised_in_whole_sentences_or_cut_with_an_ellipsis() {
    let sentence = "This sentence has exactly eight words in it. ";
    let r = read(
        "T",
        None,
        html(&format!("<p>{}</p>", sentence.repeat(20))),
        None,
    );
    assert!(r.summary.chars().count() <= normalize::SUMMARY_CHARS);
    assert!(r.summary.ends_with("in it."), "{}", r.summary);

    let endless = "word ".repeat(200);
    let r = read("T", None, html(&format!("<p>{endless}</p>")), None);
    assert!(r.summary.ends_with('…'), "{}", r.summary);
    assert!(r.lead.is_empty(), "no whole sentence, no lead: {}", r.lead);
}

#[test]
fn posts_without_titles_are_labelled_from_their_text_and_marked() {
    let r = read(
        "",
        html("<p>Bäcker Görtz. 📍</p><p>My streak as a poor food blogger continues.</p>"),
        None,
        Some("https://a.example/2025/10/08/bcker-grtz.html"),
    );
    assert!(r.title_from_text);
    assert_eq!(
        r.title,
        "Bäcker Görtz. 📍 My streak as a poor food blogger…"
    );
    assert_ne!(r.title, "(untitled)");
    assert_eq!(r.lead, "My streak as a poor food blogger continues.");

    let empty = read(
        "",
        None,
        None,
        Some("https://a.example/2025/10/08/bcker-grtz.html"),
    );
    assert_eq!(empty.title, "bcker grtz");
}

#[test]
fn a_title_that_only_repeats_the_texts_beginning_is_not_a_title() {
    let text = html("<p>After years, I finally got us a month of Netflix. Mostly for K-Pop.</p>");
    for title in [
        "After years, I finally got",
        "After years, I finally got…",
        "after years, I finally got us a month of Netflix...",
    ] {
        let r = read(title, text, None, None);
        assert!(r.title_from_text, "{title}");
        assert_eq!(r.title, title.trim());
    }
    // A real title that starts the first sentence is still the author's.
    let r = read("Netflix", text, None, None);
    assert!(!r.title_from_text);
    let r = read(
        "Barfi",
        html("<p>Barfi to indyjski deser z mleka. Robi się go szybko.</p>"),
        None,
        None,
    );
    assert!(!r.title_from_text);
}

#[test]
fn a_copy_of_the_title_opening_the_body_is_dropped() {
    let r = read(
        "Forte Chaberton",
        None,
        html("<p>Posted on Aug 29, 2004</p><span>Forte Chaberton</span><div>Posted on Aug 29, 2004</div>\
              <p>L'escursione al forte Chaberton ha sempre esercitato un profondo fascino su di me.</p>"),
        None,
    );
    assert_eq!(
        r.summary,
        "L'escursione al forte Chaberton ha sempre esercitato un profondo fascino su di me."
    );
    let r = read(
        "Hello, world!",
        None,
        html("<h1>Hello, world!</h1><p>First post here, welcome to it.</p>"),
        None,
    );
    assert_eq!(r.content_text, "First post here, welcome to it.");
    // Hugo's plain summaries glue the heading to the text.
    let r = read(
        "Join the PKI Consortium",
        html("Join the PKI ConsortiumWe welcome all organizations that are eligible."),
        None,
        None,
    );
    assert_eq!(r.summary, "We welcome all organizations that are eligible.");
}

#[test]
fn the_lead_skips_what_cannot_lead() {
    let r = read(
        "Title",
        None,
        html("<h2>Intro</h2><p>Hi!</p><p>Here is what you need:</p>\
              <p>See https://example.com/docs for more. Rust makes this part easy to get right.</p>"),
        None,
    );
    assert_eq!(r.lead, "Rust makes this part easy to get right.");
    let r = read(
        "目次",
        None,
        html("<p>私は食事にあまり興味がありません。食事はあくまで栄養を取るための行動です。</p>"),
        None,
    );
    assert_eq!(r.lead, "私は食事にあまり興味がありません。");
}
