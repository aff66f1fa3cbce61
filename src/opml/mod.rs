//! OPML, the format feed readers exchange subscription lists in.

use quick_xml::events::Event;
use quick_xml::Reader;
use quick_xml::XmlVersion;

/// One feed listed in an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    pub title: Option<String>,
    pub xml_url: String,
}

/// The most outlines one import reads; a larger file is almost surely not a reading list.
const MAX_OUTLINES: usize = 5_000;

/// The feeds of an OPML document: every `outline` with an `xmlUrl`, nested or not,
/// each address once, in document order.
pub fn parse(document: &str) -> Result<Vec<OpmlFeed>, String> {
    let mut reader = Reader::from_str(document);
    let mut feeds: Vec<OpmlFeed> = Vec::new();
    let mut saw_opml = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let name = e.local_name();
                if name.as_ref().eq_ignore_ascii_case(b"opml") {
                    saw_opml = true;
                }
                if !name.as_ref().eq_ignore_ascii_case(b"outline") {
                    continue;
                }
                let mut xml_url = None;
                let mut title = None;
                let mut text = None;
                for attr in e.attributes().flatten() {
                    let value = attr
                        .decoded_and_normalized_value(XmlVersion::Implicit1_0, reader.decoder())
                        .map(|v| v.trim().to_string())
                        .unwrap_or_default();
                    match attr.key.local_name().as_ref() {
                        b"xmlUrl" | b"xmlurl" => xml_url = Some(value),
                        b"title" => title = Some(value),
                        b"text" => text = Some(value),
                        _ => {}
                    }
                }
                if let Some(url) = xml_url.filter(|u| !u.is_empty()) {
                    if !feeds.iter().any(|f| f.xml_url == url) {
                        feeds.push(OpmlFeed {
                            title: title.or(text).filter(|t| !t.is_empty()),
                            xml_url: url,
                        });
                    }
                    if feeds.len() > MAX_OUTLINES {
                        return Err(format!("the file lists more than {MAX_OUTLINES} feeds"));
                    }
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("this is not a valid OPML file: {e}")),
        }
    }
    if !saw_opml {
        return Err("this is not an OPML file (no <opml> element)".into());
    }
    Ok(feeds)
}

/// An OPML 2.0 document listing the feeds.
pub fn write(title: &str, feeds: &[OpmlFeed]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n<head><title>{}</title></head>\n<body>\n",
        crate::xml_text::escape(title)
    );
    for feed in feeds {
        let title = crate::xml_text::escape(feed.title.as_deref().unwrap_or(&feed.xml_url));
        out.push_str(&format!(
            "<outline type=\"rss\" text=\"{title}\" title=\"{title}\" xmlUrl=\"{}\"/>\n",
            crate::xml_text::escape(&feed.xml_url)
        ));
    }
    out.push_str("</body>\n</opml>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_outlines_once_each() {
        let doc = r#"<?xml version="1.0"?><opml version="1.0"><head/><body>
            <outline text="Tech"><outline text="A &amp; B" xmlUrl="https://a.example/feed"/>
            <outline title="C" text="ignored" xmlUrl=" https://c.example/rss "/></outline>
            <outline text="A again" xmlUrl="https://a.example/feed"/><outline text="folder only"/></body></opml>"#;
        assert_eq!(
            parse(doc).unwrap(),
            vec![
                OpmlFeed {
                    title: Some("A & B".into()),
                    xml_url: "https://a.example/feed".into()
                },
                OpmlFeed {
                    title: Some("C".into()),
                    xml_url: "https://c.example/rss".into()
                },
            ]
        );
    }

    #[test]
    fn refuses_what_is_not_opml() {
        assert!(parse("<rss><channel/></rss>")
            .unwrap_err()
            .contains("not an OPML file"));
        assert!(parse("<opml><body><outline xmlUrl=\"x\"></body>").is_err());
    }

    #[test]
    fn writes_what_it_reads() {
        let feeds = vec![OpmlFeed {
            title: Some("Ann's <blog>".into()),
            xml_url: "https://a.example/feed?x=1&y=2".into(),
        }];
        assert_eq!(parse(&write("captionfeed", &feeds)).unwrap(), feeds);
    }
}
