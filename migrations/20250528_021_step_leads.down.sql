ALTER TABLE rollup_steps DROP COLUMN leads;
