-- Validation script for the Smartlead integration schema (the seed's test_smartlead_schema.sql,
-- for SQLite). Run against a migrated database:
--
--     sqlite3 data/smartlead-hub.db < migrations/test_smartlead_schema.sql
--
-- It stops at the first failed check and exits non-zero; the error names the script line, and
-- that line's `what` text says what was expected. All sample rows are rolled back.
-- (The `.bail on` line is a sqlite3 shell command; the Rust test that runs this script drops
-- lines starting with '.' and relies on execute_batch stopping at the first error instead.)
.bail on
-- Safe against the running service: wait up to 10 s for its writer instead of failing with
-- "database is locked", and take the write lock up front (a deferred BEGIN would read first and
-- then fail at once on upgrading, whatever the timeout, once the service has committed meanwhile).
.timeout 10000
PRAGMA foreign_keys = ON;

CREATE TEMP TABLE expect (what TEXT NOT NULL, ok INTEGER NOT NULL CHECK (ok = 1));

BEGIN IMMEDIATE;

-- 1. users: new columns and the org index.
INSERT INTO expect SELECT 'users.smartlead_org_id exists', count(*) = 1 FROM pragma_table_info('users') WHERE name = 'smartlead_org_id';
INSERT INTO expect SELECT 'users.smartlead_org_name exists', count(*) = 1 FROM pragma_table_info('users') WHERE name = 'smartlead_org_name';

-- 2. leads: new columns.
INSERT INTO expect SELECT 'leads.smartlead_campaign_id exists', count(*) = 1 FROM pragma_table_info('leads') WHERE name = 'smartlead_campaign_id';
INSERT INTO expect SELECT 'leads.last_email_event exists', count(*) = 1 FROM pragma_table_info('leads') WHERE name = 'last_email_event';
INSERT INTO expect SELECT 'leads.last_event_timestamp exists', count(*) = 1 FROM pragma_table_info('leads') WHERE name = 'last_event_timestamp';

-- 3. email_events: every seed column, readable as before. Since 015 it is a view over
--    email_event_rows, which refers to users and leads by integer keys (user_key, lead_key).
INSERT INTO expect SELECT 'email_events has its 12 seed columns', count(*) = 12 FROM pragma_table_info('email_events')
    WHERE name IN ('id', 'user_id', 'campaign_id', 'message_id', 'event_type', 'email', 'lead_id',
                   'smartlead_org_id', 'event_data', 'timestamp', 'created_at', 'updated_at');
INSERT INTO expect SELECT 'email_event_rows.id is the primary key', pk = 1 FROM pragma_table_info('email_event_rows') WHERE name = 'id';
INSERT INTO expect SELECT 'email_event_rows NOT NULL columns', count(*) = 6 FROM pragma_table_info('email_event_rows')
    WHERE "notnull" = 1 AND name IN ('user_key', 'campaign_id', 'message_id', 'event_type', 'email', 'event_data');
INSERT INTO expect SELECT 'email_event_rows lead_key and smartlead_org_id are nullable', count(*) = 2 FROM pragma_table_info('email_event_rows')
    WHERE "notnull" = 0 AND name IN ('lead_key', 'smartlead_org_id');
INSERT INTO expect SELECT 'users.user_key and leads.lead_key are unique (015)', count(*) = 2 FROM (
    SELECT name FROM pragma_index_list('users') WHERE name = 'idx_users_user_key' AND "unique" = 1
    UNION ALL SELECT name FROM pragma_index_list('leads') WHERE name = 'idx_leads_lead_key' AND "unique" = 1);
INSERT INTO expect SELECT 'new users and leads are given their keys', count(*) = 2 FROM sqlite_master
    WHERE type = 'trigger' AND name IN ('users_user_key', 'leads_lead_key');

-- 4. Foreign keys: user -> CASCADE, lead -> SET NULL.
INSERT INTO expect SELECT 'email_event_rows.user_key -> users ON DELETE CASCADE', count(*) = 1 FROM pragma_foreign_key_list('email_event_rows')
    WHERE "from" = 'user_key' AND "table" = 'users' AND "to" = 'user_key' AND on_delete = 'CASCADE';
