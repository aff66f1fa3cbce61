-- Mastodon has no central server: each instance registers our app on its own
-- (POST /api/v1/apps) and gives it a client id and secret. One registration per
-- instance origin (`https://host[:port]`), reused by every account connecting there; the
-- client secret is sealed like connection secrets (src/publish/secrets.rs, the origin as
-- associated data). `redirect_uri` is what it was registered with: a changed base URL
-- registers again, since instances match it exactly.
CREATE TABLE mastodon_apps (
    origin TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL,
    client_secret_sealed TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
-- An authorization on its way: the OAuth `state` (SHA-256 hex, the value itself is only in
-- the redirect) with the account that started it, the instance, and the PKCE verifier
-- (sealed, the state hash as associated data). Taken once by the callback, and worth
-- nothing after ten minutes.
CREATE TABLE mastodon_authorizations (
    state_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    origin TEXT NOT NULL,
    code_verifier_sealed TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX mastodon_authorizations_by_user ON mastodon_authorizations (user_id);
