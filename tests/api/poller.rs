//! Many workers, one database: each due feed is fetched once, only the claim holding a
//! feed's lease records a result, and a crashed worker's feeds are picked up later.

use crate::helpers::{rss, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;

const RSS: &str = "application/rss+xml";

async fn add_feeds(app: &TestApp, feeds: &FeedServer, n: usize) -> Vec<String> {
    let mut paths = Vec::new();
    for i in 0..n {
        let path = format!("/feed{i}.xml");
        let url = feeds.set(
            &path,
            RSS,
            rss(&format!("Blog {i}"), &[("a", "A"), ("b", "B")]),
        );
        app.add_feed(&url).await;
        paths.push(path);
    }
    feeds.clear_hits();
    paths
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    app.db
        .run(move |conn| {
            diesel::sql_query(sql)
                .get_result::<N>(conn)
                .map(|r| r.n)
                .map_err(captionfeed::db::DbError::from)
        })
        .await
        .expect("count")
}

async fn two_pollers_racing_fetch_each_feed_once(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let paths = add_feeds(&app, &feeds, 6).await;
    let second = app.poller.clone();
    let (a, b) = tokio::join!(app.poller.run_once(), second.run_once());
    let (a, b) = (a.expect("pass a"), b.expect("pass b"));
    assert_eq!(a.feeds_checked + b.feeds_checked, 6);
    for path in &paths {
        assert_eq!(feeds.hits(path), 1, "{path} fetched once");
    }
    assert_eq!(a.captions_written + b.captions_written, 6 * 2 * 7);
    // Nothing is due any more.
    assert_eq!(app.poll().await.feeds_checked, 0);
}
on_both_backends!(two_pollers_racing_fetch_each_feed_once);

async fn two_replicas_split_many_feeds_and_fetch_each_once_per_due_time(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let n = 60;
    let paths = add_feeds(&app, &feeds, n).await;
    let replicas = [app.another_replica(), app.another_replica()];
    for round in 1..=2 {
        // Small batches (50 per claim) and repeated passes, both replicas at once.
        let mut checked = 0;
        for _ in 0..3 {
            let (a, b) = tokio::join!(replicas[0].run_once(), replicas[1].run_once());
            let (a, b) = (a.expect("pass a"), b.expect("pass b"));
            assert_eq!(a.results_discarded + b.results_discarded, 0);
            checked += a.feeds_checked + b.feeds_checked;
        }
        assert_eq!(checked, n, "round {round}");
        for path in &paths {
            assert_eq!(feeds.hits(path), round, "{path} in round {round}");
        }
        app.make_all_due().await;
    }
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM captions").await,
        (n * 2 * 7) as i64
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM (SELECT DISTINCT subscription_id, post_id, platform, variant FROM captions) d"
        )
        .await,
        (n * 2 * 7) as i64,
        "no caption twice"
    );
}
on_both_backends!(two_replicas_split_many_feeds_and_fetch_each_once_per_due_time);

async fn one_pass_claims_the_next_batch_ahead_and_checks_every_due_feed_once(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    // More than one claim holds (256): the second batch is the one claimed ahead.
    let n = 300;
    let paths = add_feeds(&app, &feeds, n).await;
    let poller = app.another_replica();
    let report = poller.run_once().await.expect("pass");
    assert_eq!(report.feeds_checked, n);
    assert_eq!(report.feeds_released + report.results_discarded, 0);
    for path in &paths {
        assert_eq!(feeds.hits(path), 1, "{path}");
    }
    let again = poller.run_once().await.expect("second pass");
    assert_eq!(again.feeds_claimed(), 0, "nothing is due any more");
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM captions").await,
        (n * 2 * 7) as i64
    );
}
on_both_backends!(one_pass_claims_the_next_batch_ahead_and_checks_every_due_feed_once);

