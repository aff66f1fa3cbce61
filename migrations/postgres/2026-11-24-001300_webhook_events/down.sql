ALTER TABLE webhook_endpoints DROP COLUMN last_feed_error_id;
ALTER TABLE webhook_endpoints DROP COLUMN last_feed_error_at;
ALTER TABLE webhook_endpoints DROP COLUMN last_post_id;
ALTER TABLE webhook_endpoints DROP COLUMN last_post_seen_at;
