//! Subscriptions: an account's link to a shared feed, with its own settings.
//! Every function takes the account id first; another account's ids are not found.

pub mod check_now;
pub mod follow;
pub mod same_blog;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::accounts::UserId;
use crate::captions::{
    feed_slug, parse_hashtag_list, HashtagCaps, HashtagRules, Language, Platform, UtmTags,
};
use crate::db::schema::{feeds, subscriptions};
use crate::db::{new_id, now, AnyConnection, DbError};
use crate::feeds::store::{find_or_create_feed, make_feed_due_now, Feed, FeedId};
use crate::publish::connections;

crate::text_id! {
    /// The id of an account's subscription to a feed: what the pages and the API call the
    /// account's feed.
    pub struct SubscriptionId;
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subscriptions)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub user_id: String,
    pub feed_id: FeedId,
    pub platforms: String,
    pub paused: bool,
    pub backfill: i32,
    pub backfilled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub variants: String,
    pub mastodon_limit: Option<i32>,
    pub utm: bool,
    pub include_keywords: String,
    pub exclude_keywords: String,
    /// Paused because the account's plan allows fewer feeds (billing), not by the subscriber.
    pub paused_by_plan: bool,
    /// Hashtags: always added, never used, kept although cryptic (comma separated).
    pub hashtags_always: String,
    pub hashtags_blocked: String,
    pub hashtags_kept: String,
    /// Per-platform hashtag caps that differ from the defaults (`x=3, instagram=0`).
    pub hashtag_caps: String,
    /// UTM parameters with `{platform}` and `{feed}`; empty ones are the defaults.
    pub utm_source: String,
    pub utm_medium: String,
    pub utm_campaign: String,
    /// The language of the fixed words chosen for this feed (`de`); empty: the feed's own.
    pub language: String,
}

impl Subscription {
    /// The platforms this subscription wants captions for (unknown ids are skipped).
    pub fn platform_list(&self) -> Vec<Platform> {
        self.platforms
            .split(',')
            .filter_map(|p| p.trim().parse().ok())
            .collect()
    }

    /// The template variants this subscription wants; `default` when none.
    pub fn variant_list(&self) -> Vec<String> {
        let list = split_list(&self.variants);
        if list.is_empty() {
            vec![crate::captions::DEFAULT_VARIANT.to_owned()]
        } else {
            list
        }
    }

    /// How its captions are made, `feed` being the subscribed feed.
    pub fn caption_settings(&self, feed: &Feed) -> crate::captions::Settings {
        crate::captions::Settings {
            mastodon_limit: self.mastodon_limit.and_then(|n| usize::try_from(n).ok()),
            utm: self.utm,
            utm_tags: self.utm_tags(),
            feed: feed_slug(feed.title.as_deref().unwrap_or_default()),
            hashtags: self.hashtag_rules(),
            language: self.language(feed),
        }
    }

    /// Its UTM parameters. They were checked on save; one this version cannot use
    /// falls back to the default rather than sending a broken link.
    pub fn utm_tags(&self) -> UtmTags {
        UtmTags::parse(&self.utm_source, &self.utm_medium, &self.utm_campaign).unwrap_or_default()
    }

    /// The language chosen for this feed, if any.
    pub fn chosen_language(&self) -> Option<Language> {
        Language::from_tag(&self.language)
    }

    /// The language of its fixed words: the one chosen, else the feed's own, else English.
    pub fn language(&self, feed: &Feed) -> Language {
        self.chosen_language()
            .or_else(|| feed.language.as_deref().and_then(Language::from_tag))
            .unwrap_or_default()
    }

    /// Which hashtags its captions carry. Caps were checked on save; a stored value
    /// this version cannot read (an older or newer form) falls back to the defaults.
    pub fn hashtag_rules(&self) -> HashtagRules {
        HashtagRules {
            always: parse_hashtag_list(&self.hashtags_always),
            blocked: parse_hashtag_list(&self.hashtags_blocked),
            kept: parse_hashtag_list(&self.hashtags_kept),
            caps: HashtagCaps::parse(&self.hashtag_caps).unwrap_or_default(),
        }
    }