INSERT INTO expect SELECT 'email_event_rows.lead_key -> leads ON DELETE SET NULL', count(*) = 1 FROM pragma_foreign_key_list('email_event_rows')
    WHERE "from" = 'lead_key' AND "table" = 'leads' AND "to" = 'lead_key' AND on_delete = 'SET NULL';

-- 5. Indexes. The seed's usage queries are served by: the users primary key and
--    idx_users_smartlead_org_id (org lookups); idx_email_events_lead_timestamp (lead activity);
--    idx_email_events_user_campaign_time, which has the seed's (user_id, campaign_id) index as its
--    prefix, with the user's integer key in place of its id since 015 (campaign performance).
--    Migrations 004 and 006 dropped the seed indexes no query uses and say why for each; this
--    checks the set that remains. Migration 007 let the lead
--    index carry each event's campaign and type, for the first-seen walk, and 011 its seq, since
--    the projector walks only the events it has projected.
INSERT INTO expect SELECT 'every index the schema promises exists', count(*) = 7 FROM sqlite_master WHERE type = 'index' AND name IN (
    'idx_users_smartlead_org_id', 'idx_leads_user_last_event', 'idx_leads_user_campaign_last_event',
    'idx_email_events_user_dedupe', 'idx_email_events_lead_timestamp', 'idx_email_events_user_campaign_time',
    'idx_email_events_user_time');
INSERT INTO expect SELECT 'idx_email_events_user_campaign_time is (user_key, campaign_id, timestamp)', group_concat(name, ',') = 'user_key,campaign_id,timestamp'
    FROM (SELECT name FROM pragma_index_info('idx_email_events_user_campaign_time') ORDER BY seqno);
INSERT INTO expect SELECT 'idx_users_smartlead_org_id is unique', "unique" = 1 FROM pragma_index_list('users') WHERE name = 'idx_users_smartlead_org_id';
INSERT INTO expect SELECT 'idx_email_events_lead_timestamp is (lead_key, timestamp DESC, campaign_id, event_type, seq)',
    group_concat(name || ':' || "desc", ',') = 'lead_key:0,timestamp:1,campaign_id:0,event_type:0,seq:0'
    FROM (SELECT name, "desc" FROM pragma_index_xinfo('idx_email_events_lead_timestamp') WHERE key = 1 ORDER BY seqno);
INSERT INTO expect SELECT 'the lead list''s indexes hold only leads with activity (014)', count(*) = 2 FROM pragma_index_list('leads')
    WHERE name IN ('idx_leads_user_last_event', 'idx_leads_user_campaign_last_event') AND partial = 1;
INSERT INTO expect SELECT 'update_email_events_updated_at trigger exists', count(*) = 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'update_email_events_updated_at';

-- 6. Sample data: user with an org, lead with activity, event with JSON data.
INSERT INTO users (id, email, name, smartlead_org_id, smartlead_org_name)
VALUES ('00000000-0000-4000-8000-000000000001', 'schema-test@example.com', 'Test User', 'sl_org_456', 'Test Organization');
INSERT INTO leads (id, user_id, email, first_name, last_name, company, smartlead_campaign_id, last_email_event, last_event_timestamp)
VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', 'john@testcompany.com', 'John', 'Doe',
        'Test Company', 'sl_campaign_789', 'email_opened', '2025-01-08T10:00:00.000Z');
INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email, lead_id, smartlead_org_id, event_data, timestamp)
VALUES ('00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000001', 'sl_campaign_789', 'msg_123',
        'email_opened', 'john@testcompany.com', '00000000-0000-4000-8000-000000000002', 'sl_org_456',
        '{"ip_address": "192.168.1.1", "user_agent": "Mozilla/5.0"}', '2025-01-08T10:00:00.000Z');
