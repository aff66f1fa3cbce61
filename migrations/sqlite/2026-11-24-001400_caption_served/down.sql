ALTER TABLE captions DROP COLUMN served_at;
