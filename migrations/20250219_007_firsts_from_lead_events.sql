-- Whether an event is a lead's first of a metric is now read from the lead's own events instead
-- of a table of first-seen rows. Every email event is stored with the lead of its address, so
-- the lead's index range holds the same answer; with the campaign and type in the index entry
-- that is a walk over one index page, the very page the new event's entry is written to. The
-- first-seen table was a sixth of the WAL frames each commit wrote (BENCHMARKS.md), and a B-tree
-- lookup and insert per metric and scope. Its rows are exactly what `rollups rebuild|check`
-- recompute from email_events, so nothing is lost by dropping it.
DROP TABLE rollup_lead_firsts;

-- The lead timeline index keeps its name, its order and every query it served (the timeline,
-- search by address); the two trailing columns make it cover the first-seen walk.
DROP INDEX idx_email_events_lead_timestamp;
CREATE INDEX idx_email_events_lead_timestamp
    ON email_events (lead_id, timestamp DESC, campaign_id, event_type);
