-- What captions are made from, worked out once when a post is read (src/feeds/reading.rs):
-- the lead sentence, the section headings (a JSON list), whether the title was made from
-- the text, and where the summary came from ('feed', 'text' or 'page': the post page's
-- description, written later by the image worker).
ALTER TABLE posts ADD COLUMN lead TEXT NOT NULL DEFAULT '';
ALTER TABLE posts ADD COLUMN headings TEXT NOT NULL DEFAULT '[]';
ALTER TABLE posts ADD COLUMN title_from_text BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE posts ADD COLUMN summary_source TEXT NOT NULL DEFAULT 'feed';
-- Posts stored before had "(untitled)" for a title: they get their summary's beginning.
UPDATE posts SET title_from_text = TRUE, title = substr(summary, 1, 80) WHERE title = '(untitled)';
