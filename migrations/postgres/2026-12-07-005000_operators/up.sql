-- Accounts that may use the operator's console (`captionfeed admin grant`).
CREATE TABLE operators (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    granted_at TIMESTAMP NOT NULL
);

-- What operators did, and to which account. No foreign keys: the record outlives the
-- accounts it names (it keeps their ids only, never their addresses).
CREATE TABLE admin_audit (
    id TEXT PRIMARY KEY NOT NULL,
    operator_id TEXT,
    action TEXT NOT NULL,
    account_id TEXT,
    detail TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX admin_audit_created ON admin_audit(created_at);

-- When the session's owner last typed their password again: operator pages need it
-- within the last 15 minutes, so a session left open somewhere cannot run the business.
ALTER TABLE sessions ADD COLUMN password_confirmed_at TIMESTAMP;

-- Every change of an account's Stripe plan or status, for the console's upgrades,
-- downgrades and cancellations per week. A deleted account's rows stay without its id:
-- the business keeps its history, nothing points at the person.
CREATE TABLE plan_changes (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    from_plan TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_plan TEXT NOT NULL,
    to_status TEXT NOT NULL,
    changed_at TIMESTAMP NOT NULL
);
CREATE INDEX plan_changes_changed ON plan_changes(changed_at);

-- An operator stopped polling this feed for every account (its owner asked, or its host
-- did), with a note its subscribers see. A stopped feed is never claimed.
ALTER TABLE feeds ADD COLUMN stopped_at TIMESTAMP;
ALTER TABLE feeds ADD COLUMN stop_note TEXT;
