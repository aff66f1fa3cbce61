-- A Bluesky connection's session (the access and refresh tokens with the account's DID),
-- sealed like the app password (src/publish/secrets.rs, the row's id and "session" as
-- associated data). bsky.social allows 30 logins per 5 minutes and 300 a day per account,
-- so the publisher keeps the session between passes, refreshes it when the PDS says the
-- access token expired, and logs in with the app password only when refreshing fails.
-- NULL until the first login; connecting again replaces the row and so the session.
ALTER TABLE connections ADD COLUMN session_sealed TEXT;
