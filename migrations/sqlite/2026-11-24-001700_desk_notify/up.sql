-- Nothing to do: SQLite has no LISTEN, so the desk reads the session and its version from
-- the database on every request (see the PostgreSQL migration of the same name).
SELECT 1;
