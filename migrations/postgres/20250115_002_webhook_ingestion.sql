-- What durable, idempotent, out-of-order-safe ingestion needs beyond the seed (see the SQLite
-- migration of the same version for the reasons).
ALTER TABLE email_events ADD COLUMN dedupe_key text;
CREATE UNIQUE INDEX idx_email_events_user_dedupe ON email_events (user_id, dedupe_key);

ALTER TABLE leads ADD COLUMN smartlead_category text COLLATE "C";
ALTER TABLE leads ADD COLUMN smartlead_category_at timestamptz;

CREATE TABLE smartlead_events (
    id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_type text NOT NULL,
    campaign_id text,
    email text,
    lead_id uuid,
    event_data jsonb NOT NULL,
    event_timestamp timestamptz,
    received_at timestamptz NOT NULL,
    dedupe_key text,
    PRIMARY KEY (user_id, id),
    FOREIGN KEY (user_id, lead_id) REFERENCES leads (user_id, id) ON DELETE SET NULL (lead_id)
);
CREATE UNIQUE INDEX idx_smartlead_events_user_dedupe ON smartlead_events (user_id, dedupe_key);
CREATE INDEX idx_smartlead_events_user_received ON smartlead_events (user_id, received_at);
