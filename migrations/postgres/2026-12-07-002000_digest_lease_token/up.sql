-- A digest's claim carries a random token, as the other queues' claims do: only the
-- sender that still holds the lease may mark the digest sent or failed.
ALTER TABLE digests ADD COLUMN lease_token TEXT;
