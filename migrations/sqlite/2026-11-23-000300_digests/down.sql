DROP TABLE digest_captions;
DROP TABLE digests;
DROP TABLE digest_settings;
