//! Memory held by webhook bodies: bounded by a budget shared by every connection, never
//! reserved for a declared length, and never spent on an org that does not exist.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use actix_web::http::StatusCode;

use crate::helpers::{fixture, spawn_app_with, ORG};
use crate::process::{peak_rss_mib, prepared_db, unique_open, HubProcess};

/// Opens a connection that declares `declared` body bytes, sends `sent` of them and stalls.
fn stalled(port: u16, org: &str, declared: usize, sent: usize) -> Option<TcpStream> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let head = format!(
        "POST /api/webhooks/smartlead?org_id={org} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).ok()?;
    // An unknown org is answered at once and its connection closed: the write may then fail.
    let _ = stream.write_all(&vec![b' '; sent]);
    Some(stream)
}

/// The attack from the hardening audit: 200 connections declaring 4 MiB, sending all but the
/// last byte and stalling, half of them for an org that does not exist. The service's peak
/// memory stays bounded (before: ~850 MiB), and a real sender keeps being answered 200.
#[actix_web::test]
async fn stalled_bodies_keep_memory_bounded_and_a_real_sender_is_served() {
    let (_dir, db) = prepared_db();
    let hub = HubProcess::start(&db, &[]);
    let port = hub.port;
    let stalls = actix_web::rt::task::spawn_blocking(move || {
        (0..200)
            .filter_map(|i| {
                let org = if i % 2 == 0 { ORG } else { "no-such-org" };
                stalled(port, org, 4 * 1024 * 1024, 4 * 1024 * 1024 - 1)
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert!(stalls.len() >= 100, "the attack reached the server");

    let client = crate::helpers::client();
    for n in 0..20 {
        let response = client
            .post(hub.webhook_url())
            .send_body(unique_open(n))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "a real sender during the attack");
    }
    let peak = peak_rss_mib(hub.pid());
    eprintln!("peak RSS under the attack: {peak:.1} MiB");
    drop(stalls);
    assert!(
        peak < 200.0,
        "peak RSS {peak:.0} MiB: at most the 64 MiB budget of bodies should be held"
    );
}

/// True once the server has answered on `stream` (it refused or finished that request).
fn answered(stream: &TcpStream) -> bool {
    use std::io::Read;
    stream.set_nonblocking(true).unwrap();
    let got = (&*stream).read(&mut [0u8; 1]);
    stream.set_nonblocking(false).unwrap();
    !matches!(got, Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// An open event with its own stats id, padded to ~10 KiB.
fn padded_open(n: usize) -> Vec<u8> {
    let mut open: serde_json::Value =
        serde_json::from_slice(&fixture("05_email_open_seq1.json")).unwrap();
    open["stats_id"] = format!("padded-{n}").into();
    open["padding"] = "x".repeat(8 * 1024).into();
    serde_json::to_vec(&open).unwrap()
}

/// Past the budget a delivery is refused with 503 `overloaded` and `Retry-After` (Smartlead
/// retries), nothing of it written, and accepted again once the bodies holding the budget are
/// gone.
#[actix_web::test]
async fn a_body_that_would_pass_the_budget_is_503_overloaded_until_memory_frees() {
    let app = spawn_app_with(|s| {
        s.max_body_bytes = 64 * 1024;
        s.max_buffered_body_bytes = 64 * 1024;
    })
    .await;
    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let hold = || stalled(port, ORG, 64 * 1024, 60 * 1024).expect("connected");
    let mut holder = hold();

    // Until the server has read the holder's 60 KiB, a probe fits; and should a probe's bytes
    // be counted first, it is the holder that is refused: then hold again.
    let mut attempt = 0;
    let refused = loop {
        attempt += 1;
        assert!(attempt < 200, "no delivery was ever refused");
        let answer = app.post_webhook(ORG, padded_open(attempt), None).await;
        let holder_alive = !answered(&holder);
        if answer.status == StatusCode::SERVICE_UNAVAILABLE && holder_alive {
            break answer;
        }
        if !holder_alive {
            holder = hold();
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(refused.error_code(), "overloaded");
    assert!(refused.headers.contains_key("retry-after"));
    let padded = format!("padded-{attempt}");
    let written = app
        .rows("SELECT event_data FROM email_events", &[])
        .iter()
        .filter(|row| {
            let payload: serde_json::Value =
                serde_json::from_str(row[0].as_deref().unwrap()).unwrap();
            payload["stats_id"] == padded.as_str()
        })
        .count();
    assert_eq!(written, 0, "a refused delivery wrote nothing");

    drop(holder);
    let mut answer = app.post_webhook(ORG, padded_open(attempt), None).await;
    for _ in 0..100 {
        if answer.status == StatusCode::OK {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        answer = app.post_webhook(ORG, padded_open(attempt), None).await;
    }
    assert_eq!(answer.body["status"], "stored", "{}", answer.body);
}
