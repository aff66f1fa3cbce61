//! Fixture-driven tests for `parse_feed`.

use super::*;

const RSS2: &[u8] = include_bytes!("../../tests/fixtures/feeds/rss2_content_encoded.xml");
const ATOM: &[u8] = include_bytes!("../../tests/fixtures/feeds/atom_xml_base.xml");
const JSON: &[u8] = include_bytes!("../../tests/fixtures/feeds/json_feed.json");
const NO_GUID: &[u8] = include_bytes!("../../tests/fixtures/feeds/rss_no_guid.xml");
const LATIN1: &[u8] = include_bytes!("../../tests/fixtures/feeds/rss_iso8859_1.xml");
const MALFORMED: &[u8] = include_bytes!("../../tests/fixtures/feeds/malformed.xml");

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn ts(s: &str) -> Option<DateTime<Utc>> {
    Some(DateTime::parse_from_rfc3339(s).unwrap().to_utc())
}

#[test]
fn rss2_with_content_encoded() {
    let feed = parse_feed(RSS2, Some(&url("https://kitchen.example.com/feed/"))).unwrap();
    assert_eq!(feed.title.as_deref(), Some("Example Kitchen"));
    assert_eq!(
        feed.site_url.as_deref(),
        Some("https://kitchen.example.com/")
    );
    assert_eq!(feed.entries.len(), 2);

    let e = &feed.entries[0];
    assert_eq!(e.entry_key, "id:https://kitchen.example.com/?p=123");
    assert_eq!(e.title, "Sourdough in five steps");
    assert_eq!(
        e.url.as_deref(),
        Some("https://kitchen.example.com/2024/05/sourdough/")
    );
    assert_eq!(
        e.summary,
        "A short intro to sourdough – no stand mixer needed."
    );
    assert_eq!(
        e.content_text,
        "Step one: feed the starter.\nStep two: mix flour, water & salt."
    );
    assert_eq!(e.author.as_deref(), Some("Ana Baker"));
    assert_eq!(e.published, ts("2024-05-14T08:30:00Z"));
    assert_eq!(e.categories, ["Baking", "Bread"]);
    // The enclosure is declared, so it beats the inline <img>.
    assert_eq!(
        e.image_url.as_deref(),
        Some("https://kitchen.example.com/wp-content/uploads/2024/05/hero.jpg")
    );

    let e = &feed.entries[1];
    assert_eq!(
        e.entry_key,
        "id:https://kitchen.example.com/2024/05/pickles/"
    );
    assert_eq!(e.author.as_deref(), Some("Ana Baker"));
    assert_eq!(e.published, ts("2024-05-13T10:00:00Z"));
    assert_eq!(e.categories, ["Preserving"]);
    // No declared image: the first <img>, made absolute against the site.
    assert_eq!(
        e.image_url.as_deref(),
        Some("https://kitchen.example.com/images/jar.png")
    );
}

#[test]
fn atom_with_xml_base() {
    let feed = parse_feed(ATOM, Some(&url("https://notes.example.org/blog/feed.atom"))).unwrap();
    assert_eq!(feed.title.as_deref(), Some("Notes & Sketches"));
    assert_eq!(
        feed.site_url.as_deref(),
        Some("https://notes.example.org/blog/")
    );

    let e = &feed.entries[0];
    assert_eq!(e.entry_key, "id:tag:notes.example.org,2024:1");
    assert_eq!(
        e.url.as_deref(),
        Some("https://notes.example.org/blog/posts/relative-links.html")
    );
    assert_eq!(e.summary, "How links resolve.");
    assert_eq!(e.content_text, "See the diagram below.\nThat is all.");
    assert_eq!(
        e.image_url.as_deref(),
        Some("https://notes.example.org/blog/img/diagram.png")
    );
    assert_eq!(e.author.as_deref(), Some("Sam Rivera"));
    assert_eq!(e.published, ts("2024-05-30T09:00:00Z"));
    assert_eq!(e.categories, ["Web", "xml"]);

    let e = &feed.entries[1];
    // type="text": the angle brackets are literal text, not markup.
    assert_eq!(e.title, "Gallery <day>");
    assert_eq!(
        e.url.as_deref(),
        Some("https://cdn.example.net/elsewhere/gallery")
    );
    assert_eq!(
        e.image_url.as_deref(),
        Some("https://media.example.net/gallery/pic.jpg")
    );
    assert_eq!(e.summary, "Photos from the gallery day.");
    assert_eq!(e.author.as_deref(), Some("Guest Writer"));
    // No <published>: fall back to <updated>.
    assert_eq!(e.published, ts("2024-05-20T09:00:00Z"));
}

