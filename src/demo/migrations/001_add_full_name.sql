-- Expand: v2 reads users.full_name. Adding a nullable column and backfilling it leaves every
-- column v1 reads in place, so v1 keeps working whatever happens to v2.
ALTER TABLE users ADD COLUMN full_name text;

UPDATE users SET full_name = name WHERE full_name IS NULL;
