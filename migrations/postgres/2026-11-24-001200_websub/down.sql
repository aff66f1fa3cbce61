DROP INDEX feeds_websub_state;
ALTER TABLE feeds DROP COLUMN websub_error;
ALTER TABLE feeds DROP COLUMN websub_requested_at;
ALTER TABLE feeds DROP COLUMN websub_lease_until;
ALTER TABLE feeds DROP COLUMN websub_state;
ALTER TABLE feeds DROP COLUMN websub_secret;
ALTER TABLE feeds DROP COLUMN websub_topic;
ALTER TABLE feeds DROP COLUMN websub_hub;
