-- Post images and WebSub requests are claimed like every other queued job
-- (jobs::lease): a lease until a time, under a random token that only its holder can
-- record an outcome with.
--
-- An image's row is its job: it gets the lease columns. Before, a claim pushed
-- next_attempt_at out of reach, which no outcome could be checked against.
ALTER TABLE post_images ADD COLUMN lease_until TIMESTAMP;
ALTER TABLE post_images ADD COLUMN lease_token TEXT;

-- A feed's WebSub request (subscribe, renew or leave) is worked out from the feed's
-- WebSub columns; this row only holds the claim on sending it, so two replicas never send
-- the same request. The feeds table's own lease columns are the poller's.
CREATE TABLE websub_leases (
    feed_id TEXT PRIMARY KEY NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    -- When the row was made: a request is due by the feed's WebSub state, not by this.
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    lease_token TEXT
);
