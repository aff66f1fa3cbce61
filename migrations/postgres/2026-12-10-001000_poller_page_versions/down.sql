DROP TRIGGER page_versions_feed ON feeds;
DROP FUNCTION page_versions_feed();

CREATE FUNCTION page_versions_feeds() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE page_versions SET version = version + 1
    WHERE (user_id, scope) IN (
        SELECT s.user_id, s.id FROM subscriptions s
        WHERE s.feed_id IN (
            SELECT n.id FROM changed_new n JOIN changed_old o ON o.id = n.id
            WHERE (o.url, o.title, o.site_url, o.last_checked_at, o.last_success_at,
            o.next_check_at, o.error_count, o.last_error, o.erroring_since, o.last_status,
            o.gone_at, o.websub_hub, o.websub_state, o.websub_lease_until, o.websub_error,
            o.language, o.stopped_at, o.stop_note)
            IS DISTINCT FROM
            (n.url, n.title, n.site_url, n.last_checked_at, n.last_success_at,
            n.next_check_at, n.error_count, n.last_error, n.erroring_since, n.last_status,
            n.gone_at, n.websub_hub, n.websub_state, n.websub_lease_until, n.websub_error,
            n.language, n.stopped_at, n.stop_note)));
    RETURN NULL;
END $$;
CREATE TRIGGER page_versions_feeds AFTER UPDATE ON feeds
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION page_versions_feeds();

-- The templates' previews are the account's newest posts, of every feed it follows
-- (a feed paused by the plan makes no captions, so the desk's version does not move).
-- Once per statement: the poller inserts a batch's posts in one.
CREATE FUNCTION page_versions_posts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE page_versions SET version = version + 1
    WHERE (user_id, scope) IN (SELECT user_id, id FROM subscriptions
                               WHERE feed_id IN (SELECT feed_id FROM inserted));
    RETURN NULL;
END $$;
CREATE TRIGGER page_versions_posts_inserted AFTER INSERT ON posts
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION page_versions_posts_inserted();

