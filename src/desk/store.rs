//! The captions table: writing captions for a feed's new posts, listing an account's.

use chrono::NaiveDateTime;
use diesel::dsl::{exists, not};
use diesel::prelude::*;

use std::collections::HashMap;

use super::template_cache;
use crate::accounts::UserId;
use crate::captions::{generate_with, Platform, PostView, Settings, TemplateSet};
use crate::db::dialect::captions::{insert_captions, posts_without_captions, CaptionRow};
use crate::db::schema::{captions, feeds, posts, subscriptions};
use crate::db::{new_id, now, AnyConnection};
use crate::feeds::store::{
    latest_post_dates_of_feeds, posts_with_ids, Feed, FeedId, Post, PostDates, PostId,
};
use crate::subscriptions::{mark_backfilled, Subscription, SubscriptionId};

/// How many posts one pass writes captions for per subscription, so that one
/// enormous feed cannot hold a transaction for long; the rest follow on the next pass.
const POSTS_PER_PASS: i64 = 200;

/// The caption input for a stored post.
pub fn post_view(post: &Post, feed: &Feed) -> PostView {
    PostView {
        title: post.title.clone(),
        url: post.url.clone(),
        summary: post.summary.clone(),
        content_text: post.content_text.clone(),
        author: post.author.clone(),
        published: post.published_at.map(|d| d.and_utc()),
        categories: post.category_list(),
        image_url: post.image_url.clone(),
        feed_title: feed.title.clone(),
        lead: post.lead.clone(),
        title_from_text: post.title_from_text,
        headings: post.heading_list(),
        angles: post.angles(),
    }
}

/// Writes the missing captions of every active subscription of a feed (feed-level: for the
/// poller). A new subscription gets captions for the feed's newest `backfill` posts once the
/// feed has been fetched; after that, for every post first seen later. Idempotent: a caption
/// is unique per (subscription, post, platform, variant). Returns how many were written.
pub fn write_feed_captions(conn: &mut AnyConnection, feed_id: &FeedId) -> QueryResult<usize> {
    write_feed_captions_with(conn, feed_id, &mut CompiledTemplates::new())
}

/// Each account's templates, compiled once for a whole batch of feeds whatever the
/// number of its subscriptions and posts (once per language and per feed with templates
/// of its own).
pub type CompiledTemplates = template_cache::TemplateCache;

/// [`write_feed_captions`], with templates compiled earlier in the same batch reused.
pub fn write_feed_captions_with(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
    compiled: &mut CompiledTemplates,
) -> QueryResult<usize> {
    Ok(
        write_captions_for_feeds(conn, &[feed_id.as_str()], compiled)?
            .values()
            .sum(),
    )
}