async fn a_claim_that_lost_its_lease_cannot_record_its_result(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    add_feeds(&app, &feeds, 1).await;

    // A slow worker claims the feed; its lease runs out and another worker takes over.
    let stale = app.claim_due(chrono::Duration::minutes(5)).await;
    assert_eq!(stale.len(), 1);
    app.sql("UPDATE feeds SET lease_until = '2020-01-01 00:00:00'")
        .await;
    let fresh = app.another_replica().run_once().await.expect("pass");
    assert_eq!(fresh.feeds_checked, 1);
    let posts = count(&app, "SELECT COUNT(*) AS n FROM posts").await;

    // The feed has changed since: were the stale result recorded, a post would appear.
    feeds.set(
        "/feed0.xml",
        RSS,
        rss("Blog 0", &[("c", "C"), ("a", "A"), ("b", "B")]),
    );
    app.make_all_due().await;
    let late = app.poller.refresh_claimed(stale).await.expect("stale pass");
    assert_eq!((late.results_discarded, late.feeds_checked), (1, 0));
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM posts").await, posts);

    // A lease that merely expired (nobody took it over) does not count either.
    let slow = app.claim_due(chrono::Duration::minutes(5)).await;
    assert_eq!(slow.len(), 1);
    app.sql("UPDATE feeds SET lease_until = '2020-01-01 00:00:00'")
        .await;
    let late = app.poller.refresh_claimed(slow).await.expect("slow pass");
    assert_eq!(late.results_discarded, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM posts").await, posts);
}
on_both_backends!(a_claim_that_lost_its_lease_cannot_record_its_result);

async fn a_crashed_workers_feeds_are_picked_up_after_the_lease(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let paths = add_feeds(&app, &feeds, 3).await;

    // A worker claims every feed and dies before fetching any.
    assert_eq!(app.claim_due(chrono::Duration::minutes(5)).await.len(), 3);
    assert_eq!(
        app.poll().await.feeds_checked,
        0,
        "leased feeds are left alone"
    );

    // The lease runs out.
    app.sql("UPDATE feeds SET lease_until = '2020-01-01 00:00:00'")
        .await;
    let report = app.another_replica().run_once().await.expect("pass");
    assert_eq!(report.feeds_checked, 3);
    for path in &paths {
        assert_eq!(feeds.hits(path), 1);
    }
    assert_eq!(report.captions_written, 3 * 2 * 7);
}
on_both_backends!(a_crashed_workers_feeds_are_picked_up_after_the_lease);

/// Makes the database refuse to store posts of the feed at `url`, as a broken disk or a
/// constraint would: the write of that one feed fails inside the poller's batch.
async fn refuse_posts_of(app: &TestApp, backend: Backend, url: &str) {
    let rows = app.feed_rows().await;
    let Some(feed) = rows.iter().find(|f| f.url == url) else {
        panic!("no feed {url}");
    };
    let id = &feed.id;
    match backend {
        Backend::Sqlite => {
            app.sql(&format!(
                "CREATE TRIGGER refuse_posts BEFORE INSERT ON posts WHEN NEW.feed_id = '{id}' \
                 BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            ))
            .await
        }
        Backend::Postgres => {
            app.sql(&format!(
                "CREATE FUNCTION refuse_posts() RETURNS trigger AS $$ BEGIN \
                   IF NEW.feed_id = '{id}' THEN RAISE EXCEPTION 'refused by the test'; END IF; \
                   RETURN NEW; END $$ LANGUAGE plpgsql; \
                 CREATE TRIGGER refuse_posts BEFORE INSERT ON posts \
                   FOR EACH ROW EXECUTE FUNCTION refuse_posts();"
            ))
            .await
        }
    }
}

async fn a_feed_that_cannot_be_stored_does_not_hold_back_its_batch(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    add_feeds(&app, &feeds, 3).await;
    let broken = feeds.set("/feed0.xml", RSS, rss("Blog 0", &[("a", "A"), ("b", "B")]));
    refuse_posts_of(&app, backend, &broken).await;

    let report = app.poll().await;

    assert_eq!(report.feeds_checked, 3, "{report:?}");
    assert_eq!(report.feeds_failed, 1, "{report:?}");
    // The two healthy feeds were stored and captioned as if nothing had happened.
    assert_eq!(report.new_posts, 2 * 2);
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM captions").await,
        2 * 2 * 7
    );
    // The broken one says why on its page, is not left leased, and is retried later.
    let rows = app.feed_rows().await;
    let Some(feed) = rows.iter().find(|f| f.url == broken) else {
        panic!("feed row");
    };
    let error = feed.last_error.as_deref().unwrap_or_default();
    assert!(error.contains("could not be stored"), "{error}");
    assert_eq!(feed.error_count, 1);
    assert!(feed.lease_until.is_none() && feed.lease_token.is_none());

    // Once the database takes its posts again, the next check stores them.
    app.sql(match backend {
        Backend::Sqlite => "DROP TRIGGER refuse_posts",
        Backend::Postgres => "DROP TRIGGER refuse_posts ON posts",
    })
    .await;
    app.make_all_due().await;
    let again = app.poll().await;
    assert_eq!((again.feeds_failed, again.new_posts), (0, 2), "{again:?}");
}
on_both_backends!(a_feed_that_cannot_be_stored_does_not_hold_back_its_batch);

async fn a_new_subscriber_of_an_unchanged_feed_gets_its_captions(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    let url = feeds.respond(
        "/feed.xml",
        200,
        &[("content-type", RSS), ("etag", "\"v1\"")],
        rss("Blog", &[("a", "A"), ("b", "B")]),
    );
    app.sign_up("ann@example.com").await;
    app.add_feed(&url).await;
    app.poll().await;
    let bob = crate::helpers::new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;
    app.add_feed_as(&bob, &url).await;

    // The feed answers 304 now: nothing new, yet Bob's backfill is written.
    let report = app.poll().await;

    assert_eq!((report.feeds_checked, report.new_posts), (1, 0));
    assert_eq!(report.captions_written, 2 * 7, "{report:?}");
    let bobs = count(
        &app,
        "SELECT COUNT(*) AS n FROM captions c JOIN users u ON u.id = c.user_id \
         WHERE u.email = 'bob@example.com'",
    )
    .await;
    assert_eq!(bobs, 2 * 7);
    // And a check after that writes nothing more.
    app.make_all_due().await;
    assert_eq!(app.poll().await.captions_written, 0);
}
on_both_backends!(a_new_subscriber_of_an_unchanged_feed_gets_its_captions);

async fn one_batch_records_new_posts_unchanged_feeds_and_a_failure_each_as_its_own(
    backend: Backend,
) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let two = [("a", "A"), ("b", "B")];
    let three = [("c", "C"), ("a", "A"), ("b", "B")];
    let unchanged = feeds.respond(
        "/unchanged.xml",
        200,
        &[("content-type", RSS), ("etag", "\"v1\"")],
        rss("Unchanged", &two),
    );
    let growing = feeds.set("/growing.xml", RSS, rss("Growing", &two));
    let shared = feeds.set("/shared.xml", RSS, rss("Shared", &two));
    let failing = feeds.set("/failing.xml", RSS, rss("Failing", &two));
    for url in [&unchanged, &growing, &shared, &failing] {
        app.add_feed(url).await;
    }
    let bob = crate::helpers::new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;
    app.add_feed_as(&bob, &shared).await;
    let first = app.poll().await;
    assert_eq!(first.captions_written, (4 + 1) * 2 * 7, "{first:?}");
    app.sql(
        "UPDATE subscriptions SET paused = TRUE \
         WHERE user_id = (SELECT id FROM users WHERE email = 'bob@example.com')",
    )
    .await;

    // One pass, one write batch: two feeds with a new post, one unchanged, one down.
    feeds.set("/growing.xml", RSS, rss("Growing", &three));
    feeds.set("/shared.xml", RSS, rss("Shared", &three));
    feeds.set_status("/failing.xml", 500, "text/plain", "down for maintenance");
    app.make_all_due().await;
    let report = app.poll().await;

    assert_eq!(report.feeds_checked, 4, "{report:?}");
    assert_eq!(report.feeds_failed, 1, "{report:?}");
    assert_eq!(report.new_posts, 2, "{report:?}");
    // Ann's captions for both new posts; none for Bob, who paused the shared feed.
    assert_eq!(report.captions_written, 2 * 7, "{report:?}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM posts").await,
        4 * 2 + 2
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM captions").await,
        (first.captions_written + report.captions_written) as i64
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM captions c JOIN users u ON u.id = c.user_id \
             WHERE u.email = 'bob@example.com'"
        )
        .await,
        2 * 7
    );
    let rows = app.feed_rows().await;
    let row = |url: &str| {
        let Some(feed) = rows.iter().find(|f| f.url == url) else {
            panic!("no feed row for {url}");
        };
        feed.clone()
    };
    assert_eq!(row(&unchanged).last_status, Some(304));
    assert_eq!(row(&unchanged).error_count, 0);
    for url in [&growing, &shared] {
        let feed = row(url);
        assert_eq!(
            (feed.last_status, feed.error_count),
            (Some(200), 0),
            "{url}"
        );
        assert!(feed.last_error.is_none(), "{url}");
    }
    let down = row(&failing);
    assert_eq!((down.last_status, down.error_count), (Some(500), 1));
    assert!(down.last_error.is_some());
    assert!(rows
        .iter()
        .all(|f| f.lease_until.is_none() && f.lease_token.is_none()));

    // Nothing is recorded twice on the next pass: no new posts, no new captions.
    app.make_all_due().await;
    let again = app.poll().await;
    assert_eq!(
        (again.new_posts, again.captions_written),
        (0, 0),
        "{again:?}"
    );
}
on_both_backends!(one_batch_records_new_posts_unchanged_feeds_and_a_failure_each_as_its_own);