#[test]
fn json_feed_1_1() {
    let feed = parse_feed(JSON, Some(&url("https://photos.example.com/feed.json"))).unwrap();
    assert_eq!(feed.title.as_deref(), Some("Lens & Light"));
    assert_eq!(
        feed.site_url.as_deref(),
        Some("https://photos.example.com/")
    );

    let e = &feed.entries[0];
    assert_eq!(e.entry_key, "id:2024-06-02-harbour");
    assert_eq!(e.title, "Harbour at dawn");
    assert_eq!(e.summary, "Fog, boats and a quiet morning.");
    assert_eq!(
        e.content_text,
        "Fog over the harbour, boats still asleep.\nShot at 1/60s."
    );
    assert_eq!(e.published, ts("2024-06-02T05:15:00Z"));
    assert_eq!(e.categories, ["harbour", "Fog"]);
    assert_eq!(e.author.as_deref(), Some("Rui Costa"));
    assert_eq!(
        e.image_url.as_deref(),
        Some("https://photos.example.com/img/harbour-full.jpg")
    );

    let e = &feed.entries[1];
    assert_eq!(e.entry_key, "id:2024-06-01-note");
    assert_eq!(
        e.url.as_deref(),
        Some("https://photos.example.com/2024/06/note")
    );
    // content_text is plain: angle brackets survive.
    assert_eq!(
        e.content_text,
        "Just a text note about <angle brackets>\nwith two paragraphs."
    );
    assert_eq!(
        e.summary,
        "Just a text note about <angle brackets> with two paragraphs."
    );
    assert_eq!(
        e.title,
        "Just a text note about <angle brackets> with two paragraphs."
    );
    assert_eq!(e.published, ts("2024-06-01T10:00:00Z"));
}

#[test]
fn entries_without_guid_get_stable_keys() {
    let source = url("https://tiny.example.net/feed.xml");
    let a = parse_feed(NO_GUID, Some(&source)).unwrap();
    let b = parse_feed(NO_GUID, Some(&source)).unwrap();
    let keys: Vec<&str> = a.entries.iter().map(|e| e.entry_key.as_str()).collect();
    assert_eq!(
        keys,
        b.entries
            .iter()
            .map(|e| e.entry_key.as_str())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        keys[0],
        "link:https://tiny.example.net/posts/link-only.html"
    );
    assert!(keys[1].starts_with("hash:"), "{}", keys[1]);
    assert!(keys[2].starts_with("hash:"), "{}", keys[2]);
    assert_ne!(keys[1], keys[2]);
    // The key must not depend on where the document was fetched from.
    let c = parse_feed(NO_GUID, None).unwrap();
    assert_eq!(c.entries[1].entry_key, keys[1]);

    assert_eq!(a.entries[1].url, None);
    assert_eq!(
        a.entries[2].title,
        "No title, no guid, no link: the title comes from…"
    );
    assert_eq!(a.entries[2].published, None);
}

#[test]
fn latin1_feed_is_decoded_by_its_prolog() {
    assert!(
        LATIN1.contains(&0xE9),
        "fixture must hold raw Latin-1 bytes"
    );
    let feed = parse_feed(LATIN1, None).unwrap();
    assert_eq!(feed.title.as_deref(), Some("Le café du coin"));
    let e = &feed.entries[0];
    assert_eq!(e.title, "Café crème à 2 £");
    assert_eq!(e.summary, "Naïve résumé – déjà vu « ici ».");
    assert_eq!(e.categories, ["Boissons chaudes"]);
    assert_eq!(e.published, ts("2024-06-05T05:00:00Z"));
}

#[test]
fn windows_1252_feed_is_decoded_by_its_prolog() {
    let mut doc =
        b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss version=\"2.0\"><channel>\
        <title>x</title><item><guid>1</guid><title>"
            .to_vec();
    doc.extend_from_slice(b"\x93Smart\x94 quotes cost \x80 5 \x96 ok");
    doc.extend_from_slice(b"</title></item></channel></rss>");
    let feed = parse_feed(&doc, None).unwrap();
    assert_eq!(feed.entries[0].title, "“Smart” quotes cost € 5 – ok");
}

