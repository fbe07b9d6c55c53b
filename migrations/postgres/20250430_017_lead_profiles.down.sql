-- The names and companies stay: the columns are the base schema's.
ALTER TABLE leads DROP COLUMN profile_at;
