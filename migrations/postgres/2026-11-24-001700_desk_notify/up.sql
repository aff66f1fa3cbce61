-- Tells the servers listening on channel captionfeed_desk (LISTEN) what the copy desk
-- must read again: an account whose desk version rose ('u:' and its id) and a session
-- that was removed or changed ('s:' and its hash). They keep both in memory meanwhile,
-- instead of asking the database on every page. NOTIFY is delivered at commit and
-- deduplicated within a transaction, so a poller batch touching many subscriptions of one
-- account tells it once.
CREATE FUNCTION desk_notify_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('captionfeed_desk', 'u:' || OLD.user_id);
    ELSE
        PERFORM pg_notify('captionfeed_desk', 'u:' || NEW.user_id);
    END IF;
    RETURN NULL;
END $$;
-- Inserts too: a new subscription's counter adds to the account's sum.
CREATE TRIGGER desk_notify_version AFTER INSERT OR UPDATE OR DELETE ON desk_versions
    FOR EACH ROW EXECUTE FUNCTION desk_notify_version();

CREATE FUNCTION desk_notify_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('captionfeed_desk', 's:' || OLD.id);
    RETURN NULL;
END $$;
CREATE TRIGGER desk_notify_session AFTER UPDATE OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION desk_notify_session();