#[test]
fn malformed_input_gives_a_clear_error() {
    let err = parse_feed(MALFORMED, None).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("not a feed: malformed XML"), "{msg}");

    let truncated = b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>x</title><item><title>One</ti";
    let err = parse_feed(truncated, None).unwrap_err();
    assert!(
        err.to_string().starts_with("not a feed: malformed XML"),
        "{err}"
    );

    let err = parse_feed(b"<!DOCTYPE html><html><body>blog</body></html>", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a feed: this is an HTML web page, not an RSS, Atom or JSON feed"
    );
    let err = parse_feed(b"  \n", None).unwrap_err();
    assert_eq!(err.to_string(), "not a feed: the document is empty");
    let err = parse_feed(b"hello", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a feed: no RSS, Atom or JSON Feed content found"
    );
    let err = parse_feed(
        b"{\"version\": \"https://jsonfeed.org/version/9\", \"title\": \"x\", \"items\": []}",
        None,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("unsupported JSON Feed version"),
        "{err}"
    );
}

#[test]
fn keeps_feed_order() {
    let feed = parse_feed(NO_GUID, None).unwrap();
    let titles: Vec<&str> = feed.entries.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(titles[..2], ["Has a link only", "Has neither"]);
}

#[test]
fn a_hub_and_self_link_name_the_websub_subscription() {
    let atom = br#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
      <title>T</title><id>urn:t</id><updated>2026-11-16T10:00:00Z</updated>
      <link rel="hub" href="https://hub.example/"/><link rel="self" href="/feed.atom"/>
    </feed>"#;
    let feed = parse_feed(atom, Some(&url("https://blog.example/index.atom"))).unwrap();
    assert_eq!(
        feed.websub,
        Some(WebSubLinks {
            hub: "https://hub.example/".into(),
            topic: "https://blog.example/feed.atom".into(),
        }),
        "relative links are resolved against the feed's address"
    );
}

#[test]
fn without_a_self_link_the_topic_is_the_fetched_address_and_odd_hubs_are_ignored() {
    let rss = |hub: &str| {
        format!(
            r#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://blog.example/</link><description>d</description><atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="hub" href="{hub}"/></channel></rss>"#
        )
    };
    let source = url("https://blog.example/rss");
    let feed = parse_feed(rss("http://hub.example/push").as_bytes(), Some(&source)).unwrap();
    assert_eq!(
        feed.websub.map(|w| w.topic),
        Some("https://blog.example/rss".to_owned())
    );
    let feed = parse_feed(rss("ftp://hub.example/").as_bytes(), Some(&source)).unwrap();
    assert_eq!(feed.websub, None, "only http(s) hubs");
    assert_eq!(
        parse_feed(RSS2, None).unwrap().websub,
        None,
        "no hub, no WebSub"
    );
}

