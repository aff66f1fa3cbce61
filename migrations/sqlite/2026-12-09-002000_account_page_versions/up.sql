-- The account pages' change version: see the PostgreSQL migration of the same name. Row
-- triggers here (SQLite has no statement triggers).
CREATE TABLE page_versions (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (user_id, scope)
);
INSERT INTO page_versions (user_id, scope) SELECT id, '' FROM users;
INSERT INTO page_versions (user_id, scope) SELECT user_id, id FROM subscriptions;

CREATE TRIGGER page_versions_new_user AFTER INSERT ON users BEGIN
    INSERT INTO page_versions (user_id, scope) VALUES (NEW.id, '');
END;
CREATE TRIGGER page_versions_new_subscription AFTER INSERT ON subscriptions BEGIN
    INSERT OR IGNORE INTO page_versions (user_id, scope) VALUES (NEW.user_id, NEW.id);
END;

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

CREATE TRIGGER page_versions_post_insert AFTER INSERT ON posts BEGIN
    UPDATE page_versions SET version = version + 1
    WHERE (user_id, scope) IN (SELECT user_id, id FROM subscriptions WHERE feed_id = NEW.feed_id);
END;
CREATE TRIGGER page_versions_post_update AFTER UPDATE ON posts
WHEN OLD.id IS NOT NEW.id OR OLD.feed_id IS NOT NEW.feed_id
   OR OLD.entry_key IS NOT NEW.entry_key OR OLD.title IS NOT NEW.title
   OR OLD.url IS NOT NEW.url OR OLD.summary IS NOT NEW.summary
   OR OLD.content_text IS NOT NEW.content_text OR OLD.author IS NOT NEW.author
   OR OLD.published_at IS NOT NEW.published_at OR OLD.categories IS NOT NEW.categories
   OR OLD.image_url IS NOT NEW.image_url OR OLD.first_seen_at IS NOT NEW.first_seen_at
   OR OLD.lead IS NOT NEW.lead OR OLD.headings IS NOT NEW.headings
   OR OLD.title_from_text IS NOT NEW.title_from_text
   OR OLD.summary_source IS NOT NEW.summary_source OR OLD.angles IS NOT NEW.angles
BEGIN
    UPDATE page_versions SET version = version + 1
    WHERE (user_id, scope) IN (SELECT user_id, id FROM subscriptions WHERE feed_id IN (OLD.feed_id, NEW.feed_id));
END;

-- The account's own rows, for the '' counter.
CREATE TRIGGER page_versions_templates_insert AFTER INSERT ON templates BEGIN
    UPDATE page_versions SET version = version + 1 WHERE user_id = NEW.user_id AND scope = '';
END;
CREATE TRIGGER page_versions_templates_update AFTER UPDATE ON templates BEGIN
    UPDATE page_versions SET version = version + 1 WHERE user_id = NEW.user_id AND scope = '';
END;
CREATE TRIGGER page_versions_templates_delete AFTER DELETE ON templates BEGIN
    UPDATE page_versions SET version = version + 1 WHERE user_id = OLD.user_id AND scope = '';
END;

CREATE TRIGGER page_versions_digest_settings_insert AFTER INSERT ON digest_settings BEGIN
    UPDATE page_versions SET version = version + 1 WHERE user_id = NEW.user_id AND scope = '';
END;
CREATE TRIGGER page_versions_digest_settings_update AFTER UPDATE ON digest_settings
WHEN OLD.frequency IS NOT NEW.frequency OR OLD.batch_minutes IS NOT NEW.batch_minutes
   OR OLD.weekday IS NOT NEW.weekday OR OLD.hour IS NOT NEW.hour
   OR OLD.time_zone IS NOT NEW.time_zone OR OLD.platforms IS NOT NEW.platforms
   OR OLD.last_error IS NOT NEW.last_error OR OLD.last_error_at IS NOT NEW.last_error_at
BEGIN
    UPDATE page_versions SET version = version + 1 WHERE user_id = NEW.user_id AND scope = '';
END;
CREATE TRIGGER page_versions_digest_settings_delete AFTER DELETE ON digest_settings BEGIN
    UPDATE page_versions SET version = version + 1 WHERE user_id = OLD.user_id AND scope = '';
END;

CREATE TRIGGER page_versions_billing_insert AFTER INSERT ON billing_accounts BEGIN
    UPDATE page_versions SET version = version + 1 WHERE user_id = NEW.user_id AND scope = '';
END;
CREATE TRIGGER page_versions_billing_update AFTER UPDATE ON billing_accounts BEGIN
    UPDATE page_versions SET version = version + 1 WHERE user_id = NEW.user_id AND scope = '';
END;
CREATE TRIGGER page_versions_billing_delete AFTER DELETE ON billing_accounts BEGIN
    UPDATE page_versions SET version = version + 1 WHERE user_id = OLD.user_id AND scope = '';
END;

CREATE TRIGGER page_versions_mail_insert AFTER INSERT ON outgoing_mail
WHEN NEW.user_id IS NOT NULL
BEGIN
    UPDATE page_versions SET version = version + 1 WHERE user_id = NEW.user_id AND scope = '';
END;
CREATE TRIGGER page_versions_mail_update AFTER UPDATE ON outgoing_mail
WHEN NEW.user_id IS NOT NULL AND (OLD.to_address IS NOT NEW.to_address
   OR OLD.subject IS NOT NEW.subject OR OLD.attempts IS NOT NEW.attempts
   OR OLD.next_attempt_at IS NOT NEW.next_attempt_at OR OLD.last_error IS NOT NEW.last_error
   OR OLD.sent_at IS NOT NEW.sent_at OR OLD.user_id IS NOT NEW.user_id)
BEGIN
    UPDATE page_versions SET version = version + 1 WHERE user_id = NEW.user_id AND scope = '';
END;
CREATE TRIGGER page_versions_mail_delete AFTER DELETE ON outgoing_mail
WHEN OLD.user_id IS NOT NULL
BEGIN
    UPDATE page_versions SET version = version + 1 WHERE user_id = OLD.user_id AND scope = '';
END;
