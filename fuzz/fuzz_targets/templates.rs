//! Any template a subscriber can save compiles, renders and is fitted without a
//! crash, within libFuzzer's limits on time and on the size of any one
//! allocation (set in .ci/fuzz): the sandbox's bounds, checked from outside.
#![no_main]

use captionfeed::captions::{
    generate_with, validate_template, Platform, PostView, Settings, TemplateSet,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if validate_template(source).is_err() {
        return;
    }
    let (set, broken) =
        TemplateSet::with_overrides([(Platform::Linkedin, "fuzz".to_owned(), source.to_owned())]);
    assert!(broken.is_empty(), "a template that validates must compile: {broken:?}");
    // Fields far longer than any real post's, so growth shows.
    let word = "Lorem ipsum dolor sit amet, consectetur adipiscing elit ";
    let post = PostView {
        title: word.repeat(40),
        url: Some("https://example.com/a/very/long/path?with=query".to_owned()),
        summary: word.repeat(200),
        content_text: word.repeat(2000),
        author: Some("Ann Example".to_owned()),
        categories: (0..50).map(|i| format!("category {i}")).collect(),
        feed_title: Some(word.repeat(10)),
        ..PostView::default()
    };
    let _ = generate_with(
        &set,
        &post,
        &[(Platform::Linkedin, "fuzz".to_owned())],
        &Settings::default(),
    );
});
