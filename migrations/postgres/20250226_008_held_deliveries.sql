-- Authentic deliveries that could not be mapped to an event, held for a later replay (see the
-- SQLite migration of this version).
CREATE TABLE held_deliveries (
    id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    smartlead_org_id text NOT NULL,
    reason text NOT NULL,
    detail text NOT NULL,
    payload jsonb NOT NULL,
    payload_sha256 text NOT NULL,
    bytes bigint NOT NULL CHECK (bytes >= 0),
    received_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, id)
);
CREATE UNIQUE INDEX idx_held_deliveries_user_payload ON held_deliveries (user_id, payload_sha256);
CREATE INDEX idx_held_deliveries_received ON held_deliveries (received_at, id);
