-- Dedupe keys that begin with the event's time (issue 19): see the SQLite migration of the same
-- name. A delivery also looks for its key without the prefix while this table has its row.
CREATE TABLE legacy_dedupe_keys (
    id integer PRIMARY KEY CHECK (id = 1)
);
INSERT INTO legacy_dedupe_keys (id) SELECT 1 WHERE EXISTS (SELECT 1 FROM email_events);
