-- Payloads compressed (issue 19). email_events.event_data now holds either JSON text or a zstd
-- frame made with one of the dictionaries below; each frame's header carries its dictionary's
-- zstd id, so every row stays readable whichever dictionary was newest when it was written.
-- The column's CHECK is loosened to admit frames, and the built-in dictionary is added as
-- version 1, by the steps in src/storage/sqlite/payloads/schema.rs (SQL cannot alter a CHECK).
-- Nothing is rewritten here: `smartlead-hub payloads compress` recompresses stored payloads
-- in the background, resumably.
--
-- SQLite-only: PostgreSQL compresses large values itself (TOAST) and keeps event_data JSONB.

CREATE TABLE payload_dictionaries (
    -- The newest version compresses new payloads.
    version INTEGER PRIMARY KEY CHECK (version > 0),
    -- What zstd writes into each frame's header: how a frame finds its dictionary.
    zstd_id INTEGER NOT NULL UNIQUE CHECK (zstd_id > 0),
    dictionary BLOB NOT NULL,
    trained_on TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Where each recompression pass is: every email event with rowid <= after_rowid is stored in
-- the pass's form (target: the dictionary version it writes with; 0, back to JSON text).
CREATE TABLE payload_recompression (
    target INTEGER PRIMARY KEY CHECK (target >= 0),
    after_rowid INTEGER NOT NULL CHECK (after_rowid >= 0),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
