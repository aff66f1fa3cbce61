ALTER TABLE queue_entries DROP COLUMN decided_at;
DROP TABLE digest_queue_captions;
ALTER TABLE digest_settings DROP COLUMN contents;
