//! The service next to the tools people run beside it, as real processes on a real file:
//! Debian's `sqlite3` shell and Python's `sqlite3` (an older SQLite than the bundled one, which
//! is the point: they delete `-wal`/`-shm` when they believe they are the last user), the
//! README's validation script, the project's own CLI, a second `serve`, and someone deleting the
//! WAL by hand.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use crate::outside_commands::{
    assert_companions_exist, companion, damage_first_page, get, hub_cli, issue_token_command,
    python_reads, python_session, run, run_now, serve_expecting_refusal, sqlite3_shell,
    token_printed,
};
use crate::process::{
    assert_invariants, prepared_db, restarted_with_every_ack, unique_open, HubProcess, Load,
};

type Senders = Vec<actix_web::rt::task::JoinHandle<()>>;

/// A prepared database served by the real binary, with 8 senders delivering to it, once
/// `acks` deliveries have been acknowledged.
async fn serving_under_load(acks: usize) -> (TempDir, PathBuf, HubProcess, Load, Senders) {
    let (dir, db) = prepared_db();
    let hub = HubProcess::start(&db, &[]);
    let load = Load::default();
    let senders = load.start(hub.webhook_url(), 8, 0);
    load.wait_for_acks(acks).await;
    (dir, db, hub, load, senders)
}

/// The scenarios that took ingest down, lost acknowledged events and corrupted the file, all
/// interleaved with deliveries from concurrent senders: every delivery is answered 200, the
/// service keeps its files, and after `kill -9` everything acknowledged is there exactly once.
#[actix_web::test]
async fn outside_readers_backups_and_management_commands_leave_the_service_intact() {
    let (dir, db, hub, load, senders) = serving_under_load(20).await;

    let version = run(sqlite3_shell(&db, "SELECT sqlite_version()")).await;
    eprintln!(
        "outside SQLite: shell {}, bundled {}",
        String::from_utf8_lossy(&version.stdout).trim(),
        rusqlite::version()
    );
    let validation =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/test_smartlead_schema.sql");
    for round in 0..3 {
        run(sqlite3_shell(&db, "SELECT count(*) FROM email_events")).await;
        assert_companions_exist(&db, "a sqlite3 shell query");

        run(python_reads(&db, 50)).await;
        assert_companions_exist(&db, "50 Python connections");

        run(python_session(&db)).await;
        assert_companions_exist(&db, "a Python session open while the service committed");

        let mut script = Command::new("sh");
        script.arg("-c").arg(format!(
            "sqlite3 '{}' < '{}'",
            db.display(),
            validation.display()
        ));
        run(script).await;
        assert_companions_exist(&db, "the README's validation script");

        let copy = dir.path().join(format!("backup-{round}.db"));
        run(hub_cli(&db, &["backup", "--to", copy.to_str().unwrap()])).await;
        assert_companions_exist(&db, "smartlead-hub backup");

        let org = format!("outside-org-{round}");
        let email = format!("outside-{round}@example.com");
        run(hub_cli(
            &db,
            &["users", "add", "--email", &email, "--org-id", &org],
        ))
        .await;
        let token = run(issue_token_command(&db)).await;
        let token = token_printed(&token);
        let me = format!("http://127.0.0.1:{}/api/me", hub.port);
        assert_eq!(get(me, Some(&token)).await.0, 200, "the issued token works");
        run(hub_cli(&db, &["rollups", "check"])).await;
        assert_companions_exist(&db, "smartlead-hub users/tokens/rollups");

        load.wait_for_acks(20 * (round + 2)).await;
    }
    load.stop(senders).await;

    let statuses = load.statuses.lock().unwrap().clone();
    assert_eq!(
        statuses.keys().copied().collect::<Vec<_>>(),
        vec![200],
        "every delivery answered 200: {statuses:?}"
    );
    assert!(load.unacked.lock().unwrap().is_empty());
    let health = format!("http://127.0.0.1:{}/health", hub.port);
    assert_eq!(get(health, None).await.0, 200);

    hub.kill9();
    let restarted = HubProcess::start(&db, &[]);
    assert!(restarted.terminate().success());
    assert_invariants(&db, &load.acked());
}