    /// Which posts get captions.
    pub fn keyword_filter(&self) -> crate::captions::KeywordFilter {
        crate::captions::KeywordFilter::new(
            &split_list(&self.include_keywords),
            &split_list(&self.exclude_keywords),
        )
    }
}

/// A comma-separated setting as trimmed, non-empty items.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Platforms as stored: their ids, comma-separated.
fn platform_ids(platforms: &[Platform]) -> String {
    platforms
        .iter()
        .map(|p| p.id())
        .collect::<Vec<_>>()
        .join(",")
}

/// A subscription with its feed, as the pages show it.
#[derive(Debug, Clone)]
pub struct SubscribedFeed {
    pub subscription: Subscription,
    pub feed: Feed,
}

#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    #[error("you already follow this feed")]
    AlreadySubscribed,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for SubscriptionError {
    fn from(e: diesel::result::Error) -> Self {
        SubscriptionError::Db(e.into())
    }
}

impl crate::db::IsBusy for SubscriptionError {
    fn is_busy(&self) -> bool {
        matches!(self, SubscriptionError::Db(e) if e.is_busy())
    }
}

/// Subscribes the account to the feed at `url` (already validated and normalized).
/// The feed is made due at once so that its first captions come within the minute.
pub fn subscribe(
    conn: &mut AnyConnection,
    user: &UserId,
    url: &str,
    platforms: &[Platform],
    backfill: u32,
) -> Result<Subscription, SubscriptionError> {
    let feed = find_or_create_feed(conn, url)?;
    // A connected Mastodon instance's limit applies to every feed, followed before
    // connecting or after.
    let mastodon_limit = connections::post_limit(conn, user, Platform::Mastodon)?;
    let id = SubscriptionId(new_id());
    let inserted = crate::insert_or_ignore!(
        conn,
        subscriptions::table,
        (
            subscriptions::id.eq(&id),
            subscriptions::user_id.eq(user.as_str()),
            subscriptions::feed_id.eq(&feed.id),
            subscriptions::platforms.eq(platform_ids(platforms)),
            subscriptions::paused.eq(false),
            subscriptions::backfill.eq(i32::try_from(backfill).unwrap_or(i32::MAX)),
            subscriptions::mastodon_limit.eq(mastodon_limit),
            subscriptions::created_at.eq(now()),
        )
    )?;
    if inserted == 0 {
        return Err(SubscriptionError::AlreadySubscribed);
    }
    make_feed_due_now(conn, &feed.id)?;
    Ok(subscriptions::table
        .find(&id)
        .select(Subscription::as_select())
        .first(conn)?)
}

/// The account's feeds, newest subscription first.
pub fn list(conn: &mut AnyConnection, user: &UserId) -> Result<Vec<SubscribedFeed>, DbError> {
    let rows: Vec<(Subscription, Feed)> = subscriptions::table
        .inner_join(feeds::table)
        .filter(subscriptions::user_id.eq(user.as_str()))
        .order(subscriptions::created_at.desc())
        .select((Subscription::as_select(), Feed::as_select()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(subscription, feed)| SubscribedFeed { subscription, feed })
        .collect())
}

/// One of the account's feeds by subscription id; `None` for anyone else's.
pub fn get(
    conn: &mut AnyConnection,
    user: &UserId,
    subscription_id: &SubscriptionId,
) -> Result<Option<SubscribedFeed>, DbError> {
    let row: Option<(Subscription, Feed)> = subscriptions::table
        .inner_join(feeds::table)
        .filter(subscriptions::user_id.eq(user.as_str()))
        .filter(subscriptions::id.eq(subscription_id))
        .select((Subscription::as_select(), Feed::as_select()))
        .first(conn)
        .optional()?;
    Ok(row.map(|(subscription, feed)| SubscribedFeed { subscription, feed }))
}

/// Removes one of the account's subscriptions and its captions; false if not found.
pub fn delete(
    conn: &mut AnyConnection,
    user: &UserId,
    subscription_id: &SubscriptionId,
) -> Result<bool, DbError> {
    let removed = diesel::delete(
        subscriptions::table
            .filter(subscriptions::user_id.eq(user.as_str()))
            .filter(subscriptions::id.eq(subscription_id)),
    )
    .execute(conn)?;
    Ok(removed == 1)
}

