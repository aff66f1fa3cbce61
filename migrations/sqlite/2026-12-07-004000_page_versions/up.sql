-- Two more changes raise the desk version (see 2026-11-24-001600_desk_versions), now that
-- stored pages are not only the copy desk:
-- * confirming the address: every signed-in page asks for it until then;
-- * a feed's own templates: its page shows them.
CREATE TRIGGER desk_versions_user_confirmed AFTER UPDATE OF email_verified_at ON users
WHEN OLD.email_verified_at IS NOT NEW.email_verified_at
BEGIN
    UPDATE desk_versions SET version = version + 1 WHERE user_id = NEW.id AND scope = '';
END;

CREATE TRIGGER desk_versions_feed_template_insert AFTER INSERT ON feed_templates BEGIN
    UPDATE desk_versions SET version = version + 1
    WHERE user_id = NEW.user_id AND scope = NEW.subscription_id;
END;
CREATE TRIGGER desk_versions_feed_template_update AFTER UPDATE ON feed_templates BEGIN
    UPDATE desk_versions SET version = version + 1
    WHERE (user_id = OLD.user_id AND scope = OLD.subscription_id)
       OR (user_id = NEW.user_id AND scope = NEW.subscription_id);
END;
CREATE TRIGGER desk_versions_feed_template_delete AFTER DELETE ON feed_templates BEGIN
    UPDATE desk_versions SET version = version + 1
    WHERE user_id = OLD.user_id AND scope = OLD.subscription_id;
END;
