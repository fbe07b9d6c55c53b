//! The bad days, against the real binary: crashes, shutdowns under load, overload, backups.
//! Each scenario ends with `assert_invariants`. Longer runs: tests/soak.sh.

use std::time::Duration;

use crate::backends::on_both_backends;
use crate::process::{assert_invariants, assert_invariants_on, prepared, prepared_db, unique_open};
use crate::process::{HubProcess, Load};

on_both_backends! {
/// SIGKILL at a random moment under load, restart on the same database, five times
/// (SOAK_KILL_CYCLES); then every delivery that was never acknowledged is redelivered, as
/// Smartlead would.
async fn kill_9_under_load_loses_nothing_acknowledged(backend: Backend) {
    let (test_db, logs) = prepared(backend);
    let start = |extra: &[&str]| HubProcess::start_on(&test_db.db, logs.path(), extra, "warn");
    let load = Load::default();
    let mut seed = 0x9e37_79b9_u64;
    let cycles = crate::helpers::soak_count("SOAK_KILL_CYCLES", 5);
    for cycle in 0..u64::from(cycles) {
        let hub = start(&[]);
        let senders = load.start(hub.webhook_url(), 16, cycle * 1_000_000);
        load.wait_for_acks(10 * (cycle as usize + 1)).await;
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        actix_web::rt::time::sleep(Duration::from_millis(50 + (seed >> 33) % 400)).await;
        hub.kill9();
        load.stop(senders).await;
    }
    let acked = load.acked();
    assert!(
        acked.len() >= 50,
        "the load did reach the server ({} acknowledged)",
        acked.len()
    );

    // Redeliver what was never acknowledged: each becomes stored, or a duplicate of a commit
    // whose answer the crash swallowed.
    let hub = start(&[]);
    let client = crate::helpers::client();
    let unacked = load.unacked.lock().unwrap().clone();
    for n in &unacked {
        let mut response = client
            .post(hub.webhook_url())
            .send_body(unique_open(*n))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{:?}", response.body().await);
    }
    assert!(hub.terminate().success());
    let everything: Vec<u64> = acked.iter().chain(unacked.iter()).copied().collect();
    assert_invariants_on(&test_db.db, &everything);
}

/// SIGTERM under load: requests in flight are committed and answered or refused; the process
/// exits cleanly and nothing acknowledged is missing after a restart.
async fn graceful_shutdown_under_load_keeps_every_acknowledged_event(backend: Backend) {
    let (test_db, logs) = prepared(backend);
    let start = |extra: &[&str]| HubProcess::start_on(&test_db.db, logs.path(), extra, "warn");
    let load = Load::default();
    let hub = start(&[]);
    let senders = load.start(hub.webhook_url(), 16, 0);
    load.wait_for_acks(20).await;
    let status = hub.terminate();
    load.stop(senders).await;
    assert!(status.success(), "exit status {status}");
    let statuses = load.statuses.lock().unwrap().clone();
    assert!(
        statuses.keys().all(|s| *s == 200 || *s == 503),
        "only 200 or 503: {statuses:?}"
    );
    let acked = load.acked();
    assert!(
        acked.len() >= 20,
        "the load did reach the server ({} acknowledged)",
        acked.len()
    );

    let hub = start(&[]);
    assert!(hub.terminate().success());
    assert_invariants_on(&test_db.db, &acked);
}

/// Far more concurrent senders than the queue holds: refusals are quick 503s, never timeouts
/// or 500s, and every 2xx is stored.
async fn overload_is_refused_with_503_and_every_2xx_is_stored(backend: Backend) {
    let (test_db, logs) = prepared(backend);
    let hub = HubProcess::start_on(&test_db.db, logs.path(), &["--queue-depth", "4", "--max-batch", "4"], "warn");
    // awc holds a client to 100 connections unless told otherwise: 400 must really be at once.
    let client = awc::Client::builder()
        .connector(awc::Connector::new().limit(0))
        .timeout(Duration::from_secs(30))
        .finish();
    let requests = (0..400u64).map(|n| {
        let (client, url) = (client.clone(), hub.webhook_url());
        async move {
            let mut response = client
                .post(url)
                .send_body(unique_open(n))
                .await
                .expect("answered, no timeout");
            let body = response.body().await.unwrap();
            (
                n,
                response.status().as_u16(),
                response.headers().contains_key("retry-after"),
                body,
            )
        }
    });
    let answers = futures_util::future::join_all(requests).await;
    let acked: Vec<u64> = answers.iter().filter(|a| a.1 == 200).map(|a| a.0).collect();
    let refused: Vec<_> = answers.iter().filter(|a| a.1 == 503).collect();
    assert_eq!(
        acked.len() + refused.len(),
        answers.len(),
        "only 200 and 503"
    );
    assert!(
        !refused.is_empty(),
        "400 simultaneous requests overflow a queue of 4"
    );
    assert!(
        refused
            .iter()
            .all(|a| a.2 && a.3.windows(12).any(|w| w == b"\"queue_full\"")),
        "coded 503s with Retry-After"
    );
    let rss = crate::process::peak_rss_mib(hub.pid());
    assert!(rss < 300.0, "peak RSS {rss} MiB");
    assert!(hub.terminate().success());
    assert_invariants_on(&test_db.db, &acked);
}
}

