-- The publishing worker. A queue entry is claimed with the shared lease (jobs::lease):
-- `next_attempt_at` is when it may be tried (moved on by the backoff or a Retry-After),
-- `lease_until`/`lease_token` the claim. `last_error` says why the last try failed; a
-- caption the network refused gets state 'failed' and keeps the reason there.
ALTER TABLE queue_entries ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queue_entries ADD COLUMN next_attempt_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
ALTER TABLE queue_entries ADD COLUMN lease_until TIMESTAMP;
ALTER TABLE queue_entries ADD COLUMN lease_token TEXT;
ALTER TABLE queue_entries ADD COLUMN last_error TEXT;

-- Where a caption was posted: the network's own address (at://…) and the one a person opens.
ALTER TABLE captions ADD COLUMN post_uri TEXT;
ALTER TABLE captions ADD COLUMN post_url TEXT;