/// [`write_feed_captions`] for a batch of feeds: the feeds, their active subscriptions, the
/// posts still without captions and the subscriptions' own templates are read, and the
/// backfills marked done, with one statement each whatever the number of feeds; on
/// PostgreSQL the captions are stored with one insert. Returns how many captions each feed
/// got (feeds that got none are left out).
pub fn write_captions_for_feeds(
    conn: &mut AnyConnection,
    feed_ids: &[&str],
    compiled: &mut CompiledTemplates,
) -> QueryResult<HashMap<FeedId, usize>> {
    if feed_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let feeds: HashMap<FeedId, Feed> = crate::on_backend!(&mut *conn, |c| feeds::table
        .filter(feeds::id.eq_any(feed_ids))
        .select(Feed::as_select())
        .load::<Feed>(c))?
    .into_iter()
    .map(|feed| (feed.id.clone(), feed))
    .collect();
    let subscriptions: Vec<Subscription> = crate::on_backend!(&mut *conn, |c| {
        subscriptions::table
            .filter(subscriptions::feed_id.eq_any(feed_ids))
            .filter(subscriptions::paused.eq(false))
            .filter(subscriptions::paused_by_plan.eq(false))
            .order(subscriptions::id)
            .select(Subscription::as_select())
            .load::<Subscription>(c)
    })?;
    let backfilled: Vec<&str> = subscriptions
        .iter()
        .filter(|s| s.backfilled_at.is_some())
        .map(|s| s.id.as_str())
        .collect();
    let mut uncaptioned = posts_without_captions_of(conn, &backfilled)?;
    // New subscriptions get their backfill once their feed's first fetch succeeded (before,
    // there is nothing to choose it from). It is chosen by the posts' dates; the texts of
    // the chosen ones are read together.
    let backfilling: Vec<&Subscription> = subscriptions
        .iter()
        .filter(|s| s.backfilled_at.is_none())
        .filter(|s| {
            feeds
                .get(&s.feed_id)
                .is_some_and(|f| f.last_success_at.is_some())
        })
        .collect();
    let to_backfill: Vec<&str> = backfilling
        .iter()
        .map(|s| s.feed_id.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let latest = latest_post_dates_of_feeds(conn, &to_backfill, POSTS_PER_PASS)?;
    let mut chosen: HashMap<&SubscriptionId, Vec<PostId>> = backfilling
        .iter()
        .map(|s| {
            let dates = latest.get(&s.feed_id).cloned().unwrap_or_default();
            (&s.id, backfill_choice(dates, s.backfill))
        })
        .collect();
    let ids: Vec<&PostId> = chosen
        .values()
        .flatten()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let texts: HashMap<PostId, Post> = posts_with_ids(conn, &ids)?
        .into_iter()
        .map(|post| (post.id.clone(), post))
        .collect();
    let created = now();
    let mut to_caption = Vec::new();
    for subscription in &subscriptions {
        let Some(feed) = feeds.get(&subscription.feed_id) else {
            continue;
        };
        let posts: Vec<Post> = match subscription.backfilled_at {
            Some(_) => uncaptioned.remove(&subscription.id).unwrap_or_default(),
            None => chosen
                .remove(&subscription.id)
                .unwrap_or_default()
                .iter()
                .filter_map(|id| texts.get(id).cloned())
                .collect(),
        };
        // Most checks find nothing new: do not compile an account's templates for that.
        if !posts.is_empty() {
            to_caption.push((subscription, feed, posts));
        }
    }
    let backfilled_now: Vec<&SubscriptionId> = backfilling.iter().map(|s| &s.id).collect();
    mark_backfilled(conn, &backfilled_now, created)?;
    let with_posts: Vec<&Subscription> = to_caption.iter().map(|(s, _, _)| *s).collect();
    compiled.read_ahead(conn, &with_posts)?;
    let mut rows = Vec::new();
    for (subscription, feed, posts) in &to_caption {
        let templates = compiled.for_subscription(conn, subscription, feed)?;
        let filter = subscription.keyword_filter();
        let wanted = requests(subscription, templates);
        let settings = subscription.caption_settings(feed);
        for post in posts {
            let view = post_view(post, feed);
            if filter.allows(&view) {
                rows.extend(
                    generate_with(templates, &view, &wanted, &settings)
                        .into_iter()
                        .map(|caption| CaptionRow::new(subscription, post, caption, created)),
                );
            }
        }
    }
    let written = insert_captions(conn, &rows)?;
    let mut per_feed: HashMap<FeedId, usize> = HashMap::new();
    for subscription in &subscriptions {
        if let Some(n) = written.get(subscription.id.as_str()) {
            *per_feed.entry(subscription.feed_id.clone()).or_default() += n;
        }
    }
    Ok(per_feed)
}

/// For each of these (backfilled) subscriptions, the posts first seen since its backfill
/// that it has no captions for yet, oldest first, at most [`POSTS_PER_PASS`].
fn posts_without_captions_of(
    conn: &mut AnyConnection,
    subscription_ids: &[&str],
) -> QueryResult<HashMap<SubscriptionId, Vec<Post>>> {
    if subscription_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(SubscriptionId, Post)> =
        match posts_without_captions::<Uncaptioned>(conn, subscription_ids)? {
            Some(rows) => rows
                .into_iter()
                .map(|row| (row.subscription_id, row.post))
                .collect(),
            None => portable_posts_without_captions(conn, subscription_ids)?,
        };
    let mut by_subscription: HashMap<SubscriptionId, Vec<Post>> = HashMap::new();
    for (subscription, post) in rows {
        let posts = by_subscription.entry(subscription).or_default();
        // The rest follow on the next pass, as with one subscription at a time.
        if posts.len() < POSTS_PER_PASS as usize {
            posts.push(post);
        }
    }
    Ok(by_subscription)
}

/// A row of [`posts_without_captions`] on PostgreSQL.
#[derive(QueryableByName)]
struct Uncaptioned {
    #[diesel(sql_type = diesel::sql_types::Text)]
    subscription_id: SubscriptionId,
    #[diesel(embed)]
    post: Post,
}

/// [`posts_without_captions_of`] as one join both backends can run.
fn portable_posts_without_captions(
    conn: &mut AnyConnection,
    subscription_ids: &[&str],
) -> QueryResult<Vec<(SubscriptionId, Post)>> {
    crate::on_backend!(&mut *conn, |c| {
        posts::table
            .inner_join(subscriptions::table.on(subscriptions::feed_id.eq(posts::feed_id)))
            .filter(subscriptions::id.eq_any(subscription_ids))
            .filter(
                posts::first_seen_at
                    .nullable()
                    .gt(subscriptions::backfilled_at),
            )
            .filter(not(exists(
                captions::table
                    .filter(captions::subscription_id.eq(subscriptions::id))
                    .filter(captions::post_id.eq(posts::id)),
            )))
            .order((posts::first_seen_at.asc(), posts::id.asc()))
            .select((subscriptions::id, Post::as_select()))
            .load::<(SubscriptionId, Post)>(c)
    })
}

impl CaptionRow {
    fn new(
        subscription: &Subscription,
        post: &Post,
        caption: crate::captions::Caption,
        created_at: NaiveDateTime,
    ) -> Self {
        CaptionRow {
            id: new_id(),
            user_id: subscription.user_id.clone(),
            subscription_id: subscription.id.0.clone(),
            post_id: post.id.0.clone(),
            platform: caption.platform.id(),
            variant: caption.variant,
            body: caption.text,
            length: i32::try_from(caption.length).unwrap_or(i32::MAX),
            char_limit: i32::try_from(caption.limit).unwrap_or(i32::MAX),
            created_at,
            error: caption.error,
        }
    }
}

/// Which of these feeds have work for [`write_feed_captions`] besides new posts: an
/// active subscription not backfilled yet, or one with a post still without captions
/// (it was paused when the post came, or a pass stopped at its limit). One query for a
/// whole batch, so a check that found nothing new costs no caption queries.
pub fn feeds_wanting_captions(
    conn: &mut AnyConnection,
    feed_ids: &[&str],
) -> QueryResult<std::collections::HashSet<String>> {
    if feed_ids.is_empty() {
        return Ok(Default::default());
    }
    let uncaptioned = posts::table
        .filter(posts::feed_id.eq(subscriptions::feed_id))
        .filter(
            posts::first_seen_at
                .nullable()
                .gt(subscriptions::backfilled_at),
        )
        .filter(not(exists(
            captions::table
                .filter(captions::subscription_id.eq(subscriptions::id))
                .filter(captions::post_id.eq(posts::id)),
        )));
    let wanting: Vec<String> = crate::on_backend!(conn, |c| subscriptions::table
        .filter(subscriptions::feed_id.eq_any(feed_ids))
        .filter(subscriptions::paused.eq(false))
        .filter(subscriptions::paused_by_plan.eq(false))
        .filter(
            subscriptions::backfilled_at
                .is_null()
                .or(exists(uncaptioned)),
        )
        .select(subscriptions::feed_id)
        .distinct()
        .load::<String>(c))?;
    Ok(wanting.into_iter().collect())
}

/// Of a feed's latest posts, the newest `n`: by publication date, undated ones after dated
/// ones, then by the order the feed listed them in.
fn backfill_choice(mut posts: Vec<PostDates>, n: i32) -> Vec<PostId> {
    posts.sort_by(|a, b| {
        b.published_at
            .is_some()
            .cmp(&a.published_at.is_some())
            .then(b.published_at.cmp(&a.published_at))
            .then(b.first_seen_at.cmp(&a.first_seen_at))
    });
    posts.truncate(usize::try_from(n).unwrap_or(0));
    posts.into_iter().map(|post| post.id).collect()
}

/// The (platform, variant) pairs a subscription wants that have a template:
/// every platform has `default`; other variants exist where the account wrote one.
pub fn requests(subscription: &Subscription, templates: &TemplateSet) -> Vec<(Platform, String)> {
    let variants = subscription.variant_list();
    subscription
        .platform_list()
        .into_iter()
        .flat_map(|p| variants.iter().map(move |v| (p, v.clone())))
        .filter(|(p, v)| templates.has(*p, v))
        .collect()
}

crate::text_id! {
    /// The id of a stored caption: one account's text for one post on one platform.
    pub struct CaptionId;
}

/// One stored caption as the pages show it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = captions)]
pub struct StoredCaption {
    pub id: CaptionId,
    pub subscription_id: SubscriptionId,
    pub post_id: PostId,
    pub platform: String,
    pub variant: String,
    pub body: String,
    pub length: i32,
    pub char_limit: i32,
    pub created_at: NaiveDateTime,
    /// Why this caption has no text, when the template failed for its post.
    pub error: Option<String>,
    /// `new` or `posted` (see [`super::CaptionStatus`]).
    pub status: String,
    pub posted_at: Option<NaiveDateTime>,
    /// The generated text, kept while `body` holds the subscriber's edit.
    pub original_body: Option<String>,
    pub edited_at: Option<NaiveDateTime>,
    /// Where the publishing worker posted it (a connected network's web address).
    pub post_url: Option<String>,
}

impl StoredCaption {
    pub fn platform(&self) -> Option<Platform> {
        self.platform.parse().ok()
    }

    pub fn status(&self) -> super::CaptionStatus {
        super::CaptionStatus::from_stored(&self.status)
    }

    pub fn is_edited(&self) -> bool {
        self.original_body.is_some()
    }
}

/// A post with the account's captions for it.
#[derive(Debug, Clone)]
pub struct PostCaptions {
    pub post_id: PostId,
    pub title: String,
    pub url: Option<String>,
    pub published_at: Option<NaiveDateTime>,
    pub image_url: Option<String>,
    pub feed_title: Option<String>,
    pub feed_url: String,
    pub captions: Vec<StoredCaption>,
}

/// A caption with its post's title, link, date and image and its feed's title and address.
type CaptionWithPost = (
    StoredCaption,
    String,
    Option<String>,
    Option<NaiveDateTime>,
    Option<String>,
    Option<String>,
    String,
);

/// The account's captions grouped by post, newest post first (by its own date, undated ones
/// after, by when they were first seen); optionally of one subscription. Not by when the
/// captions were made: a poll writes a whole batch of posts in one go, in no useful order.
pub fn list_account_captions(
    conn: &mut AnyConnection,
    user: &UserId,
    subscription_id: Option<&SubscriptionId>,
    limit: i64,
) -> QueryResult<Vec<PostCaptions>> {
    let mut query = captions::table
        .inner_join(posts::table.inner_join(feeds::table))
        .filter(captions::user_id.eq(user.as_str()))
        .into_boxed();
    if let Some(id) = subscription_id {
        query = query.filter(captions::subscription_id.eq(id));
    }
    let rows: Vec<CaptionWithPost> = query
        .order((
            posts::published_at.is_null().asc(),
            posts::published_at.desc(),
            posts::first_seen_at.desc(),
            captions::post_id.asc(),
        ))
        .limit(limit)
        .select((
            StoredCaption::as_select(),
            posts::title,
            posts::url,
            posts::published_at,
            posts::image_url,
            feeds::title,
            feeds::url,
        ))
        .load(conn)?;
    let mut grouped: Vec<PostCaptions> = Vec::new();
    let mut index: std::collections::HashMap<PostId, usize> = std::collections::HashMap::new();
    for (caption, title, url, published_at, image_url, feed_title, feed_url) in rows {
        match index.get(&caption.post_id) {
            Some(&i) => grouped[i].captions.push(caption),
            None => {
                index.insert(caption.post_id.clone(), grouped.len());
                grouped.push(PostCaptions {
                    post_id: caption.post_id.clone(),
                    title,
                    url,
                    published_at,
                    image_url,
                    feed_title,
                    feed_url,
                    captions: vec![caption],
                })
            }
        }
    }
    for group in &mut grouped {
        group
            .captions
            .sort_by_key(|c| (c.platform().map(|p| p as u8), c.variant.clone()));
    }
    Ok(grouped)
}

/// The account's newest posts across its feeds, as caption input, each with
/// the settings of the subscription it comes through (its Mastodon limit,
/// UTM): what the template page previews against, so a preview is the
/// caption the account would get.
pub fn latest_account_posts(
    conn: &mut AnyConnection,
    user: &UserId,
    n: i64,
) -> QueryResult<Vec<(PostView, Settings)>> {
    latest_posts(conn, user, None, n)
}

/// [`latest_account_posts`] of one of the account's feeds (`subscription`), or of all of
/// them with `None`.
pub fn latest_posts(
    conn: &mut AnyConnection,
    user: &UserId,
    subscription: Option<&SubscriptionId>,
    n: i64,
) -> QueryResult<Vec<(PostView, Settings)>> {
    let mut query = posts::table
        .inner_join(feeds::table.inner_join(subscriptions::table))
        .filter(subscriptions::user_id.eq(user.as_str()))
        .into_boxed();
    if let Some(subscription) = subscription {
        query = query.filter(subscriptions::id.eq(subscription.clone()));
    }
    let rows: Vec<(Post, (Feed, Subscription))> = query
        .order((posts::first_seen_at.desc(), posts::id.asc()))
        .limit(n)
        .select((
            Post::as_select(),
            (Feed::as_select(), Subscription::as_select()),
        ))
        .load(conn)?;
    Ok(rows
        .iter()
        .map(|(post, (feed, subscription))| {
            (post_view(post, feed), subscription.caption_settings(feed))
        })
        .collect())
}
