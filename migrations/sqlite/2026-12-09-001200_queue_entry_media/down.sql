ALTER TABLE queue_entries DROP COLUMN media_id;
