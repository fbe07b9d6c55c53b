-- What durable, idempotent, out-of-order-safe ingestion needs beyond the seed.

-- Dedupe: Smartlead payloads carry no event id, so the hub derives one from the event's identity
-- (see src/smartlead/dedupe.rs). Unique per user, enforced in the same transaction as the insert.
-- Nullable so rows written before this migration stay valid; NULLs never collide.
ALTER TABLE email_events ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX idx_email_events_user_dedupe ON email_events (user_id, dedupe_key);

-- A lead's Smartlead category (LEAD_CATEGORY_UPDATED) and the event time that set it, so that
-- an older category arriving late never overwrites a newer one.
ALTER TABLE leads ADD COLUMN smartlead_category TEXT;
ALTER TABLE leads ADD COLUMN smartlead_category_at TEXT;

-- Authenticated Smartlead events that are not email events (category updates, campaign status
-- changes, manual steps, untracked replies, names Smartlead adds later): kept, never dropped.
CREATE TABLE smartlead_events (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    campaign_id TEXT,
    email TEXT,
    lead_id TEXT REFERENCES leads (id) ON DELETE SET NULL,
    -- SQLite-ism: json_valid(); PostgreSQL would declare the column JSONB instead.
    event_data TEXT NOT NULL CHECK (json_valid(event_data)),
    event_timestamp TEXT,
    received_at TEXT NOT NULL,
    dedupe_key TEXT
);
CREATE UNIQUE INDEX idx_smartlead_events_user_dedupe ON smartlead_events (user_id, dedupe_key);
CREATE INDEX idx_smartlead_events_user_received ON smartlead_events (user_id, received_at);
