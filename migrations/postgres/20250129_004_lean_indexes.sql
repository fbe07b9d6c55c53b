-- The smallest index set that serves every query (the SQLite migration of this version says
-- which query made each dropped index useless). PostgreSQL has no WITHOUT ROWID: the rollups
-- stay heap tables with their primary keys, so that half of the SQLite migration has nothing
-- to do here.
DROP INDEX idx_email_events_user_campaign;
DROP INDEX idx_email_events_campaign_id;
DROP INDEX idx_email_events_message_id;
DROP INDEX idx_email_events_event_type;
DROP INDEX idx_email_events_smartlead_org_id;
DROP INDEX idx_email_events_timestamp;
DROP INDEX idx_leads_smartlead_campaign_id;
DROP INDEX idx_leads_last_event_timestamp;