async fn unchanged_feeds_of_one_batch_each_get_their_own_next_check(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    for i in 0..5 {
        let url = feeds.respond(
            &format!("/same{i}.xml"),
            200,
            &[("content-type", RSS), ("etag", "\"v1\"")],
            rss(&format!("Same {i}"), &[("a", "A")]),
        );
        app.add_feed(&url).await;
    }
    app.poll().await;
    app.make_all_due().await;
    let checked_from = captionfeed::db::now();

    // All five answer 304 and are written by one statement for the batch.
    let report = app.poll().await;
    assert_eq!(report.feeds_checked, 5, "{report:?}");
    let rows = app.feed_rows().await;
    let floor = chrono::Duration::from_std(captionfeed::poller::CHECK_FLOOR).expect("floor");
    for feed in &rows {
        assert_eq!(feed.last_status, Some(304), "{}", feed.url);
        assert!(feed.lease_until.is_none() && feed.lease_token.is_none());
        assert!(feed.last_checked_at.is_some_and(|at| at >= checked_from));
        assert!(feed.next_check_at >= checked_from + floor, "{}", feed.url);
    }
    // Each row got its own next check (the schedule's jitter), not one for all.
    let mut next: Vec<_> = rows.iter().map(|f| f.next_check_at).collect();
    next.sort();
    next.dedup();
    assert_eq!(next.len(), 5, "{next:?}");
}
on_both_backends!(unchanged_feeds_of_one_batch_each_get_their_own_next_check);

