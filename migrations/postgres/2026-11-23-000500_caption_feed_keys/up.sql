-- The unguessable part of an account's private caption feed URLs; rotating replaces it.
CREATE TABLE caption_feed_keys (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    feed_key TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
