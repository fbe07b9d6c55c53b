-- The smallest index set that serves every query the API and the seed's usage examples run.
-- Each secondary index costs every insert a B-tree write (at volume, a random page write), so
-- an index no query uses is pure cost. Kept on email_events:
--   primary key (id)
--   idx_email_events_user_dedupe        (user_id, dedupe_key)         idempotency check
--   idx_email_events_lead_timestamp     (lead_id, timestamp DESC)     lead timeline (seed example 2)
--   idx_email_events_user_campaign_time (user_id, campaign_id, timestamp)
--                                        campaign performance (seed example 3), search by campaign
--   idx_email_events_user_time          (user_id, timestamp)          event search, newest first
--   idx_email_events_email_event_type   (email, event_type)           search by lead address
-- Dropped, with the query that made them useless:
DROP INDEX idx_email_events_user_campaign;      -- strict prefix of idx_email_events_user_campaign_time
DROP INDEX idx_email_events_campaign_id;        -- no query filters by campaign without its user
DROP INDEX idx_email_events_message_id;         -- no query looks events up by message id
DROP INDEX idx_email_events_event_type;         -- 11 values: never selective; type filters ride on user scans
DROP INDEX idx_email_events_smartlead_org_id;   -- org is resolved to a user before any query
DROP INDEX idx_email_events_timestamp;          -- every time query is per user (idx_email_events_user_time)
DROP INDEX idx_leads_smartlead_campaign_id;     -- superseded by idx_leads_user_campaign_last_event
DROP INDEX idx_leads_last_event_timestamp;      -- superseded by idx_leads_user_last_event

-- Rollups keyed by their primary key alone: one B-tree per table instead of a rowid table plus
-- a copy of the key in its primary-key index, which halves their size and write cost.
-- SQLite-ism: WITHOUT ROWID; in PostgreSQL these are plain tables with the same primary keys.
CREATE TABLE rollup_hourly_clustered (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    hour TEXT NOT NULL,
    events INTEGER NOT NULL,
    new_leads INTEGER NOT NULL,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    PRIMARY KEY (user_id, campaign_id, metric, hour)
) WITHOUT ROWID;
INSERT INTO rollup_hourly_clustered SELECT * FROM rollup_hourly;
DROP TABLE rollup_hourly;
ALTER TABLE rollup_hourly_clustered RENAME TO rollup_hourly;

CREATE TABLE rollup_totals_clustered (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    events INTEGER NOT NULL,
    leads INTEGER NOT NULL,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    PRIMARY KEY (user_id, campaign_id, metric)
) WITHOUT ROWID;
INSERT INTO rollup_totals_clustered SELECT * FROM rollup_totals;
DROP TABLE rollup_totals;
ALTER TABLE rollup_totals_clustered RENAME TO rollup_totals;

CREATE TABLE rollup_lead_firsts_clustered (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    email TEXT NOT NULL,
    first_at TEXT NOT NULL,
    PRIMARY KEY (user_id, campaign_id, metric, email)
) WITHOUT ROWID;
INSERT INTO rollup_lead_firsts_clustered SELECT * FROM rollup_lead_firsts;
DROP TABLE rollup_lead_firsts;
ALTER TABLE rollup_lead_firsts_clustered RENAME TO rollup_lead_firsts;
