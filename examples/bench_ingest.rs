//! Ingest benchmark (never a test). In one run on one machine:
//!  1. a no-op actix endpoint that only parses the same JSON (the HTTP ceiling),
//!  2. smartlead-hub (the release binary) on a fresh temp database with a few orgs,
//!  3. the same keep-alive load against both: bodies built from the Smartlead fixtures, mixed
//!     event types, ~5% redeliveries, ~1% large category payloads, many campaigns and leads,
//!  4. events/s, p50/p99/p99.9 ack latency, the ratio to the ceiling, and a check that the rows
//!     committed equal the `stored`/`kept` answers,
//!  5. optionally the same against a database pre-filled with --prefill events, or against a
//!     kept one (--prefilled-db; with --orgs 1 all load goes to its busiest tenant),
//!  6. the server's peak RSS,
//!  7. with --naive, a naive port of the service on the same load (examples/common/naive_port.rs),
//!  8. with --frames, where the WAL's frames went: per commit, by B-tree (common/wal_frames.rs).
//!
//! `--rate N` offers a fixed N requests/s instead (latency measured from each request's
//! scheduled time, so a stall is not hidden).
//!
//! `--postgres URL` measures the same load against the service on PostgreSQL too, in the same
//! run (the database must be empty: `createdb bench_ingest` first).
//!
//!     cargo build --release && cargo run --release --example bench_ingest -- --connections 64 --seconds 10
//!     cargo run --release --example bench_ingest -- --rate 10000 --seconds 10
//!     cargo run --release --example bench_ingest -- --postgres postgres://postgres@localhost/bench_ingest

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use common::sqlite_file::give_org_to_busiest_tenant;
use common::{
    add_user, committed, dirtied_bytes, find_user, ms, peak_rss_mib, postgres_db, seed,
    set_webhook_secret, summarize, wal_frames, written_bytes, DataSet, Rng,
};
use serde_json::Value;
use smartlead_hub::domain::{UserId, UtcTimestamp};
use smartlead_hub::storage::{Admin, Database};

#[derive(Parser, Clone)]
struct Args {
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds of load per target.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Offered requests/s (0 = as fast as the server answers).
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Also measure against a database pre-filled with this many events (0 = skip).
    #[arg(long, default_value_t = 0)]
    prefill: u64,
    /// Also measure against this existing, already filled database (e.g. one seeded by
    /// bench_read), instead of seeding one with --prefill. It is written to: org 0 is moved to
    /// the tenant with the most leads, so that its deliveries land in the filled indexes.
    #[arg(long)]
    prefilled_db: Option<PathBuf>,
    /// Smartlead orgs (tenants) the deliveries are spread over.
    #[arg(long, default_value_t = 4)]
    orgs: usize,
    /// Load-generator threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Also measure the service on this (empty) PostgreSQL database (`--db` says the same).
    #[arg(long, alias = "db")]
    postgres: Option<Database>,
    /// The smartlead-hub binary to measure.
    #[arg(long, default_value = "target/release/smartlead-hub")]
    hub: PathBuf,
    /// Also measure the naive port (examples/common/naive_port.rs: the seed's schema, one
    /// `synchronous=FULL` transaction per webhook) on the same load, and the ratio.
    #[arg(long)]
    naive: bool,
    /// Also print where the empty database's WAL frames went: per acknowledgement commit and
    /// per projection, by B-tree (the frames still in the WAL after the load; SQLite).
    #[arg(long)]
    frames: bool,
    /// Internal: run the no-op endpoint on this port.
    #[arg(long, hide = true)]
    serve_noop: Option<u16>,
    /// Internal: run the naive port on this port, over a new file at --naive-db.
    #[arg(long, hide = true)]
    serve_naive: Option<u16>,
    #[arg(long, hide = true)]
    naive_db: Option<PathBuf>,
}

