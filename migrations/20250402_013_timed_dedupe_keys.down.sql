-- The older binary knows hash keys only: each time-prefixed key loses its prefix, and becomes
-- the key the older binary computes for the same event (a full pass over the events). updated_at
-- is set so that the table's trigger does not write each row twice.
UPDATE email_events
SET dedupe_key = substr(dedupe_key, 12), updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE length(dedupe_key) = 43 AND dedupe_key NOT GLOB '*[^0-9a-f]*';
DROP TABLE legacy_dedupe_keys;
