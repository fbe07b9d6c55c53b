-- Migration: Smartlead integration (Clento seed migration of 2025-01-08, adapted to SQLite).
-- Every change of the seed document: org mapping on users, email activity on leads, the
-- email_events table with its CHECK and indexes, and 'smartlead' as a credentials provider.

-- Users: which Smartlead organisation a customer is.
ALTER TABLE users ADD COLUMN smartlead_org_id TEXT;
ALTER TABLE users ADD COLUMN smartlead_org_name TEXT;
-- UNIQUE (the seed's index was plain): the webhook resolves the tenant from the org id, and an
-- org shared by two users would make that ambiguous. NULLs stay distinct, as in PostgreSQL.
CREATE UNIQUE INDEX idx_users_smartlead_org_id ON users (smartlead_org_id);

-- Leads: campaign and latest email activity.
ALTER TABLE leads ADD COLUMN smartlead_campaign_id TEXT;
ALTER TABLE leads ADD COLUMN last_email_event TEXT;
ALTER TABLE leads ADD COLUMN last_event_timestamp TEXT;
CREATE INDEX idx_leads_smartlead_campaign_id ON leads (smartlead_campaign_id);
CREATE INDEX idx_leads_last_event_timestamp ON leads (last_event_timestamp);

CREATE TABLE email_events (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    event_type TEXT NOT NULL
        CONSTRAINT chk_email_events_event_type
        CHECK (event_type IN (
            'email_opened', 'email_clicked', 'email_replied', 'email_bounced',
            'email_delivered', 'email_sent', 'email_unsubscribed', 'email_spam_reported',
            'email_follow_up_opened', 'email_follow_up_clicked', 'email_follow_up_replied'
        )),
    email TEXT NOT NULL,
    lead_id TEXT REFERENCES leads (id) ON DELETE SET NULL,
    smartlead_org_id TEXT,
    -- SQLite-ism: json_valid(); PostgreSQL would declare the column JSONB instead.
    event_data TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(event_data)),
    -- SQLite-ism: strftime() defaults (PostgreSQL: now()); the application always sets them.
    timestamp TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- The seed's indexes, by the seed's names. Three are folded into the composite index they are a
-- strict prefix of, because a B-tree on (a, b) serves every lookup on a alone and a second copy
-- only costs write time and space:
--   idx_email_events_user_id  -> idx_email_events_user_campaign   (user_id, campaign_id)
--   idx_email_events_email    -> idx_email_events_email_event_type (email, event_type)
--   idx_email_events_lead_id  -> idx_email_events_lead_timestamp  (lead_id, timestamp DESC)
CREATE INDEX idx_email_events_user_campaign ON email_events (user_id, campaign_id);
CREATE INDEX idx_email_events_campaign_id ON email_events (campaign_id);
CREATE INDEX idx_email_events_message_id ON email_events (message_id);
CREATE INDEX idx_email_events_event_type ON email_events (event_type);
CREATE INDEX idx_email_events_email_event_type ON email_events (email, event_type);
CREATE INDEX idx_email_events_lead_timestamp ON email_events (lead_id, timestamp DESC);
CREATE INDEX idx_email_events_smartlead_org_id ON email_events (smartlead_org_id);
CREATE INDEX idx_email_events_timestamp ON email_events (timestamp);

-- The seed's updated_at trigger. SQLite-ism: PostgreSQL uses a plpgsql function; SQLite has no
-- BEFORE-UPDATE assignment to NEW, so it rewrites the row after an update that left it unchanged.
CREATE TRIGGER update_email_events_updated_at
AFTER UPDATE ON email_events
FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE email_events
    SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.id;
END;

-- integration_credentials: add 'smartlead' to the provider CHECK. SQLite cannot alter a CHECK,
-- so the table is rebuilt the documented way (create new, copy, drop old, rename), keeping every
-- row. Nothing references this table, so its rebuild needs no foreign-key suspension; the
-- migration runner runs `PRAGMA foreign_key_check` afterwards. PostgreSQL: DROP/ADD CONSTRAINT.
CREATE TABLE integration_credentials_rebuild (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider TEXT NOT NULL
        CONSTRAINT integration_credentials_provider_check
        CHECK (provider IN (
            'gmail', 'outlook', 'linkedin', 'phantombuster', 'zoominfo', 'apollo', 'smartlead'
        )),
    credentials TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(credentials)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (user_id, provider)
);
INSERT INTO integration_credentials_rebuild (id, user_id, provider, credentials, created_at, updated_at)
SELECT id, user_id, provider, credentials, created_at, updated_at FROM integration_credentials;
DROP TABLE integration_credentials;
ALTER TABLE integration_credentials_rebuild RENAME TO integration_credentials;
