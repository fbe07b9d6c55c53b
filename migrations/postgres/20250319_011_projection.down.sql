-- The binary projects every queued event before it runs this step (`migrate down` catches the
-- projector up first), so nothing queued is lost from the rollups.
DROP TABLE projection_watermark;
DROP INDEX idx_email_events_lead_timestamp;
CREATE INDEX idx_email_events_lead_timestamp
    ON email_events (user_id, lead_id, "timestamp" DESC, campaign_id, event_type);
DROP TABLE projection_queue;
ALTER TABLE email_events DROP COLUMN seq;
DROP SEQUENCE email_events_seq;
