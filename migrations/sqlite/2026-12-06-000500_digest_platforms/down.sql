ALTER TABLE digest_settings DROP COLUMN platforms;