INSERT INTO expect SELECT 'sample event stored', count(*) = 1 FROM email_events WHERE id = '00000000-0000-4000-8000-000000000003';

-- 7. The CHECK constraints reject what they must. OR IGNORE turns the CHECK failure into a
--    skipped row, so the check can count it instead of aborting the script.
INSERT OR IGNORE INTO email_events (id, user_id, campaign_id, message_id, event_type, email, event_data)
VALUES ('00000000-0000-4000-8000-0000000000e1', '00000000-0000-4000-8000-000000000001', 'c', 'm', 'invalid_event_type', 'x@example.com', '{}');
INSERT INTO expect SELECT 'invalid event type rejected', count(*) = 0 FROM email_events WHERE id = '00000000-0000-4000-8000-0000000000e1';
INSERT OR IGNORE INTO email_events (id, user_id, campaign_id, message_id, event_type, email, event_data)
VALUES ('00000000-0000-4000-8000-0000000000e2', '00000000-0000-4000-8000-000000000001', 'c', 'm', 'email_opened', 'x@example.com', '{not json');
INSERT INTO expect SELECT 'invalid JSON in event_data rejected', count(*) = 0 FROM email_events WHERE id = '00000000-0000-4000-8000-0000000000e2';
INSERT OR IGNORE INTO email_events (id, user_id, campaign_id, message_id, event_type, email, event_data)
VALUES ('00000000-0000-4000-8000-0000000000e3', '00000000-0000-4000-8000-000000000001', NULL, 'm', 'email_opened', 'x@example.com', '{}');
INSERT INTO expect SELECT 'NULL campaign_id rejected', count(*) = 0 FROM email_events WHERE id = '00000000-0000-4000-8000-0000000000e3';

-- 8. Every one of the 11 normalized types is accepted.
INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email, event_data)
SELECT printf('00000000-0000-4000-8000-1%011d', row_number() OVER ()), '00000000-0000-4000-8000-000000000001', 'c', 'm', t, 'x@example.com', '{}'
FROM (SELECT column1 AS t FROM (VALUES ('email_opened'), ('email_clicked'), ('email_replied'), ('email_bounced'),
      ('email_delivered'), ('email_sent'), ('email_unsubscribed'), ('email_spam_reported'),
      ('email_follow_up_opened'), ('email_follow_up_clicked'), ('email_follow_up_replied')));
INSERT INTO expect SELECT 'all 11 event types accepted', count(DISTINCT event_type) = 11 FROM email_events WHERE user_id = '00000000-0000-4000-8000-000000000001';

-- 9. 'smartlead' is an accepted provider; an unknown one is not.
INSERT INTO integration_credentials (id, user_id, provider, credentials)
VALUES ('00000000-0000-4000-8000-000000000004', '00000000-0000-4000-8000-000000000001', 'smartlead', '{"webhook_secret": "s"}');
INSERT OR IGNORE INTO integration_credentials (id, user_id, provider, credentials)
VALUES ('00000000-0000-4000-8000-000000000005', '00000000-0000-4000-8000-000000000001', 'myspace', '{}');
INSERT INTO expect SELECT 'smartlead provider accepted, unknown refused', count(*) = 1 FROM integration_credentials WHERE user_id = '00000000-0000-4000-8000-000000000001';

-- 10. Foreign-key actions: deleting the lead nulls the event's lead_id; deleting the user
--     removes its events.
DELETE FROM leads WHERE id = '00000000-0000-4000-8000-000000000002';
INSERT INTO expect SELECT 'lead delete sets email_events.lead_id NULL', lead_id IS NULL FROM email_events WHERE id = '00000000-0000-4000-8000-000000000003';
DELETE FROM users WHERE id = '00000000-0000-4000-8000-000000000001';
INSERT INTO expect SELECT 'user delete cascades to email_events', count(*) = 0 FROM email_events WHERE user_id = '00000000-0000-4000-8000-000000000001';

ROLLBACK;

SELECT 'Schema validation completed successfully';
