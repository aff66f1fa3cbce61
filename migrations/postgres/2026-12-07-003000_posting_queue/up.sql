-- The posting queue. An account's posting plan per platform: local times per weekday
-- ("mon=09:30,17:30;tue=..."), at most N a day, a minimum spacing, quiet dates
-- ("2026-12-24,2026-12-25").
CREATE TABLE posting_plans (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    times TEXT NOT NULL,
    max_per_day INTEGER NOT NULL,
    min_spacing_minutes INTEGER NOT NULL,
    quiet_dates TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, platform)
);

-- A caption in the queue: 'queued' (in `rank` order; `due_at` set when "post now" pinned
-- it) or 'skipped'. Its time is worked out from the plan when asked, never stored, so a
-- changed plan moves every caption at once and nothing is lost when a day is full.
CREATE TABLE queue_entries (
    caption_id TEXT PRIMARY KEY NOT NULL REFERENCES captions(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    state TEXT NOT NULL,
    rank BIGINT NOT NULL,
    due_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX queue_entries_by_account ON queue_entries (user_id, platform, state, rank);

-- Per feed: 'off' (the desk only), 'review' (new captions wait for approval) or 'auto'
-- (new captions join the queue at once); only captions made from `queue_since` on.
ALTER TABLE subscriptions ADD COLUMN queue_mode TEXT NOT NULL DEFAULT 'off';
ALTER TABLE subscriptions ADD COLUMN queue_since TIMESTAMP;
