//! Read-path benchmark: seeds N events through the real ingest path, then measures the real HTTP
//! API end to end (one keep-alive connection, sequential requests).
//!
//!     cargo run --release --example bench_read -- --events 1000000
//!     cargo run --release --example bench_read -- --events 10000000
//!     cargo run --release --example bench_read -- --postgres postgres://postgres@localhost/bench_read
//!
//! Prints p50/p99/p99.9 per endpoint. With `--postgres URL` (an empty database) the seeded file
//! is copied there (as `migrate-data` does) and the same requests are measured on both
//! backends, one after the other. Timing figures belong here, never in tests.

mod common;

use std::time::{Duration, Instant};

use clap::Parser;
use common::sqlite_file::{sample_leads, seed_bulk};
use common::{add_user, copy_into, find_user, ms, seed, summarize, DataSet, Rng};
use smartlead_hub::config::Settings;
use smartlead_hub::startup::Application;
use smartlead_hub::storage::{Admin, Database};

/// Builds the request path of one measured request.
type PathFor = Box<dyn Fn(&mut Rng) -> String>;

#[derive(Parser)]
struct Args {
    /// Events to seed.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Campaigns the events spread over.
    #[arg(long, default_value_t = 50)]
    campaigns: u64,
    /// Requests per endpoint.
    #[arg(long, default_value_t = 2_000)]
    requests: usize,
    /// Seed through the real ingest path, one event at a time (slow at 10M; the default writes
    /// the same shape of data with set-based SQL and rebuilds the rollups).
    #[arg(long)]
    through_ingest: bool,
    /// Reuse this database file if it exists (seeded by an earlier run with the same --events);
    /// a postgres:// URL here means --postgres.
    #[arg(long)]
    db: Option<Database>,
    /// Also measure the service on this (empty) PostgreSQL database, holding a copy of the file.
    #[arg(long)]
    postgres: Option<Database>,
}

