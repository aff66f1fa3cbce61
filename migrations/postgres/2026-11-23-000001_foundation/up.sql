CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- The id is the SHA-256 of the cookie's token, so a leaked table opens no session.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- One row per feed URL, shared by every account that subscribes to it.
CREATE TABLE feeds (
    id TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL UNIQUE,
    title TEXT,
    site_url TEXT,
    etag TEXT,
    last_modified TEXT,
    last_checked_at TIMESTAMP,
    last_success_at TIMESTAMP,
    next_check_at TIMESTAMP NOT NULL,
    error_count INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    lease_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX feeds_due ON feeds(next_check_at);

CREATE TABLE posts (
    id TEXT PRIMARY KEY NOT NULL,
    feed_id TEXT NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    entry_key TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT,
    summary TEXT NOT NULL,
    content_text TEXT NOT NULL,
    author TEXT,
    published_at TIMESTAMP,
    categories TEXT NOT NULL,
    image_url TEXT,
    first_seen_at TIMESTAMP NOT NULL,
    UNIQUE (feed_id, entry_key)
);
CREATE INDEX posts_feed_seen ON posts(feed_id, first_seen_at);

CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    feed_id TEXT NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    platforms TEXT NOT NULL,
    paused BOOLEAN NOT NULL DEFAULT FALSE,
    backfill INTEGER NOT NULL,
    backfilled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (user_id, feed_id)
);
CREATE INDEX subscriptions_feed ON subscriptions(feed_id);

CREATE TABLE captions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    subscription_id TEXT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    post_id TEXT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    variant TEXT NOT NULL,
    body TEXT NOT NULL,
    length INTEGER NOT NULL,
    char_limit INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (subscription_id, post_id, platform, variant)
);
CREATE INDEX captions_user_created ON captions(user_id, created_at);

-- Process-wide secrets generated on first start, shared by every replica.
CREATE TABLE app_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
