DROP INDEX idx_leads_user_campaign_last_event;
DROP INDEX idx_leads_user_last_event;
DROP INDEX idx_email_events_user_campaign_time;
DROP INDEX idx_email_events_user_time;
DROP TABLE rollup_lead_firsts;
DROP TABLE rollup_totals;
DROP TABLE rollup_hourly;
DROP TABLE api_tokens;
