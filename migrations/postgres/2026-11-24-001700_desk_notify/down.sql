DROP TRIGGER desk_notify_session ON sessions;
DROP FUNCTION desk_notify_session();
DROP TRIGGER desk_notify_version ON desk_versions;
DROP FUNCTION desk_notify_version();
