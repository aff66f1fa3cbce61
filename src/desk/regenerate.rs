//! Rewriting captions nobody has used yet after the account changes what makes them: a
//! template, or a feed's settings (platforms, variants, Mastodon limit, UTM, keywords).
//!
//! A caption may be rewritten, added or removed only while it is unused: not posted, not
//! edited by the subscriber, and not served anywhere yet (see [`super::served`]). Used
//! captions stay exactly as they are, so nothing a subscriber or a program holds changes
//! behind their back. Only the posts of the last [`WINDOW_DAYS`] days are looked at: older
//! captions belong to posts whose moment has passed.

use chrono::{Duration, NaiveDateTime};
use diesel::dsl::exists;
use diesel::prelude::*;

use super::store::{post_view, requests, CaptionId};
use super::template_cache::TemplateCache;
use super::CaptionStatus;
use crate::accounts::UserId;
use crate::captions::{generate_with, Caption, TemplateSet};
use crate::db::schema::{captions, feeds, posts, subscriptions};
use crate::db::{new_id, AnyConnection};
use crate::feeds::store::{Feed, Post, PostId};
use crate::subscriptions::{Subscription, SubscriptionId};

/// How far back a change reaches, by when posts were first seen.
pub const WINDOW_DAYS: i64 = 7;

/// The most posts one subscription's rewrite looks at, newest first.
const POSTS_LIMIT: i64 = 200;

/// What a rewrite did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Regenerated {
    /// Unused captions whose text changed.
    pub rewritten: usize,
    /// Captions the new settings call for that did not exist (a platform or variant
    /// switched on, a post the keywords now let through).
    pub added: usize,
    /// Unused captions the new settings no longer call for.
    pub removed: usize,
    /// Captions the change would have altered but that are posted, edited or served.
    pub kept: usize,
}

impl Regenerated {
    fn absorb(&mut self, other: Regenerated) {
        self.rewritten += other.rewritten;
        self.added += other.added;
        self.removed += other.removed;
        self.kept += other.kept;
    }

    /// The counts as one query parameter value (`3-1-0-2`), so the page a change
    /// redirects to can say what it did.
    pub fn to_param(&self) -> String {
        format!(
            "{}-{}-{}-{}",
            self.rewritten, self.added, self.removed, self.kept
        )
    }

    /// The counts back from [`Self::to_param`]; `None` for anything else.
    pub fn from_param(param: &str) -> Option<Regenerated> {
        let mut counts = param.split('-').map(|n| n.parse::<usize>().ok());
        let mut next = || counts.next().flatten();
        let parsed = Regenerated {
            rewritten: next()?,
            added: next()?,
            removed: next()?,
            kept: next()?,
        };
        next().is_none().then_some(parsed)
    }

    /// One sentence for the page that made the change; `None` when nothing changed.
    pub fn summary(&self) -> Option<String> {
        let mut done = Vec::new();
        for (n, what) in [
            (self.rewritten, "rewritten"),
            (self.added, "added"),
            (self.removed, "removed"),
        ] {
            if n > 0 {
                done.push(format!("{n} {} {what}", captions_word(n)));
            }
        }
        let mut sentence = String::new();
        if !done.is_empty() {
            sentence = format!(
                "Captions not used yet were brought up to date: {}.",
                done.join(", ")
            );
        }
        if self.kept > 0 {
            if !sentence.is_empty() {
                sentence.push(' ');
            }
            sentence.push_str(&format!(
                "{} {} already posted, edited or sent on {} kept as {}.",
                self.kept,
                captions_word(self.kept),
                if self.kept == 1 { "was" } else { "were" },
                if self.kept == 1 {
                    "it was"
                } else {
                    "they were"
                },
            ));
        }
        (!sentence.is_empty()).then_some(sentence)
    }
}

fn captions_word(n: usize) -> &'static str {
    if n == 1 {
        "caption"
    } else {
        "captions"
    }
}

/// Brings one of the account's subscriptions up to date with its settings and the
/// account's templates. Another account's id changes nothing. Call inside a transaction.
pub fn for_subscription(
    conn: &mut AnyConnection,
    user: &UserId,
    subscription_id: &SubscriptionId,
    at: NaiveDateTime,
) -> QueryResult<Regenerated> {
    let found = active_subscriptions(conn, user, Some(subscription_id))?;
    let Some((subscription, feed)) = found.first() else {
        return Ok(Regenerated::default());
    };
    let mut cache = TemplateCache::new();
    let templates = cache.for_subscription(conn, subscription, feed)?;
    reconcile(conn, subscription, feed, templates, at)
}

