//! Shared by the benchmarks: a realistic synthetic data set written through the real ingest path
//! (so rollups are maintained exactly as in production), and latency summaries.

#![allow(dead_code)] // each benchmark uses part of this module

use std::path::Path;
use std::time::{Duration, Instant};

use smartlead_hub::domain::{
    CampaignId, EmailAddress, EventType, OrgId, UserId, UtcTimestamp, DAY_MILLIS,
};
use smartlead_hub::domain::{EmailEvent, SmartleadEvent};
use smartlead_hub::storage::rollups::PendingCounts;
use smartlead_hub::storage::users::{self, NewUser, SmartleadCredentials};
use smartlead_hub::storage::{events, migrations, open_read_write, DEFAULT_BUSY_TIMEOUT};

/// A small deterministic PRNG (xorshift64*), so every run seeds the same data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Shape of the synthetic data set.
#[derive(Clone, Copy, Debug)]
pub struct DataSet {
    pub events: u64,
    pub campaigns: u64,
    /// Events per lead, on average.
    pub events_per_lead: u64,
    /// Days the events spread over, ending at `end`.
    pub days: i64,
}

pub const END: &str = "2026-06-30T00:00:00Z";

/// A mix close to a cold-email campaign: mostly sends and opens, some clicks and replies.
fn event_type(rng: &mut Rng) -> EventType {
    match rng.below(100) {
        0..=39 => EventType::Sent,
        40..=64 => EventType::Opened,
        65..=71 => EventType::FollowUpOpened,
        72..=80 => EventType::Clicked,
        81..=83 => EventType::FollowUpClicked,
        84..=89 => EventType::Replied,
        90..=92 => EventType::FollowUpReplied,
        93..=96 => EventType::Bounced,
        _ => EventType::Unsubscribed,
    }
}

/// About 600 bytes of payload, like a real flat-shape event without its HTML bodies.
fn payload(i: u64, event_type: EventType, email: &str, campaign: &str, at: &str) -> String {
    format!(
        r#"{{"webhook_id":311842,"webhook_name":"bench","event_type":"{event_type}","event_timestamp":"{at}","campaign_id":{campaign},"campaign_name":"Benchmark campaign {campaign}","campaign_status":"ACTIVE","sequence_number":1,"sl_email_lead_id":"{i}","stats_id":"bench-stats-{i}","from_email":"sender@bench.example","to_email":"{email}","to_name":"Bench Lead","subject":"Quick question about your warehouse","message_id":"<bench-{i}@mail.bench.example>","client_id":41207,"app_url":"https://app.smartlead.ai/app/master-inbox?leadMap={i}","description":"{email} event for campaign {campaign}","metadata":{{"webhook_created_at":"2025-09-30T08:14:40.843Z"}}}}"#
    )
}

/// Creates a user for `org` with `secret` and returns its id.
pub fn add_user(path: &Path, email: &str, org: &str, secret: &str) -> UserId {
    let mut conn = open_read_write(path, DEFAULT_BUSY_TIMEOUT).expect("open");
    migrations::to_latest(&mut conn).expect("migrate");
    let org_id = OrgId::parse(org).unwrap();
    let user = users::add_user(
        &conn,
        &NewUser {
            email,
            name: None,
            org_id: Some(&org_id),
            org_name: Some(org),
        },
    )
    .expect("user");
    let id: UserId = user.id.parse().unwrap();
    set_webhook_secret(&conn, id, secret);
    id
}

/// Gives `user` the webhook secret its org's deliveries are signed with.
pub fn set_webhook_secret(conn: &rusqlite::Connection, user: UserId, secret: &str) {
    let credentials = SmartleadCredentials {
        webhook_secret: Some(secret.into()),
        api_key: None,
    };
    users::set_smartlead_credentials(conn, user, &credentials).unwrap();
}

