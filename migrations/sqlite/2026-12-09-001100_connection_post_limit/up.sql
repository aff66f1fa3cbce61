-- The connected account's own post limit, read from the network when it connects
-- (Mastodon: the instance's `configuration.statuses.max_characters`). It is kept so that
-- feeds followed after connecting get it too, not the default 500. NULL: the platform's
-- default.
ALTER TABLE connections ADD COLUMN post_limit INTEGER;
