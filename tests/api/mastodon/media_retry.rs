//! A caption with an image that has to be retried attaches the image its first try
//! uploaded, instead of uploading it again; only when the instance has removed that
//! unattached media is the image uploaded anew.

use captionfeed::db::schema::{captions, post_images};
use diesel::prelude::*;

use super::approve_on_instance;
use super::fake::MastodonFake;
use super::PNG;
use crate::helpers::{spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;
use crate::publishing::{caption_row, post_now, publisher};

/// Gives the caption's post a stored image, as the image fetcher would have.
async fn with_image(app: &TestApp, caption: &str) {
    let id = caption.to_string();
    app.db
        .run(move |conn| {
            let post: String = captions::table
                .find(&id)
                .select(captions::post_id)
                .first(conn)?;
            diesel::delete(post_images::table.filter(post_images::post_id.eq(&post)))
                .execute(conn)?;
            let at = captionfeed::db::now();
            diesel::insert_into(post_images::table)
                .values((
                    post_images::post_id.eq(&post),
                    post_images::content_type.eq(Some("image/png")),
                    post_images::data.eq(Some(PNG.to_vec())),
                    post_images::attempts.eq(1),
                    post_images::next_attempt_at.eq(at),
                    post_images::fetched_at.eq(Some(at)),
                ))
                .execute(conn)?;
            Ok::<_, captionfeed::db::DbError>(())
        })
        .await
        .expect("the image stored");
}

async fn a_retried_caption_attaches_the_image_it_uploaded_before(backend: Backend) {
    let fake = MastodonFake::start().await;
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    let caption = crate::publishing::queued_caption(&app, &feeds, "mastodon").await;
    with_image(&app, &caption).await;
    let back = approve_on_instance(&app, &app.client, &fake).await;
    assert_eq!(app.get(&back).await.status().as_u16(), 303);
    post_now(&app, &caption).await;
    let publisher = publisher(&app).await;
    let try_again = "UPDATE queue_entries SET next_attempt_at = '2000-01-01 00:00:00'";

    // The image goes up, the status does not (503): twice.
    fake.fail_statuses(2);
    let report = publisher.run_once().await.expect("a pass");
    assert_eq!(report.retried, 1, "{report:?}");
    assert_eq!(fake.uploads(), 1);
    app.sql(try_again).await;
    let report = publisher.run_once().await.expect("a pass");
    assert_eq!(report.retried, 1, "{report:?}");
    assert_eq!(
        fake.uploads(),
        1,
        "the retry attached the image it had uploaded"
    );

    // A day later the instance has removed the unattached image: the next try uploads it
    // again and the status goes out with it.
    fake.remove_unattached_media();
    app.sql(try_again).await;
    let report = publisher.run_once().await.expect("a pass");
    assert_eq!(report.posted, 1, "{report:?}");
    assert_eq!(fake.uploads(), 2);
    let statuses = fake.statuses();
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].media_ids.len(), 1);
    let media = fake.media(&statuses[0].media_ids[0]).expect("the image");
    assert_eq!(media.bytes, PNG);
    assert_eq!(caption_row(&app, &caption).await.0, "posted");
}
on_both_backends!(a_retried_caption_attaches_the_image_it_uploaded_before);

async fn a_caption_retried_while_its_image_is_kept_goes_out_with_that_image(backend: Backend) {
    let fake = MastodonFake::start().await;
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    let caption = crate::publishing::queued_caption(&app, &feeds, "mastodon").await;
    with_image(&app, &caption).await;
    let back = approve_on_instance(&app, &app.client, &fake).await;
    assert_eq!(app.get(&back).await.status().as_u16(), 303);
    post_now(&app, &caption).await;
    let publisher = publisher(&app).await;

    fake.fail_statuses(1);
    assert_eq!(publisher.run_once().await.expect("a pass").retried, 1);
    app.sql("UPDATE queue_entries SET next_attempt_at = '2000-01-01 00:00:00'")
        .await;
    assert_eq!(publisher.run_once().await.expect("a pass").posted, 1);
    assert_eq!(fake.uploads(), 1, "one upload for two tries");
    let statuses = fake.statuses();
    assert_eq!(statuses.len(), 1);
    assert_eq!(
        fake.media(&statuses[0].media_ids[0])
            .expect("attached")
            .bytes,
        PNG
    );
}
on_both_backends!(a_caption_retried_while_its_image_is_kept_goes_out_with_that_image);
