-- The copy desk: whether the subscriber has posted a caption, and their own wording of it.
-- `body` and `length` always hold the text that is shown, copied and exported; when the
-- subscriber edits it, the generated text moves to `original_body` so it is never lost.
ALTER TABLE captions ADD COLUMN status TEXT NOT NULL DEFAULT 'new';
ALTER TABLE captions ADD COLUMN posted_at TIMESTAMP;
ALTER TABLE captions ADD COLUMN original_body TEXT;
ALTER TABLE captions ADD COLUMN edited_at TIMESTAMP;
-- The dashboard's "new first" listing and the API's status filter.
CREATE INDEX captions_user_status ON captions(user_id, status, created_at);
