ALTER TABLE subscriptions DROP COLUMN queue_since;
ALTER TABLE subscriptions DROP COLUMN queue_mode;
DROP TABLE queue_entries;
DROP TABLE posting_plans;
