-- Integer keys (issue 19, space per event): on SQLite, email events now name their user and
-- lead by small integer keys (see the SQLite migration of the same name). Not here, by design:
-- ids are the native uuid type (16 bytes, not 36 characters of text), and user_id is the
-- distribution column that every key begins with, so that Citus can shard by tenant
-- (POSTGRES-NOTES). The version exists so both backends number their schemas alike
-- (`migrate-data` copies only between equal versions); it records the decision on the table.
COMMENT ON TABLE email_events IS
    'Email events. Ids stay uuid: user_id is the distribution column (Citus); see migration 015.';