fn main() {
    let mut args = Args::parse();
    if let Some(postgres @ Database::Postgres(_)) = &args.db {
        args.postgres = Some(postgres.clone());
        args.db = None;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = match &args.db {
        Some(Database::Sqlite(path)) => path.clone(),
        _ => dir.path().join("bench_read.db"),
    };
    let fresh = !path.exists();
    let file = Database::Sqlite(path.clone());
    let set = DataSet {
        events: args.events,
        campaigns: args.campaigns,
        events_per_lead: 20,
        days: 180,
    };
    let user = if fresh {
        let user = add_user(&file, "bench@example.com", "bench-org", "bench-secret");
        // A second tenant with the same campaign ids, so every query has to scope by user.
        let other = add_user(&file, "other@example.com", "other-org", "other-secret");
        eprintln!("seeding {} events …", args.events);
        let other_set = DataSet {
            events: args.events / 10,
            ..set
        };
        let rate = if args.through_ingest {
            seed(&file, other, "other-org", other_set, 8, false);
            seed(&file, user, "bench-org", set, 7, true)
        } else {
            seed_bulk(&path, other, "other-org", other_set, 8);
            seed_bulk(&path, user, "bench-org", set, 7)
        };
        eprintln!("seeded at {rate:.0} events/s");
        user
    } else {
        find_user(&file, "bench@example.com").expect("a benchmark database")
    };
    let size_mib = std::fs::metadata(&path)
        .map(|m| m.len() as f64 / 1048576.0)
        .unwrap_or(0.0);

    let (_, token) = Admin::open(&path)
        .unwrap()
        .issue_token(user, Some("bench"), None)
        .unwrap();
    let token = token.expose().to_owned();
    let (leads, emails) = sample_leads(&path, user, 5000);
    let mut targets = vec![("SQLite", file)];
    if let Some(postgres @ Database::Postgres(_)) = &args.postgres {
        eprintln!("copying the file into PostgreSQL …");
        let started = Instant::now();
        copy_into(&path, postgres);
        eprintln!("copied in {:.0} s", started.elapsed().as_secs_f64());
        targets.push(("PostgreSQL", postgres.clone()));
    }
    for (backend, db) in targets {
        measure(
            &args,
            backend,
            &db,
            size_mib,
            &token,
            leads.clone(),
            emails.clone(),
        );
    }
}

fn measure(
    args: &Args,
    backend: &str,
    db: &Database,
    size_mib: f64,
    token: &str,
    leads: Vec<String>,
    emails: Vec<String>,
) {
    let token = token.to_owned();
    actix_web::rt::System::new().block_on(async move {
        let mut settings = Settings::with_db(db);
        settings.bind = "127.0.0.1:0".parse().unwrap();
        let app = Application::build(&settings).unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        actix_web::rt::spawn(app.run_until_stopped());
        let client = awc::Client::builder().timeout(Duration::from_secs(30)).finish();
        let mut rng = Rng::new(99);
        let campaigns = args.campaigns;
        let campaign = move |rng: &mut Rng| 1_000_000 + rng.below(campaigns);

        println!("\nbench_read on {backend}: {} events for the measured user (+{} for a second tenant), {} campaigns, {:.0} MiB SQLite file",
            args.events, args.events / 10, args.campaigns, size_mib);
        println!("{:<34} {:>9} {:>9} {:>9} {:>9}", "endpoint", "p50 ms", "p99 ms", "p99.9 ms", "max ms");
        let cases: Vec<(&str, PathFor)> = vec![
            ("campaign stats", Box::new(move |rng: &mut Rng| format!("/api/campaigns/{}/stats", campaign(rng)))),
            ("user stats", Box::new(|_: &mut Rng| "/api/stats".to_owned())),
            (
                "90-day daily series",
                Box::new(move |rng: &mut Rng| {
                    format!("/api/campaigns/{}/timeseries?bucket=day&from=2026-04-01&to=2026-06-30", campaign(rng))
                }),
            ),
            (
                "7-day hourly series",
                Box::new(move |rng: &mut Rng| {
                    format!("/api/campaigns/{}/timeseries?bucket=hour&from=2026-06-20&to=2026-06-27", campaign(rng))
                }),
            ),
            ("user 90-day daily series", Box::new(|_: &mut Rng| "/api/timeseries?bucket=day&from=2026-04-01&to=2026-06-30".to_owned())),
            ("user 7-day hourly series", Box::new(|_: &mut Rng| "/api/timeseries?bucket=hour&from=2026-06-20&to=2026-06-27".to_owned())),
            ("lead timeline (limit 10)", Box::new(move |rng: &mut Rng| format!("/api/leads/{}/events", leads[rng.below(leads.len() as u64) as usize]))),
            ("event search by email (limit 50)", Box::new({
                let emails = emails.clone();
                move |rng: &mut Rng| format!("/api/events?email={}", emails[rng.below(emails.len() as u64) as usize])
            })),
            // A search that one lead matches reads every lead of the user (a scan); one that
            // many match stops at the page's 50th.
            ("lead search, one match (scan)", Box::new(move |rng: &mut Rng| format!("/api/leads?q={}", emails[rng.below(emails.len() as u64) as usize]))),
            ("lead search, many match (limit 50)", Box::new(|rng: &mut Rng| format!("/api/leads?q=bench-{}", 1 + rng.below(9)))),
        ];
        for (name, path) in cases {
            // A scan takes ~a thousand times a probe's time: fewer of them measure it as well.
            let requests = if name.contains("(scan)") { (args.requests / 50).max(20) } else { args.requests };
            let warm_up = requests.min(100);
            // Warm-up, then measure.
            let mut samples = Vec::with_capacity(requests);
            for i in 0..requests + warm_up {
                let url = format!("{base}{}", path(&mut rng));
                let started = Instant::now();
                let mut response = client.get(url).bearer_auth(&token).send().await.unwrap();
                let body = response.body().limit(16 * 1024 * 1024).await.unwrap();
                let elapsed = started.elapsed();
                assert!(response.status().is_success(), "{name}: {} {}", response.status(), String::from_utf8_lossy(&body));
                if i >= warm_up {
                    samples.push(elapsed);
                }
            }
            let s = summarize(samples);
            println!("{name:<34} {:>9.3} {:>9.3} {:>9.3} {:>9.3}", ms(s.p50), ms(s.p99), ms(s.p999), ms(s.max));
        }
    });
}
