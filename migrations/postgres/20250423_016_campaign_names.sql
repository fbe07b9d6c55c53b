-- Campaign names (as the SQLite migration of the same name): one row per user and campaign, the
-- name its newest event carried and that event's time. Filled here from each campaign's newest
-- stored event that names it, then by every delivery.
CREATE TABLE campaign_names (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    named_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, campaign_id)
);

-- Each campaign with numbers (its rollup_totals rows; '' is the user-wide row), named by its
-- newest event, through the user/campaign/time index: one probe per campaign, not a scan.
INSERT INTO campaign_names (user_id, campaign_id, name, named_at, updated_at)
SELECT user_id, campaign_id, name, named_at, now()
FROM (
    SELECT c.user_id, c.campaign_id, e.named_at,
           btrim(left(regexp_replace(btrim(e.raw #>> '{}'), '[[:cntrl:]]', ' ', 'g'), 200)) AS name
    FROM (SELECT DISTINCT user_id, campaign_id FROM rollup_totals WHERE campaign_id <> '') c
    CROSS JOIN LATERAL (
        SELECT event_data -> 'campaign_name' AS raw, "timestamp" AS named_at
        FROM email_events
        WHERE user_id = c.user_id AND campaign_id = c.campaign_id
        ORDER BY "timestamp" DESC
        LIMIT 1
    ) e
    WHERE jsonb_typeof(e.raw) = 'string'
) named
WHERE name <> '';
