//! `migrate-data`: a SQLite install copied into PostgreSQL through the real binary answers
//! every read exactly as the file did; an interrupted copy resumes; a target holding data is
//! refused unless told.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use smartlead_hub::storage::Database;

use crate::backends::{postgres_available, rows, Backend, TestDb};
use crate::helpers::{run_hub, run_hub_on, serve_file};

/// `migrate-data --from FILE --to URL` with `extra`: (success, stdout, stderr).
fn migrate_data(from: &TestDb, to: &TestDb, extra: &[&str]) -> (bool, String, String) {
    let Database::Postgres(url) = &to.db else {
        unreachable!()
    };
    let from = from.path.to_str().unwrap();
    run_hub(
        &[
            &["migrate-data", "--from", from, "--to", url.expose()],
            extra,
        ]
        .concat(),
        None,
    )
}

/// A SQLite file with the demo's history (users, tokens, leads, events, kept events,
/// rollups), and the demo's API token.
fn seeded_file() -> (TestDb, String) {
    let file = TestDb::new(Backend::Sqlite);
    let (ok, out, err) = run_hub_on(
        &["demo", "--events", "3000", "--seed", "11"],
        Some(&file.db),
    );
    assert!(ok, "{err}");
    let token = out
        .lines()
        .find_map(|l| l.strip_prefix("API token (shown once): "))
        .unwrap_or_else(|| panic!("no token in:\n{out}"))
        .to_owned();
    (file, token)
}

/// Every read the dashboard makes, answered by a service on `db` with `token`.
async fn answers(db: &Database, token: &str) -> Vec<(String, Value)> {
    let served = serve_file(db, |_| {});
    let client = crate::helpers::client();
    let get = |path: String| {
        let request = client
            .get(format!("{}{path}", served.base))
            .bearer_auth(token);
        async move {
            let mut response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let mut body: Value = response.json().limit(16 << 20).await.unwrap();
            // `as_of` is each database's own numbering of its events (the copied ones are
            // projected, unnumbered, on the target): every other byte must match.
            if let Some(fields) = body.as_object_mut() {
                fields.remove("as_of");
            }
            (path, body)
        }
    };
    let (_, campaigns) = get("/api/campaigns".to_owned()).await;
    let campaign = campaigns["campaigns"][0]["campaign_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, leads) = get("/api/leads?limit=1".to_owned()).await;
    let lead = leads["leads"][0]["id"].as_str().unwrap().to_owned();
    let mut answers = Vec::new();
    for path in [
        "/api/me".to_owned(),
        "/api/campaigns".to_owned(),
        "/api/stats".to_owned(),
        "/api/stats?period=90d".to_owned(),
        format!("/api/campaigns/{campaign}/stats"),
        format!("/api/campaigns/{campaign}/timeseries?bucket=day"),
        "/api/timeseries?bucket=hour".to_owned(),
        format!("/api/campaigns/{campaign}/steps"),
        "/api/leads?limit=100".to_owned(),
        format!("/api/leads/{lead}/events"),
        "/api/events?limit=200".to_owned(),
        "/api/events?event_type=email_replied&limit=200".to_owned(),
        "/api/kept-events?limit=100".to_owned(),
    ] {
        answers.push(get(path).await);
    }
    served.stop().await;
    answers
}

#[actix_web::test]
async fn a_copied_install_answers_every_read_as_the_file_did() {
    if !postgres_available("migrate_data::a_copied_install_answers_every_read_as_the_file_did") {
        return;
    }
    let (file, token) = seeded_file();
    let target = TestDb::new(Backend::Postgres);
    let (ok, out, err) = migrate_data(&file, &target, &[]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("verified"), "{out}");
    // The token's hash was copied with the rest: the same token reads both.
    assert_eq!(
        answers(&file.db, &token).await,
        answers(&target.db, &token).await
    );

    // Run again: the target holds data now, and is refused without being told.
    let (ok, _, err) = migrate_data(&file, &target, &[]);
    assert!(!ok);
    assert!(err.contains("--into-non-empty"), "{err}");
    let (ok, out, err) = migrate_data(&file, &target, &["--into-non-empty"]);
    assert!(ok, "{out}{err}");
    let events = |db: &Database| rows(db, "SELECT count(*) FROM email_events", &[]);
    assert_eq!(events(&file.db), events(&target.db), "nothing doubled");
}

#[actix_web::test]
async fn an_interrupted_copy_resumes_where_it_stopped() {
    if !postgres_available("migrate_data::an_interrupted_copy_resumes_where_it_stopped") {
        return;
    }
    let (file, _) = seeded_file();
    let target = TestDb::new(Backend::Postgres);
    let Database::Postgres(url) = &target.db else {
        unreachable!()
    };
    let mut copy = Command::new(env!("CARGO_BIN_EXE_smartlead-hub"))
        .args([
            "migrate-data",
            "--from",
            file.path.to_str().unwrap(),
            "--to",
            url.expose(),
        ])
        .args(["--batch", "25"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once some batches are in, well before the end.
    let copied = || {
        let started = rows(
            &target.db,
            "SELECT to_regclass('smartlead_hub_data_copy')::text",
            &[],
        );
        if started[0][0].is_none() {
            return 0;
        }
        let sum = rows(
            &target.db,
            "SELECT COALESCE(sum(rows), 0) FROM smartlead_hub_data_copy",
            &[],
        );
        sum[0][0].as_deref().unwrap().parse::<i64>().unwrap()
    };

    let mut waited = 0;
    while copied() < 500 {
        std::thread::sleep(Duration::from_millis(20));
        waited += 1;
        assert!(waited < 3000, "the copy made no progress");
    }
    copy.kill().unwrap();
    copy.wait().unwrap();
    let partial: i64 = rows(&target.db, "SELECT count(*) FROM leads", &[])[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    let all: i64 = rows(&file.db, "SELECT count(*) FROM leads", &[])[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    assert!(copied() < 3000 + all, "killed before the end");

    let (ok, out, err) = migrate_data(&file, &target, &[]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("resuming a copy that was interrupted"),
        "{out}"
    );
    assert!(out.contains("verified"), "{out}");
    assert!(partial <= all);
    for table in ["leads", "email_events", "rollup_hourly"] {
        let sql = format!("SELECT count(*) FROM {table}");
        assert_eq!(
            rows(&file.db, &sql, &[]),
            rows(&target.db, &sql, &[]),
            "{table}"
        );
    }
}
