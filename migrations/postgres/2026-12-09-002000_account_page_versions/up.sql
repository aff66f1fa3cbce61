-- The account pages' change version: like the desk's (2026-11-24-001600_desk_versions),
-- counters the database raises in triggers, read with the session on each request, so a
-- stored page is served only while nothing on it changed. The feeds list, a feed's page,
-- the templates and the settings show everything the desk does (their version is the
-- desk's sum plus this table's) and more, which is counted here rather than in
-- desk_versions: a feed's health moves with every check, and must not make the desk
-- render again.
--
-- Scopes as in desk_versions: a subscription's id for what belongs to one feed (its
-- health, its posts), so the poller's transactions, one feed each, never share a counter;
-- '' for the account's own rows (templates, digest settings, billing, account mail).
-- Rows are made with the account and the subscription, and only raised after (an insert
-- from a trigger would fail while the account is being deleted); never removed while
-- the account lives, so the sum only grows.
CREATE TABLE page_versions (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (user_id, scope)
);

INSERT INTO page_versions (user_id, scope) SELECT id, '' FROM users;
INSERT INTO page_versions (user_id, scope) SELECT user_id, id FROM subscriptions;

CREATE FUNCTION page_versions_new_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO page_versions (user_id, scope) VALUES (NEW.id, '');
    RETURN NULL;
END $$;
CREATE TRIGGER page_versions_new_user AFTER INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION page_versions_new_user();

CREATE FUNCTION page_versions_new_subscription() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO page_versions (user_id, scope) VALUES (NEW.user_id, NEW.id)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER page_versions_new_subscription AFTER INSERT ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION page_versions_new_subscription();

CREATE FUNCTION page_versions_raise(account TEXT, what TEXT) RETURNS void LANGUAGE sql AS $$
    UPDATE page_versions SET version = version + 1 WHERE user_id = account AND scope = what;
$$;

-- What the feeds list and a feed's page show of the feed's row: every check changes some
-- of it (the last check, the next, errors, push state); the lease and validators do not
-- show. Once per statement: the poller writes a whole batch of unchanged feeds in one
-- statement, and a row trigger would add a statement per feed to the poller's hottest
-- path. (A statement trigger with transition tables cannot name columns, so it runs on
-- every update of feeds, lease claims included, and compares the rows itself.)
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

-- The poller writes a post's row again on every check: only a real change counts.
CREATE FUNCTION page_versions_post() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE page_versions SET version = version + 1
    WHERE (user_id, scope) IN (SELECT user_id, id FROM subscriptions
                               WHERE feed_id IN (OLD.feed_id, NEW.feed_id));
    RETURN NULL;
END $$;
CREATE TRIGGER page_versions_post AFTER UPDATE ON posts
FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
EXECUTE FUNCTION page_versions_post();

-- The account's own rows, for the '' counter.
CREATE FUNCTION page_versions_account_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM page_versions_raise(OLD.user_id, '');
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM page_versions_raise(NEW.user_id, '');
    ELSE
        PERFORM page_versions_raise(NEW.user_id, '');
        IF OLD.user_id IS DISTINCT FROM NEW.user_id THEN
            PERFORM page_versions_raise(OLD.user_id, '');
        END IF;
    END IF;
    RETURN NULL;
END $$;
-- The templates page.
CREATE TRIGGER page_versions_templates AFTER INSERT OR UPDATE OR DELETE ON templates
    FOR EACH ROW EXECUTE FUNCTION page_versions_account_row();
-- The settings page; the digest worker's own bookkeeping (its last period) does not show.
CREATE TRIGGER page_versions_digest_settings AFTER INSERT OR DELETE ON digest_settings
    FOR EACH ROW EXECUTE FUNCTION page_versions_account_row();
CREATE TRIGGER page_versions_digest_settings_update AFTER UPDATE ON digest_settings
FOR EACH ROW
WHEN ((OLD.frequency, OLD.batch_minutes, OLD.weekday, OLD.hour, OLD.time_zone, OLD.platforms,
       OLD.last_error, OLD.last_error_at) IS DISTINCT FROM
      (NEW.frequency, NEW.batch_minutes, NEW.weekday, NEW.hour, NEW.time_zone, NEW.platforms,
       NEW.last_error, NEW.last_error_at))
EXECUTE FUNCTION page_versions_account_row();
-- The feeds list's payment warning.
CREATE TRIGGER page_versions_billing AFTER INSERT OR UPDATE OR DELETE ON billing_accounts
    FOR EACH ROW EXECUTE FUNCTION page_versions_account_row();
-- The settings page's "account mail" problem (a mail not sent yet, its attempts). Not the
-- mail worker's claims (its lease), which take many accounts' rows in one statement.
CREATE TRIGGER page_versions_mail AFTER INSERT OR DELETE ON outgoing_mail
    FOR EACH ROW EXECUTE FUNCTION page_versions_account_row();
CREATE TRIGGER page_versions_mail_update AFTER UPDATE ON outgoing_mail
FOR EACH ROW
WHEN ((OLD.user_id, OLD.to_address, OLD.subject, OLD.attempts, OLD.next_attempt_at,
       OLD.last_error, OLD.sent_at) IS DISTINCT FROM
      (NEW.user_id, NEW.to_address, NEW.subject, NEW.attempts, NEW.next_attempt_at,
       NEW.last_error, NEW.sent_at))
EXECUTE FUNCTION page_versions_account_row();

-- Told to the servers like the desk's counters (see 2026-11-24-001700_desk_notify).
CREATE TRIGGER page_versions_notify AFTER INSERT OR UPDATE ON page_versions
    FOR EACH ROW EXECUTE FUNCTION desk_notify_version();
