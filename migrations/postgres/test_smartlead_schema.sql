-- Validation script for the Smartlead integration schema on PostgreSQL (the seed's
-- test_smartlead_schema.sql, ported; the SQLite one is one folder up). Run against a migrated
-- database:
--
--     psql -v ON_ERROR_STOP=1 -f migrations/postgres/test_smartlead_schema.sql postgres://…
--
-- It stops at the first failed check and exits non-zero; the error names the check. All sample
-- rows are rolled back, so it is safe against a running service.

\set ON_ERROR_STOP 1
BEGIN;

CREATE TEMP TABLE expect (what text NOT NULL, ok boolean NOT NULL CHECK (ok)) ON COMMIT DROP;

-- 1. users: new columns and the org index.
INSERT INTO expect SELECT 'users.smartlead_org_id exists', count(*) = 1 FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'users' AND column_name = 'smartlead_org_id';
INSERT INTO expect SELECT 'users.smartlead_org_name exists', count(*) = 1 FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'users' AND column_name = 'smartlead_org_name';

-- 2. leads: new columns.
INSERT INTO expect SELECT 'leads has its three Smartlead columns', count(*) = 3 FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'leads'
      AND column_name IN ('smartlead_campaign_id', 'last_email_event', 'last_event_timestamp');

-- 3. email_events: every column, with its NOT NULL, types and primary key.
INSERT INTO expect SELECT 'email_events has its 12 seed columns', count(*) = 12 FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'email_events'
      AND column_name IN ('id', 'user_id', 'campaign_id', 'message_id', 'event_type', 'email', 'lead_id',
                          'smartlead_org_id', 'event_data', 'timestamp', 'created_at', 'updated_at');
INSERT INTO expect SELECT 'email_events NOT NULL columns', count(*) = 6 FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'email_events' AND is_nullable = 'NO'
      AND column_name IN ('user_id', 'campaign_id', 'message_id', 'event_type', 'email', 'event_data');
INSERT INTO expect SELECT 'email_events lead_id and smartlead_org_id are nullable', count(*) = 2 FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'email_events' AND is_nullable = 'YES'
      AND column_name IN ('lead_id', 'smartlead_org_id');
INSERT INTO expect SELECT 'email_events native types (uuid, jsonb, timestamptz)', count(*) = 3 FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'email_events'
      AND ((column_name = 'id' AND data_type = 'uuid')
        OR (column_name = 'event_data' AND data_type = 'jsonb')
        OR (column_name = 'timestamp' AND data_type = 'timestamp with time zone'));
INSERT INTO expect SELECT 'email_events primary key is (user_id, id)',
    array_agg(a.attname::text ORDER BY k.n) = ARRAY['user_id', 'id']
    FROM pg_constraint c, unnest(c.conkey) WITH ORDINALITY AS k (attnum, n), pg_attribute a
    WHERE c.conrelid = 'email_events'::regclass AND c.contype = 'p'
      AND a.attrelid = c.conrelid AND a.attnum = k.attnum;

-- 4. Foreign keys: user -> CASCADE, lead -> SET NULL (of lead_id only).
INSERT INTO expect SELECT 'email_events.user_id -> users ON DELETE CASCADE', count(*) = 1 FROM pg_constraint
    WHERE conrelid = 'email_events'::regclass AND contype = 'f' AND confrelid = 'users'::regclass AND confdeltype = 'c';
INSERT INTO expect SELECT 'email_events (user_id, lead_id) -> leads ON DELETE SET NULL', count(*) = 1 FROM pg_constraint
    WHERE conrelid = 'email_events'::regclass AND contype = 'f' AND confrelid = 'leads'::regclass AND confdeltype = 'n';

-- 5. Indexes the schema promises (the SQLite script's set), and their shapes.
INSERT INTO expect SELECT 'every index the schema promises exists', count(*) = 7 FROM pg_indexes
    WHERE schemaname = current_schema() AND indexname IN (
        'idx_users_smartlead_org_id', 'idx_leads_user_last_event', 'idx_leads_user_campaign_last_event',
        'idx_email_events_user_dedupe', 'idx_email_events_lead_timestamp', 'idx_email_events_user_campaign_time',
        'idx_email_events_user_time');
INSERT INTO expect SELECT 'idx_email_events_user_campaign_time is (user_id, campaign_id, timestamp)',
    indexdef LIKE '%(user_id, campaign_id, "timestamp")' FROM pg_indexes WHERE indexname = 'idx_email_events_user_campaign_time';
INSERT INTO expect SELECT 'idx_users_smartlead_org_id is unique', indexdef LIKE 'CREATE UNIQUE INDEX%'
    FROM pg_indexes WHERE indexname = 'idx_users_smartlead_org_id';
INSERT INTO expect SELECT 'idx_email_events_lead_timestamp is (user_id, lead_id, timestamp DESC, campaign_id, event_type, seq)',
    indexdef LIKE '%(user_id, lead_id, "timestamp" DESC, campaign_id, event_type, seq)'
    FROM pg_indexes WHERE indexname = 'idx_email_events_lead_timestamp';
INSERT INTO expect SELECT 'the lead list''s indexes hold only leads with activity (014)', count(*) = 2 FROM pg_indexes
    WHERE indexname IN ('idx_leads_user_last_event', 'idx_leads_user_campaign_last_event')
      AND indexdef LIKE '%WHERE (last_event_timestamp IS NOT NULL)';
INSERT INTO expect SELECT 'update_email_events_updated_at trigger exists', count(*) = 1 FROM pg_trigger
    WHERE tgrelid = 'email_events'::regclass AND tgname = 'update_email_events_updated_at';

-- 6. Sample data: user with an org, lead with activity, event with JSON data.
INSERT INTO users (id, email, name, smartlead_org_id, smartlead_org_name)
VALUES ('00000000-0000-4000-8000-000000000001', 'schema-test@example.com', 'Test User', 'sl_org_456', 'Test Organization');
INSERT INTO leads (id, user_id, email, first_name, last_name, company, smartlead_campaign_id, last_email_event, last_event_timestamp)
VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', 'john@testcompany.com', 'John', 'Doe',
        'Test Company', 'sl_campaign_789', 'email_opened', '2025-01-08T10:00:00.000Z');
INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email, lead_id, smartlead_org_id, event_data, "timestamp")
VALUES ('00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000001', 'sl_campaign_789', 'msg_123',
        'email_opened', 'john@testcompany.com', '00000000-0000-4000-8000-000000000002', 'sl_org_456',
        '{"ip_address": "192.168.1.1", "user_agent": "Mozilla/5.0"}', '2025-01-08T10:00:00.000Z');
INSERT INTO expect SELECT 'sample event stored', count(*) = 1 FROM email_events WHERE id = '00000000-0000-4000-8000-000000000003';

-- The updated_at trigger moves updated_at on an update that leaves it alone.
UPDATE email_events SET updated_at = '2000-01-01T00:00:00Z' WHERE id = '00000000-0000-4000-8000-000000000003';
UPDATE email_events SET message_id = 'msg_124' WHERE id = '00000000-0000-4000-8000-000000000003';
INSERT INTO expect SELECT 'the trigger sets updated_at', updated_at > '2000-01-01T00:00:00Z' FROM email_events
    WHERE id = '00000000-0000-4000-8000-000000000003';

-- 7. The constraints reject what they must: each attempt in a savepoint, its error caught.
CREATE FUNCTION pg_temp.refused(statement text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN false;
EXCEPTION WHEN check_violation OR not_null_violation OR invalid_text_representation THEN
    RETURN true;
END;
$$;
INSERT INTO expect SELECT 'invalid event type rejected', pg_temp.refused(
    $s$INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email, event_data)
       VALUES ('00000000-0000-4000-8000-0000000000e1', '00000000-0000-4000-8000-000000000001', 'c', 'm',
               'invalid_event_type', 'x@example.com', '{}')$s$);
INSERT INTO expect SELECT 'invalid JSON in event_data rejected', pg_temp.refused(
    $s$INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email, event_data)
       VALUES ('00000000-0000-4000-8000-0000000000e2', '00000000-0000-4000-8000-000000000001', 'c', 'm',
               'email_opened', 'x@example.com', '{not json')$s$);
INSERT INTO expect SELECT 'NULL campaign_id rejected', pg_temp.refused(
    $s$INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email, event_data)
       VALUES ('00000000-0000-4000-8000-0000000000e3', '00000000-0000-4000-8000-000000000001', NULL, 'm',
               'email_opened', 'x@example.com', '{}')$s$);

-- 8. Every one of the 11 normalized types is accepted.
INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email, event_data)
SELECT gen_random_uuid(), '00000000-0000-4000-8000-000000000001', 'c', 'm', t, 'x@example.com', '{}'
FROM unnest(ARRAY['email_opened', 'email_clicked', 'email_replied', 'email_bounced', 'email_delivered', 'email_sent',
                  'email_unsubscribed', 'email_spam_reported', 'email_follow_up_opened', 'email_follow_up_clicked',
                  'email_follow_up_replied']) AS t;
INSERT INTO expect SELECT 'all 11 event types accepted', count(DISTINCT event_type) = 11 FROM email_events
    WHERE user_id = '00000000-0000-4000-8000-000000000001';

-- 9. 'smartlead' is an accepted provider; an unknown one is not.
INSERT INTO integration_credentials (id, user_id, provider, credentials)
VALUES ('00000000-0000-4000-8000-000000000004', '00000000-0000-4000-8000-000000000001', 'smartlead', '{"webhook_secret": "s"}');
INSERT INTO expect SELECT 'an unknown provider is refused', pg_temp.refused(
    $s$INSERT INTO integration_credentials (id, user_id, provider, credentials)
       VALUES ('00000000-0000-4000-8000-000000000005', '00000000-0000-4000-8000-000000000001', 'myspace', '{}')$s$);
INSERT INTO expect SELECT 'smartlead provider accepted', count(*) = 1 FROM integration_credentials
    WHERE user_id = '00000000-0000-4000-8000-000000000001';

-- 10. Foreign-key actions: deleting the lead nulls the event's lead_id; deleting the user
--     removes its events.
DELETE FROM leads WHERE id = '00000000-0000-4000-8000-000000000002';
INSERT INTO expect SELECT 'lead delete sets email_events.lead_id NULL', lead_id IS NULL FROM email_events
    WHERE id = '00000000-0000-4000-8000-000000000003';
DELETE FROM users WHERE id = '00000000-0000-4000-8000-000000000001';
INSERT INTO expect SELECT 'user delete cascades to email_events', count(*) = 0 FROM email_events
    WHERE user_id = '00000000-0000-4000-8000-000000000001';

ROLLBACK;

SELECT 'Schema validation completed successfully';
