//! `serve --exit-on-storage-fault`, the real binary on a real file: a fault that a restart
//! repairs stops the service with status 75 for its supervisor to start it again, and loses
//! nothing acknowledged; a fault that a restart would not repair leaves it up, saying why.

use std::time::Duration;

use serde_json::Value;

use crate::outside_commands::{
    companion, damage_first_page, get, issue_token_command, run_now, token_printed,
};
use crate::process::{prepared_db, restarted_with_every_ack, unique_open, HubProcess, Load};

const EXIT_FOR_RESTART: i32 = 75;

/// The WAL deleted by hand under load: the service stops acknowledging, writes the WAL back,
/// finishes what is in flight and exits 75 by itself; started again (as systemd would), it
/// recovers every acknowledged event and takes deliveries.
#[actix_web::test]
async fn a_deleted_wal_stops_the_service_for_a_restart_that_loses_nothing() {
    let (_dir, db) = prepared_db();
    let mut hub = HubProcess::start(&db, &["--exit-on-storage-fault"]);
    let load = Load::default();
    let senders = load.start(hub.webhook_url(), 8, 0);
    load.wait_for_acks(50).await;

    let wal = companion(&db, "-wal");
    std::fs::remove_file(&wal).unwrap();
    let status = actix_web::rt::task::spawn_blocking(move || {
        let status = hub.exit_within(Duration::from_secs(30));
        (hub, status)
    });
    let (hub, status) = status.await.unwrap();
    load.stop(senders).await;
    let status = status.expect("the service exits by itself within 30 s");
    assert_eq!(status.code(), Some(EXIT_FOR_RESTART), "{}", hub.log());
    let log = hub.log();
    assert!(
        log.contains("stopping so that a supervisor starts the service again")
            && log.contains("-wal file was deleted"),
        "{log}"
    );
    assert!(
        wal.exists(),
        "the deleted WAL was written back before the exit"
    );
    let statuses = load.statuses.lock().unwrap().clone();
    assert!(
        statuses.keys().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );

    assert!(load.acked().len() >= 50);
    restarted_with_every_ack(&db, &["--exit-on-storage-fault"], load.acked()).await;
}

/// A malformed file is not repaired by a restart (it would be refused at start): with the flag
/// the service still stays up, answering 503 `storage_fault` with the reason, says so, and
/// `/metrics` shows the fault.
#[actix_web::test]
async fn a_fault_a_restart_does_not_repair_leaves_the_service_up() {
    let (_dir, db) = prepared_db();
    let hub = HubProcess::start(&db, &[]);
    let client = crate::helpers::client();
    let response = client
        .post(hub.webhook_url())
        .send_body(unique_open(1))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(hub.terminate().success());
    let token = token_printed(&run_now(issue_token_command(&db)));

    let mut hub = HubProcess::start(&db, &["--exit-on-storage-fault"]);
    damage_first_page(&db, "email_event_rows");
    let events = format!("http://127.0.0.1:{}/api/events", hub.port);
    let (status, body) = get(events, Some(&token)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (503, &Value::from("storage_fault")),
        "{body}"
    );
    assert!(
        hub.logged_within(
            "a restart does not repair this fault",
            Duration::from_secs(10)
        ),
        "{}",
        hub.log()
    );
    assert_eq!(hub.exit_within(Duration::ZERO), None, "{}", hub.log());
    let (status, body) = get(format!("http://127.0.0.1:{}/health", hub.port), None).await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("malformed"));
    // Prometheus sees it too: the scrape still answers, with the fault.
    let mut response = client
        .get(format!("http://127.0.0.1:{}/metrics", hub.port))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = String::from_utf8(response.body().await.unwrap().to_vec()).unwrap();
    assert!(
        text.lines().any(|l| l == "smartlead_hub_storage_fault 1"),
        "{text}"
    );
    hub.kill9();
}
