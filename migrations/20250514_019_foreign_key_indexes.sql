-- Deleting a lead sets its kept events' lead_id to NULL, and deleting an email event deletes its
-- backfill record: `users remove` does both for every lead and event of the user, in one
-- transaction. SQLite finds those child rows by these columns, which no index led, so every
-- deleted lead read the whole of `smartlead_events` (a user with 5,000 leads in a file with 1M
-- kept events took more than two minutes and was stopped; with these indexes, seconds).
-- Only kept events with a lead are indexed: the rest are never looked up by lead.
CREATE INDEX idx_smartlead_events_lead ON smartlead_events (lead_id) WHERE lead_id IS NOT NULL;
CREATE INDEX idx_rest_backfills_event ON rest_backfills (event_id);
