-- Derived data off the acknowledgement path (issue 19). A delivery's transaction stores the event,
-- its dedupe key and its lead; the rollups and the lead's latest activity are derived from the
-- stored events by a projector that applies them in large batches, a few times a second, in one
-- transaction with the watermark below. A crash anywhere replays exactly the events above it.
--
-- seq: the event's place in commit order (one writer, so assignment order is commit order),
-- handed to the client in the webhook's answer so that a read can wait for it (`min_event`).
-- Events stored before this migration have none: they are already in the rollups.
ALTER TABLE email_events ADD COLUMN seq INTEGER;

-- The projector's scan (events above the watermark, in order) and the next seq (max + 1).
-- Partial: the events from before the migration take no room here.
CREATE UNIQUE INDEX idx_email_events_seq ON email_events (seq) WHERE seq IS NOT NULL;

-- The first-seen walk (is this the lead's first event of a metric?) now runs in the projector and
-- must see only projected events: seq joins the lead timeline index so that the walk stays on
-- the index entries, as before. Same name, order and queries served.
DROP INDEX idx_email_events_lead_timestamp;
CREATE INDEX idx_email_events_lead_timestamp
    ON email_events (lead_id, timestamp DESC, campaign_id, event_type, seq);

-- One row: every event with seq <= through is counted in the rollups and in its lead's activity.
CREATE TABLE projection_watermark (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    through INTEGER NOT NULL CHECK (through >= 0),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO projection_watermark (id, through) VALUES (1, 0);
