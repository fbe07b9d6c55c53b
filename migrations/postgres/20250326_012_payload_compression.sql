-- Payloads compressed (issue 19): on SQLite, event_data becomes a zstd frame made with a stored
-- dictionary. Nothing to do here: PostgreSQL compresses large values itself (TOAST) and
-- event_data stays JSONB. The version exists so that a version means the same schema on both
-- backends (`migrate-data` copies between equal versions).
SELECT 1;
