DROP TABLE rollup_daily;
