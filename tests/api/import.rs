//! `import` through the real binary: captured bodies take the webhook's path; a dry run changes
//! nothing and says what a real run does; importing again stores nothing new; hostile input gets
//! a clear error or a counted rejection, never a partial surprise.

use std::path::Path;

use serde_json::Value;

use smartlead_hub::storage::Database;

use crate::backends::{count, on_both_backends, rows, TestDb};
use crate::helpers::{add_user, fixture, run_hub_on, ORG, SECRET};

/// The good fixtures (every shape, a retry of 05 among them).
const GOOD: &[&str] = &[
    "01_email_sent_new_and_deprecated_fields.json",
    "04_first_email_sent.json",
    "05_email_open_seq1.json",
    "07_email_opened_nested_docs_shape.json",
    "11_email_reply_full_new_fields_html_quotes.json",
    "23_lead_category_updated_full_history.json",
    "25_campaign_status_changed.json",
    "26_manual_step_reached.json",
    "27_untracked_replies.json",
    "28_email_open_seq1_retry_duplicate_of_05.json",
];

fn import(db: impl Into<Database>, args: &[&str]) -> (bool, String, String) {
    run_hub_on(&[&["import"], args].concat(), Some(&db.into()))
}

fn one_line(name: &str) -> String {
    let value: Value = serde_json::from_slice(&fixture(name)).unwrap();
    value.to_string()
}

/// Rows of (email_events, smartlead_events, leads, held_deliveries).
fn counts(db: impl Into<Database>) -> [i64; 4] {
    let db = db.into();
    [
        "email_events",
        "smartlead_events",
        "leads",
        "held_deliveries",
    ]
    .map(|table| count(&db, &format!("SELECT count(*) FROM {table}")))
}

/// A capture of JSON lines: every good fixture, then the troubles.
fn capture(dir: &Path) -> std::path::PathBuf {
    let mut lines: Vec<String> = GOOD.iter().map(|name| one_line(name)).collect();
    lines.push(String::new()); // blank lines are skipped
    lines.push("{\"truncated\":".into());
    lines.push(one_line("bad/b07_email_event_missing_lead_email.json"));
    lines.push(one_line("bad/b12_wrong_secret_other_orgs_key.json"));
    let path = dir.join("capture.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    path
}

on_both_backends! {
    async fn a_dry_run_reports_what_an_import_stores_and_a_second_import_stores_nothing(backend: Backend) {
        let dir = tempfile::tempdir().unwrap();
        let test_db = TestDb::new(backend);
        let db = test_db.db.clone();
        add_user(&db, "owner@northpeak.example", ORG, Some(SECRET));
        let capture = capture(dir.path());
        let capture = capture.to_str().unwrap();

        let (ok, out, err) = import(&db, &["--org-id", ORG, capture, "--dry-run", "--json"]);
        assert!(ok, "{err}");
        let dry: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(counts(&db), [0, 0, 0, 0], "a dry run wrote");
        assert_eq!(dry["dry_run"], true);

        let (ok, out, err) = import(&db, &["--org-id", ORG, capture, "--json"]);
        assert!(ok, "{err}");
        let real: Value = serde_json::from_str(&out).unwrap();
        for field in ["bodies", "stored", "duplicate", "kept", "held", "rejected"] {
            assert_eq!(
                dry[field], real[field],
                "{field}: the dry run said otherwise"
            );
        }
        assert_eq!(real["bodies"], 13);
        assert_eq!(real["stored"], 5);
        assert_eq!(real["duplicate"], 1, "28 is a retry of 05");
        assert_eq!(real["kept"], 4);
        assert_eq!(real["held"]["missing_lead_email"], 1);
        assert_eq!(real["rejected"]["invalid_json"], 1);
        assert_eq!(real["rejected"]["unauthorized"], 1, "another org's secret");
        let examples = real["examples"].as_array().unwrap();
        assert!(examples
            .iter()
            .any(|e| e.as_str().unwrap().contains("capture.jsonl:12")));
        let [events, kept, leads, held] = counts(&db);
        assert_eq!((events, kept, held), (5, 4, 1));
        assert!(leads > 0);

        // The same capture again, and the same bodies as a directory of .json files.
        let (ok, out, _) = import(&db, &["--org-id", ORG, capture, "--json"]);
        assert!(ok);
        let again: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            (again["stored"].as_u64(), again["kept"].as_u64()),
            (Some(0), Some(0))
        );
        let files = dir.path().join("files");
        std::fs::create_dir(&files).unwrap();
        for name in GOOD {
            std::fs::write(files.join(name), fixture(name)).unwrap();
        }
        let (ok, out, err) = import(&db, &["--org-id", ORG, files.to_str().unwrap()]);
        assert!(ok, "{err}");
        assert!(
            out.starts_with("10 bodies: 0 stored, 10 duplicate, 0 kept"),
            "{out}"
        );
        // Kept events without their own time carry the identity the first import gave them.
        let [events_after, kept_after, ..] = counts(&db);
        assert_eq!((events_after, kept_after), (5, 4), "{out}");
    }

    async fn the_webhook_s_rules_hold_for_imported_events(backend: Backend) {
        let dir = tempfile::tempdir().unwrap();
        let test_db = TestDb::new(backend);
        let db = test_db.db.clone();
        add_user(&db, "owner@northpeak.example", ORG, Some(SECRET));
        let path = dir.path().join("one.json");
        std::fs::write(&path, fixture("05_email_open_seq1.json")).unwrap();
        let (ok, out, err) = import(&db, &["--org-id", ORG, path.to_str().unwrap()]);
        assert!(ok, "{err}");
        assert!(out.starts_with("1 bodies: 1 stored"), "{out}");
        let data = rows(&db, "SELECT event_data FROM email_events", &[]);
        let data = data[0][0].clone().unwrap();
        assert!(
            !data.contains(SECRET) && !data.contains("secret_key"),
            "{data}"
        );
        assert_eq!(crate::helpers::admin(&db).check_rollups().unwrap(), vec![]);
    }
}

