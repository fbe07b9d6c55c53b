-- The lead list's two indexes hold only leads with email activity (issue 19). A lead is
-- inserted by the delivery that first names it, with no activity yet (the projector sets it),
-- so each new lead wrote an entry with a NULL time into both indexes on the acknowledgement
-- path, two random pages of the WAL per new lead, only for the projector to move the entries
-- moments later. The lead list reads only leads with activity (`last_event_timestamp IS NOT
-- NULL`, which also lets the planner use a partial index), so nothing reads those entries.
DROP INDEX idx_leads_user_last_event;
CREATE INDEX idx_leads_user_last_event ON leads (user_id, last_event_timestamp)
    WHERE last_event_timestamp IS NOT NULL;
DROP INDEX idx_leads_user_campaign_last_event;
CREATE INDEX idx_leads_user_campaign_last_event ON leads (user_id, smartlead_campaign_id, last_event_timestamp)
    WHERE last_event_timestamp IS NOT NULL;