/// Brings every active subscription of the account up to date with its templates (after
/// one is saved or removed). Call inside a transaction.
pub fn for_account(
    conn: &mut AnyConnection,
    user: &UserId,
    at: NaiveDateTime,
) -> QueryResult<Regenerated> {
    let rows = active_subscriptions(conn, user, None)?;
    let mut total = Regenerated::default();
    if rows.is_empty() {
        return Ok(total);
    }
    let mut cache = TemplateCache::new();
    for (subscription, feed) in &rows {
        let templates = cache.for_subscription(conn, subscription, feed)?;
        total.absorb(reconcile(conn, subscription, feed, templates, at)?);
    }
    Ok(total)
}

/// The account's subscriptions that get captions (a paused one gets none until resumed),
/// with their feeds; only `only` when given.
fn active_subscriptions(
    conn: &mut AnyConnection,
    user: &UserId,
    only: Option<&SubscriptionId>,
) -> QueryResult<Vec<(Subscription, Feed)>> {
    let mut query = subscriptions::table
        .inner_join(feeds::table)
        .filter(subscriptions::user_id.eq(user.as_str()))
        .filter(subscriptions::paused.eq(false))
        .filter(subscriptions::paused_by_plan.eq(false))
        .into_boxed();
    if let Some(id) = only {
        query = query.filter(subscriptions::id.eq(id));
    }
    query
        .order(subscriptions::created_at.asc())
        .select((Subscription::as_select(), Feed::as_select()))
        .load(conn)
}

/// A stored caption as far as a rewrite needs it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = captions)]
struct Existing {
    id: CaptionId,
    post_id: PostId,
    platform: String,
    variant: String,
    body: String,
    length: i32,
    char_limit: i32,
    error: Option<String>,
    status: String,
    original_body: Option<String>,
    served_at: Option<NaiveDateTime>,
}

impl Existing {
    fn unused(&self) -> bool {
        CaptionStatus::from_stored(&self.status) == CaptionStatus::New
            && self.original_body.is_none()
            && self.served_at.is_none()
    }

    /// Whether the change leaves this caption's generated text as it is (a subscriber's
    /// edit is set aside: what counts is what the template made).
    fn same_as(&self, caption: &Caption) -> bool {
        if let Some(generated) = &self.original_body {
            return *generated == caption.text;
        }
        self.body == caption.text
            && self.error == caption.error
            && usize::try_from(self.length).ok() == Some(caption.length)
            && usize::try_from(self.char_limit).ok() == Some(caption.limit)
    }

    fn is_for(&self, caption: &Caption) -> bool {
        self.platform == caption.platform.id() && self.variant == caption.variant
    }
}

