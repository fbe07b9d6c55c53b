DROP TABLE rest_backfills;
