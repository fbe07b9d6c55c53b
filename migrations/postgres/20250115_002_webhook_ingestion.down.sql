DROP TABLE smartlead_events;
ALTER TABLE leads DROP COLUMN smartlead_category_at;
ALTER TABLE leads DROP COLUMN smartlead_category;
DROP INDEX idx_email_events_user_dedupe;
ALTER TABLE email_events DROP COLUMN dedupe_key;