fn reconcile(
    conn: &mut AnyConnection,
    subscription: &Subscription,
    feed: &Feed,
    templates: &TemplateSet,
    at: NaiveDateTime,
) -> QueryResult<Regenerated> {
    // Until its backfill the poller has not chosen this subscription's posts; it will,
    // with the settings in force then.
    let Some(backfilled_at) = subscription.backfilled_at else {
        return Ok(Regenerated::default());
    };
    let has_caption = exists(
        captions::table
            .filter(captions::subscription_id.eq(&subscription.id))
            .filter(captions::post_id.eq(posts::id)),
    );
    // The subscription's posts: those it has captions for, and those first seen after its
    // backfill (a post its keywords left out then has none).
    let recent: Vec<Post> = posts::table
        .filter(posts::feed_id.eq(&subscription.feed_id))
        .filter(posts::first_seen_at.ge(at - Duration::days(WINDOW_DAYS)))
        .filter(posts::first_seen_at.gt(backfilled_at).or(has_caption))
        .order((posts::first_seen_at.desc(), posts::id.asc()))
        .limit(POSTS_LIMIT)
        .select(Post::as_select())
        .load(conn)?;
    if recent.is_empty() {
        return Ok(Regenerated::default());
    }
    let post_ids: Vec<&str> = recent.iter().map(|p| p.id.as_str()).collect();
    let existing: Vec<Existing> = captions::table
        .filter(captions::subscription_id.eq(&subscription.id))
        .filter(captions::post_id.eq_any(&post_ids))
        .select(Existing::as_select())
        .load(conn)?;

    let wanted = requests(subscription, templates);
    let settings = subscription.caption_settings(feed);
    let filter = subscription.keyword_filter();
    let mut done = Regenerated::default();
    for post in &recent {
        let view = post_view(post, feed);
        let desired: Vec<Caption> = if filter.allows(&view) {
            generate_with(templates, &view, &wanted, &settings)
        } else {
            Vec::new()
        };
        let stored: Vec<&Existing> = existing.iter().filter(|e| e.post_id == post.id).collect();
        for caption in &stored {
            match desired.iter().find(|c| caption.is_for(c)) {
                Some(new) if caption.same_as(new) => {}
                Some(_) | None if !caption.unused() => done.kept += 1,
                Some(new) => done.rewritten += rewrite(conn, &caption.id, new)?,
                None => done.removed += remove(conn, &caption.id)?,
            }
        }
        for new in desired
            .iter()
            .filter(|c| !stored.iter().any(|e| e.is_for(c)))
        {
            done.added += add(conn, subscription, post, new, at)?;
        }
    }
    Ok(done)
}

/// The condition every write repeats, so a caption served or posted since it was read
/// (a webhook pass, a digest, the subscriber) is left alone.
macro_rules! still_unused {
    ($id:expr) => {
        captions::table
            .filter(captions::id.eq($id))
            .filter(captions::status.eq(CaptionStatus::New.as_str()))
            .filter(captions::original_body.is_null())
            .filter(captions::served_at.is_null())
    };
}

fn rewrite(conn: &mut AnyConnection, id: &CaptionId, caption: &Caption) -> QueryResult<usize> {
    diesel::update(still_unused!(id))
        .set((
            captions::body.eq(&caption.text),
            captions::length.eq(i32::try_from(caption.length).unwrap_or(i32::MAX)),
            captions::char_limit.eq(i32::try_from(caption.limit).unwrap_or(i32::MAX)),
            captions::error.eq(caption.error.as_deref()),
        ))
        .execute(conn)
}

fn remove(conn: &mut AnyConnection, id: &CaptionId) -> QueryResult<usize> {
    diesel::delete(still_unused!(id)).execute(conn)
}

fn add(
    conn: &mut AnyConnection,
    subscription: &Subscription,
    post: &Post,
    caption: &Caption,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    crate::insert_or_ignore!(
        conn,
        captions::table,
        (
            captions::id.eq(new_id()),
            captions::user_id.eq(&subscription.user_id),
            captions::subscription_id.eq(&subscription.id),
            captions::post_id.eq(&post.id),
            captions::platform.eq(caption.platform.id()),
            captions::variant.eq(&caption.variant),
            captions::body.eq(&caption.text),
            captions::length.eq(i32::try_from(caption.length).unwrap_or(i32::MAX)),
            captions::char_limit.eq(i32::try_from(caption.limit).unwrap_or(i32::MAX)),
            captions::created_at.eq(at),
            captions::error.eq(caption.error.as_deref()),
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_says_what_changed_and_what_was_kept() {
        let none = Regenerated::default();
        assert_eq!(none.summary(), None);
        let some = Regenerated {
            rewritten: 3,
            added: 1,
            removed: 0,
            kept: 2,
        };
        assert_eq!(
            some.summary().as_deref(),
            Some("Captions not used yet were brought up to date: 3 captions rewritten, 1 caption added. 2 captions already posted, edited or sent on were kept as they were.")
        );
        assert_eq!(Regenerated::from_param(&some.to_param()), Some(some));
        assert_eq!(Regenerated::from_param("1-2-3"), None);
        assert_eq!(Regenerated::from_param("1-2-3-4-5"), None);
        assert_eq!(Regenerated::from_param("1-x-3-4"), None);
        let only_kept = Regenerated {
            kept: 1,
            ..Regenerated::default()
        };
        assert_eq!(
            only_kept.summary().as_deref(),
            Some("1 caption already posted, edited or sent on was kept as it was.")
        );
    }
}
