-- Events backfilled from Smartlead's REST API, which a later webhook delivery of the same
-- email and kind claims instead of being counted twice (see the SQLite migration).
CREATE TABLE rest_backfills (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id text COLLATE "C" NOT NULL,
    email text NOT NULL,
    step integer NOT NULL,
    kind text NOT NULL,
    event_id uuid NOT NULL,
    PRIMARY KEY (user_id, campaign_id, email, step, kind),
    FOREIGN KEY (user_id, event_id) REFERENCES email_events (user_id, id) ON DELETE CASCADE
);
