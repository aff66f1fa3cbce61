DROP TABLE checkout_sessions;
DROP TABLE mail_limits;
DROP TABLE auth_failures;
