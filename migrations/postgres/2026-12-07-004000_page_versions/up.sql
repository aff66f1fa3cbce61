-- Two more changes raise the desk version (see 2026-11-24-001600_desk_versions), now that
-- stored pages are not only the copy desk:
-- * confirming the address: every signed-in page asks for it until then (the function
--   a change of address already uses);
-- * a feed's own templates: its page shows them.
CREATE TRIGGER desk_versions_user_confirmed AFTER UPDATE OF email_verified_at ON users
    FOR EACH ROW WHEN (OLD.email_verified_at IS DISTINCT FROM NEW.email_verified_at)
    EXECUTE FUNCTION desk_versions_user_email();

CREATE FUNCTION desk_versions_feed_template() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE desk_versions SET version = version + 1
        WHERE user_id = OLD.user_id AND scope = OLD.subscription_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE desk_versions SET version = version + 1
        WHERE user_id = NEW.user_id AND scope = NEW.subscription_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER desk_versions_feed_template AFTER INSERT OR UPDATE OR DELETE ON feed_templates
    FOR EACH ROW EXECUTE FUNCTION desk_versions_feed_template();
