DROP INDEX idx_leads_user_last_event;
CREATE INDEX idx_leads_user_last_event ON leads (user_id, last_event_timestamp);
DROP INDEX idx_leads_user_campaign_last_event;
CREATE INDEX idx_leads_user_campaign_last_event ON leads (user_id, smartlead_campaign_id, last_event_timestamp);
