-- Integer keys inside the event rows and their indexes (issue 19: space per stored event). The
-- user's and the lead's UUIDs were stored as 36 characters in every event row and again in each
-- of its four indexes that begin with them: ~230 of the ~810 bytes an event takes in a 10M-event
-- file. Users and leads now carry a small integer key, and the events refer to them by it; the
-- public ids stay the UUIDs.
--
-- `email_events` becomes a view with the table's old columns (and its rowid), so that every
-- reader of the seed's schema (`sqlite3`, scripts, the validation script) keeps working; the
-- view's triggers take inserts, updates and deletes the way the table did. The service itself
-- reads and writes `email_event_rows`.
--
-- Upgrade: every event row and index entry is rewritten, in the migration's one transaction (the
-- WAL grows to about the table's size meanwhile). README states the time on a 10M-event file.

-- An explicit column, not the rowid: VACUUM may renumber the rowids of a table without an
-- INTEGER PRIMARY KEY. A new row is given max + 1 (from the unique index) by the triggers, so
-- that every insert gets one, the service's and any other. The key of a deleted newest row can
-- be given again, as a rowid can: the foreign keys below have deleted or unlinked its events.
ALTER TABLE users ADD COLUMN user_key INTEGER;
UPDATE users SET user_key = rowid;
CREATE UNIQUE INDEX idx_users_user_key ON users (user_key);
CREATE TRIGGER users_user_key
AFTER INSERT ON users
FOR EACH ROW WHEN NEW.user_key IS NULL
BEGIN
    UPDATE users SET user_key = (SELECT coalesce(max(user_key), 0) + 1 FROM users)
    WHERE rowid = NEW.rowid;
END;
ALTER TABLE leads ADD COLUMN lead_key INTEGER;
UPDATE leads SET lead_key = rowid;
CREATE UNIQUE INDEX idx_leads_lead_key ON leads (lead_key);
CREATE TRIGGER leads_lead_key
AFTER INSERT ON leads
FOR EACH ROW WHEN NEW.lead_key IS NULL
BEGIN
    UPDATE leads SET lead_key = (SELECT coalesce(max(lead_key), 0) + 1 FROM leads)
    WHERE rowid = NEW.rowid;
END;

CREATE TABLE email_event_rows (
    id TEXT PRIMARY KEY,
    user_key INTEGER NOT NULL REFERENCES users (user_key) ON DELETE CASCADE,
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
    lead_key INTEGER REFERENCES leads (lead_key) ON DELETE SET NULL,
    smartlead_org_id TEXT,
    event_data TEXT NOT NULL DEFAULT '{}'
        -- JSON text, or a zstd frame made with a dictionary of payload_dictionaries (issue 19)
        CHECK (CASE typeof(event_data) WHEN 'blob' THEN substr(event_data, 1, 4) = X'28B52FFD'
                                       ELSE json_valid(event_data) END),
    timestamp TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    dedupe_key TEXT,
    sequence_step INTEGER,
    -- Commit order, for the projector (migration 011); NULL for events older than it.
    seq INTEGER
);

-- Same rowids: the position of a resumable `payloads compress` stays valid.
INSERT INTO email_event_rows (rowid, id, user_key, campaign_id, message_id, event_type, email, lead_key,
                              smartlead_org_id, event_data, timestamp, created_at, updated_at,
                              dedupe_key, sequence_step, seq)
SELECT e.rowid, e.id, u.user_key, e.campaign_id, e.message_id, e.event_type, e.email, l.lead_key,
       e.smartlead_org_id, e.event_data, e.timestamp, e.created_at, e.updated_at,
       e.dedupe_key, e.sequence_step, e.seq
FROM email_events e JOIN users u ON u.id = e.user_id LEFT JOIN leads l ON l.id = e.lead_id
ORDER BY e.rowid;

