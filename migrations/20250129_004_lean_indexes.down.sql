-- Back to rowid rollup tables and the full seed index set.
CREATE TABLE rollup_hourly_rowid (
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
INSERT INTO rollup_hourly_rowid SELECT * FROM rollup_hourly;
DROP TABLE rollup_hourly;
ALTER TABLE rollup_hourly_rowid RENAME TO rollup_hourly;

CREATE TABLE rollup_totals_rowid (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    events INTEGER NOT NULL,
    leads INTEGER NOT NULL,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    PRIMARY KEY (user_id, campaign_id, metric)
);
INSERT INTO rollup_totals_rowid SELECT * FROM rollup_totals;
DROP TABLE rollup_totals;
ALTER TABLE rollup_totals_rowid RENAME TO rollup_totals;

CREATE TABLE rollup_lead_firsts_rowid (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    email TEXT NOT NULL,
    first_at TEXT NOT NULL,
    PRIMARY KEY (user_id, campaign_id, metric, email)
);
INSERT INTO rollup_lead_firsts_rowid SELECT * FROM rollup_lead_firsts;
DROP TABLE rollup_lead_firsts;
ALTER TABLE rollup_lead_firsts_rowid RENAME TO rollup_lead_firsts;

CREATE INDEX idx_leads_last_event_timestamp ON leads (last_event_timestamp);
CREATE INDEX idx_leads_smartlead_campaign_id ON leads (smartlead_campaign_id);
CREATE INDEX idx_email_events_timestamp ON email_events (timestamp);
CREATE INDEX idx_email_events_smartlead_org_id ON email_events (smartlead_org_id);
CREATE INDEX idx_email_events_event_type ON email_events (event_type);
CREATE INDEX idx_email_events_message_id ON email_events (message_id);
CREATE INDEX idx_email_events_campaign_id ON email_events (campaign_id);
CREATE INDEX idx_email_events_user_campaign ON email_events (user_id, campaign_id);
