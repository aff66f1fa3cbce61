ALTER TABLE connections DROP COLUMN session_sealed;
