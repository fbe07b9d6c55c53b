-- The first-seen rows keyed by the lead first, and search by address through the lead (the
-- SQLite migration of this version says why).
ALTER TABLE rollup_lead_firsts DROP CONSTRAINT rollup_lead_firsts_pkey;
ALTER TABLE rollup_lead_firsts ADD PRIMARY KEY (user_id, email, campaign_id, metric);
DROP INDEX idx_email_events_email_event_type;
