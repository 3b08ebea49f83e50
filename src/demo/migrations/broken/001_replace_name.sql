-- The one-way door: v2's schema change in one step, shipped with v2. Once it runs, v1 has no
-- users.name to read, and rolling back the code brings nothing back.
ALTER TABLE users ADD COLUMN full_name text;

UPDATE users SET full_name = name;

ALTER TABLE users DROP COLUMN name;
