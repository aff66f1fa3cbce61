-- Each post's image, fetched in the background and served to the accounts that follow its
-- feed. Kept in the database rather than in files: replicas share the database, not a disk.
CREATE TABLE post_images (
    post_id TEXT PRIMARY KEY NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    -- The enclosure/media image, else the post page's og:image; none when neither exists.
    source_url TEXT,
    content_type TEXT,
    data BYTEA,
    -- Why there is no image (yet); attempts counts tries, next_attempt_at spaces them.
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    fetched_at TIMESTAMP
);

-- The image fetcher looks for posts that have captions; deleting a post cascades here too.
CREATE INDEX captions_post ON captions(post_id);

-- One feed's captions, newest first (the feed page, the API's ?feed=, CSV exports): without
-- it they are found by scanning all of the account's captions (2 ms at 5,000; 0.25 ms with).
CREATE INDEX captions_subscription_created ON captions(subscription_id, created_at);
