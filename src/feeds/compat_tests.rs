//! One test per dialect `translate` fills in, each read through `parse_feed` as the rest
//! of the app sees it. The documents are shaped as the feeds feedparser's corpus and the
//! web serve them.

use super::*;
use crate::feeds::{parse_feed, NewEntry};

fn base() -> url::Url {
    url::Url::parse("https://blog.example/feed").unwrap()
}

fn first(doc: &str) -> NewEntry {
    let feed = parse_feed(doc.as_bytes(), Some(&base())).unwrap();
    feed.entries.into_iter().next().expect("one entry")
}

#[test]
fn rss_without_a_version_is_rss() {
    let e = first(
        r#"<?xml version="1.0"?><rss><channel><title>Blog</title>
        <item><title>No version</title><link>https://blog.example/1</link></item></channel></rss>"#,
    );
    assert_eq!(e.title, "No version");
    assert_eq!(e.url.as_deref(), Some("https://blog.example/1"));
}

#[test]
fn rss_093_and_094_are_rss() {
    for version in ["0.90", "0.93", "0.94", "2.0.1"] {
        let doc = format!(
            r#"<rss version="{version}"><channel><title>Blog</title>
            <item><title>Old</title><link>https://blog.example/old</link></item></channel></rss>"#
        );
        assert_eq!(first(&doc).title, "Old", "version {version}");
    }
}

#[test]
fn rss_2_in_the_userland_namespace_is_rss() {
    let e = first(
        r#"<r:rss version="2.0" xmlns:r="http://backend.userland.com/rss2"><r:channel>
        <r:title>Blog</r:title><r:item><r:title>Namespaced</r:title>
        <r:link>https://blog.example/ns</r:link></r:item></r:channel></r:rss>"#,
    );
    assert_eq!(e.title, "Namespaced");
    assert_eq!(e.url.as_deref(), Some("https://blog.example/ns"));
}

#[test]
fn rss_090_is_read_as_rss_1() {
    let e = first(
        r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
        xmlns="http://my.netscape.com/rdf/simple/0.9/">
        <channel><title>Blog</title><link>https://blog.example/</link></channel>
        <item><title>Netscape era</title><link>https://blog.example/1999</link></item></rdf:RDF>"#,
    );
    assert_eq!(e.title, "Netscape era");
    assert_eq!(e.url.as_deref(), Some("https://blog.example/1999"));
}

#[test]
fn an_rss_1_item_is_linked_by_its_rdf_about_and_kept_without_a_link() {
    let doc = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
        xmlns="http://purl.org/rss/1.0/">
        <channel rdf:about="https://blog.example/index.rdf"><title>Blog</title></channel>
        <item rdf:about="https://blog.example/posts/1"><title>Named by its address</title></item>
        <item><title>Nowhere to go</title></item></rdf:RDF>"#;
    let feed = parse_feed(doc.as_bytes(), Some(&base())).unwrap();
    assert_eq!(
        feed.entries.len(),
        2,
        "an item without a link is still an item"
    );
    assert_eq!(
        feed.entries[0].url.as_deref(),
        Some("https://blog.example/posts/1")
    );
    assert_eq!(feed.entries[1].title, "Nowhere to go");
    assert_eq!(feed.entries[1].url, None);
}

#[test]
fn a_permalink_guid_is_the_link() {
    let item = |guid: &str, link: &str| {
        first(&format!(
            r#"<rss version="2.0"><channel><title>B</title><item><title>T</title>{guid}{link}</item></channel></rss>"#
        ))
        .url
    };
    assert_eq!(
        item("<guid>https://blog.example/p/1</guid>", "").as_deref(),
        Some("https://blog.example/p/1"),
        "a guid is a permalink unless it says otherwise"
    );
    assert_eq!(
        item(
            r#"<guid isPermaLink="true">https://blog.example/p/2</guid>"#,
            ""
        )
        .as_deref(),
        Some("https://blog.example/p/2")
    );
    assert_eq!(
        item(
            r#"<guid isPermaLink="false">https://blog.example/p/3</guid>"#,
            ""
        ),
        None
    );
    assert_eq!(
        item("<guid>post-4</guid>", ""),
        None,
        "an identifier that is no address is no link"
    );
    assert_eq!(
        item(
            "<guid>https://blog.example/p/5</guid>",
            "<link>https://blog.example/five</link>"
        )
        .as_deref(),
        Some("https://blog.example/five"),
        "the link wins over the guid"
    );
}

