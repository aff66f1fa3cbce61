-- The keys of the entries in each feed's last document (see src/feeds/seen.rs).
ALTER TABLE feeds ADD COLUMN seen_keys TEXT NOT NULL DEFAULT '';
