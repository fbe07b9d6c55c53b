-- Rollback of the Smartlead integration (the seed's rollback, adapted to SQLite).
-- As the seed warns, this permanently deletes Smartlead data: every email event, the new user and
-- lead columns, and 'smartlead' credential rows (the old CHECK would refuse them). Nothing else.

-- Credentials: drop the rows the old CHECK forbids, then rebuild with the old CHECK.
DELETE FROM integration_credentials WHERE provider = 'smartlead';
CREATE TABLE integration_credentials_rebuild (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider TEXT NOT NULL
        CONSTRAINT integration_credentials_provider_check
        CHECK (provider IN ('gmail', 'outlook', 'linkedin', 'phantombuster', 'zoominfo', 'apollo')),
    credentials TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(credentials)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (user_id, provider)
);
INSERT INTO integration_credentials_rebuild (id, user_id, provider, credentials, created_at, updated_at)
SELECT id, user_id, provider, credentials, created_at, updated_at FROM integration_credentials;
DROP TABLE integration_credentials;
ALTER TABLE integration_credentials_rebuild RENAME TO integration_credentials;

-- email_events goes whole; its indexes and trigger go with it.
DROP TABLE email_events;

-- Indexes before the columns they cover: SQLite refuses to drop an indexed column.
DROP INDEX idx_leads_last_event_timestamp;
DROP INDEX idx_leads_smartlead_campaign_id;
ALTER TABLE leads DROP COLUMN last_event_timestamp;
ALTER TABLE leads DROP COLUMN last_email_event;
ALTER TABLE leads DROP COLUMN smartlead_campaign_id;

DROP INDEX idx_users_smartlead_org_id;
ALTER TABLE users DROP COLUMN smartlead_org_name;
ALTER TABLE users DROP COLUMN smartlead_org_id;
