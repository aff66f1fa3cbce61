ALTER TABLE captions DROP COLUMN post_url;
ALTER TABLE captions DROP COLUMN post_uri;
ALTER TABLE queue_entries DROP COLUMN last_error;
ALTER TABLE queue_entries DROP COLUMN lease_token;
ALTER TABLE queue_entries DROP COLUMN lease_until;
ALTER TABLE queue_entries DROP COLUMN next_attempt_at;
ALTER TABLE queue_entries DROP COLUMN attempts;
