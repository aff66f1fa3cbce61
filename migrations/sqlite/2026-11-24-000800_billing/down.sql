ALTER TABLE subscriptions DROP COLUMN paused_by_plan;
DROP TABLE stripe_events;
DROP TABLE billing_accounts;
