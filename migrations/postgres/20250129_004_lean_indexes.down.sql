CREATE INDEX idx_email_events_user_campaign ON email_events (user_id, campaign_id);
CREATE INDEX idx_email_events_campaign_id ON email_events (campaign_id);
CREATE INDEX idx_email_events_message_id ON email_events (message_id);
CREATE INDEX idx_email_events_event_type ON email_events (event_type);
CREATE INDEX idx_email_events_smartlead_org_id ON email_events (smartlead_org_id);
CREATE INDEX idx_email_events_timestamp ON email_events ("timestamp");
CREATE INDEX idx_leads_smartlead_campaign_id ON leads (smartlead_campaign_id);
CREATE INDEX idx_leads_last_event_timestamp ON leads (last_event_timestamp);
