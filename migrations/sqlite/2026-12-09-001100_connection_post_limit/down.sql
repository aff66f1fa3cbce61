ALTER TABLE connections DROP COLUMN post_limit;