async fn a_changed_feed_remembers_its_entries_and_stores_only_the_new_one(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let url = feeds.set("/feed.xml", RSS, rss("Blog", &[("a", "A"), ("b", "B")]));
    app.add_feed(&url).await;
    app.poll().await;
    let seen = |rows: Vec<captionfeed::feeds::store::Feed>| {
        captionfeed::feeds::seen::SeenKeys::decode(&rows[0].seen_keys).len()
    };
    // Each entry by its key and by its bytes.
    assert_eq!(seen(app.feed_rows().await), 4);

    feeds.set(
        "/feed.xml",
        RSS,
        rss("Blog", &[("c", "C"), ("a", "A"), ("b", "B")]),
    );
    app.make_all_due().await;
    let report = app.poll().await;

    assert_eq!(
        (report.new_posts, report.captions_written),
        (1, 7),
        "{report:?}"
    );
    // Each entry again by key and bytes: `rss` dates an item by its place, so A's and B's
    // bytes changed and they were known by key instead (cut out by their bytes, they
    // would be seen by those alone: see `feeds::parse`'s tests).
    assert_eq!(seen(app.feed_rows().await), 6);
    // The new entry was read in full, as a first fetch would have read it.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM posts \
             WHERE title = 'C' AND summary LIKE 'Summary of C%'"
        )
        .await,
        1
    );
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM posts").await, 3);
}
on_both_backends!(a_changed_feed_remembers_its_entries_and_stores_only_the_new_one);

