DROP TABLE mastodon_authorizations;
DROP TABLE mastodon_apps;
