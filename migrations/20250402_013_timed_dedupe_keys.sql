-- Dedupe keys that begin with the event's time (issue 19). An email event's key was a hash, so
-- each insert into idx_email_events_user_dedupe landed on a random page of the index: one more
-- 4 KiB page written to the WAL, and copied again by a checkpoint, for every stored event. Keys
-- now begin with the event's own time (11 hex digits of Unix milliseconds), then the same hash:
-- webhooks arrive in about the order of their events, so a tenant's inserts append to its
-- rightmost page. Events without a time of their own, and REST backfills, keep hash keys.
--
-- Stored keys are not rewritten (a full pass over the events). Instead a delivery also looks
-- for its key without the prefix while this table has its row, which it has when the file held
-- events before this version.
CREATE TABLE legacy_dedupe_keys (
    id INTEGER PRIMARY KEY CHECK (id = 1)
);
INSERT INTO legacy_dedupe_keys (id) SELECT 1 WHERE EXISTS (SELECT 1 FROM email_events);
