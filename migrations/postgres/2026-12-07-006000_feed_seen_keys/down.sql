ALTER TABLE feeds DROP COLUMN seen_keys;
