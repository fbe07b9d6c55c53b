-- Whether an event is a lead's first of a metric is read from the lead's own events: the
-- first-seen table goes, and the lead timeline index carries the campaign and type (and leads
-- with the tenant, so that on Citus the walk stays on one shard).
DROP TABLE rollup_lead_firsts;
DROP INDEX idx_email_events_lead_timestamp;
CREATE INDEX idx_email_events_lead_timestamp
    ON email_events (user_id, lead_id, "timestamp" DESC, campaign_id, event_type);
