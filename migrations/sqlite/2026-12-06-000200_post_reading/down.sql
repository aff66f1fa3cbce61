ALTER TABLE posts DROP COLUMN summary_source;
ALTER TABLE posts DROP COLUMN title_from_text;
ALTER TABLE posts DROP COLUMN headings;
ALTER TABLE posts DROP COLUMN lead;
