DROP TRIGGER desk_versions_feed_template ON feed_templates;
DROP FUNCTION desk_versions_feed_template();
DROP TRIGGER desk_versions_user_confirmed ON users;