/// Writes `set.events` events for `user` through `events::ingest`, in large transactions.
/// Returns the seeding rate in events/s.
pub fn seed(path: &Path, user: UserId, org: &str, set: DataSet, seed: u64, progress: bool) -> f64 {
    let mut conn = open_read_write(path, DEFAULT_BUSY_TIMEOUT).expect("open");
    // A 2 GiB page cache keeps the random-insert indexes of a multi-GB data set in memory.
    conn.pragma_update(None, "cache_size", -2_000_000).unwrap();
    let org = OrgId::parse(org).unwrap();
    let end = UtcTimestamp::parse(END).unwrap();
    let span = set.days * DAY_MILLIS;
    let leads = (set.events / set.events_per_lead).max(1);
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    let batch = 20_000;
    let mut written = 0;
    while written < set.events {
        let tx = conn.transaction().unwrap();
        let mut counts = PendingCounts::default();
        for _ in 0..batch.min(set.events - written) {
            let i = written;
            written += 1;
            let lead = rng.below(leads);
            let campaign = 1_000_000 + lead % set.campaigns;
            let event_type = event_type(&mut rng);
            let at = end.plus_millis(-(rng.below(span as u64) as i64));
            let email = format!("lead{lead}@bench-{}.example", lead % 997);
            let campaign = campaign.to_string();
            let event = EmailEvent {
                event_type,
                email: EmailAddress::parse(&email).unwrap(),
                campaign_id: CampaignId::parse(&campaign).unwrap(),
                message_id: format!("<bench-{lead}-{}@mail.bench.example>", i % 7),
                occurred_at: at,
                dedupe_key: format!("bench-{seed}-{i}"),
                payload: payload(i, event_type, &email, &campaign, &at.to_string()),
            };
            events::ingest(
                &tx,
                &mut counts,
                user,
                &org,
                &SmartleadEvent::Email(event),
                at,
            )
            .unwrap();
        }
        counts.flush(&tx).unwrap();
        tx.commit().unwrap();
        if progress && written % 1_000_000 < batch {
            eprintln!(
                "  seeded {written} events ({:.0}/s)",
                written as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        .unwrap();
    set.events as f64 / started.elapsed().as_secs_f64()
}

/// Writes `set.events` events for `user` with set-based SQL: leads first, then events in time
/// order, then each lead's latest activity, then the rollups through `rollups::rebuild` (the
/// code `smartlead-hub rollups rebuild` runs). Orders of magnitude faster than one ingest per
/// event, for seeding 10M-event data sets. Returns the rate in events/s.
pub fn seed_bulk(path: &Path, user: UserId, org: &str, set: DataSet, tag: u32) -> f64 {
    let mut conn = open_read_write(path, DEFAULT_BUSY_TIMEOUT).expect("open");
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
             INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email, lead_id,
                                       smartlead_org_id, event_data, timestamp, created_at, updated_at, dedupe_key)
             SELECT printf('%08x-%04x-7000-8000-%012x', :tag, i >> 48, i), :user, campaign,
                    '<bench-' || lead || '@mail.bench.example>', event_type, email, {lead_id}, :org,
                    printf('{{\"webhook_id\":311842,\"webhook_name\":\"bench\",\"event_type\":\"%s\",\"event_timestamp\":\"%s\",\"campaign_id\":%s,\"campaign_name\":\"Benchmark campaign %s\",\"campaign_status\":\"ACTIVE\",\"sequence_number\":1,\"sl_email_lead_id\":\"%d\",\"stats_id\":\"bench-stats-%d\",\"from_email\":\"sender@bench.example\",\"to_email\":\"%s\",\"to_name\":\"Bench Lead\",\"subject\":\"Quick question about your warehouse\",\"client_id\":41207,\"app_url\":\"https://app.smartlead.ai/app/master-inbox?leadMap=%d\",\"description\":\"%s event for campaign %s\",\"metadata\":{{\"webhook_created_at\":\"2025-09-30T08:14:40.843Z\"}}}}',
                           event_type, at, campaign, campaign, lead, i, email, lead, email, campaign),
                    at, at, at, 'bench-' || :tag || '-' || i
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
             (SELECT event_type, timestamp FROM email_events WHERE lead_id = leads.id ORDER BY timestamp DESC LIMIT 1)
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
    smartlead_hub::storage::rollups::rebuild(&tx).unwrap();
    tx.commit().unwrap();
    eprintln!(
        "  rollups rebuilt at {:.0} s",
        started.elapsed().as_secs_f64()
    );
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        .unwrap();
    set.events as f64 / started.elapsed().as_secs_f64()
}

/// p50/p99/p99.9/max of a set of latencies.
pub struct Summary {
    pub count: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub p999: Duration,
    pub max: Duration,
}

pub fn summarize(mut samples: Vec<Duration>) -> Summary {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    Summary {
        count: samples.len(),
        p50: at(0.50),
        p99: at(0.99),
        p999: at(0.999),
        max: *samples.last().unwrap(),
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Bytes a process has handed to write(2) and its kin so far, from /proc (Linux).
pub fn written_bytes(pid: u32) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("wchar:"))?
        .trim()
        .parse()
        .ok()
}

/// Peak resident set size of a process, from /proc (Linux), in MiB.
pub fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
