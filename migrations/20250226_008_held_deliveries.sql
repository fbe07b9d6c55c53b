-- Authenticated deliveries that could not be mapped to an event (no lead email, a time that does
-- not parse, a field of the wrong type, a shape Smartlead added later). Smartlead never retries
-- a 4xx, so refusing one would lose it for good; it is held here instead, answered 200, and
-- replayed through a later mapper (`smartlead-hub deliveries replay`). The payload is stored
-- as the webhook parsed it, without its `secret_key`, like event_data.
CREATE TABLE held_deliveries (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    smartlead_org_id TEXT NOT NULL,
    -- The error code the webhook would have answered (README, "Errors").
    reason TEXT NOT NULL,
    -- The mapper's own words: which field, what was wrong.
    detail TEXT NOT NULL,
    -- SQLite-ism: json_valid(); PostgreSQL would declare the column JSONB instead.
    payload TEXT NOT NULL CHECK (json_valid(payload)),
    -- SHA-256 of the payload: the same delivery held twice (a retry, an import) is held once.
    payload_sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL CHECK (bytes >= 0),
    received_at TEXT NOT NULL
);
CREATE UNIQUE INDEX idx_held_deliveries_user_payload ON held_deliveries (user_id, payload_sha256);
-- Oldest first, for dropping the oldest when the table passes its bounds.
CREATE INDEX idx_held_deliveries_received ON held_deliveries (received_at, id);
