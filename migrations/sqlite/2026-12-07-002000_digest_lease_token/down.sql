ALTER TABLE digests DROP COLUMN lease_token;