#[test]
fn hostile_input_gets_a_clear_error_or_a_counted_rejection() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    add_user(&db, "owner@northpeak.example", ORG, Some(SECRET));
    let good = dir.path().join("good.jsonl");
    std::fs::write(&good, one_line("05_email_open_seq1.json")).unwrap();
    let good = good.to_str().unwrap();
    let empty_dir = dir.path().join("empty");
    std::fs::create_dir(&empty_dir).unwrap();
    for args in [
        vec!["--org-id", ORG, good, "/no/such/file.jsonl"],
        vec!["--org-id", ORG, empty_dir.to_str().unwrap()],
        vec!["--org-id", "no-such-org", good],
        vec!["--org-id", "  ", good],
        vec!["--org-id", ORG],
    ] {
        let (ok, out, err) = import(&db, &args);
        assert!(!ok, "{args:?} succeeded: {out}");
        assert!(!err.trim().is_empty(), "{args:?}: no message");
        assert_eq!(counts(&db), [0, 0, 0, 0], "{args:?} wrote");
    }

    // Binary noise and a line past the size limit: counted, named, nothing stored.
    let noise = dir.path().join("noise.bin");
    let mut bytes: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    bytes.push(b'\n');
    bytes.extend(format!("{{\"pad\":\"{}\"}}\n", "x".repeat(5000)).bytes());
    std::fs::write(&noise, bytes).unwrap();
    let (ok, out, err) = import(
        &db,
        &[
            "--org-id",
            ORG,
            noise.to_str().unwrap(),
            "--max-body-bytes",
            "1000",
            "--json",
        ],
    );
    assert!(ok, "{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["stored"], 0);
    let rejected: u64 = summary["rejected"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(rejected, summary["bodies"].as_u64().unwrap());
    assert_eq!(summary["rejected"]["payload_too_large"], 1);
    assert_eq!(counts(&db), [0, 0, 0, 0]);
}

/// Two byte-identical kept events without a time of their own may be two real events (a
/// campaign paused twice): both are kept, and importing the capture again keeps neither again.
#[test]
fn identical_untimed_events_in_one_capture_are_all_kept_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    add_user(&db, "owner@northpeak.example", ORG, Some(SECRET));
    let paused = one_line("25_campaign_status_changed.json");
    let path = dir.path().join("twice.jsonl");
    std::fs::write(&path, format!("{paused}\n{paused}\n")).unwrap();
    let path = path.to_str().unwrap();
    let (ok, out, err) = import(&db, &["--org-id", ORG, path]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("2 bodies: 0 stored, 0 duplicate, 2 kept"),
        "{out}"
    );
    let (_, out, _) = import(&db, &["--org-id", ORG, path]);
    assert!(
        out.starts_with("2 bodies: 0 stored, 2 duplicate, 0 kept"),
        "{out}"
    );
    assert_eq!(counts(&db)[1], 2);
}
