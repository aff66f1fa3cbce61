ALTER TABLE captions DROP COLUMN error;
ALTER TABLE subscriptions DROP COLUMN exclude_keywords;
ALTER TABLE subscriptions DROP COLUMN include_keywords;
ALTER TABLE subscriptions DROP COLUMN utm;
ALTER TABLE subscriptions DROP COLUMN mastodon_limit;
ALTER TABLE subscriptions DROP COLUMN variants;
DROP TABLE templates;
