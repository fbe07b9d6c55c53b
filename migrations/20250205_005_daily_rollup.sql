-- Events per day, so that a daily series over months reads one row per day and metric instead of
-- summing 24 hourly rows for each. Maintained with the other rollups, in the same transaction.
-- SQLite-ism: WITHOUT ROWID (see migration 004).
CREATE TABLE rollup_daily (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    day TEXT NOT NULL,
    events INTEGER NOT NULL,
    PRIMARY KEY (user_id, campaign_id, metric, day)
) WITHOUT ROWID;

INSERT INTO rollup_daily (user_id, campaign_id, metric, day, events)
SELECT user_id, campaign_id, metric, substr(hour, 1, 10) || 'T00:00:00.000Z', sum(events)
FROM rollup_hourly
GROUP BY user_id, campaign_id, metric, substr(hour, 1, 10);
