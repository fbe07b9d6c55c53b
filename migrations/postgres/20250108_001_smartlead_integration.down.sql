DELETE FROM integration_credentials WHERE provider = 'smartlead';
ALTER TABLE integration_credentials DROP CONSTRAINT integration_credentials_provider_check;
ALTER TABLE integration_credentials ADD CONSTRAINT integration_credentials_provider_check
    CHECK (provider IN ('gmail', 'outlook', 'linkedin', 'phantombuster', 'zoominfo', 'apollo'));
DROP TABLE email_events;
DROP FUNCTION update_updated_at_column();
DROP INDEX idx_leads_last_event_timestamp;
DROP INDEX idx_leads_smartlead_campaign_id;
ALTER TABLE leads DROP COLUMN last_event_timestamp;
ALTER TABLE leads DROP COLUMN last_email_event;
ALTER TABLE leads DROP COLUMN smartlead_campaign_id;
DROP INDEX idx_users_smartlead_org_id;
ALTER TABLE users DROP COLUMN smartlead_org_name;
ALTER TABLE users DROP COLUMN smartlead_org_id;
