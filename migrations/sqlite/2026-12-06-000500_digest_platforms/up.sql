-- The platforms a subscriber's digests carry, comma-separated ids; empty: every platform.
ALTER TABLE digest_settings ADD COLUMN platforms TEXT NOT NULL DEFAULT '';
