DROP INDEX idx_rest_backfills_event;
DROP INDEX idx_smartlead_events_lead;
