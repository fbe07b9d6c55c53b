//! Shared by the benchmarks: a realistic synthetic data set written through the real ingest path
//! (so rollups are maintained exactly as in production), and latency summaries.

#![allow(dead_code)] // each benchmark uses part of this module

use std::path::Path;
use std::time::{Duration, Instant};

use smartlead_hub::domain::{
    CampaignId, CampaignLabels, CampaignName, CampaignStatus, EmailAddress, EventType, OrgId,
    UserId, UtcTimestamp, DAY_MILLIS,
};
use smartlead_hub::domain::{EmailEvent, LeadProfile, SmartleadEvent};
use smartlead_hub::storage::records::{NewUser, SmartleadCredentials};
use smartlead_hub::storage::{Admin, Database};

pub mod naive_port;
pub mod postgres_db;
pub mod projection_lag;
pub mod sqlite_file;
pub mod wal_frames;

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
pub fn add_user(db: &Database, email: &str, org: &str, secret: &str) -> UserId {
    let org_id = OrgId::parse(org).unwrap();
    let user = Admin::open(db)
        .expect("open")
        .add_user(&NewUser {
            email,
            name: None,
            org_id: Some(&org_id),
            org_name: Some(org),
        })
        .expect("user");
    let id: UserId = user.id.parse().unwrap();
    set_webhook_secret(db, id, secret);
    id
}

/// The user with `email`, if there is one.
pub fn find_user(db: &Database, email: &str) -> Option<UserId> {
    let users = Admin::open(db).expect("open").users().expect("users");
    let user = users.into_iter().find(|user| user.email == email)?;
    Some(user.id.parse().unwrap())
}

/// Gives `user` the webhook secret its org's deliveries are signed with.
pub fn set_webhook_secret(db: &Database, user: UserId, secret: &str) {
    let credentials = SmartleadCredentials {
        webhook_secret: Some(secret.into()),
        api_key: None,
        ..Default::default()
    };
    Admin::open(db)
        .expect("open")
        .set_smartlead_credentials(user, &credentials)
        .unwrap();
}

/// Writes `set.events` events for `user` through the production ingest
/// (`Admin::ingest_batch`: dedupe, leads, rollups as a writer batch does), in large
/// transactions. Returns the seeding rate in events/s.
pub fn seed(
    db: &Database,
    user: UserId,
    org: &str,
    set: DataSet,
    seed: u64,
    progress: bool,
) -> f64 {
    let mut admin = Admin::open(db).expect("open");
    let org = OrgId::parse(org).unwrap();
    let end = UtcTimestamp::parse(END).unwrap();
    let span = set.days * DAY_MILLIS;
    let leads = (set.events / set.events_per_lead).max(1);
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    let batch = 20_000;
    let mut written = 0;
    while written < set.events {
        let mut events = Vec::with_capacity(batch.min(set.events - written) as usize);
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
                lead_profile: LeadProfile::from_full_name(&format!("Lead {lead}")),
                campaign_id: CampaignId::parse(&campaign).unwrap(),
                campaign_labels: CampaignLabels {
                    name: CampaignName::parse(&format!("Benchmark campaign {campaign}")),
                    status: CampaignStatus::parse("ACTIVE"),
                },
                step: 1,
                message_id: format!("<bench-{lead}-{}@mail.bench.example>", i % 7),
                occurred_at: at,
                dedupe_key: format!("bench-{seed}-{i}"),
                legacy_dedupe_key: None,
                payload: payload(i, event_type, &email, &campaign, &at.to_string()),
            };
            events.push((user, org.clone(), SmartleadEvent::Email(event)));
        }
        admin.ingest_batch(&events, end).unwrap();
        if progress && written % 1_000_000 < batch {
            eprintln!(
                "  seeded {written} events ({:.0}/s)",
                written as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    match db {
        Database::Sqlite(path) => sqlite_file::checkpoint_and_analyze(path),
        Database::Postgres(url) => postgres_db::analyze(url),
    }
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
    proc_io(pid, "wchar:")
}

/// Bytes of page cache a process has dirtied so far, whole 4 KiB pages each (/proc's
/// `write_bytes`): what the disk will be sent. Smaller than [`written_bytes`] where writes land
/// on pages already dirty, larger where a small write dirties a whole page (a 1 KiB database
/// page copied into the file by a checkpoint).
pub fn dirtied_bytes(pid: u32) -> Option<u64> {
    proc_io(pid, "write_bytes:")
}

fn proc_io(pid: u32, field: &str) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix(field))?
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

/// Committed rows: (email events, kept events), on either backend.
pub fn committed(db: &Database) -> (u64, u64) {
    let admin = Admin::open(db).expect("open");
    let count = |table| admin.count_rows(table).expect("count") as u64;
    (count("email_events"), count("smartlead_events"))
}

/// Copies every row of the SQLite file at `from` into the PostgreSQL database `to`, as
/// `migrate-data` does, so that both backends are measured on the very same data.
pub fn copy_into(from: &Path, to: &Database) {
    let source = Admin::open(Database::Sqlite(from.to_owned())).expect("open");
    let target = Admin::open(to).expect("open");
    for table in smartlead_hub::storage::records::COPIED_TABLES {
        let mut next = None;
        loop {
            let batch = source
                .read_rows(table, next.as_deref(), 5000)
                .expect("read");
            target.write_rows(&batch).expect("write");
            match batch.next {
                Some(position) => next = Some(position),
                None => break,
            }
        }
    }
    target.finish_copy().expect("finish");
    if let Database::Postgres(url) = to {
        postgres_db::analyze(url);
    }
}
