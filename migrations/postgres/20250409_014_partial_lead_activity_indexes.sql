-- The lead list's two indexes hold only leads with email activity (issue 19): see the SQLite
-- migration of the same name. A new lead no longer writes two index entries at ingest.
DROP INDEX idx_leads_user_last_event;
CREATE INDEX idx_leads_user_last_event ON leads (user_id, last_event_timestamp)
    WHERE last_event_timestamp IS NOT NULL;
DROP INDEX idx_leads_user_campaign_last_event;
CREATE INDEX idx_leads_user_campaign_last_event ON leads (user_id, smartlead_campaign_id, last_event_timestamp)
    WHERE last_event_timestamp IS NOT NULL;
