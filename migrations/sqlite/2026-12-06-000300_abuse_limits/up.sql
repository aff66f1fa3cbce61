-- Failed sign-ins and API token checks, one row per key ('account:' and the address typed,
-- 'client:' and the client address, 'token-client:' and the client address): in the
-- database so every replica counts the same guesses.
CREATE TABLE auth_failures (
    key TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    last_failure_at TIMESTAMP NOT NULL
);
-- When each kind of account mail last went to an address: at most one per few minutes.
CREATE TABLE mail_limits (
    address TEXT NOT NULL,
    kind TEXT NOT NULL,
    last_queued_at TIMESTAMP NOT NULL,
    PRIMARY KEY (address, kind)
);
-- The Stripe Checkout Sessions captionfeed created, and for which account: only these
-- link an account to a Stripe customer.
CREATE TABLE checkout_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
