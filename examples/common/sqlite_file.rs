//! What the benchmarks do to the SQLite file itself, below the storage boundary: seed 10M-event
//! data sets with set-based SQL (minutes, where one ingest per event takes hours), read sample
//! ids and row counts, move an org between tenants. The only benchmark code that speaks SQL; a
//! PostgreSQL benchmark would need its own.

use std::path::Path;
use std::time::Instant;

use rusqlite::Connection;
use smartlead_hub::domain::{UserId, UtcTimestamp, DAY_MILLIS};
use smartlead_hub::storage::sqlite::{open_read_write, rollups, DEFAULT_BUSY_TIMEOUT};

use super::{DataSet, END};

/// Folds the WAL into the file and refreshes the planner's statistics after seeding.
pub fn checkpoint_and_analyze(path: &Path) {
    open(path)
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        .unwrap();
}

fn open(path: &Path) -> Connection {
    open_read_write(path, DEFAULT_BUSY_TIMEOUT).expect("open")
}

/// Committed rows: (email events, kept events).
pub fn committed(path: &Path) -> (u64, u64) {
    let conn = open(path);
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as u64;
    (
        count("SELECT count(*) FROM email_event_rows"),
        count("SELECT count(*) FROM smartlead_events"),
    )
}

/// Up to `n` of the user's leads: (id, email).
pub fn sample_leads(path: &Path, user: UserId, n: usize) -> (Vec<String>, Vec<String>) {
    let conn = open(path);
    let mut stmt = conn
        .prepare("SELECT id, email FROM leads WHERE user_id = ?1 ORDER BY id LIMIT ?2")
        .unwrap();
    stmt.query_map(rusqlite::params![user.to_string(), n as i64], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .unwrap()
    .map(Result::unwrap)
    .unzip()
}

/// Moves `org` to the tenant with the most leads in a filled database; returns that tenant.
pub fn give_org_to_busiest_tenant(path: &Path, org: &str) -> UserId {
    let mut conn = open(path);
    let tx = conn.transaction().unwrap();
    let id: String = tx
        .query_row(
            "SELECT user_id FROM leads GROUP BY user_id ORDER BY count(*) DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    tx.execute(
        "UPDATE users SET smartlead_org_id = NULL WHERE smartlead_org_id = ?1",
        [org],
    )
    .unwrap();
    tx.execute(
        "UPDATE users SET smartlead_org_id = ?1 WHERE id = ?2",
        [org, &id],
    )
    .unwrap();
    tx.commit().unwrap();
    id.parse().unwrap()
}

/// Writes `set.events` events for `user` with set-based SQL: leads first, then events in time
/// order, then each lead's latest activity, then the rollups through `rollups::rebuild` (the
/// code `smartlead-hub rollups rebuild` runs). Orders of magnitude faster than one ingest per
/// event, for seeding 10M-event data sets. Returns the rate in events/s.
pub fn seed_bulk(path: &Path, user: UserId, org: &str, set: DataSet, tag: u32) -> f64 {
    let mut conn = open(path);
    conn.pragma_update(None, "cache_size", -2_000_000).unwrap();
    conn.pragma_update(None, "temp_store", "FILE").unwrap();
    let end = UtcTimestamp::parse(END).unwrap();
    let start_s = end.plus_millis(-set.days * DAY_MILLIS).millis() as f64 / 1000.0;
    let step_s = (set.days * DAY_MILLIS) as f64 / 1000.0 / set.events as f64;
    let leads = (set.events / set.events_per_lead).max(1);
    let started = Instant::now();
    let tx = conn.transaction().unwrap();
    let user = user.to_string();
    let lead_id = "printf('%08x-0000-4000-8000-%012x', :tag, lead)";
    tx.execute(
        &format!(
            "WITH RECURSIVE n(lead) AS (SELECT 0 UNION ALL SELECT lead + 1 FROM n WHERE lead < :leads - 1)
             INSERT INTO leads (id, user_id, email, smartlead_campaign_id, created_at, updated_at)
             SELECT {lead_id}, :user, 'lead' || lead || '@bench-' || (lead % 997) || '.example',
                    CAST(1000000 + lead % :campaigns AS TEXT), :end, :end
             FROM n"
        ),
        rusqlite::named_params! {":tag": tag, ":leads": leads as i64, ":user": user, ":campaigns": set.campaigns as i64, ":end": END},
    )
    .unwrap();
    eprintln!(
        "  {leads} leads in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    // The same type mix as `event_type` above.
    let event_type = "CASE WHEN r < 40 THEN 'email_sent' WHEN r < 65 THEN 'email_opened'
                           WHEN r < 72 THEN 'email_follow_up_opened' WHEN r < 81 THEN 'email_clicked'
                           WHEN r < 84 THEN 'email_follow_up_clicked' WHEN r < 90 THEN 'email_replied'
                           WHEN r < 93 THEN 'email_follow_up_replied' WHEN r < 97 THEN 'email_bounced'
                           ELSE 'email_unsubscribed' END";
    tx.execute(
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :events - 1),
             g AS (SELECT i, (i * 2654435761 + :tag) % :leads AS lead, (i * 40503 + 7) % 100 AS r,
                          strftime('%Y-%m-%dT%H:%M:%fZ', :start + i * :step, 'unixepoch') AS at
                   FROM n),
             e AS (SELECT i, lead, at, {event_type} AS event_type,
                          'lead' || lead || '@bench-' || (lead % 997) || '.example' AS email,
                          CAST(1000000 + lead % :campaigns AS TEXT) AS campaign
                   FROM g)
             INSERT INTO email_event_rows (id, user_key, campaign_id, message_id, event_type, email, lead_key,
                                           smartlead_org_id, event_data, timestamp, created_at, updated_at, dedupe_key, sequence_step)
             SELECT printf('%08x-%04x-7000-8000-%012x', :tag, i >> 48, i),
                    (SELECT user_key FROM users WHERE id = :user), campaign,
                    '<bench-' || lead || '@mail.bench.example>', event_type, email,
                    (SELECT lead_key FROM leads WHERE id = {lead_id}), :org,
                    printf('{{\"webhook_id\":311842,\"webhook_name\":\"bench\",\"event_type\":\"%s\",\"event_timestamp\":\"%s\",\"campaign_id\":%s,\"campaign_name\":\"Benchmark campaign %s\",\"campaign_status\":\"ACTIVE\",\"sequence_number\":1,\"sl_email_lead_id\":\"%d\",\"stats_id\":\"bench-stats-%d\",\"from_email\":\"sender@bench.example\",\"to_email\":\"%s\",\"to_name\":\"Bench Lead\",\"subject\":\"Quick question about your warehouse\",\"client_id\":41207,\"app_url\":\"https://app.smartlead.ai/app/master-inbox?leadMap=%d\",\"description\":\"%s event for campaign %s\",\"metadata\":{{\"webhook_created_at\":\"2025-09-30T08:14:40.843Z\"}}}}',
                           event_type, at, campaign, campaign, lead, i, email, lead, email, campaign),
                    at, at, at, 'bench-' || :tag || '-' || i, 1
             FROM e"
        ),
        rusqlite::named_params! {
            ":events": set.events as i64, ":tag": tag, ":leads": leads as i64, ":start": start_s, ":step": step_s,
            ":campaigns": set.campaigns as i64, ":user": user, ":org": org,
        },
    )
    .unwrap();
    eprintln!(
        "  {} events in {:.0} s",
        set.events,
        started.elapsed().as_secs_f64()
    );
    tx.execute(
        "UPDATE leads SET (last_email_event, last_event_timestamp) =
             (SELECT event_type, timestamp FROM email_event_rows WHERE lead_key = leads.lead_key
              ORDER BY timestamp DESC LIMIT 1)
         WHERE user_id = ?1",
        [&user],
    )
    .unwrap();
    eprintln!(
        "  latest activity per lead at {:.0} s",
        started.elapsed().as_secs_f64()
    );
    tx.commit().unwrap();
    let tx = conn.transaction().unwrap();
    rollups::rebuild(&tx).unwrap();
    tx.commit().unwrap();
    eprintln!(
        "  rollups rebuilt at {:.0} s",
        started.elapsed().as_secs_f64()
    );
    drop(conn);
    checkpoint_and_analyze(path);
    set.events as f64 / started.elapsed().as_secs_f64()
}
