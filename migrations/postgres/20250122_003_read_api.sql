-- Read API: per-user API tokens, analytics rollups, and the indexes the read paths need.

-- Keyed globally (a presented token is looked up by its hash alone): a reference table on
-- Citus, like users.
CREATE TABLE api_tokens (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text,
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX idx_api_tokens_user ON api_tokens (user_id);

-- campaign_id = '' is the user-wide scope; hour is the bucket start.
CREATE TABLE rollup_hourly (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id text COLLATE "C" NOT NULL,
    metric text COLLATE "C" NOT NULL,
    hour timestamptz NOT NULL,
    events bigint NOT NULL,
    new_leads bigint NOT NULL,
    first_at timestamptz NOT NULL,
    last_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, campaign_id, metric, hour)
);

CREATE TABLE rollup_totals (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id text COLLATE "C" NOT NULL,
    metric text COLLATE "C" NOT NULL,
    events bigint NOT NULL,
    leads bigint NOT NULL,
    first_at timestamptz NOT NULL,
    last_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, campaign_id, metric)
);

CREATE TABLE rollup_lead_firsts (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id text COLLATE "C" NOT NULL,
    metric text COLLATE "C" NOT NULL,
    email text NOT NULL,
    first_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, campaign_id, metric, email)
);

CREATE INDEX idx_email_events_user_time ON email_events (user_id, "timestamp");
CREATE INDEX idx_email_events_user_campaign_time ON email_events (user_id, campaign_id, "timestamp");
CREATE INDEX idx_leads_user_last_event ON leads (user_id, last_event_timestamp);
CREATE INDEX idx_leads_user_campaign_last_event ON leads (user_id, smartlead_campaign_id, last_event_timestamp);
