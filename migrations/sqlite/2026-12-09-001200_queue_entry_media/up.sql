-- The instance's id of the image a try of this caption uploaded (Mastodon's media v2). A
-- retry attaches the same media instead of uploading the image again: Mastodon keeps
-- unattached media for a while, and the retry uploads again only if it is gone.
ALTER TABLE queue_entries ADD COLUMN media_id TEXT;
