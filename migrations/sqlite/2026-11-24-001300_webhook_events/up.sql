-- Cursors for the post.created and feed.error events, like the captions' cursor: an
-- endpoint is sent what happens after it was added (existing endpoints: after now).
ALTER TABLE webhook_endpoints ADD COLUMN last_post_seen_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
ALTER TABLE webhook_endpoints ADD COLUMN last_post_id TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_endpoints ADD COLUMN last_feed_error_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
ALTER TABLE webhook_endpoints ADD COLUMN last_feed_error_id TEXT NOT NULL DEFAULT '';
UPDATE webhook_endpoints SET last_post_seen_at = CURRENT_TIMESTAMP, last_feed_error_at = CURRENT_TIMESTAMP;