fn main() {
    let args = Args::parse();
    if let Some(port) = args.serve_noop {
        return serve_noop(port);
    }
    if let (Some(port), Some(db)) = (args.serve_naive, &args.naive_db) {
        return common::naive_port::serve(port, db, args.orgs.max(1), secret);
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smartlead");
    // Stats ids unique to this run, so a re-run against a kept database stores new events
    // instead of answering redeliveries.
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let bodies = Arc::new(Bodies::build(&fixtures, 400_000, args.orgs.max(1), run));
    println!(
        "bench_ingest: {} connections, {} s per target, {} generator threads, offered rate {}",
        args.connections,
        args.seconds,
        args.threads,
        if args.rate == 0 {
            "unbounded".to_owned()
        } else {
            format!("{}/s", args.rate)
        }
    );

    // 1. The HTTP ceiling.
    let noop_port = free_port();
    let mut noop = Command::new(std::env::current_exe().unwrap())
        .args(["--serve-noop", &noop_port.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(noop_port);
    let ceiling = drive(&args, noop_port, &bodies, "/noop?org_id=x");
    let noop_rss = peak_rss_mib(noop.id());
    noop.kill().ok();
    noop.wait().ok();
    report("no-op JSON endpoint (ceiling)", &ceiling, None, noop_rss);

    // 2.–4. smartlead-hub on an empty database.
    let dir = tempfile::tempdir().unwrap();
    let empty_db = Database::Sqlite(dir.path().join("empty.db"));
    let empty = run_hub(&args, &empty_db, &bodies, Fill::Empty);
    report(
        "smartlead-hub, empty database",
        &empty.result,
        Some(ceiling.rate()),
        empty.rss,
    );
    verify(&empty);
    report_writes(&empty);

    // The naive port on the same load.
    if args.naive {
        let port = free_port();
        let db = dir.path().join("naive.db");
        let mut naive = Command::new(std::env::current_exe().unwrap())
            .args([
                "--serve-naive",
                &port.to_string(),
                "--orgs",
                &args.orgs.max(1).to_string(),
            ])
            .arg("--naive-db")
            .arg(&db)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_port(port);
        let result = drive(&args, port, &bodies, "/api/webhooks/smartlead");
        let rss = peak_rss_mib(naive.id());
        let written = written_bytes(naive.id());
        naive.kill().ok();
        naive.wait().ok();
        report(
            "naive port (seed schema, one synchronous=FULL transaction per webhook)",
            &result,
            Some(ceiling.rate()),
            rss,
        );
        if let (Some(bytes), stored @ 1..) = (written, result.stored) {
            println!(
                "  writes: {:.1} KiB per stored event",
                bytes as f64 / 1024.0 / stored as f64
            );
        }
        println!(
            "smartlead-hub / naive port acknowledged events/s: {:.2}",
            empty.result.rate() / result.rate()
        );
    }

    // The same load against the service on PostgreSQL.
    if let Some(db @ Database::Postgres(_)) = &args.postgres {
        let users = Admin::open(db).unwrap().count_rows("users").unwrap();
        assert_eq!(users, 0, "--postgres must name an empty database");
        let pg = run_hub(&args, db, &bodies, Fill::Empty);
        report(
            "smartlead-hub on PostgreSQL, empty database",
            &pg.result,
            Some(ceiling.rate()),
            pg.rss,
        );
        verify(&pg);
        report_writes(&pg);
        println!(
            "PostgreSQL / SQLite acknowledged events/s: {:.2}",
            pg.result.rate() / empty.result.rate()
        );
    }

    // 5. The same against a pre-filled database.
    if args.prefill > 0 {
        let db = Database::Sqlite(dir.path().join("prefilled.db"));
        let filled = run_hub(&args, &db, &bodies, Fill::Seed(args.prefill));
        report(
            &format!("smartlead-hub, {} events pre-filled", args.prefill),
            &filled.result,
            Some(ceiling.rate()),
            filled.rss,
        );
        verify(&filled);
        report_writes(&filled);
        println!(
            "rate with {} events stored / rate on an empty database: {:.2}",
            args.prefill,
            filled.result.rate() / empty.result.rate()
        );
    }
    if let Some(path) = &args.prefilled_db {
        let db = Database::Sqlite(path.clone());
        let stored = committed(&db).0;
        let filled = run_hub(&args, &db, &bodies, Fill::Existing);
        let label = format!("smartlead-hub, {stored} events already stored");
        report(&label, &filled.result, Some(ceiling.rate()), filled.rss);
        verify(&filled);
        report_writes(&filled);
        let ratio = filled.result.rate() / empty.result.rate();
        println!("rate with {stored} events stored / rate on an empty database: {ratio:.2}");
    }
}

/// Request bodies: fixture templates with fresh identities, plus the redeliveries and the large
/// category payloads the real sender produces.
struct Bodies {
    /// (org index, body)
    unique: Vec<(usize, Vec<u8>)>,
    large: Vec<(usize, Vec<u8>)>,
}

fn secret(org: usize) -> String {
    format!("bench-secret-{org}")
}

impl Bodies {
    fn build(fixtures: &Path, count: usize, orgs: usize, run: u128) -> Self {
        let load = |name: &str| -> Value {
            serde_json::from_slice(&std::fs::read(fixtures.join(name)).unwrap()).unwrap()
        };
        let templates = [
            load("01_email_sent_new_and_deprecated_fields.json"),
            load("04_first_email_sent.json"),
            load("05_email_open_seq1.json"),
            load("06_email_open_followup_step3_string_seq.json"),
            load("07_email_opened_nested_docs_shape.json"),
            load("08_email_link_click_arrays.json"),
            load("11_email_reply_full_new_fields_html_quotes.json"),
            load("17_email_bounce_new_and_deprecated.json"),
            load("20_lead_unsubscribed_new_z_timestamp.json"),
        ];
        // Sends and opens dominate real traffic.
        let weights = [30, 5, 25, 8, 4, 10, 6, 6, 6];
        let category = load("23_lead_category_updated_full_history.json");
        let mut rng = Rng::new(42);
        let mut unique = Vec::with_capacity(count);
        for i in 0..count {
            let mut pick = rng.below(100) as usize;
            let template = weights
                .iter()
                .position(|w| {
                    if pick < *w {
                        true
                    } else {
                        pick -= w;
                        false
                    }
                })
                .unwrap_or(0);
            let mut body = templates[template].clone();
            let org = i % orgs;
            personalize(&mut body, &mut rng, (run, i), org);
            unique.push((org, serde_json::to_vec(&body).unwrap()));
        }
        let mut large = Vec::new();
        for i in 0..(count / 100).max(1) {
            let mut body = category.clone();
            let org = i % orgs;
            personalize(&mut body, &mut rng, (run, count + i), org);
            // Whole threads: pad the history to ~64 KiB.
            let entry = body["history"][0].clone();
            body["history"] = Value::Array(vec![entry; 24]);
            large.push((org, serde_json::to_vec(&body).unwrap()));
        }
        Bodies { unique, large }
    }
}

/// Gives body `i` of bench run `run` its lead, campaign, org, stats id and times.
fn personalize(body: &mut Value, rng: &mut Rng, (run, i): (u128, usize), org: usize) {
    let lead = rng.below(200_000);
    let email = format!("lead{lead}@company{}.example", lead % 5_000);
    let campaign = 3_000_000 + lead % 400;
    // Webhooks arrive seconds after the event: times advance with the request stream.
    let at = UtcTimestamp::parse("2026-11-20T08:00:00Z")
        .unwrap()
        .plus_millis(i as i64 * 10)
        .to_string();
    let obj = body.as_object_mut().unwrap();
    obj.insert("secret_key".into(), Value::String(secret(org)));
    for key in ["to_email", "sl_lead_email", "lead_email"] {
        if obj.contains_key(key) {
            obj.insert(key.into(), Value::String(email.clone()));
        }
    }
    if let Some(lead_obj) = obj.get_mut("lead").and_then(Value::as_object_mut) {
        lead_obj.insert("email".into(), Value::String(email.clone()));
    }
    if let Some(c) = obj
        .get_mut("leadCorrespondence")
        .and_then(Value::as_object_mut)
    {
        c.insert("targetLeadEmail".into(), Value::String(email.clone()));
    }
    obj.insert("campaign_id".into(), Value::from(campaign));
    obj.insert(
        "stats_id".into(),
        Value::String(format!("bench-stats-{run}-{i}")),
    );
    for key in [
        "event_timestamp",
        "timestamp",
        "time_sent",
        "time_opened",
        "time_clicked",
        "time_replied",
    ] {
        if obj.contains_key(key) {
            obj.insert(key.into(), Value::String(at.clone()));
        }
    }
}

struct LoadResult {
    latencies: Vec<Duration>,
    elapsed: Duration,
    ok: u64,
    stored: u64,
    duplicate: u64,
    kept: u64,
    unavailable: u64,
    other: u64,
}

impl LoadResult {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

/// Drives `port` with the load described by `args` and returns what came back.
fn drive(args: &Args, port: u16, bodies: &Arc<Bodies>, path: &str) -> LoadResult {
    let counters: Arc<[AtomicU64; 6]> = Arc::new(Default::default());
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let per_thread = (args.connections / args.threads).max(1);
    let threads: Vec<_> = (0..args.threads)
        .map(|t| {
            let (bodies, counters, latencies, next) = (bodies.clone(), counters.clone(), latencies.clone(), next.clone());
            let path = path.to_owned();
            let rate = args.rate;
            let connections = args.connections;
            std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let client = awc::Client::builder()
                        .connector(awc::Connector::new().limit(per_thread))
                        .timeout(Duration::from_secs(30))
                        .finish();
                    let tasks: Vec<_> = (0..per_thread)
                        .map(|c| {
                            let conn_index = t * per_thread + c;
                            let (client, bodies, counters, latencies, next, path) =
                                (client.clone(), bodies.clone(), counters.clone(), latencies.clone(), next.clone(), path.clone());
                            actix_web::rt::spawn(async move {
                                let mut rng = Rng::new(1000 + conn_index as u64);
                                let mut mine = Vec::new();
                                let interval = (rate > 0).then(|| Duration::from_secs_f64(connections as f64 / rate as f64));
                                // Staggered, so a fixed rate arrives evenly, not in bursts of
                                // every connection at once.
                                let mut scheduled = Instant::now()
                                    + interval.map_or(Duration::ZERO, |i| i.mul_f64(conn_index as f64 / connections as f64));
                                while Instant::now() < deadline {
                                    if let Some(interval) = interval {
                                        scheduled += interval;
                                        let now = Instant::now();
                                        if scheduled > now {
                                            actix_web::rt::time::sleep(scheduled - now).await;
                                        }
                                    } else {
                                        scheduled = Instant::now();
                                    }
                                    let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                                    let roll = rng.below(100);
                                    let (org, body) = if roll == 0 {
                                        bodies.large[n % bodies.large.len()].clone()
                                    } else if roll <= 5 && n > 100 {
                                        // A redelivery of something sent a little earlier.
                                        bodies.unique[(n - 1 - rng.below(100) as usize) % bodies.unique.len()].clone()
                                    } else {
                                        bodies.unique[n % bodies.unique.len()].clone()
                                    };
                                    let url = if path.starts_with("/noop") {
                                        format!("http://127.0.0.1:{port}{path}")
                                    } else {
                                        format!("http://127.0.0.1:{port}/api/webhooks/smartlead?org_id=bench-org-{org}")
                                    };
                                    let sent = client.post(url).insert_header(("content-type", "application/json")).send_body(body).await;
                                    let Ok(mut response) = sent else {
                                        counters[5].fetch_add(1, Ordering::Relaxed);
                                        continue;
                                    };
                                    let answer = response.body().limit(1 << 20).await.unwrap_or_default();
                                    mine.push(scheduled.elapsed());
                                    let status = response.status().as_u16();
                                    let slot = match status {
                                        200 if answer.windows(8).any(|w| w == b"\"stored\"") => 1,
                                        200 if answer.windows(11).any(|w| w == b"\"duplicate\"") => 2,
                                        200 if answer.windows(6).any(|w| w == b"\"kept\"") => 3,
                                        200 => 0,
                                        503 => 4,
                                        _ => 5,
                                    };
                                    if status == 200 {
                                        counters[0].fetch_add(1, Ordering::Relaxed);
                                    }
                                    if slot > 0 {
                                        counters[slot].fetch_add(1, Ordering::Relaxed);
                                    }
                                }
                                latencies.lock().unwrap().extend(mine);
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.unwrap();
                    }
                });
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let elapsed = started.elapsed();
    let latencies = std::mem::take(&mut *latencies.lock().unwrap());
    let c = |i: usize| counters[i].load(Ordering::Relaxed);
    LoadResult {
        latencies,
        elapsed,
        ok: c(0),
        stored: c(1),
        duplicate: c(2),
        kept: c(3),
        unavailable: c(4),
        other: c(5),
    }
}

struct HubRun {
    result: LoadResult,
    rss: Option<f64>,
    /// Bytes the server wrote during the load: WAL frames and the checkpoints' copies (on
    /// PostgreSQL: every server process's writes, a checkpoint after the load included).
    written: Option<u64>,
    /// SQLite: page cache the server dirtied during the load (what reaches the disk).
    dirtied: Option<u64>,
    /// PostgreSQL: WAL bytes generated during the load.
    wal: Option<u64>,
    /// (projections, p50, p99 seconds) of the projection lag, as `/metrics` reported it.
    lag: Option<(u64, f64, f64)>,
    /// With --frames: where the WAL's frames went.
    frames: Option<wal_frames::Frames>,
    db: Database,
    /// Committed rows before the load: (email events, kept events).
    before: (u64, u64),
}

/// What the database holds before the load.
enum Fill {
    Empty,
    /// Seed this many events for org 0 first.
    Seed(u64),
    /// Already filled: org 0 is given to the tenant with the most leads.
    Existing,
}

fn run_hub(args: &Args, db: &Database, bodies: &Arc<Bodies>, fill: Fill) -> HubRun {
    let users: Vec<_> = (0..args.orgs.max(1))
        .map(|o| match (&fill, o, db) {
            (Fill::Existing, 0, Database::Sqlite(path)) => busiest_tenant_as_org_0(path),
            _ => bench_user(db, o),
        })
        .collect();
    if let Fill::Seed(events) = fill {
        eprintln!("pre-filling {events} events …");
        let set = DataSet {
            events,
            campaigns: 400,
            events_per_lead: 20,
            days: 365,
        };
        let rate = seed(db, users[0], "bench-org-0", set, 11, true);
        eprintln!("pre-filled at {rate:.0} events/s");
    }
    let port = free_port();
    let db_arg = match db {
        Database::Sqlite(path) => path.to_str().unwrap().to_owned(),
        Database::Postgres(url) => url.expose().to_owned(),
    };
    let mut hub: Child = Command::new(&args.hub)
        .args([
            "serve",
            "--db",
            &db_arg,
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        // HUB_LOG=smartlead_hub=debug shows the writer's batch sizes and commit latency.
        .env(
            "RUST_LOG",
            std::env::var("HUB_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run `cargo build --release` first)",
                args.hub.display()
            )
        });
    wait_for_port(port);
    let before = committed(db);
    let server = match db {
        Database::Postgres(url) => Some((
            url,
            postgres_db::wal_position(url),
            postgres_db::server_written_bytes(),
        )),
        Database::Sqlite(_) => None,
    };
    let result = drive(args, port, bodies, "/api/webhooks/smartlead");
    let rss = peak_rss_mib(hub.id());
    let lag = common::projection_lag::projection_lag(port);
    let dirtied = match server {
        None => dirtied_bytes(hub.id()),
        Some(_) => None,
    };
    let frames = match (db, fill) {
        (Database::Sqlite(path), Fill::Empty) if args.frames => wal_frames::frames(path),
        _ => None,
    };
    let (written, wal) = match server {
        None => (written_bytes(hub.id()), None),
        Some((url, wal_before, written_before)) => {
            let wal = postgres_db::wal_position(url) - wal_before;
            postgres_db::checkpoint(url);
            let written = postgres_db::server_written_bytes()
                .zip(written_before)
                .map(|(after, before)| after - before);
            (written, Some(wal))
        }
    };
    // SIGTERM: a graceful stop drains the writer before the counts are checked.
    Command::new("kill")
        .args(["-TERM", &hub.id().to_string()])
        .status()
        .ok();
    hub.wait().ok();
    HubRun {
        result,
        rss,
        written,
        dirtied,
        wal,
        lag,
        frames,
        db: db.clone(),
        before,
    }
}

/// The user behind org `o`: `bench{o}@example.com`, created on first use.
fn bench_user(db: &Database, o: usize) -> UserId {
    let email = format!("bench{o}@example.com");
    find_user(db, &email)
        .unwrap_or_else(|| add_user(db, &email, &format!("bench-org-{o}"), &secret(o)))
}

/// Moves org 0 (and its webhook secret) to the tenant with the most leads in a filled database.
fn busiest_tenant_as_org_0(db: &Path) -> UserId {
    let user = give_org_to_busiest_tenant(db, "bench-org-0");
    set_webhook_secret(&Database::Sqlite(db.to_owned()), user, &secret(0));
    user
}

fn verify(run: &HubRun) {
    let after = committed(&run.db);
    let (events, kept) = (after.0 - run.before.0, after.1 - run.before.1);
    let r = &run.result;
    println!(
        "  committed rows: {events} email events (answers `stored`: {}), {kept} kept events (answers `kept`: {}) -> {}",
        r.stored,
        r.kept,
        if events == r.stored && kept == r.kept { "every acknowledged event is stored exactly once" } else { "MISMATCH" }
    );
}

/// Write volume per stored event: every page an event dirties is written to the WAL at its
/// commit and copied again by a checkpoint, so this is what the disk has to absorb per event.
fn report_writes(run: &HubRun) {
    if let (Some(bytes), stored @ 1..) = (run.written, run.result.stored) {
        println!(
            "  server writes: {:.1} KiB per stored event ({:.0} MiB in all)",
            bytes as f64 / 1024.0 / stored as f64,
            bytes as f64 / (1024.0 * 1024.0)
        );
    }
    if let (Some(bytes), stored @ 1..) = (run.dirtied, run.result.stored) {
        println!(
            "  page cache dirtied: {:.1} KiB per stored event (whole 4 KiB pages: what the disk is sent)",
            bytes as f64 / 1024.0 / stored as f64
        );
    }
    if let Some((projections, p50, p99)) = run.lag {
        println!(
            "  projection lag (oldest event of each projection): p50 <= {:.0} ms, p99 <= {:.0} ms over {projections} projections",
            p50 * 1000.0,
            p99 * 1000.0
        );
    }
    if let (Some(bytes), stored @ 1..) = (run.wal, run.result.stored) {
        println!(
            "  WAL generated: {:.1} KiB per stored event",
            bytes as f64 / 1024.0 / stored as f64
        );
    }
    if let Some(frames) = &run.frames {
        println!(
            "  WAL frames ({}-byte pages; those since the WAL last started over):",
            frames.page_size
        );
        for (kind, commits) in [
            ("acknowledgements", &frames.acknowledgements),
            ("projections", &frames.projections),
        ] {
            let trees: Vec<String> = commits
                .by_tree
                .iter()
                .filter(|(_, per_commit)| *per_commit >= 0.05)
                .map(|(tree, per_commit)| format!("{tree} {per_commit:.2}"))
                .collect();
            println!(
                "    {kind}: {} commits, {:.1} frames each: {}",
                commits.commits,
                commits.frames_per_commit,
                trees.join(", ")
            );
        }
    }
}

fn report(name: &str, r: &LoadResult, ceiling: Option<f64>, rss: Option<f64>) {
    let s = summarize(r.latencies.clone());
    println!("\n{name}");
    println!(
        "  {:.0} acknowledged req/s over {:.1} s ({} ok: {} stored, {} duplicate, {} kept; {} 503, {} other)",
        r.rate(),
        r.elapsed.as_secs_f64(),
        r.ok,
        r.stored,
        r.duplicate,
        r.kept,
        r.unavailable,
        r.other
    );
    println!(
        "  ack latency ms: p50 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        ms(s.p50),
        ms(s.p99),
        ms(s.p999),
        ms(s.max)
    );
    if let Some(ceiling) = ceiling {
        println!("  ratio to the no-op ceiling: {:.2}", r.rate() / ceiling);
    }
    if let Some(rss) = rss {
        println!("  server peak RSS: {rss:.0} MiB");
    }
}

fn serve_noop(port: u16) {
    use actix_web::{web, App, HttpResponse, HttpServer};
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(|| {
            App::new()
                .default_service(web::to(|body: web::Bytes| async move {
                    match serde_json::from_slice::<Value>(&body) {
                        Ok(_) => HttpResponse::Ok().json(serde_json::json!({ "status": "ok" })),
                        Err(_) => HttpResponse::BadRequest().finish(),
                    }
                }))
                .app_data(web::PayloadConfig::new(4 << 20))
        })
        .bind(("127.0.0.1", port))
        .unwrap()
        .run()
        .await
        .unwrap();
    });
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    for _ in 0..500 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing listens on port {port}");
}
