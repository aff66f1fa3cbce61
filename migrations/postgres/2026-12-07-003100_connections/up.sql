-- An account's connection to a network it posts to directly (Bluesky first). The secret
-- (an app password) is sealed with a key derived from the service's secret key
-- (src/publish/secrets.rs); `broken_at` is set when the network refused it (401/403),
-- and `broken_mailed_at` once the subscriber was told, so they are told once.
CREATE TABLE connections (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    service_url TEXT NOT NULL,
    handle TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    broken_at TIMESTAMP,
    broken_reason TEXT,
    broken_mailed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX connections_one_per_platform ON connections (user_id, platform);
