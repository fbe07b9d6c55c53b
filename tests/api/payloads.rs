//! Compressed payloads (issue 19), on a real file and the real binary: what is stored, the
//! upgrade of a file from before compression (a pass killed part way and resumed), a
//! dictionary trained on the install's own payloads, and the way back to text.
//!
//! The stored frames are read back by `backends::rows` with the zstd crate and the file's own
//! `payload_dictionaries` alone, not through the hub's codec.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use actix_web::http::StatusCode;
use serde_json::Value;
use smartlead_hub::storage::Database;

use crate::backends::{count, rows, Backend, TestDb};
use crate::helpers::{fixture, issue_token, run_hub, run_hub_on, serve_file, spawn_app, ORG};
use crate::process::prepared_db;

/// Every email event's (id, payload as JSON text), in id order.
fn payloads(db: &Path) -> Vec<(String, String)> {
    rows(
        &Database::from(db),
        "SELECT id, event_data FROM email_events ORDER BY id",
        &[],
    )
    .into_iter()
    .map(|row| (row[0].clone().unwrap(), row[1].clone().unwrap()))
    .collect()
}

/// (events stored as frames, events stored as text).
fn forms(db: &Path) -> (i64, i64) {
    let db = Database::from(db);
    (
        count(
            &db,
            "SELECT count(*) FROM email_events WHERE typeof(event_data) = 'blob'",
        ),
        count(
            &db,
            "SELECT count(*) FROM email_events WHERE typeof(event_data) = 'text'",
        ),
    )
}

fn stored_bytes(db: &Path) -> i64 {
    count(
        &Database::from(db),
        "SELECT sum(length(event_data)) FROM email_events",
    )
}