/// A subscription's caption settings as a form sends them (already validated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaptionSettings {
    /// `None` leaves the platforms as they are.
    pub platforms: Option<Vec<Platform>>,
    pub variants: Vec<String>,
    pub mastodon_limit: Option<i32>,
    pub utm: bool,
    pub include_keywords: Vec<String>,
    pub exclude_keywords: Vec<String>,
    pub hashtags: HashtagRules,
    pub utm_tags: UtmTags,
    /// `None`: the feed's own language.
    pub language: Option<Language>,
}

/// Saves one of the account's subscriptions' caption settings; false if not found.
/// They apply to captions made from now on; [`crate::desk::regenerate`] brings the
/// ones not used yet up to date.
pub fn update_settings(
    conn: &mut AnyConnection,
    user: &UserId,
    subscription_id: &SubscriptionId,
    settings: &CaptionSettings,
) -> Result<bool, DbError> {
    let target = || {
        subscriptions::table
            .filter(subscriptions::user_id.eq(user.as_str()))
            .filter(subscriptions::id.eq(subscription_id))
    };
    if let Some(platforms) = &settings.platforms {
        diesel::update(target())
            .set(subscriptions::platforms.eq(platform_ids(platforms)))
            .execute(conn)?;
    }
    let updated = diesel::update(target())
        .set((
            subscriptions::variants.eq(settings.variants.join(",")),
            subscriptions::mastodon_limit.eq(settings.mastodon_limit),
            subscriptions::utm.eq(settings.utm),
            subscriptions::include_keywords.eq(settings.include_keywords.join(",")),
            subscriptions::exclude_keywords.eq(settings.exclude_keywords.join(",")),
            subscriptions::hashtags_always.eq(settings.hashtags.always.join(", ")),
            subscriptions::hashtags_blocked.eq(settings.hashtags.blocked.join(", ")),
            subscriptions::hashtags_kept.eq(settings.hashtags.kept.join(", ")),
            subscriptions::hashtag_caps.eq(settings.hashtags.caps.to_setting()),
            subscriptions::utm_source.eq(&settings.utm_tags.source),
            subscriptions::utm_medium.eq(&settings.utm_tags.medium),
            subscriptions::utm_campaign.eq(&settings.utm_tags.campaign),
            subscriptions::language.eq(settings.language.map(Language::code).unwrap_or_default()),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Gives every subscription of the account the same Mastodon limit (its instance's, read
/// when it connects): captions for Mastodon are then fitted to what the instance takes.
/// Returns how many subscriptions it set.
pub fn set_mastodon_limit(
    conn: &mut AnyConnection,
    user: &UserId,
    limit: i32,
) -> QueryResult<usize> {
    diesel::update(subscriptions::table.filter(subscriptions::user_id.eq(user.as_str())))
        .set(subscriptions::mastodon_limit.eq(Some(limit)))
        .execute(conn)
}

/// The active subscriptions of a feed (feed-level: for the poller).
pub fn active_for_feed(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
) -> QueryResult<Vec<Subscription>> {
    subscriptions::table
        .filter(subscriptions::feed_id.eq(feed_id))
        .filter(subscriptions::paused.eq(false))
        .filter(subscriptions::paused_by_plan.eq(false))
        .select(Subscription::as_select())
        .load(conn)
}

/// Records that these subscriptions' backfills are done (feed-level: for the poller), with
/// one statement for a whole batch.
pub fn mark_backfilled(
    conn: &mut AnyConnection,
    subscription_ids: &[&SubscriptionId],
    at: NaiveDateTime,
) -> QueryResult<()> {
    if subscription_ids.is_empty() {
        return Ok(());
    }
    diesel::update(subscriptions::table.filter(subscriptions::id.eq_any(subscription_ids)))
        .set(subscriptions::backfilled_at.eq(at))
        .execute(conn)?;
    Ok(())
}
