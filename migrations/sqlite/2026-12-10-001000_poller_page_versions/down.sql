CREATE TRIGGER page_versions_post_insert AFTER INSERT ON posts BEGIN
    UPDATE page_versions SET version = version + 1
    WHERE (user_id, scope) IN (SELECT user_id, id FROM subscriptions WHERE feed_id = NEW.feed_id);
END;

DROP TRIGGER page_versions_feed;
CREATE TRIGGER page_versions_feed
AFTER UPDATE OF url, title, site_url, last_checked_at, last_success_at, next_check_at,
    error_count, last_error, erroring_since, last_status, gone_at, websub_hub, websub_state,
    websub_lease_until, websub_error, language, stopped_at, stop_note ON feeds
WHEN OLD.url IS NOT NEW.url OR OLD.title IS NOT NEW.title
   OR OLD.site_url IS NOT NEW.site_url
   OR OLD.last_checked_at IS NOT NEW.last_checked_at
   OR OLD.last_success_at IS NOT NEW.last_success_at
   OR OLD.next_check_at IS NOT NEW.next_check_at
   OR OLD.error_count IS NOT NEW.error_count
   OR OLD.last_error IS NOT NEW.last_error
   OR OLD.erroring_since IS NOT NEW.erroring_since
   OR OLD.last_status IS NOT NEW.last_status
   OR OLD.gone_at IS NOT NEW.gone_at
   OR OLD.websub_hub IS NOT NEW.websub_hub
   OR OLD.websub_state IS NOT NEW.websub_state
   OR OLD.websub_lease_until IS NOT NEW.websub_lease_until
   OR OLD.websub_error IS NOT NEW.websub_error
   OR OLD.language IS NOT NEW.language
   OR OLD.stopped_at IS NOT NEW.stopped_at
   OR OLD.stop_note IS NOT NEW.stop_note
BEGIN
    UPDATE page_versions SET version = version + 1
    WHERE (user_id, scope) IN (SELECT user_id, id FROM subscriptions WHERE feed_id = NEW.id);
END;
