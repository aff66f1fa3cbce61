DROP INDEX captions_user_status;
ALTER TABLE captions DROP COLUMN edited_at;
ALTER TABLE captions DROP COLUMN original_body;
ALTER TABLE captions DROP COLUMN posted_at;
ALTER TABLE captions DROP COLUMN status;
