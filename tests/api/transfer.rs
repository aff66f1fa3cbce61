use crate::helpers::{new_browser, rss, spawn_app, Backend, FeedServer};
use crate::on_both_backends;

async fn an_opml_import_is_reviewed_then_followed(backend: Backend) {
    let feeds = FeedServer::start().await;
    let a = feeds.set(
        "/a.xml",
        "application/rss+xml",
        rss("Blog A", &[("a1", "A one")]),
    );
    let b = feeds.set(
        "/b.xml",
        "application/rss+xml",
        rss("Blog B", &[("b1", "B one")]),
    );
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let opml = format!(
        r#"<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
        <outline text="Blogs"><outline text="A" xmlUrl="{a}"/><outline text="B" xmlUrl="{b}"/></outline>
        <outline text="Bad" xmlUrl="ftp://files.example/feed"/></body></opml>"#
    );
    let review = app
        .submit("/import/opml", "/import/opml", &[("opml", &opml)])
        .await;
    assert_eq!(review.status().as_u16(), 200);
    let html = review.text().await.unwrap();
    assert!(html.contains("The file lists 3 feeds"), "{html}");
    assert!(
        app.get_html("/feeds")
            .await
            .contains("You follow no feed yet"),
        "nothing followed before confirming"
    );

    // The person drops nothing but the form is what decides.
    let kept = format!("{a}\n{b}\nftp://files.example/feed\n");
    let done = app
        .submit("/import/opml", "/import/opml/confirm", &[("urls", &kept)])
        .await;
    assert_eq!(done.status().as_u16(), 200);
    let html = done.text().await.unwrap();
    assert_eq!(html.matches(">followed<").count(), 2, "{html}");
    assert!(html.contains("Only http:// and https://"), "{html}");
    app.poll().await;
    let list = app.get_html("/feeds").await;
    assert!(list.contains("Blog A") && list.contains("Blog B"));

    let again = app
        .submit("/import/opml", "/import/opml/confirm", &[("urls", &a)])
        .await;
    assert!(again.text().await.unwrap().contains(">already followed<"));

    let broken = app
        .submit("/import/opml", "/import/opml", &[("opml", "<rss/>")])
        .await;
    assert_eq!(broken.status().as_u16(), 422);
    assert!(broken.text().await.unwrap().contains("not an OPML file"));
}
on_both_backends!(an_opml_import_is_reviewed_then_followed);

async fn feeds_and_captions_export_for_their_owner_only(backend: Backend) {
    let feeds = FeedServer::start().await;
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("a", "=HYPERLINK(1)"), ("b", "Beta")]),
    );
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    app.add_feed(&url).await;
    app.poll().await;

    let opml = app.get("/export/feeds.opml").await;
    assert_eq!(opml.status().as_u16(), 200);
    assert!(opml.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let listed = captionfeed::opml::parse(&opml.text().await.unwrap()).expect("valid OPML");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].xml_url, url);
    assert_eq!(listed[0].title.as_deref(), Some("Blog"));

    let csv_text = app.get_html("/export/captions.csv").await;
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "created_at");
    assert_eq!(&headers[8], "text");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2 * 7);
    assert!(
        rows.iter().any(|r| &r[2] == "'=HYPERLINK(1)"),
        "formula neutralised"
    );
    assert!(rows.iter().all(|r| !r[8].is_empty()));
    let x_only = app.get_html("/export/captions.csv?platform=x").await;
    assert_eq!(
        csv::Reader::from_reader(x_only.as_bytes())
            .records()
            .count(),
        2
    );
    assert_eq!(
        app.get("/export/captions.csv?platform=myspace")
            .await
            .status()
            .as_u16(),
        404
    );

    let bob = new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;
    let bobs = app
        .get_as(&bob, "/export/captions.csv")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv::Reader::from_reader(bobs.as_bytes()).records().count(),
        0
    );
    let bobs_opml = app
        .get_as(&bob, "/export/feeds.opml")
        .await
        .text()
        .await
        .unwrap();
    assert!(captionfeed::opml::parse(&bobs_opml).unwrap().is_empty());
    // Without a session: to the login page.
    assert_eq!(
        app.get_as(&new_browser(), "/export/captions.csv")
            .await
            .status()
            .as_u16(),
        303
    );
}
on_both_backends!(feeds_and_captions_export_for_their_owner_only);
