-- Fetch state the poller shows and obeys: when a run of errors began, the last HTTP
-- status, a feed that answered 410 Gone (never polled again), a permanent redirect
-- being watched before the stored URL follows it, and the token of the claim that
-- holds the lease (only that claim may record a result).
ALTER TABLE feeds ADD COLUMN erroring_since TIMESTAMP;
ALTER TABLE feeds ADD COLUMN last_status INTEGER;
ALTER TABLE feeds ADD COLUMN gone_at TIMESTAMP;
ALTER TABLE feeds ADD COLUMN redirect_to TEXT;
ALTER TABLE feeds ADD COLUMN redirect_first_seen_at TIMESTAMP;
ALTER TABLE feeds ADD COLUMN redirect_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feeds ADD COLUMN lease_token TEXT;
