-- What Smartlead calls each campaign and what state it says it is in (as the SQLite migration
-- of the same name): one row per user and campaign, the name and the status its newest event
-- carried, each with that event's time. Filled here from each campaign's newest stored event,
-- then by every delivery.
CREATE TABLE campaigns (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id text COLLATE "C" NOT NULL,
    name text COLLATE "C" CHECK (char_length(name) BETWEEN 1 AND 200),
    named_at timestamptz,
    status text COLLATE "C" CHECK (char_length(status) BETWEEN 1 AND 32),
    status_at timestamptz,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, campaign_id),
    CHECK ((name IS NULL) = (named_at IS NULL) AND (status IS NULL) = (status_at IS NULL)),
    CHECK (name IS NOT NULL OR status IS NOT NULL)
);

-- Each campaign with numbers (its rollup_totals rows; '' is the user-wide row), labelled by its
-- newest event, through the user/campaign/time index: one probe per campaign, not a scan. The
-- same cleaning as the service's (src/domain/campaign_labels.rs): a name trimmed, one line, at
-- most 200 characters; a status one upper-cased word.
INSERT INTO campaigns (user_id, campaign_id, name, named_at, status, status_at, updated_at)
SELECT user_id, campaign_id,
       NULLIF(name, ''), CASE WHEN NULLIF(name, '') IS NOT NULL THEN at END,
       status, CASE WHEN status IS NOT NULL THEN at END,
       now()
FROM (
    SELECT c.user_id, c.campaign_id, e.at,
           CASE WHEN jsonb_typeof(e.name) = 'string'
                THEN btrim(left(regexp_replace(btrim(e.name #>> '{}'), '[[:cntrl:]]', ' ', 'g'), 200))
           END AS name,
           CASE WHEN jsonb_typeof(e.status) = 'string'
                 AND upper(btrim(e.status #>> '{}')) ~ '^[A-Z0-9_]{1,32}$'
                THEN upper(btrim(e.status #>> '{}'))
           END AS status
    FROM (SELECT DISTINCT user_id, campaign_id FROM rollup_totals WHERE campaign_id <> '') c
    CROSS JOIN LATERAL (
        SELECT event_data -> 'campaign_name' AS name, event_data -> 'campaign_status' AS status,
               "timestamp" AS at
        FROM email_events
        WHERE user_id = c.user_id AND campaign_id = c.campaign_id
        ORDER BY "timestamp" DESC
        LIMIT 1
    ) e
) labelled
WHERE NULLIF(name, '') IS NOT NULL OR status IS NOT NULL;
