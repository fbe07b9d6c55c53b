-- Derived data off the acknowledgement path (issue 19; see the SQLite migration). Several writer
-- connections and processes commit at once here, so the order seqs are given out in is not the
-- order they become visible: the projector cannot trust "everything below N". Instead each
-- delivery's transaction also queues its event, and the projector applies the queued events it
-- can see and deletes them in one transaction: an event is projected exactly when its queue row
-- is gone. The queue row carries what the projector needs, so it never reads the event back.
CREATE SEQUENCE email_events_seq AS bigint;
ALTER TABLE email_events ADD COLUMN seq bigint;

CREATE TABLE projection_queue (
    -- A removed user's queued events go with it (its rollups do too).
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq bigint NOT NULL,
    lead_id uuid,
    campaign_id text COLLATE "C" NOT NULL,
    event_type text NOT NULL,
    "timestamp" timestamptz NOT NULL,
    sequence_step integer NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, seq)
);
-- The projector takes the oldest first.
CREATE INDEX idx_projection_queue_seq ON projection_queue (seq);

-- The first-seen walk excludes queued events: seq joins the lead timeline index so that the walk
-- stays on index entries, as before.
DROP INDEX idx_email_events_lead_timestamp;
CREATE INDEX idx_email_events_lead_timestamp
    ON email_events (user_id, lead_id, "timestamp" DESC, campaign_id, event_type, seq);

-- One row: the highest seq the projector has applied (the answers' `as_of` while nothing is
-- queued; with events queued, the one below the oldest).
CREATE TABLE projection_watermark (
    id integer PRIMARY KEY CHECK (id = 1),
    through bigint NOT NULL CHECK (through >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO projection_watermark (id, through) VALUES (1, 0);
