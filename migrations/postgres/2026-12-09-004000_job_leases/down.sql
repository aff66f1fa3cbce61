DROP TABLE websub_leases;
ALTER TABLE post_images DROP COLUMN lease_token;
ALTER TABLE post_images DROP COLUMN lease_until;