/// Belt and braces: a WAL deleted by hand under the running service. The service notices by
/// itself, acknowledges nothing after it, says why on `/health`, writes the deleted file (which it
/// still has open) back, and after `kill -9` and a restart nothing acknowledged is missing.
#[actix_web::test]
async fn a_wal_deleted_under_the_service_stops_writes_and_loses_nothing_acknowledged() {
    let (_dir, db, hub, load, senders) = serving_under_load(50).await;

    let wal = companion(&db, "-wal");
    std::fs::remove_file(&wal).unwrap();
    let health = format!("http://127.0.0.1:{}/health", hub.port);
    let mut answer = get(health.clone(), None).await;
    for _ in 0..200 {
        if answer.0 == 503 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        answer = get(health.clone(), None).await;
    }
    assert_eq!(answer.0, 503, "/health notices: {}", answer.1);
    assert_eq!(answer.1["error"]["code"], "storage_fault");
    let reason = answer.1["error"]["message"].as_str().unwrap();
    assert!(
        reason.contains("-wal") && reason.contains("deleted"),
        "{reason}"
    );

    // Nothing is acknowledged once the fault is known: deliveries sent from now on are refused.
    let sent_after_fault = load.next_number();
    let refused_before = load.answered(503);
    for _ in 0..600 {
        let refused = load.answered(503);
        if refused >= refused_before + 20 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    load.stop(senders).await;
    let late: Vec<u64> = load
        .acked()
        .into_iter()
        .filter(|n| *n >= sent_after_fault)
        .collect();
    assert!(late.is_empty(), "acknowledged after the fault: {late:?}");
    let statuses = load.statuses.lock().unwrap().clone();
    assert!(
        statuses[&503] >= refused_before + 20,
        "later deliveries are refused: {statuses:?}"
    );
    assert!(
        statuses.keys().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );

    // The writer puts the deleted WAL back (it still has it open), then a crash changes nothing.
    for _ in 0..200 {
        if wal.exists() {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(wal.exists(), "the deleted WAL was written back");
    hub.kill9();

    restarted_with_every_ack(&db, &[], load.acked()).await;
}

/// A second `serve` on a file that one already serves (a systemd unit plus a manual run) is
/// refused with a message naming the first; the first keeps working, and once it has stopped
/// the file can be served again.
#[actix_web::test]
async fn a_second_serve_on_the_same_file_is_refused_and_the_first_keeps_working() {
    let (_dir, db) = prepared_db();
    let first = HubProcess::start(&db, &[]);

    let second = serve_expecting_refusal(&db);
    assert!(!second.status.success(), "the second serve must not run");
    let message = String::from_utf8_lossy(&second.stderr);
    assert!(
        message.contains("already running") && message.contains(&first.pid().to_string()),
        "{message}"
    );

    let client = crate::helpers::client();
    let response = client
        .post(first.webhook_url())
        .send_body(unique_open(1))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(first.terminate().success());

    let again = HubProcess::start(&db, &[]);
    assert!(again.terminate().success());
    assert_invariants(&db, &[1]);
}

/// A file that SQLite finds malformed: at run time the first query that meets the damage stops
/// the writes, and reads, writes and `/health` answer 503 `storage_fault` (never a 500 or a 2xx);
/// at start the file is refused with a clear message.
#[actix_web::test]
async fn a_malformed_file_is_reported_at_run_time_and_refused_at_start() {
    let (_dir, db) = prepared_db();
    let hub = HubProcess::start(&db, &[]);
    let client = crate::helpers::client();
    for n in 0..40 {
        let response = client
            .post(hub.webhook_url())
            .send_body(unique_open(n))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    assert!(hub.terminate().success());
    let token = token_printed(&run_now(issue_token_command(&db)));

    let hub = HubProcess::start(&db, &[]);
    damage_first_page(&db, "email_event_rows");
    let events = format!("http://127.0.0.1:{}/api/events?limit=50", hub.port);
    let (status, body) = get(events, Some(&token)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (503, &Value::from("storage_fault")),
        "{body}"
    );
    let (status, body) = get(format!("http://127.0.0.1:{}/health", hub.port), None).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("malformed"),
        "{body}"
    );
    let mut response = client
        .post(hub.webhook_url())
        .send_body(unique_open(41))
        .await
        .unwrap();
    assert_eq!(response.status(), 503, "{:?}", response.body().await);
    hub.kill9();

    let refused = serve_expecting_refusal(&db);
    assert!(!refused.status.success(), "a malformed file is not served");
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("malformed") && message.contains("backup"),
        "{message}"
    );
}