fn hub_json(args: &[&str], db: &Path) -> Value {
    let (ok, out, err) = run_hub(args, Some(db));
    assert!(ok, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
}

fn demo(db: &Path, events: &str, seed: &str) -> String {
    let (ok, out, err) = run_hub(&["demo", "--events", events, "--seed", seed], Some(db));
    assert!(ok, "{err}");
    out
}

#[actix_web::test]
async fn payloads_are_stored_as_frames_and_answered_as_delivered() {
    let app = spawn_app().await;
    for name in [
        "01_email_sent_new_and_deprecated_fields.json",
        "11_email_reply_full_new_fields_html_quotes.json",
        "17_email_bounce_new_and_deprecated.json",
    ] {
        assert_eq!(app.deliver(name).await.status, StatusCode::OK, "{name}");
    }
    let path = match &app.db {
        Database::Sqlite(path) => path.clone(),
        Database::Postgres(_) => unreachable!("spawn_app is SQLite"),
    };
    assert_eq!(forms(&path), (3, 0), "every payload is stored as a frame");
    let text: usize = payloads(&path).iter().map(|(_, json)| json.len()).sum();
    assert!(
        (stored_bytes(&path) as usize) * 3 < text,
        "frames of {} bytes for {text} bytes of JSON",
        stored_bytes(&path)
    );
    // The read API answers each payload as delivered, without its secret.
    let sent: Value =
        serde_json::from_slice(&fixture("01_email_sent_new_and_deprecated_fields.json")).unwrap();
    let token = app.token_for(app.user_id);
    let answer = app
        .get_as(&token, "/api/events?event_type=email_sent")
        .await;
    let mut expected = sent.clone();
    expected.as_object_mut().unwrap().remove("secret_key");
    assert_eq!(
        answer.body["events"][0]["event_data"], expected,
        "{}",
        answer.body
    );
}

#[test]
fn the_column_admits_json_text_or_a_zstd_frame_and_nothing_else() {
    let (_dir, db) = prepared_db();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let insert = |data: rusqlite::types::Value| {
        conn.execute(
            "INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email, event_data)
             SELECT lower(hex(randomblob(16))), id, '1', 'm', 'email_sent', 'a@b.example', ?1 FROM users",
            [data],
        )
    };
    use rusqlite::types::Value as Sql;
    assert!(insert(Sql::Text("{\"a\":1}".into())).is_ok());
    let frame = zstd::bulk::compress(b"{\"a\":1}", 3).unwrap();
    assert!(insert(Sql::Blob(frame)).is_ok());
    for refused in [
        Sql::Text("not json".into()),
        Sql::Blob(b"{\"a\":1}".to_vec()),
    ] {
        let err = insert(refused.clone()).unwrap_err().to_string();
        assert!(
            err.contains("CHECK constraint failed"),
            "{refused:?}: {err}"
        );
    }
}

/// A file from before compression (down to migration 011 turns every frame back into text,
/// and the strict CHECK holds again), upgraded, then recompressed by a pass that is killed
/// part way and run again: it resumes where it was, and every payload reads as before.
#[test]
fn an_old_file_is_recompressed_by_a_resumable_pass_and_back() {
    let (_dir, db) = prepared_db();
    demo(&db, "1500", "7");
    let original = payloads(&db);
    assert!(original.len() > 1000, "{}", original.len());

    let (ok, _, err) = run_hub(&["migrate", "down", "--to", "12"], Some(&db));
    assert!(ok, "{err}");
    assert_eq!(forms(&db), (0, original.len() as i64));
    assert_eq!(payloads(&db), original);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let frame = zstd::bulk::compress(b"{}", 3).unwrap();
    let refused = conn.execute(
        "UPDATE email_events SET event_data = ?1 WHERE rowid = 1",
        [frame],
    );
    assert!(refused.is_err(), "a frame in a file at version 12");
    drop(conn);

    let (ok, _, err) = run_hub(&["migrate", "up"], Some(&db));
    assert!(ok, "{err}");
    let status = hub_json(&["payloads", "status", "--json"], &db);
    assert_eq!(status["newest_dictionary"], 1, "{status}");
    assert_eq!(status["forms"][0]["form"], "text", "{status}");

    // One event per transaction, so that the kill lands part way.
    let mut pass = Command::new(env!("CARGO_BIN_EXE_smartlead-hub"))
        .args(["payloads", "compress", "--step-events", "1", "--db"])
        .arg(&db)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let cursor = || {
        count(
            &Database::from(db.as_path()),
            "SELECT coalesce(max(after_rowid), 0) FROM payload_recompression",
        )
    };
    while cursor() < 100 {
        assert!(pass.try_wait().unwrap().is_none(), "the pass ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    pass.kill().unwrap();
    pass.wait().unwrap();
    let stopped_at = cursor();
    let (frames, text) = forms(&db);
    assert!(
        frames >= 100 && text > 0,
        "({frames}, {text}) after the kill"
    );

    let summary = hub_json(&["payloads", "compress", "--json"], &db);
    let last = count(
        &Database::from(db.as_path()),
        "SELECT max(rowid) FROM email_events",
    );
    assert_eq!(
        summary["read"],
        last - stopped_at,
        "resumed at {stopped_at}: {summary}"
    );
    assert_eq!(summary["done"], true);
    assert_eq!(forms(&db), (original.len() as i64, 0));
    assert_eq!(payloads(&db), original);
    let integrity = count(
        &Database::from(db.as_path()),
        "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'",
    );
    assert_eq!(integrity, 0);

    // And back: JSON text a plain `sqlite3` can read.
    let summary = hub_json(&["payloads", "decompress", "--json"], &db);
    assert_eq!(summary["rewritten"], original.len(), "{summary}");
    assert_eq!(forms(&db), (0, original.len() as i64));
    assert_eq!(payloads(&db), original);
}

/// `payloads train` adds a dictionary made from the file's own payloads: the running service
/// compresses the next events with it while the older frames stay readable, and `compress`
/// rewrites the stored ones with it (smaller), with the same answers.
#[actix_web::test]
async fn a_dictionary_trained_on_the_install_takes_over_and_every_payload_stays_readable() {
    let (_dir, db) = prepared_db();
    let out = demo(&db, "1500", "3");
    let demo_token = out
        .lines()
        .find_map(|l| l.strip_prefix("API token (shown once): "))
        .unwrap_or_else(|| panic!("no token in:\n{out}"))
        .to_owned();
    let fixtures_token = issue_token(&db);
    let client = crate::helpers::client();
    let read = |base: &str, token: &str| {
        let (client, url, token) = (
            client.clone(),
            format!("{base}/api/events?limit=200"),
            token.to_owned(),
        );
        async move {
            let mut response = client.get(url).bearer_auth(token).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().limit(64 << 20).await.unwrap()
        }
    };
    let deliver = |base: &str, name: &'static str| {
        let (client, url) = (
            client.clone(),
            format!("{base}/api/webhooks/smartlead?org_id={ORG}"),
        );
        async move {
            let response = client
                .post(url)
                .insert_header(("content-type", "application/json"))
                .send_body(fixture(name))
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{name}");
        }
    };
    let served = serve_file(db.as_path(), |_| {});
    deliver(&served.base, "05_email_open_seq1.json").await;
    let before = read(&served.base, &demo_token).await;
    let bytes_v1 = stored_bytes(&db);

    // Trained beside the running service, which compresses its next event with it and reads
    // the frames of both.
    let trained = hub_json(&["payloads", "train", "--json"], &db);
    assert_eq!(trained["version"], 2, "{trained}");
    assert!(trained["samples"].as_u64().unwrap() >= 1000, "{trained}");
    deliver(
        &served.base,
        "11_email_reply_full_new_fields_html_quotes.json",
    )
    .await;
    assert_eq!(read(&served.base, &demo_token).await, before);
    let fixtures_events = read(&served.base, &fixtures_token).await;
    served.stop().await;
    let types: Vec<&str> = fixtures_events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_data"]["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["EMAIL_REPLY", "EMAIL_OPEN"], "{fixtures_events}");
    let status = hub_json(&["payloads", "status", "--json"], &db);
    let forms: Vec<(&str, u64)> = status["forms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["form"].as_str().unwrap(), f["events"].as_u64().unwrap()))
        .collect();
    let total = payloads(&db).len() as u64;
    assert_eq!(
        forms,
        [("dictionary 1", total - 1), ("dictionary 2", 1)],
        "{status}"
    );

    let original = payloads(&db);
    let summary = hub_json(&["payloads", "compress", "--json"], &db);
    assert_eq!(summary["target"], 2, "{summary}");
    assert_eq!(summary["rewritten"], total - 1, "{summary}");
    let status = hub_json(&["payloads", "status", "--json"], &db);
    assert_eq!(status["forms"].as_array().unwrap().len(), 1, "{status}");
    assert_eq!(status["forms"][0]["form"], "dictionary 2", "{status}");
    assert_eq!(payloads(&db), original);
    assert!(
        stored_bytes(&db) < bytes_v1,
        "trained on the install: {} bytes against {bytes_v1}",
        stored_bytes(&db)
    );
    let served = serve_file(db.as_path(), |_| {});
    assert_eq!(read(&served.base, &demo_token).await, before);
    served.stop().await;
}

#[test]
fn postgres_says_it_compresses_by_itself() {
    let test_db = TestDb::new(Backend::Postgres);
    let (ok, _, err) = run_hub_on(&["payloads", "status"], Some(&test_db.db));
    assert!(!ok);
    assert!(err.contains("TOAST"), "{err}");
}
