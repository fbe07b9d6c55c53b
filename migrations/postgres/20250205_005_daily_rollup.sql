-- Events per day, maintained with the other rollups in the same transaction.
CREATE TABLE rollup_daily (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id text COLLATE "C" NOT NULL,
    metric text COLLATE "C" NOT NULL,
    day timestamptz NOT NULL,
    events bigint NOT NULL,
    PRIMARY KEY (user_id, campaign_id, metric, day)
);

INSERT INTO rollup_daily (user_id, campaign_id, metric, day, events)
SELECT user_id, campaign_id, metric, date_trunc('day', hour, 'UTC'), sum(events)
FROM rollup_hourly
GROUP BY user_id, campaign_id, metric, date_trunc('day', hour, 'UTC');