#[test]
fn an_rss_link_written_the_atom_way_is_the_link() {
    let e = first(
        r#"<rss version="2.0"><channel><title>Podcast</title><item><title>Episode 1</title>
        <link href="https://podcast.example/1"/>
        <link rel="enclosure" type="audio/mpeg" href="https://podcast.example/1.mp3"/>
        </item></channel></rss>"#,
    );
    assert_eq!(e.url.as_deref(), Some("https://podcast.example/1"));
}

#[test]
fn an_atom_id_that_is_an_address_is_the_link_when_there_is_none() {
    let entry = |inner: &str| {
        first(&format!(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>B</title><entry><title>T</title>{inner}</entry></feed>"#
        ))
        .url
    };
    assert_eq!(
        entry("<id>https://blog.example/2024/id-only</id>").as_deref(),
        Some("https://blog.example/2024/id-only")
    );
    assert_eq!(entry("<id>tag:blog.example,2024:1</id>"), None);
    assert_eq!(
        entry(
            r#"<id>https://blog.example/?p=1</id><link rel="alternate" href="https://blog.example/pretty"/>"#
        )
        .as_deref(),
        Some("https://blog.example/pretty")
    );
}

#[test]
fn a_title_only_in_dc_title_or_media_title_is_the_title() {
    let item = |inner: &str| {
        first(&format!(
            r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>B</title><item><link>https://blog.example/x</link>{inner}</item></channel></rss>"#
        ))
        .title
    };
    assert_eq!(item("<dc:title>Dublin Core</dc:title>"), "Dublin Core");
    assert_eq!(
        item("<media:title>From Media RSS</media:title>"),
        "From Media RSS"
    );
    assert_eq!(
        item(r#"<media:title type="plain">Tags like &lt;b&gt; stay text</media:title>"#),
        "Tags like <b> stay text"
    );
    assert_eq!(
        item(r#"<media:title type="html">&lt;b&gt;Bold&lt;/b&gt; &amp;amp; more</media:title>"#),
        "Bold & more"
    );
    assert_eq!(
        item("<media:title>Second</media:title><title>First</title>"),
        "First",
        "the item's own title wins"
    );
    let atom = first(
        r#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/"><title>B</title><entry><id>urn:x</id><dc:title>Atom &amp; DC</dc:title></entry></feed>"#,
    );
    assert_eq!(atom.title, "Atom & DC");
}

#[test]
fn media_rss_without_its_final_slash_and_itunes_in_capitals_are_read() {
    let e = first(
        r#"<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss" xmlns:itunes="http://www.itunes.com/DTDs/PodCast-1.0.dtd"><channel><title>B</title>
        <item><link>https://blog.example/e</link><media:title>Old spelling</media:title>
        <itunes:image href="https://blog.example/cover.jpg"/></item></channel></rss>"#,
    );
    assert_eq!(e.title, "Old spelling");
    assert_eq!(
        e.image_url.as_deref(),
        Some("https://blog.example/cover.jpg")
    );
}

const ATOM_03: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#">
  <title>Old Atom</title>
  <tagline type="text/plain">Written in 2004</tagline>
  <link rel="alternate" type="text/html" href="https://old.example/"/>
  <modified>2004-06-01T12:00:00Z</modified>
  <entry>
    <title type="text/html" mode="escaped">Fish &amp;amp; chips</title>
    <link rel="alternate" type="text/html" href="https://old.example/fish"/>
    <id>tag:old.example,2004:1</id>
    <issued>2004-05-30T09:00:00Z</issued>
    <modified>2004-05-31T10:00:00Z</modified>
    <summary type="text/plain">A plain summary with a &lt;tag&gt;</summary>
    <content type="text/html" mode="escaped">&lt;p&gt;Escaped HTML body.&lt;/p&gt;</content>
  </entry>
  <entry>
    <title type="text/plain" mode="base64">QmFzZSA2NCB0aXRsZQ==</title>
    <id>https://old.example/two</id>
    <content type="application/xhtml+xml" mode="xml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Inline <b>XHTML</b> &amp;lt;kept&amp;gt;</p></div></content>
  </entry>
  <entry>
    <title>Inline <b>markup</b> in a plain title</title>
  </entry>
</feed>"#;

#[test]
fn atom_0_3_reads_like_atom_1_0() {
    let feed = parse_feed(ATOM_03.as_bytes(), None).unwrap();
    assert_eq!(feed.title.as_deref(), Some("Old Atom"));
    assert_eq!(feed.site_url.as_deref(), Some("https://old.example/"));
    assert_eq!(feed.entries.len(), 3);

    let e = &feed.entries[0];
    assert_eq!(e.title, "Fish & chips");
    assert_eq!(e.url.as_deref(), Some("https://old.example/fish"));
    assert_eq!(
        e.published,
        Some("2004-05-30T09:00:00Z".parse().unwrap()),
        "issued is when it was published"
    );
    assert_eq!(e.summary, "A plain summary with a <tag>");
    assert_eq!(e.content_text, "Escaped HTML body.");

    let e = &feed.entries[1];
    assert_eq!(e.title, "Base 64 title");
    assert_eq!(e.url.as_deref(), Some("https://old.example/two"));
    assert_eq!(e.content_text, "Inline XHTML &lt;kept&gt;");

    assert_eq!(feed.entries[2].title, "Inline markup in a plain title");
}

#[test]
fn atom_1_0_text_types_feed_rs_refuses_are_read() {
    let entry = |title: &str| {
        first(&format!(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>B</title><entry><id>urn:1</id>{title}</entry></feed>"#
        ))
        .title
    };
    assert_eq!(
        entry(r#"<title type="text/plain">Plain MIME</title>"#),
        "Plain MIME"
    );
    assert_eq!(entry(r#"<title type="">Empty type</title>"#), "Empty type");
    assert_eq!(
        entry(
            r#"<title type="application/xhtml+xml"><div xmlns="http://www.w3.org/1999/xhtml">XHTML <i>MIME</i></div></title>"#
        ),
        "XHTML MIME"
    );
    assert_eq!(
        entry(r#"<title type="application/octet-stream">QmluYXJ5IHRpdGxl</title>"#),
        "Binary title",
        "a title in another MIME type is base64"
    );
}

#[test]
fn content_elsewhere_keeps_a_type_feed_rs_accepts() {
    for content in [
        r#"<content src="https://blog.example/post.html" type="html"/>"#,
        r#"<content src="https://blog.example/post.html" type="text/html"/>"#,
        r#"<content src="https://blog.example/post.html"/>"#,
        r#"<content src="https://blog.example/video.mp4" type="video/mp4"/>"#,
    ] {
        let e = first(&format!(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>B</title><entry><id>urn:1</id><title>Out there</title>{content}</entry></feed>"#
        ));
        assert_eq!(e.title, "Out there", "{content}");
    }
}

#[test]
fn html_in_cdata_is_html_not_inline_markup() {
    let e = first(
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>B</title><entry><id>urn:1</id><title>T</title>
        <content type="html"><![CDATA[<p>Kept as <b>HTML</b></p>]]></content>
        <summary><!-- <b>not markup</b> -->Plain &lt;summary&gt;</summary></entry></feed>"#,
    );
    assert_eq!(e.content_text, "Kept as HTML");
    assert_eq!(e.summary, "Plain <summary>");
}

#[test]
fn inline_xhtml_keeps_its_escaped_text() {
    let e = first(
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>B</title><entry><id>urn:1</id>
        <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">History of the <b>&lt;blink&gt;</b> tag</div></title>
        </entry></feed>"#,
    );
    assert_eq!(e.title, "History of the <blink> tag");
}

#[test]
fn channel_definition_format_reads_as_rss() {
    let feed = parse_feed(
        br#"<CHANNEL BASE="https://cdf.example/" HREF="https://cdf.example/">
        <TITLE>Channel</TITLE>
        <ITEM HREF="/item/1" LASTMOD="2004-04-06T23:05:43-05:00">
          <TITLE>First item</TITLE><ABSTRACT>What it is about</ABSTRACT>
        </ITEM>
        <ITEM HREF="https://cdf.example/2"/>
      </CHANNEL>"#,
        None,
    )
    .unwrap();
    assert_eq!(feed.title.as_deref(), Some("Channel"));
    assert_eq!(feed.entries.len(), 2);
    let e = &feed.entries[0];
    assert_eq!(e.title, "First item");
    assert_eq!(e.url.as_deref(), Some("https://cdf.example/item/1"));
    assert_eq!(e.summary, "What it is about");
    assert_eq!(
        feed.entries[1].url.as_deref(),
        Some("https://cdf.example/2")
    );
}

#[test]
fn what_is_written_in_keeps_the_documents_encoding() {
    let mut doc = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><title>Caf\xe9</title><item><dc:title>Cr\xe8me br\xfbl\xe9e</dc:title><guid>https://blog.example/cr\xe8me</guid><description>D\xe9j\xe0 vu</description></item></channel></rss>".to_vec();
    let feed = parse_feed(&doc, None).unwrap();
    assert_eq!(feed.title.as_deref(), Some("Café"));
    let e = &feed.entries[0];
    assert_eq!(e.title, "Crème brûlée");
    assert_eq!(e.url.as_deref(), Some("https://blog.example/cr%C3%A8me"));
    assert_eq!(e.summary, "Déjà vu");

    doc.truncate(0);
    doc.extend_from_slice("\u{feff}<rss><channel><title>BOM</title><item><title>Après</title><guid>https://blog.example/a</guid></item></channel></rss>".as_bytes());
    let e = &parse_feed(&doc, None).unwrap().entries[0];
    assert_eq!(e.title, "Après");
    assert_eq!(e.url.as_deref(), Some("https://blog.example/a"));
}

#[test]
fn a_feed_whose_entries_cannot_be_read_says_so() {
    let err = parse_feed(
        br#"<rss version="2.0"><channel><title>Blog</title></channel>
        <item><title>Outside the channel</title></item><item><title>Also</title></item></rss>"#,
        None,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a feed: it holds 2 entries but none of them could be read"
    );
    let empty = parse_feed(
        br#"<rss version="2.0"><channel><title>New blog</title></channel></rss>"#,
        None,
    )
    .unwrap();
    assert!(
        empty.entries.is_empty(),
        "a feed with no posts yet is a feed"
    );
}

#[test]
fn many_entries_and_deep_nesting_are_handled_without_recursion() {
    let nested = |depth: usize| {
        let mut doc = String::from(r#"<rss><channel><title>B</title>"#);
        for i in 0..20_000 {
            doc += &format!("<item><guid>https://blog.example/{i}</guid></item>");
        }
        doc += r#"<item><title>Deep</title><x:deep xmlns:x="urn:x">"#;
        doc += &"<x:d>".repeat(depth);
        doc += &"</x:d>".repeat(depth);
        doc += "</x:deep></item></channel></rss>";
        doc
    };
    let doc = nested(5_000);
    let translated = translate(doc.as_bytes());
    assert_eq!(translated.entries, 20_001);
    let text = String::from_utf8(translated.bytes.into_owned()).unwrap();
    assert!(
        text.starts_with(r#"<rss version="2.0">"#),
        "{}",
        &text[..40]
    );
    assert!(text.contains(
        "<item><guid>https://blog.example/19999</guid><link>https://blog.example/19999</link></item>"
    ));

    let hostile = nested(100_000);
    assert!(
        matches!(translate(hostile.as_bytes()).bytes, Cow::Borrowed(_)),
        "nesting deeper than any feed is passed on untouched"
    );
}

#[test]
fn documents_needing_nothing_are_passed_on_as_they_are() {
    for doc in [
        &br#"<rss version="2.0"><channel><title>B</title><item><title>T</title><link>https://b.example/</link></item></channel></rss>"#[..],
        br#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[]}"#,
        b"<rss version=\"2.0\"><channel><title>Broken</ti",
        b"\xff\xfe<\x00r\x00s\x00s\x00",
        include_bytes!("../../tests/fixtures/feeds/atom_xml_base.xml"),
        include_bytes!("../../tests/fixtures/feeds/rss2_content_encoded.xml"),
        include_bytes!("../../tests/fixtures/feeds/rss_iso8859_1.xml"),
    ] {
        assert!(
            matches!(translate(doc).bytes, Cow::Borrowed(_)),
            "{}",
            String::from_utf8_lossy(doc)
        );
    }
}
