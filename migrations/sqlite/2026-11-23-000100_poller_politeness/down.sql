ALTER TABLE feeds DROP COLUMN lease_token;
ALTER TABLE feeds DROP COLUMN redirect_count;
ALTER TABLE feeds DROP COLUMN redirect_first_seen_at;
ALTER TABLE feeds DROP COLUMN redirect_to;
ALTER TABLE feeds DROP COLUMN gone_at;
ALTER TABLE feeds DROP COLUMN last_status;
ALTER TABLE feeds DROP COLUMN erroring_since;
