//! `demo` and `serve --demo` through the real binary: a realistic history through the webhook's
//! path, answered by the read API with the printed token, and nothing doubled by a second run.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::helpers::{admin, inspect, read, run_hub, serve_file};

fn demo(db: &Path, args: &[&str]) -> (bool, String, String) {
    run_hub(&[&["demo"], args].concat(), Some(db))
}

fn token_in(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("API token (shown once): "))
        .unwrap_or_else(|| panic!("no token in:\n{out}"))
        .to_owned()
}

/// (email events, kept events, leads, rollup rows' event sum).
fn totals(db: &Path) -> (i64, i64, i64, i64) {
    inspect(db)
        .query_row(
            "SELECT (SELECT count(*) FROM email_events), (SELECT count(*) FROM smartlead_events),
                    (SELECT count(*) FROM leads), (SELECT sum(events) FROM rollup_totals)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap()
}

#[actix_web::test]
async fn the_demo_fills_the_api_and_a_second_run_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let (ok, out, err) = demo(&db, &["--events", "4000", "--seed", "5"]);
    assert!(ok, "{err}");
    assert!(out.contains("demo history: 4000 events"), "{out}");
    assert!(out.contains("0 held, 0 rejected"), "{out}");
    let token = token_in(&out);
    assert_eq!(
        out.matches("curl -H 'Authorization: Bearer ").count(),
        4,
        "{out}"
    );
    let first = totals(&db);
    assert_eq!(first.0 + first.1, 4000, "every generated event is stored");
    assert_eq!(admin(&db).check_rollups().unwrap(), vec![]);

    // The printed token answers the read API of a service on that file.
    let served = serve_file(&db, |_| {});
    let base = served.base.clone();
    let (status, campaigns) = read(&base, &token, "/api/campaigns").await;
    assert_eq!(status, 200);
    let campaigns: Value = serde_json::from_str(&campaigns).unwrap();
    assert_eq!(
        campaigns["campaigns"].as_array().unwrap().len(),
        8,
        "{campaigns}"
    );
    // The last printed line: the leads who replied, as CSV, one row each.
    let export = out
        .lines()
        .last()
        .and_then(|l| l.split('\'').nth(3))
        .expect("the export's URL, quoted");
    assert!(
        export.ends_with("/api/leads/export?last_kind=replied"),
        "{export}"
    );
    let (status, csv) = read(&base, &token, &export[export.find("/api/").unwrap()..]).await;
    assert_eq!(status, 200);
    let replied = read(&base, &token, "/api/leads?last_kind=replied&limit=500")
        .await
        .1;
    let replied: Value = serde_json::from_str(&replied).unwrap();
    let replied = replied["leads"].as_array().unwrap().len();
    assert!(replied > 0);
    assert_eq!(csv.lines().count(), 1 + replied, "{csv}");
    let stats: Value = serde_json::from_str(&read(&base, &token, "/api/stats").await.1).unwrap();
    let headline = &stats["stats"]["headline"];
    let sent = headline["sent"]["events"].as_f64().unwrap();
    let opened = headline["opened"]["events"].as_f64().unwrap();
    assert!(
        sent > 0.0 && (0.25..0.65).contains(&(opened / sent)),
        "{stats}"
    );
    assert!(
        headline["replied"]["events"].as_f64().unwrap() > 0.0,
        "{stats}"
    );
    served.stop().await;

    // Again: the same history, all of it found stored; a new token to try it with.
    let (ok, out, err) = demo(&db, &["--events", "4000", "--seed", "5"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("0 stored, 4000 already stored, 0 kept"),
        "{out}"
    );
    assert_ne!(token_in(&out), token);
    assert_eq!(totals(&db), first);
}

#[test]
fn bad_demo_arguments_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    for args in [["--events", "0"], ["--events", "many"], ["--seed", "-1"]] {
        let (ok, _, err) = demo(&db, &args);
        assert!(!ok && err.contains("--"), "{args:?}: {err}");
    }
    assert!(!db.exists(), "a refused demo created the file");
}

/// `serve --demo`: one command from nothing to a service with data and a token.
#[test]
fn serve_demo_is_one_command() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_smartlead-hub"))
        .args(["serve", "--demo", "--bind", "127.0.0.1:0", "--db"])
        .arg(&db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if line.starts_with("Health:") {
            break;
        }
    }
    let token = token_in(&printed);
    let api = printed
        .lines()
        .find_map(|l| l.strip_prefix("API:     "))
        .unwrap()
        .to_owned();
    let answer = Command::new("python3")
        .args([
            "-c",
            "import sys, urllib.request as u; r = u.urlopen(u.Request(sys.argv[1], headers={'Authorization': 'Bearer ' + sys.argv[2]})); print(r.status, len(__import__('json').load(r)['campaigns']))",
            &api,
            &token,
        ])
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        String::from_utf8_lossy(&answer.stdout).trim(),
        "200 8",
        "{printed}"
    );
}