/// On PostgreSQL the service's sessions leave the server its own cached plans for the
/// foreign-key checks an insert runs (a session forcing custom plans replanned every one:
/// a batch of captions took 2.4 times as long) and never compile a query to machine code
/// (16-40 ms of the server's time on every batch of the poller).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sessions_keep_the_servers_plans_and_compile_no_query() {
    if !crate::helpers::postgres_configured() {
        return;
    }
    let app = spawn_app(Backend::Postgres).await;
    let setting = |name: &str| format!("SELECT current_setting('{name}') AS v");
    assert_ne!(
        app.sql_text(&setting("plan_cache_mode")).await,
        "force_custom_plan"
    );
    assert_eq!(app.sql_text(&setting("jit")).await, "off");
}

/// SQLite's log is copied back into the database once a pass is over, not by the batch
/// writer in the middle of it: the next write then starts the log again from its first
/// page, instead of adding to what the pass left there.
#[tokio::test]
async fn after_a_pass_the_poller_copies_sqlites_log_back() {
    use diesel::prelude::*;
    let feeds = FeedServer::start().await;
    let app = spawn_app(Backend::Sqlite).await;
    app.sign_up("ann@example.com").await;
    // More than one claim holds: a full pass is followed at once by one that finds nothing.
    add_feeds(&app, &feeds, 260).await;
    app.make_all_due().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(app.another_replica().run_until_stopped(async {
        let _ = stopped.await;
    }));
    let unchecked = "SELECT COUNT(*) AS n FROM feeds WHERE next_check_at < CURRENT_TIMESTAMP";
    for _ in 0..500 {
        if count(&app, unchecked).await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        count(&app, unchecked).await,
        0,
        "the pass checked every feed"
    );
    let _ = stop.send(());
    running.await.expect("the poller stops");

    let after_one_small_write = app
        .db
        .run(|conn| {
            // A write that changes nothing writes no page: this one changes a title.
            diesel::sql_query(
                "UPDATE feeds SET title = title || '!' WHERE id = (SELECT MIN(id) FROM feeds)",
            )
            .execute(conn)?;
            captionfeed::db::checkpoint::checkpoint_wal(conn)
                .map_err(captionfeed::db::DbError::from)
        })
        .await
        .expect("checkpoint")
        .expect("SQLite has a log");
    assert!(
        after_one_small_write.in_log < 20,
        "the pass's pages were still in the log: {after_one_small_write:?}"
    );
}

/// The pool's SQLite connections leave the copying back to the poller's idle time, up to
/// a backstop that bounds the log's size.
#[tokio::test]
async fn sqlite_connections_copy_the_log_back_themselves_only_past_the_backstop() {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Pages {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        wal_autocheckpoint: i32,
    }
    let app = spawn_app(Backend::Sqlite).await;
    let pages = app
        .db
        .run(|conn| {
            diesel::sql_query("PRAGMA wal_autocheckpoint")
                .get_result::<Pages>(conn)
                .map_err(captionfeed::db::DbError::from)
        })
        .await
        .expect("pragma");
    assert_eq!(
        i64::from(pages.wal_autocheckpoint),
        i64::from(captionfeed::db::checkpoint::BACKSTOP_PAGES)
    );
}
