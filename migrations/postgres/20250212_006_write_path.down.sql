CREATE INDEX idx_email_events_email_event_type ON email_events (email, event_type);
ALTER TABLE rollup_lead_firsts DROP CONSTRAINT rollup_lead_firsts_pkey;
ALTER TABLE rollup_lead_firsts ADD PRIMARY KEY (user_id, campaign_id, metric, email);
