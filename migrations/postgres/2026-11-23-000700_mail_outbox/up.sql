-- Account mail (verification links, password resets, address-change notices) waits here
-- until an SMTP server has taken it: written in the transaction of the action that causes
-- it, so a crash or a dead server delays a message but cannot lose it.
CREATE TABLE outgoing_mail (
    id TEXT PRIMARY KEY NOT NULL,
    -- Deleting an account deletes its waiting mail: the links in it would open nothing,
    -- and the address should not outlive the account.
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    -- verify_email | password_reset | email_changed
    kind TEXT NOT NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT,
    -- Fixed when the row is written: a message sent again after a crash keeps its id.
    message_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    lease_token TEXT,
    last_error TEXT,
    sent_at TIMESTAMP
);
CREATE INDEX outgoing_mail_due ON outgoing_mail(sent_at, next_attempt_at);
CREATE INDEX outgoing_mail_user ON outgoing_mail(user_id, created_at);
