-- Per-account digest settings; no row means digests are off.
CREATE TABLE digest_settings (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- off | batched | daily | weekly
    frequency TEXT NOT NULL,
    batch_minutes INTEGER NOT NULL,
    -- 0 = Monday ... 6 = Sunday
    weekday INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    time_zone TEXT NOT NULL,
    -- Captions made before digests were turned on are not mailed.
    enabled_at TIMESTAMP NOT NULL,
    -- The start of the last period handled; claiming a period is a conditional UPDATE here.
    last_period_at TIMESTAMP NOT NULL,
    -- The last failed delivery, shown on the settings page until one succeeds.
    last_error TEXT,
    last_error_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX digest_settings_frequency ON digest_settings(frequency);

-- The outbox: one row per digest, unique per account and period.
CREATE TABLE digests (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    period_key TEXT NOT NULL,
    recipient TEXT NOT NULL,
    message_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    last_error TEXT,
    sent_at TIMESTAMP,
    UNIQUE (user_id, period_key)
);
CREATE INDEX digests_due ON digests(sent_at, next_attempt_at);

-- Which digest carries a caption; the caption is the key, so it is carried once.
CREATE TABLE digest_captions (
    caption_id TEXT PRIMARY KEY NOT NULL REFERENCES captions(id) ON DELETE CASCADE,
    digest_id TEXT NOT NULL REFERENCES digests(id) ON DELETE CASCADE
);
CREATE INDEX digest_captions_digest ON digest_captions(digest_id);
