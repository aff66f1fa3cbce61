-- What an account's digest holds: 'new' (the captions made since the last digest, as
-- before) or 'queue' (today's queue: what goes out today, per platform, at its time).
ALTER TABLE digest_settings ADD COLUMN contents TEXT NOT NULL DEFAULT 'new';
-- The captions a "today's queue" digest carries, with the time the queue gave each when
-- the digest was made. Unlike digest_captions a caption may be in several of these (it
-- is in today's queue until it goes out), once per digest.
CREATE TABLE digest_queue_captions (
    digest_id TEXT NOT NULL REFERENCES digests(id) ON DELETE CASCADE,
    caption_id TEXT NOT NULL REFERENCES captions(id) ON DELETE CASCADE,
    scheduled_at TIMESTAMP NOT NULL,
    PRIMARY KEY (digest_id, caption_id)
);
CREATE INDEX digest_queue_captions_caption ON digest_queue_captions(caption_id);
-- When the subscriber last decided on a queued caption (queued, skipped, snoozed): a
-- digest's one-click link is used once, so a decision made after the link was issued
-- refuses it, while a caption already in the queue when the digest went out can still be
-- skipped or snoozed from it. NULL: decided before this column existed.
ALTER TABLE queue_entries ADD COLUMN decided_at TIMESTAMP;
