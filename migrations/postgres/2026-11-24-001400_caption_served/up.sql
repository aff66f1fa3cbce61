-- When a caption first left the desk: listed by the API, a caption feed or a CSV export,
-- put in a digest or a webhook delivery. Until then a change of template or feed settings
-- may rewrite it in place; from then on someone may hold its text, so it is never changed
-- behind their back.
ALTER TABLE captions ADD COLUMN served_at TIMESTAMP;
-- What existed before this stamp may have been read anywhere: treat it all as served.
UPDATE captions SET served_at = created_at;
