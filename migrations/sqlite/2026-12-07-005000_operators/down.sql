ALTER TABLE feeds DROP COLUMN stop_note;
ALTER TABLE feeds DROP COLUMN stopped_at;
DROP TABLE plan_changes;
ALTER TABLE sessions DROP COLUMN password_confirmed_at;
DROP TABLE admin_audit;
DROP TABLE operators;
