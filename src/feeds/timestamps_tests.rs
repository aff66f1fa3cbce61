use super::*;

/// An entry's date as feed-rs reads it: with its own parser, or with [`parse`].
fn read_by_feed_rs(date: &str, ours: bool) -> Option<DateTime<Utc>> {
    let escaped = date.replace('&', "&amp;").replace('<', "&lt;");
    let doc = format!(
        "<rss version=\"2.0\"><channel><title>t</title><item><guid>a</guid>\
         <pubDate>{escaped}</pubDate></item></channel></rss>"
    );
    let builder = feed_rs::parser::Builder::new();
    let parser = if ours {
        builder.timestamp_parser(parse).build()
    } else {
        builder.build()
    };
    let feed = parser.parse(doc.as_bytes()).expect("a valid document");
    feed.entries.first().and_then(|entry| entry.published)
}

/// Every date the real feeds in the fixtures carry, in every element that holds one.
fn dates_in_fixtures() -> Vec<String> {
    let element = Regex::new(
        r#"<(pubDate|published|updated|dc:date|lastBuildDate)>([^<]*)<|"date_(published|modified)"\s*:\s*"([^"]*)""#,
    )
    .expect("a valid pattern");
    let mut dates = Vec::new();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut folders = vec![std::path::PathBuf::from(root)];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("the fixtures").flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                for found in element.captures_iter(&text) {
                    if let Some(date) = found.get(2).or(found.get(4)) {
                        dates.push(date.as_str().to_owned());
                    }
                }
            }
        }
    }
    dates.sort();
    dates.dedup();
    dates
}

#[test]
fn every_date_of_the_real_feeds_reads_as_feed_rs_reads_it() {
    let dates = dates_in_fixtures();
    assert!(dates.len() > 100, "only {} dates found", dates.len());
    for date in &dates {
        assert_eq!(
            read_by_feed_rs(date, true),
            read_by_feed_rs(date, false),
            "{date:?}"
        );
    }
}

#[test]
fn broken_dates_get_feed_rs_repairs() {
    // feed-rs's own examples of broken dates, and a few more of the same kinds.
    for date in [
        "26 August 2019 10:00:00 +0000",
        "Mon, 01 Jan 0001 00:00:00 UTC",
        "Wed, 22 Jan 2020 10:58:02 -0000",
        "Wed, 25 Aug 2012 03:25:42 GMT",
        "2 September 2019 20:00:00 +0000",
        "2016-10-01T00:00:00+10:00",
        "24 Sep 2013 1:27 PDT",
        "5 Jun 2017 24:05 PDT",
        "Tue, 15 Nov 2022 20:15:04 Z",
        "mer, 16 nov 2022 00:38:15 +0100",
        "2014-12-29T14:53:35+0200",
        "2014-12-29",
        "Thurs, 13 Jul 2011 07:38:00 GMT",
        "  Mon, 16 Nov 2026 10:00:00 +0000  ",
        "Mon, 16 Nov 26 10:00:00 EST",
        "2026-11-16T10:00:00.123456789Z",
        "2026-11-16 10:00:00Z",
        "yesterday",
        "",
    ] {
        assert_eq!(
            read_by_feed_rs(date, true),
            read_by_feed_rs(date, false),
            "{date:?}"
        );
    }
}

#[test]
fn a_repaired_date_is_the_one_meant() {
    let read = |date| parse(date).map(|d| d.to_rfc3339());
    assert_eq!(
        read("Thurs, 13 Jul 2011 07:38:00 GMT").as_deref(),
        Some("2011-07-13T07:38:00+00:00")
    );
    assert_eq!(
        read("2014-12-29T14:53:35+0200").as_deref(),
        Some("2014-12-29T12:53:35+00:00")
    );
    assert_eq!(read("yesterday"), None);
}
