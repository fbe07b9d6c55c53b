-- Read API: per-user API tokens, analytics rollups, and the indexes the read paths need.

-- Tokens: only a SHA-256 of the token is stored; the token itself is shown once at issue time.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX idx_api_tokens_user ON api_tokens (user_id);

-- Analytics rollups, maintained in the same transaction that stores each event, so they can never
-- disagree with email_events; `smartlead-hub rollups check` proves it, `rollups rebuild` redoes them.
--   campaign_id = ''  is the user-wide scope (a real campaign id is never empty).
--   metric            is a normalized event type (email_opened…) or a headline kind (sent, opened,
--                     clicked, replied, bounced, unsubscribed) that folds follow-ups into their base.
--   hour              is the bucket start, 'YYYY-MM-DDTHH:00:00.000Z'.

-- Events and first-time leads per hour, with the bucket's first and last event time.
CREATE TABLE rollup_hourly (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    hour TEXT NOT NULL,
    events INTEGER NOT NULL,
    new_leads INTEGER NOT NULL,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    PRIMARY KEY (user_id, campaign_id, metric, hour)
);

-- All-time totals per scope and metric: what unfiltered stats read (a few rows, whatever the volume).
CREATE TABLE rollup_totals (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    events INTEGER NOT NULL,
    leads INTEGER NOT NULL,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    PRIMARY KEY (user_id, campaign_id, metric)
);

-- The first time each lead (by its normalized email) had each metric: the unique counts.
CREATE TABLE rollup_lead_firsts (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    email TEXT NOT NULL,
    first_at TEXT NOT NULL,
    PRIMARY KEY (user_id, campaign_id, metric, email)
);

-- Read paths: a user's events newest first (event search), per campaign (campaign filter),
-- and a user's leads by latest activity (lead list), each a range scan in index order.
CREATE INDEX idx_email_events_user_time ON email_events (user_id, timestamp);
CREATE INDEX idx_email_events_user_campaign_time ON email_events (user_id, campaign_id, timestamp);
CREATE INDEX idx_leads_user_last_event ON leads (user_id, last_event_timestamp);
CREATE INDEX idx_leads_user_campaign_last_event ON leads (user_id, smartlead_campaign_id, last_event_timestamp);
