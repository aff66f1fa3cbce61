-- An account's own caption templates: one per (platform, variant); the
-- built-in template is used for any (platform, "default") without a row.
CREATE TABLE templates (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    variant TEXT NOT NULL,
    source TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (user_id, platform, variant)
);

-- Per-subscription caption settings: which variants are generated (comma
-- separated), the subscriber's Mastodon instance limit (NULL: 500), UTM
-- parameters on links, and keyword filters (comma separated, case-insensitive).
ALTER TABLE subscriptions ADD COLUMN variants TEXT NOT NULL DEFAULT 'default';
ALTER TABLE subscriptions ADD COLUMN mastodon_limit INTEGER;
ALTER TABLE subscriptions ADD COLUMN utm BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE subscriptions ADD COLUMN include_keywords TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN exclude_keywords TEXT NOT NULL DEFAULT '';

-- Why a caption could not be made for a post (its text is then empty).
ALTER TABLE captions ADD COLUMN error TEXT;
