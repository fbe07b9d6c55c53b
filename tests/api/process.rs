//! The real binary as a child process on a real database file, load that records every
//! acknowledgement, and the invariant every reliability scenario ends with.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use smartlead_hub::storage::Database;

use crate::backends::{Backend, TestDb};
use crate::helpers::{admin, fixture, inspect, ORG};

pub struct HubProcess {
    child: Child,
    pub port: u16,
    /// The service's stderr, kept for the test to read and shown when the test fails.
    log: PathBuf,
}

impl HubProcess {
    /// Starts `smartlead-hub serve` on `db`, on a port the service picks itself (no race for a
    /// free port), and waits for the line saying where it listens.
    pub fn start(db: &Path, extra: &[&str]) -> Self {
        Self::start_with_log(db, extra, "warn")
    }

    /// [`HubProcess::start`] with `RUST_LOG` set to `filter` (plus the listening line).
    pub fn start_with_log(db: &Path, extra: &[&str], filter: &str) -> Self {
        let logs = db.parent().expect("a file in a folder");
        Self::start_on(&Database::from(db), logs, extra, filter)
    }

    /// [`HubProcess::start`] on either backend, its log in `logs`.
    pub fn start_on(db: &Database, logs: &Path, extra: &[&str], filter: &str) -> Self {
        static STARTS: AtomicU64 = AtomicU64::new(0);
        let n = STARTS.fetch_add(1, Ordering::SeqCst);
        let log = logs.join(format!("serve-{}-{n}.log", std::process::id()));
        let db_arg = match db {
            Database::Sqlite(path) => path.to_str().unwrap().to_owned(),
            Database::Postgres(url) => url.expose().to_owned(),
        };
        let child = Command::new(env!("CARGO_BIN_EXE_smartlead-hub"))
            .args(["serve", "--db", &db_arg, "--bind", "127.0.0.1:0"])
            .args(extra)
            .env(
                "RUST_LOG",
                format!("{filter},smartlead_hub::cli::serve=info"),
            )
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("the binary starts");
        let mut hub = Self {
            child,
            port: 0,
            log,
        };
        for _ in 0..3000 {
            if let Some(port) = listening_port(&hub.log()) {
                hub.port = port;
                return hub;
            }
            if let Ok(Some(status)) = hub.child.try_wait() {
                panic!("smartlead-hub exited with {status}:\n{}", hub.log());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("smartlead-hub did not say where it listens:\n{}", hub.log());
    }

    /// Everything the service has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn webhook_url(&self) -> String {
        format!(
            "http://127.0.0.1:{}/api/webhooks/smartlead?org_id={ORG}",
            self.port
        )
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `limit` for the service to exit by itself; its status, or `None` if it still
    /// runs.
    pub fn exit_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits up to `limit` for a log line holding `text`; whether one came.
    pub fn logged_within(&self, text: &str, limit: Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        while !self.log().contains(text) {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM: a graceful stop. Returns the exit status.
    pub fn terminate(mut self) -> ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            eprintln!(
                "--- smartlead-hub's last log lines ---\n{}",
                tail.join("\n")
            );
        }
    }
}

/// The port in the service's `smartlead-hub listening address=http://127.0.0.1:PORT` line.
fn listening_port(log: &str) -> Option<u16> {
    let line = log
        .lines()
        .find(|l| l.contains("smartlead-hub listening"))?;
    let address = line.split("address=http://").nth(1)?;
    let port = address.split_whitespace().next()?.rsplit(':').next()?;
    port.parse().ok()
}

/// A distinct open event per `n` (its own stats id and time), built from a real fixture.
pub fn unique_open(n: u64) -> String {
    let at = format!(
        "2025-10-14T12:{:02}:{:02}.{:06}+00:00",
        (n / 60_000) % 60,
        (n / 1000) % 60,
        n % 1000
    );
    String::from_utf8(fixture("05_email_open_seq1.json"))
        .unwrap()
        .replace("0b9d7f3e-6c21-4e58-9a7d-2f1e8c4b5a60", &stats_id(n))
        .replace("2025-10-14T11:47:09.603514+00:00", &at)
}

pub fn stats_id(n: u64) -> String {
    format!("reliability-{n}")
}

/// Senders that post unique events until stopped, recording which were acknowledged (2xx) and
/// which were not (error, refused connection, 503).
#[derive(Clone, Default)]
pub struct Load {
    next: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    pub acked: Arc<Mutex<Vec<u64>>>,
    pub unacked: Arc<Mutex<Vec<u64>>>,
    pub statuses: Arc<Mutex<HashMap<u16, u64>>>,
}

impl Load {
    /// Starts `senders` concurrent senders against `url`, numbering events from `first`.
    pub fn start(
        &self,
        url: String,
        senders: usize,
        first: u64,
    ) -> Vec<actix_web::rt::task::JoinHandle<()>> {
        self.next.store(first, Ordering::SeqCst);
        self.stop.store(false, Ordering::SeqCst);
        (0..senders)
            .map(|_| {
                let (load, url) = (self.clone(), url.clone());
                actix_web::rt::spawn(async move {
                    let client = crate::helpers::client();
                    while !load.stop.load(Ordering::SeqCst) {
                        let n = load.next.fetch_add(1, Ordering::SeqCst);
                        let sent = client.post(&url).send_body(unique_open(n)).await;
                        match sent {
                            Ok(mut response) => {
                                let body = response.body().await.unwrap_or_default();
                                let status = response.status().as_u16();
                                *load.statuses.lock().unwrap().entry(status).or_default() += 1;
                                let answered = status == 200
                                    && (body.windows(8).any(|w| w == b"\"stored\"")
                                        || body.windows(11).any(|w| w == b"\"duplicate\""));
                                if answered {
                                    load.acked.lock().unwrap().push(n);
                                } else {
                                    load.unacked.lock().unwrap().push(n);
                                }
                            }
                            Err(_) => {
                                load.unacked.lock().unwrap().push(n);
                                actix_web::rt::time::sleep(Duration::from_millis(5)).await;
                            }
                        }
                    }
                })
            })
            .collect()
    }

    pub async fn stop(&self, senders: Vec<actix_web::rt::task::JoinHandle<()>>) {
        self.stop.store(true, Ordering::SeqCst);
        for sender in senders {
            sender.await.unwrap();
        }
    }

    /// The number the next delivery will carry: every delivery sent from now on is numbered
    /// at least this.
    pub fn next_number(&self) -> u64 {
        self.next.load(Ordering::SeqCst)
    }

    /// How many deliveries were answered with `status` so far.
    pub fn answered(&self, status: u16) -> u64 {
        let statuses = self.statuses.lock().unwrap();
        statuses.get(&status).copied().unwrap_or(0)
    }

    pub fn acked(&self) -> Vec<u64> {
        self.acked.lock().unwrap().clone()
    }

    /// Waits until at least `count` deliveries in total have been acknowledged, so that a
    /// scenario acts under load however slow the machine is.
    pub async fn wait_for_acks(&self, count: usize) {
        for _ in 0..6000 {
            if self.acked.lock().unwrap().len() >= count {
                return;
            }
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("fewer than {count} deliveries were acknowledged within a minute");
    }
}

/// How a fault scenario ends: the service started again on `db` is healthy and takes a new
/// delivery, and then every delivery acknowledged before (and that one) is stored exactly once.
pub async fn restarted_with_every_ack(db: &Path, extra: &[&str], mut acked: Vec<u64>) {
    let restarted = HubProcess::start(db, extra);
    let mut response = crate::helpers::client()
        .post(restarted.webhook_url())
        .send_body(unique_open(9_999_999))
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.body().await);
    let health = format!("http://127.0.0.1:{}/health", restarted.port);
    assert_eq!(crate::outside_commands::get(health, None).await.0, 200);
    assert!(restarted.terminate().success());
    acked.push(9_999_999);
    assert_invariants(db, &acked);
}

/// The invariant every scenario ends with: each acknowledged delivery is stored exactly once,
/// nothing is stored twice, rollups equal a recount, the file is intact, and no event is linked
/// to another user's lead.
pub fn assert_invariants(db: &Path, acked: &[u64]) {
    assert_invariants_on(&Database::from(db), acked);
    let integrity: String = inspect(db)
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
}

/// [`assert_invariants`] on either backend (the file's integrity check is SQLite's own).
pub fn assert_invariants_on(db: &Database, acked: &[u64]) {
    // Read whole and parsed here: on SQLite most payloads are compressed (issue 19), which
    // SQL's JSON functions cannot see into.
    let mut stored: HashMap<String, i64> = HashMap::new();
    for row in crate::backends::rows(db, "SELECT event_data FROM email_events", &[]) {
        let payload: serde_json::Value =
            serde_json::from_str(row[0].as_deref().unwrap()).expect("a stored payload is JSON");
        let stats_id = payload["stats_id"].as_str().unwrap_or_default().to_owned();
        *stored.entry(stats_id).or_default() += 1;
    }
    for n in acked {
        assert_eq!(
            stored.get(&stats_id(*n)),
            Some(&1),
            "acknowledged event {n} is not stored exactly once"
        );
    }
    assert!(stored.values().all(|&c| c == 1), "an event is stored twice");
    assert_eq!(
        admin(db).check_rollups().unwrap(),
        vec![],
        "rollups differ from a recount"
    );
    let crossed = crate::backends::count(
        db,
        "SELECT count(*) FROM email_events e JOIN leads l ON l.id = e.lead_id WHERE l.user_id <> e.user_id",
    );
    assert_eq!(crossed, 0, "an event is linked to another user's lead");
}

/// A database of `backend` holding the fixtures' user (`ORG`, its secret), and a folder for
/// the services' logs.
pub fn prepared(backend: Backend) -> (TestDb, tempfile::TempDir) {
    let test_db = TestDb::new(backend);
    crate::helpers::add_user(
        &test_db.db,
        "owner@northpeak.example",
        ORG,
        Some(crate::helpers::SECRET),
    );
    (test_db, tempfile::tempdir().unwrap())
}

/// A temp folder with a database holding the fixtures' user (`ORG`, its secret).
pub fn prepared_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    crate::helpers::add_user(
        &db,
        "owner@northpeak.example",
        ORG,
        Some(crate::helpers::SECRET),
    );
    (dir, db)
}

/// `smartlead-hub backup --db DB --to TO`, run to completion.
pub fn backup_to(db: &Path, to: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_smartlead-hub"))
        .args([
            "backup",
            "--db",
            db.to_str().unwrap(),
            "--to",
            to.to_str().unwrap(),
        ])
        .output()
        .unwrap()
}

/// Peak resident set size of a process, in MiB (Linux /proc).
pub fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<f64>()
        .unwrap()
        / 1024.0
}
