-- Each time-prefixed key loses its prefix: the key the older binary computes for the same event.
UPDATE email_events SET dedupe_key = substr(dedupe_key, 12), updated_at = now()
WHERE dedupe_key ~ '^[0-9a-f]{43}$';
DROP TABLE legacy_dedupe_keys;
