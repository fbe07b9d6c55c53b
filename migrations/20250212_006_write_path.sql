-- Fewer random B-tree pages per stored event. Every page an event touches is written to the WAL
-- in full at each commit, so a key that lands on a random page costs 4 KiB of I/O per event,
-- whatever the batch size; this was the larger half of the writer's time (BENCHMARKS.md).

-- 1. An event's first-seen rows (its campaign and the user-wide scope, each for its type and
--    its headline kind) were spread over four places in the key space; keyed by the lead first
--    they share one page. The table is only read by key, in the write path, and scanned whole
--    by `rollups rebuild|check`, so no query depends on the old order.
-- SQLite-ism: WITHOUT ROWID (see migration 004).
CREATE TABLE rollup_lead_firsts_by_lead (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    email TEXT NOT NULL,
    first_at TEXT NOT NULL,
    PRIMARY KEY (user_id, email, campaign_id, metric)
) WITHOUT ROWID;
INSERT INTO rollup_lead_firsts_by_lead SELECT * FROM rollup_lead_firsts;
DROP TABLE rollup_lead_firsts;
ALTER TABLE rollup_lead_firsts_by_lead RENAME TO rollup_lead_firsts;

-- 2. Event search by address now finds the lead by (user_id, email), which the leads table's
--    unique key serves, and walks idx_email_events_lead_timestamp: the hub stores every email
--    event with the lead of its address. (email, event_type) was one more random page per event.
DROP INDEX idx_email_events_email_event_type;
