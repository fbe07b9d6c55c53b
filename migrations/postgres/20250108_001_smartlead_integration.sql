-- Migration: Smartlead integration (the Clento seed migration of 2025-01-08): org mapping on
-- users, email activity on leads, email_events with its CHECK, indexes and updated_at trigger,
-- and 'smartlead' as a credentials provider.

ALTER TABLE users ADD COLUMN smartlead_org_id text;
ALTER TABLE users ADD COLUMN smartlead_org_name text;
-- UNIQUE (the seed's index was plain): the webhook resolves the tenant from the org id.
CREATE UNIQUE INDEX idx_users_smartlead_org_id ON users (smartlead_org_id);

-- Compared and ordered byte-wise (COLLATE "C"), as SQLite does: the same tie-break and the
-- same list order on both backends, whatever the database's locale.
ALTER TABLE leads ADD COLUMN smartlead_campaign_id text COLLATE "C";
ALTER TABLE leads ADD COLUMN last_email_event text COLLATE "C";
ALTER TABLE leads ADD COLUMN last_event_timestamp timestamptz;
CREATE INDEX idx_leads_smartlead_campaign_id ON leads (smartlead_campaign_id);
CREATE INDEX idx_leads_last_event_timestamp ON leads (last_event_timestamp);

CREATE TABLE email_events (
    id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id text COLLATE "C" NOT NULL,
    message_id text NOT NULL,
    event_type text NOT NULL
        CONSTRAINT chk_email_events_event_type
        CHECK (event_type IN (
            'email_opened', 'email_clicked', 'email_replied', 'email_bounced',
            'email_delivered', 'email_sent', 'email_unsubscribed', 'email_spam_reported',
            'email_follow_up_opened', 'email_follow_up_clicked', 'email_follow_up_replied'
        )),
    email text NOT NULL,
    lead_id uuid,
    smartlead_org_id text,
    event_data jsonb NOT NULL DEFAULT '{}',
    "timestamp" timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, id),
    -- The seed's `lead_id REFERENCES leads (id) ON DELETE SET NULL`, with the tenant in the key
    -- (Citus: a key between co-located tables includes the distribution column); only lead_id
    -- is nulled, the event keeps its user.
    FOREIGN KEY (user_id, lead_id) REFERENCES leads (user_id, id) ON DELETE SET NULL (lead_id)
);

CREATE INDEX idx_email_events_user_campaign ON email_events (user_id, campaign_id);
CREATE INDEX idx_email_events_campaign_id ON email_events (campaign_id);
CREATE INDEX idx_email_events_message_id ON email_events (message_id);
CREATE INDEX idx_email_events_event_type ON email_events (event_type);
CREATE INDEX idx_email_events_email_event_type ON email_events (email, event_type);
CREATE INDEX idx_email_events_lead_timestamp ON email_events (lead_id, "timestamp" DESC);
CREATE INDEX idx_email_events_smartlead_org_id ON email_events (smartlead_org_id);
CREATE INDEX idx_email_events_timestamp ON email_events ("timestamp");

-- The seed's updated_at trigger. On Citus, triggers on distributed tables need
-- `citus.enable_unsafe_triggers` (README): the application sets updated_at itself anyway.
CREATE FUNCTION update_updated_at_column() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END;
$$;
CREATE TRIGGER update_email_events_updated_at
BEFORE UPDATE ON email_events
FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
EXECUTE FUNCTION update_updated_at_column();

ALTER TABLE integration_credentials DROP CONSTRAINT integration_credentials_provider_check;
ALTER TABLE integration_credentials ADD CONSTRAINT integration_credentials_provider_check
    CHECK (provider IN ('gmail', 'outlook', 'linkedin', 'phantombuster', 'zoominfo', 'apollo', 'smartlead'));
