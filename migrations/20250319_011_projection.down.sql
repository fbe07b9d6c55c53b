-- The binary projects every pending event before it runs this step (`migrate down` catches the
-- projector up first), so nothing above the watermark is lost from the rollups.
DROP TABLE projection_watermark;
DROP INDEX idx_email_events_seq;
DROP INDEX idx_email_events_lead_timestamp;
ALTER TABLE email_events DROP COLUMN seq;
CREATE INDEX idx_email_events_lead_timestamp
    ON email_events (lead_id, timestamp DESC, campaign_id, event_type);
