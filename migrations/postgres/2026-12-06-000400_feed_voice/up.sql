-- Per-feed caption settings (issue 15). Hashtags: tags always added, tags never used,
-- short upper-case tags kept although cryptic (comma separated, as typed) and the
-- per-platform caps that differ from the defaults ("x=3, instagram=0"). UTM source,
-- medium and campaign ({platform} and {feed} filled in; empty: the defaults). The
-- language of the fixed words ("Read more"); empty: the feed's own.
ALTER TABLE subscriptions ADD COLUMN hashtags_always TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN hashtags_blocked TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN hashtags_kept TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN hashtag_caps TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN utm_source TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN utm_medium TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN utm_campaign TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN language TEXT NOT NULL DEFAULT '';

-- The language the feed declares (RSS <language>, Atom xml:lang), in lowercase.
ALTER TABLE feeds ADD COLUMN language TEXT;

-- Templates of one feed, overriding the account's for the same (platform, variant).
CREATE TABLE feed_templates (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    subscription_id TEXT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    variant TEXT NOT NULL,
    source TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (subscription_id, platform, variant)
);
