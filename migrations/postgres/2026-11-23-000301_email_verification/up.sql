-- Digests go only to verified addresses. Accounts made before this existed keep getting
-- their mail: they count as verified.
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMP;
UPDATE users SET email_verified_at = created_at;
