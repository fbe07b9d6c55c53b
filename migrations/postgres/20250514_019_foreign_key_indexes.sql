-- Deleting a lead sets its kept events' lead_id to NULL, and deleting an email event deletes its
-- backfill record: `users remove` does both for every lead and event of the user, in one
-- transaction. PostgreSQL looks those child rows up by the foreign keys' columns, which no index
-- led beyond `user_id`, so every deleted lead read all of the user's kept events. Only kept
-- events with a lead are indexed: the rest are never looked up by lead.
CREATE INDEX idx_smartlead_events_lead ON smartlead_events (user_id, lead_id)
    WHERE lead_id IS NOT NULL;
CREATE INDEX idx_rest_backfills_event ON rest_backfills (user_id, event_id);
