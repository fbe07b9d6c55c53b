-- Back to first-seen rows keyed by scope, and the (email, event_type) index.
CREATE INDEX idx_email_events_email_event_type ON email_events (email, event_type);

CREATE TABLE rollup_lead_firsts_by_scope (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    email TEXT NOT NULL,
    first_at TEXT NOT NULL,
    PRIMARY KEY (user_id, campaign_id, metric, email)
) WITHOUT ROWID;
INSERT INTO rollup_lead_firsts_by_scope SELECT * FROM rollup_lead_firsts;
DROP TABLE rollup_lead_firsts;
ALTER TABLE rollup_lead_firsts_by_scope RENAME TO rollup_lead_firsts;
