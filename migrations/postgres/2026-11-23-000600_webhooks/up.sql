-- Outgoing webhooks. The endpoint's cursor starts at its creation, so captions made
-- before it existed are never sent to it.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    disabled_at TIMESTAMP,
    last_caption_created_at TIMESTAMP NOT NULL,
    last_caption_id TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_user ON webhook_endpoints(user_id);
-- The outbox: one row per event per endpoint (the unique key keeps a retried
-- enqueue from sending anything twice), claimed with a lease like feeds.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    event_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    lease_token TEXT,
    last_status INTEGER,
    last_error TEXT,
    last_response_ms INTEGER,
    delivered_at TIMESTAMP,
    gave_up_at TIMESTAMP,
    UNIQUE (endpoint_id, event, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at);
