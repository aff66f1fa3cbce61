-- WebSub: the hub a feed names, our subscription there, and the secret its pushes are
-- signed with. state: 'none' (no hub), 'wanted' (to request), 'requested' (waiting for
-- the hub's verification), 'active' (verified, lease running), 'failed' (see websub_error).
ALTER TABLE feeds ADD COLUMN websub_hub TEXT;
ALTER TABLE feeds ADD COLUMN websub_topic TEXT;
ALTER TABLE feeds ADD COLUMN websub_secret TEXT;
ALTER TABLE feeds ADD COLUMN websub_state TEXT NOT NULL DEFAULT 'none';
ALTER TABLE feeds ADD COLUMN websub_lease_until TIMESTAMP;
ALTER TABLE feeds ADD COLUMN websub_requested_at TIMESTAMP;
ALTER TABLE feeds ADD COLUMN websub_error TEXT;
CREATE INDEX feeds_websub_state ON feeds(websub_state);
