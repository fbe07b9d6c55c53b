-- A campaign's kept events (`/api/kept-events?campaign_id=`, the dashboard's "Other Smartlead
-- events" on a campaign's page) were read through the user's time index, every kept event of
-- the user's checked for its campaign until a page was full: a campaign with few of them read
-- all of the user's. This index serves the filter and the order. Kept events are a small part
-- of the traffic (category and status changes, manual steps), so the ingest barely pays for it.
CREATE INDEX idx_smartlead_events_user_campaign_received
    ON smartlead_events (user_id, campaign_id, received_at, id);
