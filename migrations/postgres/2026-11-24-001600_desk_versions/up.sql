-- The copy desk's change version: the sum of counters that the database itself raises
-- whenever anything the desk shows changes (a caption, its status or wording, a
-- subscription, the account's address, a post's title, link, date or image, a feed's
-- title or address). A server keeps rendered desk pages keyed by it, so every replica
-- sharing this database sees a change at once, whichever code path made it. Triggers
-- rather than application code: a write path added later cannot forget to raise it.
--
-- One counter per account and subscription (scope = the subscription's id; '' for the
-- account itself), not one per account: the poller writes one feed's captions for all its
-- subscribers in one transaction, and one counter per account would be locked by two
-- such transactions in opposite orders (a deadlock). A feed's transaction only touches
-- its own subscriptions' counters. Counters only grow (under the row lock, so in commit
-- order) and rows are never removed (an unfollowed feed's stays), so the sum never comes
-- back to a value it had.
CREATE TABLE desk_versions (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (user_id, scope)
);
INSERT INTO desk_versions (user_id, scope) SELECT id, '' FROM users;
INSERT INTO desk_versions (user_id, scope) SELECT user_id, id FROM subscriptions;

CREATE FUNCTION desk_versions_new_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO desk_versions (user_id, scope) VALUES (NEW.id, '');
    RETURN NULL;
END $$;
CREATE TRIGGER desk_versions_new_user AFTER INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION desk_versions_new_user();

CREATE FUNCTION desk_versions_user_email() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE desk_versions SET version = version + 1 WHERE user_id = NEW.id AND scope = '';
    RETURN NULL;
END $$;
CREATE TRIGGER desk_versions_user_email AFTER UPDATE OF email ON users
    FOR EACH ROW WHEN (OLD.email IS DISTINCT FROM NEW.email)
    EXECUTE FUNCTION desk_versions_user_email();

CREATE FUNCTION desk_versions_subscription() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO desk_versions (user_id, scope) VALUES (NEW.user_id, NEW.id)
        ON CONFLICT DO NOTHING;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE desk_versions SET version = version + 1
        WHERE user_id IN (OLD.user_id, NEW.user_id) AND scope = NEW.id;
    ELSE
        UPDATE desk_versions SET version = version + 1
        WHERE user_id = OLD.user_id AND scope = OLD.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER desk_versions_subscription AFTER INSERT OR UPDATE OR DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION desk_versions_subscription();

CREATE FUNCTION desk_versions_caption() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        UPDATE desk_versions SET version = version + 1
        WHERE user_id = NEW.user_id AND scope = NEW.subscription_id;
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (OLD.user_id, OLD.subscription_id)
            IS DISTINCT FROM (NEW.user_id, NEW.subscription_id)) THEN
        UPDATE desk_versions SET version = version + 1
        WHERE user_id = OLD.user_id AND scope = OLD.subscription_id;
    END IF;
    RETURN NULL;
END $$;
-- Updates only of what the desk shows: stamping a caption as served (an API read, a
-- webhook, a digest) changes nothing on the page, and must not take the counters' locks.
CREATE TRIGGER desk_versions_caption
AFTER DELETE OR UPDATE OF body, length, char_limit, error, status, posted_at,
    original_body, edited_at, user_id, subscription_id, post_id, platform, variant ON captions
    FOR EACH ROW EXECUTE FUNCTION desk_versions_caption();

-- Inserts once per statement: the poller writes a whole batch's captions (hundreds of
-- rows) in one insert, and one counter update per row cost it about a fifth of its
-- throughput in poll_many (b). Each subscription's counter is raised once.
CREATE FUNCTION desk_versions_captions_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE desk_versions d SET version = d.version + 1
    FROM (SELECT DISTINCT user_id, subscription_id FROM inserted) n
    WHERE d.user_id = n.user_id AND d.scope = n.subscription_id;
    RETURN NULL;
END $$;
CREATE TRIGGER desk_versions_captions_inserted AFTER INSERT ON captions
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION desk_versions_captions_inserted();

-- Only the columns the desk shows: the poller rewrites the rest on every check.
CREATE FUNCTION desk_versions_post() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE desk_versions SET version = version + 1
    WHERE (user_id, scope) IN (SELECT user_id, subscription_id FROM captions WHERE post_id = NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER desk_versions_post
AFTER UPDATE OF title, url, published_at, image_url, first_seen_at ON posts
FOR EACH ROW
WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.url IS DISTINCT FROM NEW.url
   OR OLD.published_at IS DISTINCT FROM NEW.published_at
   OR OLD.image_url IS DISTINCT FROM NEW.image_url
   OR OLD.first_seen_at IS DISTINCT FROM NEW.first_seen_at)
EXECUTE FUNCTION desk_versions_post();

CREATE FUNCTION desk_versions_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE desk_versions SET version = version + 1
    WHERE (user_id, scope) IN (SELECT user_id, id FROM subscriptions WHERE feed_id = NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER desk_versions_feed AFTER UPDATE OF title, url ON feeds
FOR EACH ROW
WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.url IS DISTINCT FROM NEW.url)
EXECUTE FUNCTION desk_versions_feed();