#[test]
fn a_json_feed_names_its_hub_in_hubs() {
    let json = |hubs: &str, feed_url: &str| {
        format!(
            r#"{{"version":"https://jsonfeed.org/version/1.1","title":"T",{feed_url}"hubs":{hubs},"items":[{{"id":"1","content_text":"x"}}]}}"#
        )
    };
    let source = url("https://blog.example/feed.json");
    let feed = parse_feed(
        json(
            r#"[{"type":"rssCloud","url":"https://cloud.example/"},{"type":"WebSub","url":"https://hub.example/"}]"#,
            r#""feed_url":"https://blog.example/canonical.json","#,
        )
        .as_bytes(),
        Some(&source),
    )
    .unwrap();
    assert_eq!(
        feed.websub,
        Some(WebSubLinks {
            hub: "https://hub.example/".into(),
            topic: "https://blog.example/canonical.json".into(),
        }),
        "the WebSub hub, not the rssCloud one; the feed's own URL as the topic"
    );
    let without_feed_url = parse_feed(
        json(r#"[{"type":"websub","url":"/hub"}]"#, "").as_bytes(),
        Some(&source),
    )
    .unwrap();
    assert_eq!(
        without_feed_url.websub,
        Some(WebSubLinks {
            hub: "https://blog.example/hub".into(),
            topic: "https://blog.example/feed.json".into(),
        })
    );
    let only_cloud = parse_feed(
        json(
            r#"[{"type":"rssCloud","url":"https://cloud.example/"}]"#,
            "",
        )
        .as_bytes(),
        Some(&source),
    )
    .unwrap();
    assert_eq!(only_cloud.websub, None);
    assert_eq!(parse_feed(JSON, Some(&source)).unwrap().websub, None);
}

#[test]
fn entries_the_last_document_held_are_left_unread_but_still_seen() {
    let base = url("https://kitchen.example.com/feed/");
    let first = parse_feed(RSS2, Some(&base)).unwrap();
    assert_eq!(first.seen.len(), 4, "a key and a raw hash for each entry");
    // The next fetch of the same document: nothing to read, every entry still seen (by
    // its bytes, which is what the fetch after it looks up first).
    let again = parse_feed_except(RSS2, Some(&base), &first.seen.lookup()).unwrap();
    assert!(again.entries.is_empty());
    assert_eq!(again.seen.len(), 2);
    assert_eq!(again.title, first.title);
    let third = parse_feed_except(RSS2, Some(&base), &again.seen.lookup()).unwrap();
    assert!(third.entries.is_empty());
    assert_eq!(third.seen, again.seen);

    // Only the first entry's key known (a column written before raw hashes): the second
    // is read exactly as a full parse reads it.
    let mut one = crate::feeds::seen::SeenKeys::default();
    one.push(&first.entries[0].entry_key);
    let partial = parse_feed_except(RSS2, Some(&base), &one.lookup()).unwrap();
    assert_eq!(partial.entries, first.entries[1..]);
    assert_eq!(partial.seen, first.seen);
}

#[test]
fn entries_keyed_by_their_text_are_read_unless_their_bytes_are_known() {
    let first = parse_feed(NO_GUID, None).unwrap();
    let hashed: Vec<&NewEntry> = first
        .entries
        .iter()
        .filter(|e| e.entry_key.starts_with("hash:"))
        .collect();
    assert!(
        !hashed.is_empty(),
        "the fixture has entries with neither id nor link"
    );
    let mut keys_only = crate::feeds::seen::SeenKeys::default();
    for entry in &first.entries {
        keys_only.push(&entry.entry_key);
    }
    let by_key = parse_feed_except(NO_GUID, None, &keys_only.lookup()).unwrap();
    assert_eq!(by_key.entries.len(), hashed.len());
    assert_eq!(by_key.seen, first.seen);
    let by_bytes = parse_feed_except(NO_GUID, None, &first.seen.lookup()).unwrap();
    assert!(by_bytes.entries.is_empty());
}

/// An RSS document of these items, newest first.
fn rss_of(items: &[&str]) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Blog</title><link>https://blog.example/</link><description>A blog</description>{}</channel></rss>"#,
        items.concat()
    )
}

fn rss_item(n: u32, text: &str) -> String {
    format!(
        "<item><title>Post {n}</title><link>https://blog.example/posts/{n}</link>\
         <guid>https://blog.example/posts/{n}</guid>\
         <description>&lt;p&gt;{text}&lt;/p&gt;</description></item>"
    )
}

#[test]
fn entries_the_last_document_held_byte_for_byte_are_cut_out_before_feed_rs() {
    let base = url("https://blog.example/feed.xml");
    let (one, two) = (rss_item(1, "First words."), rss_item(2, "Second words."));
    let first = parse_feed(rss_of(&[&two, &one]).as_bytes(), Some(&base)).unwrap();
    assert_eq!(first.entries.len(), 2);

    let three = rss_item(3, "Third words.");
    let doc = rss_of(&[&three, &two, &one]);
    let known = first.seen.lookup();
    let translated = compat::translate_except(doc.as_bytes(), Some(base.as_str()), &known);
    assert_eq!((translated.entries, translated.dropped), (3, 2));
    assert_eq!(translated.raw.len(), 3);
    let left = String::from_utf8_lossy(&translated.bytes);
    assert!(left.contains("posts/3") && !left.contains("posts/2") && !left.contains("posts/1"));

    let second = parse_feed_except(doc.as_bytes(), Some(&base), &known).unwrap();
    assert_eq!(second.entries.len(), 1);
    assert_eq!(second.entries[0].title, "Post 3");
    // The same document again reads nothing, although two entries were never read by key.
    let again = parse_feed_except(doc.as_bytes(), Some(&base), &second.seen.lookup()).unwrap();
    assert!(again.entries.is_empty());

    // An entry whose bytes changed is read again, and known by key when it was read last
    // time; elsewhere (another address) the same bytes are not taken as known.
    let edited = rss_of(&[&rss_item(3, "Third words, edited."), &two, &one]);
    let after_edit =
        parse_feed_except(edited.as_bytes(), Some(&base), &second.seen.lookup()).unwrap();
    assert!(after_edit.entries.is_empty(), "{:?}", after_edit.entries);
    let moved = url("https://blog.example/other.xml");
    let elsewhere = parse_feed_except(doc.as_bytes(), Some(&moved), &known).unwrap();
    assert_eq!(
        elsewhere.entries.len(),
        1,
        "known by key only: post 3 is new"
    );
}
