-- The pages version of a feed's subscribers (2026-12-09-002000_account_page_versions) is
-- raised by the poller's own statements from now on, once per written batch
-- (`feeds::store`: every write of a check's result and every post insert go through it).
-- The statement trigger on feeds ran on every update of the table, the poller's claims
-- and releases included, and compared the old and new rows of the whole statement; the
-- one on posts read back every inserted row (issue 21).
--
-- What only other writers change (the address, a stop, 410 Gone, WebSub) keeps a trigger,
-- now a row trigger that fires only on updates naming those columns: those writes are
-- rare and come from many places.
DROP TRIGGER page_versions_feeds ON feeds;
DROP FUNCTION page_versions_feeds();

CREATE FUNCTION page_versions_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE page_versions SET version = version + 1
    WHERE (user_id, scope) IN (SELECT user_id, id FROM subscriptions WHERE feed_id = NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER page_versions_feed
AFTER UPDATE OF url, gone_at, websub_hub, websub_state, websub_lease_until, websub_error,
    stopped_at, stop_note ON feeds
FOR EACH ROW
WHEN ((OLD.url, OLD.gone_at, OLD.websub_hub, OLD.websub_state, OLD.websub_lease_until,
       OLD.websub_error, OLD.stopped_at, OLD.stop_note) IS DISTINCT FROM
      (NEW.url, NEW.gone_at, NEW.websub_hub, NEW.websub_state, NEW.websub_lease_until,
       NEW.websub_error, NEW.stopped_at, NEW.stop_note))
EXECUTE FUNCTION page_versions_feed();

DROP TRIGGER page_versions_posts_inserted ON posts;
DROP FUNCTION page_versions_posts_inserted();
