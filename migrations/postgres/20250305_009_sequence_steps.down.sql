DROP TABLE rollup_steps;
ALTER TABLE email_events DROP COLUMN sequence_step;