/// A backup taken while the service is under load opens cleanly and holds every event
/// acknowledged before it started.
#[actix_web::test]
async fn a_backup_during_load_holds_everything_acknowledged_before_it() {
    let (dir, db) = prepared_db();
    let load = Load::default();
    let hub = HubProcess::start(&db, &[]);
    let senders = load.start(hub.webhook_url(), 8, 0);
    load.wait_for_acks(20).await;
    let before = load.acked();
    let copy = dir.path().join("backup.db");
    let output = crate::process::backup_to(&db, &copy);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("integrity ok"));
    load.stop(senders).await;
    assert!(hub.terminate().success());
    assert!(!before.is_empty());

    // The copy is a complete, consistent database on its own: every invariant holds for what
    // was acknowledged before the backup began.
    assert_invariants(&copy, &before);
    // A second backup to the same file is refused rather than overwriting it.
    let again = crate::process::backup_to(&db, &copy);
    assert!(!again.status.success());
}

/// A deterministic shutdown: requests are queued behind a write lock that another process holds,
/// SIGTERM arrives, then the lock is released. Every request gets an answer (200, or 503 past
/// the grace period), none is dropped, the process exits 0 with the WAL checkpointed, and every
/// 200 is stored.
#[actix_web::test]
async fn sigterm_with_requests_queued_answers_every_one_and_exits_cleanly() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};

    let (_dir, db) = prepared_db();
    let hub = HubProcess::start(&db, &["--busy-timeout-ms", "30000"]);
    let mut locker = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys\n\
                 conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
                 conn.execute('BEGIN IMMEDIATE')\n\
                 print('locked', flush=True)\n\
                 sys.stdin.readline()\n\
                 conn.execute('ROLLBACK')",
        ])
        .arg(&db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut said = String::new();
    BufReader::new(locker.stdout.take().unwrap())
        .read_line(&mut said)
        .unwrap();
    assert_eq!(said.trim(), "locked");

    let client = crate::helpers::patient_client(Duration::from_secs(60));
    let requests: Vec<_> = (0..20)
        .map(|n| {
            let request = client.post(hub.webhook_url()).send_body(unique_open(n));
            actix_web::rt::spawn(async move {
                let mut response = request.await.map_err(|e| e.to_string())?;
                let body = response.body().await.map_err(|e| e.to_string())?;
                Ok::<_, String>((n, response.status().as_u16(), body))
            })
        })
        .collect();
    // The requests reach the writer, which waits for the lock; none can be answered yet.
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let pid = hub.pid();
    let exit = actix_web::rt::task::spawn_blocking(move || hub.terminate());
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    writeln!(locker.stdin.take().unwrap()).unwrap();
    assert!(locker.wait().unwrap().success());

    let mut acked = Vec::new();
    for request in requests {
        let (n, status, body) = request.await.unwrap().expect("answered, not dropped");
        assert!(status == 200 || status == 503, "{status}: {body:?}");
        if status == 200 {
            acked.push(n);
        }
    }
    let status = exit.await.unwrap();
    assert!(status.success(), "pid {pid} exited with {status}");
    let wal = std::fs::metadata(format!("{}-wal", db.display())).map_or(0, |m| m.len());
    assert_eq!(wal, 0, "the WAL is checkpointed at shutdown");
    assert_eq!(
        acked.len(),
        20,
        "the queued requests were committed once the lock was free"
    );
    assert_invariants(&db, &acked);
}
