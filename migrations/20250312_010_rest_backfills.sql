-- Events backfilled from Smartlead's REST API (`smartlead sync`) for emails whose webhook never
-- arrived. REST knows an email (lead, campaign, sequence step) and the first time of each kind,
-- not the webhook's payload, so a backfilled event cannot share the webhook's dedupe key. This
-- table is where the two meet: a webhook delivery of the same lead, campaign, step and kind that
-- arrives later (hours later, with a differently-precise time) claims the backfilled event - the
-- row takes the webhook's payload and dedupe key, the counts stay as they are - instead of being
-- counted a second time. Only backfilled events are listed: the webhook's lookup probes a table
-- that is usually empty.
CREATE TABLE rest_backfills (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    email TEXT NOT NULL,
    step INTEGER NOT NULL,
    -- The event's headline kind: sent, opened, clicked, replied, bounced, unsubscribed.
    kind TEXT NOT NULL,
    event_id TEXT NOT NULL REFERENCES email_events (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, campaign_id, email, step, kind)
) WITHOUT ROWID;
