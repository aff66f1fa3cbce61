DROP TABLE app_secrets;
DROP TABLE captions;
DROP TABLE subscriptions;
DROP TABLE posts;
DROP TABLE feeds;
DROP TABLE sessions;
DROP TABLE users;
