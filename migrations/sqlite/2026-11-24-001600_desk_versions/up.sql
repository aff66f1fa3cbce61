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
-- such transactions in opposite orders (a deadlock on PostgreSQL). A feed's transaction
-- only touches its own subscriptions' counters. Counters only grow and rows are never
-- removed (an unfollowed feed's stays), so the sum never comes back to a value it had.
CREATE TABLE desk_versions (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (user_id, scope)
);
INSERT INTO desk_versions (user_id, scope) SELECT id, '' FROM users;
INSERT INTO desk_versions (user_id, scope) SELECT user_id, id FROM subscriptions;

CREATE TRIGGER desk_versions_new_user AFTER INSERT ON users BEGIN
    INSERT INTO desk_versions (user_id, scope) VALUES (NEW.id, '');
END;
CREATE TRIGGER desk_versions_user_email AFTER UPDATE OF email ON users
WHEN OLD.email IS NOT NEW.email
BEGIN
    UPDATE desk_versions SET version = version + 1 WHERE user_id = NEW.id AND scope = '';
END;

CREATE TRIGGER desk_versions_subscription_insert AFTER INSERT ON subscriptions BEGIN
    INSERT OR IGNORE INTO desk_versions (user_id, scope) VALUES (NEW.user_id, NEW.id);
END;
CREATE TRIGGER desk_versions_subscription_update AFTER UPDATE ON subscriptions BEGIN
    UPDATE desk_versions SET version = version + 1
    WHERE user_id IN (OLD.user_id, NEW.user_id) AND scope = NEW.id;
END;
CREATE TRIGGER desk_versions_subscription_delete AFTER DELETE ON subscriptions BEGIN
    UPDATE desk_versions SET version = version + 1 WHERE user_id = OLD.user_id AND scope = OLD.id;
END;

CREATE TRIGGER desk_versions_caption_insert AFTER INSERT ON captions BEGIN
    UPDATE desk_versions SET version = version + 1
    WHERE user_id = NEW.user_id AND scope = NEW.subscription_id;
END;
-- Updates only of what the desk shows: stamping a caption as served (an API read, a
-- webhook, a digest) changes nothing on the page.
CREATE TRIGGER desk_versions_caption_update
AFTER UPDATE OF body, length, char_limit, error, status, posted_at, original_body, edited_at,
    user_id, subscription_id, post_id, platform, variant ON captions
BEGIN
    UPDATE desk_versions SET version = version + 1
    WHERE (user_id = OLD.user_id AND scope = OLD.subscription_id)
       OR (user_id = NEW.user_id AND scope = NEW.subscription_id);
END;
CREATE TRIGGER desk_versions_caption_delete AFTER DELETE ON captions BEGIN
    UPDATE desk_versions SET version = version + 1
    WHERE user_id = OLD.user_id AND scope = OLD.subscription_id;
END;

-- Only the columns the desk shows: the poller rewrites the rest on every check.
CREATE TRIGGER desk_versions_post_update
AFTER UPDATE OF title, url, published_at, image_url, first_seen_at ON posts
WHEN OLD.title IS NOT NEW.title OR OLD.url IS NOT NEW.url
  OR OLD.published_at IS NOT NEW.published_at OR OLD.image_url IS NOT NEW.image_url
  OR OLD.first_seen_at IS NOT NEW.first_seen_at
BEGIN
    UPDATE desk_versions SET version = version + 1
    WHERE (user_id, scope) IN (SELECT user_id, subscription_id FROM captions WHERE post_id = NEW.id);
END;

CREATE TRIGGER desk_versions_feed_update AFTER UPDATE OF title, url ON feeds
WHEN OLD.title IS NOT NEW.title OR OLD.url IS NOT NEW.url
BEGIN
    UPDATE desk_versions SET version = version + 1
    WHERE (user_id, scope) IN (SELECT user_id, id FROM subscriptions WHERE feed_id = NEW.id);
END;
