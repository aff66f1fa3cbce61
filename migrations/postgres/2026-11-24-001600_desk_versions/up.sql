-- The copy desk's change version: one number per account, raised by the database itself
-- whenever anything the desk shows changes (a caption, its status or wording, a
-- subscription, the account's address, a post's title, link, date or image, a feed's
-- title or address). A server keeps rendered desk pages keyed by it, so every replica
-- sharing this database sees a change at once, whichever code path made it. Triggers rather than application code:
-- a write path added later cannot forget to raise it.
CREATE TABLE desk_versions (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    version BIGINT NOT NULL DEFAULT 1
);
INSERT INTO desk_versions (user_id) SELECT id FROM users;

CREATE FUNCTION desk_versions_new_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO desk_versions (user_id) VALUES (NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER desk_versions_new_user AFTER INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION desk_versions_new_user();

CREATE FUNCTION desk_versions_user_email() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE desk_versions SET version = version + 1 WHERE user_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER desk_versions_user_email AFTER UPDATE OF email ON users
    FOR EACH ROW WHEN (OLD.email IS DISTINCT FROM NEW.email)
    EXECUTE FUNCTION desk_versions_user_email();

-- For tables with a user_id column: the row's account (both, if it moved).
CREATE FUNCTION desk_versions_row_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        UPDATE desk_versions SET version = version + 1 WHERE user_id = NEW.user_id;
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.user_id IS DISTINCT FROM NEW.user_id) THEN
        UPDATE desk_versions SET version = version + 1 WHERE user_id = OLD.user_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER desk_versions_caption AFTER INSERT OR UPDATE OR DELETE ON captions
    FOR EACH ROW EXECUTE FUNCTION desk_versions_row_user();
CREATE TRIGGER desk_versions_subscription AFTER INSERT OR UPDATE OR DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION desk_versions_row_user();

-- Only the columns the desk shows: the poller rewrites the rest on every check.
CREATE FUNCTION desk_versions_post() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE desk_versions SET version = version + 1
    WHERE user_id IN (SELECT user_id FROM captions WHERE post_id = NEW.id);
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
    WHERE user_id IN (SELECT user_id FROM subscriptions WHERE feed_id = NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER desk_versions_feed AFTER UPDATE OF title, url ON feeds
FOR EACH ROW
WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.url IS DISTINCT FROM NEW.url)
EXECUTE FUNCTION desk_versions_feed();
