-- Contract: only once v2 is promoted, stabilized and v1 retired does anything stop reading users.name.
ALTER TABLE users DROP COLUMN name;
