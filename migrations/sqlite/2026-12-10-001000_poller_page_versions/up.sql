-- The pages version of a feed's subscribers (2026-12-09-002000_account_page_versions) is
-- raised by the poller's own statements from now on, once per written batch
-- (`feeds::store`: every write of a check's result and every post insert go through it),
-- rather than by row triggers that fired on every feed a check recorded (each check moves
-- `next_check_at`) and on every post inserted: on the poller's single SQLite writer they
-- cost about as much as the rows' own writes (issue 21).
--
-- What only other writers change (the address, a stop, 410 Gone, WebSub) keeps its
-- trigger: those writes are rare and come from many places.
DROP TRIGGER page_versions_feed;
CREATE TRIGGER page_versions_feed
AFTER UPDATE OF url, gone_at, websub_hub, websub_state, websub_lease_until, websub_error,
    stopped_at, stop_note ON feeds
WHEN OLD.url IS NOT NEW.url
   OR OLD.gone_at IS NOT NEW.gone_at
   OR OLD.websub_hub IS NOT NEW.websub_hub
   OR OLD.websub_state IS NOT NEW.websub_state
   OR OLD.websub_lease_until IS NOT NEW.websub_lease_until
   OR OLD.websub_error IS NOT NEW.websub_error
   OR OLD.stopped_at IS NOT NEW.stopped_at
   OR OLD.stop_note IS NOT NEW.stop_note
BEGIN
    UPDATE page_versions SET version = version + 1
    WHERE (user_id, scope) IN (SELECT user_id, id FROM subscriptions WHERE feed_id = NEW.id);
END;

DROP TRIGGER page_versions_post_insert;