-- rest_backfills (010) refers to the events' ids: it now refers to the rows' table. Rebuilt
-- before the old table goes: dropping a referenced table deletes its rows, and so cascades.
CREATE TABLE rest_backfills_015 (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    email TEXT NOT NULL,
    step INTEGER NOT NULL,
    -- The event's headline kind: sent, opened, clicked, replied, bounced, unsubscribed.
    kind TEXT NOT NULL,
    event_id TEXT NOT NULL REFERENCES email_event_rows (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, campaign_id, email, step, kind)
) WITHOUT ROWID;
INSERT INTO rest_backfills_015 SELECT user_id, campaign_id, email, step, kind, event_id FROM rest_backfills;
DROP TABLE rest_backfills;
ALTER TABLE rest_backfills_015 RENAME TO rest_backfills;

DROP TABLE email_events;

-- The same indexes under the same names, on the keys.
CREATE UNIQUE INDEX idx_email_events_user_dedupe ON email_event_rows (user_key, dedupe_key);
CREATE INDEX idx_email_events_user_time ON email_event_rows (user_key, timestamp);
CREATE INDEX idx_email_events_user_campaign_time ON email_event_rows (user_key, campaign_id, timestamp);
CREATE UNIQUE INDEX idx_email_events_seq ON email_event_rows (seq) WHERE seq IS NOT NULL;
CREATE INDEX idx_email_events_lead_timestamp
    ON email_event_rows (lead_key, timestamp DESC, campaign_id, event_type, seq);

CREATE TRIGGER update_email_events_updated_at
AFTER UPDATE ON email_event_rows
FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE email_event_rows
    SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.id;
END;

CREATE VIEW email_events AS
SELECT e.id, u.id AS user_id, e.campaign_id, e.message_id, e.event_type, e.email, l.id AS lead_id,
       e.smartlead_org_id, e.event_data, e.timestamp, e.created_at, e.updated_at, e.dedupe_key,
       e.sequence_step, e.seq, e.rowid AS rowid
FROM email_event_rows e
JOIN users u ON u.user_key = e.user_key
LEFT JOIN leads l ON l.lead_key = e.lead_key;

-- A view has no defaults: the triggers apply the table's. An unknown user or lead fails as the
-- table's foreign keys did.
CREATE TRIGGER email_events_insert
INSTEAD OF INSERT ON email_events
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed')
    WHERE NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.user_id)
       OR (NEW.lead_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM leads WHERE id = NEW.lead_id));
    INSERT INTO email_event_rows (id, user_key, campaign_id, message_id, event_type, email, lead_key,
                                  smartlead_org_id, event_data, timestamp, created_at, updated_at,
                                  dedupe_key, sequence_step, seq)
    VALUES (NEW.id, (SELECT user_key FROM users WHERE id = NEW.user_id), NEW.campaign_id,
            NEW.message_id, NEW.event_type, NEW.email,
            (SELECT lead_key FROM leads WHERE id = NEW.lead_id), NEW.smartlead_org_id,
            coalesce(NEW.event_data, '{}'),
            coalesce(NEW.timestamp, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            coalesce(NEW.created_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            coalesce(NEW.updated_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            NEW.dedupe_key, NEW.sequence_step, NEW.seq);
END;

CREATE TRIGGER email_events_update
INSTEAD OF UPDATE ON email_events
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed')
    WHERE NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.user_id)
       OR (NEW.lead_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM leads WHERE id = NEW.lead_id));
    UPDATE email_event_rows
    SET id = NEW.id, user_key = (SELECT user_key FROM users WHERE id = NEW.user_id),
        campaign_id = NEW.campaign_id, message_id = NEW.message_id, event_type = NEW.event_type,
        email = NEW.email, lead_key = (SELECT lead_key FROM leads WHERE id = NEW.lead_id),
        smartlead_org_id = NEW.smartlead_org_id, event_data = NEW.event_data,
        timestamp = NEW.timestamp, created_at = NEW.created_at, updated_at = NEW.updated_at,
        dedupe_key = NEW.dedupe_key, sequence_step = NEW.sequence_step, seq = NEW.seq
    WHERE id = OLD.id;
END;

CREATE TRIGGER email_events_delete
INSTEAD OF DELETE ON email_events
BEGIN
    DELETE FROM email_event_rows WHERE id = OLD.id;
END;
