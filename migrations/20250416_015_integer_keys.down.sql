-- Back to one email_events table holding the users' and leads' UUIDs (before 015), with the
-- same definition, rowids, indexes and trigger.
DROP VIEW email_events;

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
    event_data TEXT NOT NULL DEFAULT '{}'
        -- JSON text, or a zstd frame made with a dictionary of payload_dictionaries (issue 19)
        CHECK (CASE typeof(event_data) WHEN 'blob' THEN substr(event_data, 1, 4) = X'28B52FFD'
                                       ELSE json_valid(event_data) END),
    -- SQLite-ism: strftime() defaults (PostgreSQL: now()); the application always sets them.
    timestamp TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
, dedupe_key TEXT, sequence_step INTEGER, seq INTEGER);

INSERT INTO email_events (rowid, id, user_id, campaign_id, message_id, event_type, email, lead_id,
                          smartlead_org_id, event_data, timestamp, created_at, updated_at,
                          dedupe_key, sequence_step, seq)
SELECT e.rowid, e.id, u.id, e.campaign_id, e.message_id, e.event_type, e.email, l.id,
       e.smartlead_org_id, e.event_data, e.timestamp, e.created_at, e.updated_at,
       e.dedupe_key, e.sequence_step, e.seq
FROM email_event_rows e JOIN users u ON u.user_key = e.user_key LEFT JOIN leads l ON l.lead_key = e.lead_key
ORDER BY e.rowid;

-- rest_backfills back onto email_events, before the rows' table goes (see the up migration).
CREATE TABLE rest_backfills_015 (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    email TEXT NOT NULL,
    step INTEGER NOT NULL,
    -- The event's headline kind: sent, opened, clicked, replied, bounced, unsubscribed.
    kind TEXT NOT NULL,
    event_id TEXT NOT NULL REFERENCES email_events (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, campaign_id, email, step, kind)
) WITHOUT ROWID;
INSERT INTO rest_backfills_015 SELECT user_id, campaign_id, email, step, kind, event_id FROM rest_backfills;
DROP TABLE rest_backfills;
ALTER TABLE rest_backfills_015 RENAME TO rest_backfills;

DROP TABLE email_event_rows;

CREATE UNIQUE INDEX idx_email_events_user_dedupe ON email_events (user_id, dedupe_key);
CREATE INDEX idx_email_events_user_time ON email_events (user_id, timestamp);
CREATE INDEX idx_email_events_user_campaign_time ON email_events (user_id, campaign_id, timestamp);
CREATE UNIQUE INDEX idx_email_events_seq ON email_events (seq) WHERE seq IS NOT NULL;
CREATE INDEX idx_email_events_lead_timestamp
    ON email_events (lead_id, timestamp DESC, campaign_id, event_type, seq);

CREATE TRIGGER update_email_events_updated_at
AFTER UPDATE ON email_events
FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE email_events
    SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.id;
END;

DROP TRIGGER leads_lead_key;
DROP INDEX idx_leads_lead_key;
ALTER TABLE leads DROP COLUMN lead_key;
DROP TRIGGER users_user_key;
DROP INDEX idx_users_user_key;
ALTER TABLE users DROP COLUMN user_key;
