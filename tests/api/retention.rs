//! Payload retention: `prune` and `serve --payload-retention` clear old payloads and keep every
//! count, lead, dedupe key and rollup.

use std::time::Duration;

use actix_web::http::StatusCode;
use serde_json::Value;

use smartlead_hub::storage::Database;

use crate::backends::{count, execute, on_both_backends, rows, Backend, TestDb};
use crate::helpers::{
    add_user, admin, fixture, ingest_in_batches, run_hub_on, serve_file, spawn_app_on, ORG, SECRET,
};

const MARKER: &str = r#"{"pruned":true}"#;

/// The fixtures' good deliveries: all from October 2025.
const OLD: &[&str] = &[
    "01_email_sent_new_and_deprecated_fields.json",
    "05_email_open_seq1.json",
    "08_email_link_click_arrays.json",
    "11_email_reply_full_new_fields_html_quotes.json",
    "15_email_replied_nested_docs_shape.json",
    "17_email_bounce_new_and_deprecated.json",
    "23_lead_category_updated_full_history.json",
    "25_campaign_status_changed.json",
];

fn prune(db: &Database, args: &[&str]) -> (bool, String, String) {
    run_hub_on(&[&["prune"], args].concat(), Some(db))
}

/// (payloads still whole, payloads pruned) of email events; kept events age by receipt, and
/// every kept event here was received today. (The marker compares as text on SQLite and as
/// `jsonb` on PostgreSQL.)
fn payloads(db: &Database) -> (i64, i64) {
    let counts = rows(
        db,
        &format!(
            "SELECT count(*) FILTER (WHERE event_data <> '{MARKER}'),
                    count(*) FILTER (WHERE event_data = '{MARKER}')
             FROM email_events"
        ),
        &[],
    );
    let n = |i: usize| counts[0][i].as_deref().unwrap().parse().unwrap();
    (n(0), n(1))
}

/// The bytes the stored payloads take, as each backend's prune measures them (on SQLite most
/// email events' payloads are compressed frames).
fn payload_bytes(db: &Database) -> i64 {
    let length = match db {
        Database::Sqlite(_) => "length(event_data)",
        Database::Postgres(_) => "octet_length(event_data::text)",
    };
    ["email_events", "smartlead_events"]
        .iter()
        .map(|table| {
            count(
                db,
                &format!("SELECT coalesce(sum({length}), 0) FROM {table}"),
            )
        })
        .sum()
}

/// Kept events whose payload was pruned.
fn kept_pruned(db: &Database) -> i64 {
    count(
        db,
        &format!("SELECT count(*) FROM smartlead_events WHERE event_data = '{MARKER}'"),
    )
}

on_both_backends! {
    async fn prune_clears_old_payloads_and_keeps_every_count(backend: Backend) {
        let app = spawn_app_on(backend).await;
        for name in OLD {
            assert_eq!(app.deliver(name).await.status, StatusCode::OK, "{name}");
        }
        // One event of today: younger than any retention.
        let now = smartlead_hub::domain::UtcTimestamp::now().to_string();
        let fresh = format!(
            r#"{{"secret_key":"{SECRET}","event_type":"EMAIL_OPEN","campaign_id":3701245,"to_email":"fresh@b.io","event_timestamp":"{now}"}}"#
        );
        assert_eq!(
            app.post_webhook(ORG, fresh, None).await.body["status"],
            "stored"
        );
        let token = app.token_for(app.user_id);
        let read = |path: &'static str| {
            let (app, token) = (&app, &token);
            async move { app.get_as(token, path).await.body }
        };
        let paths = [
            "/api/stats",
            "/api/campaigns",
            "/api/campaigns/3701245/stats",
            "/api/leads?limit=100",
            "/api/campaigns/3701245/timeseries?bucket=day&from=2025-10-01&to=2025-11-01",
            "/api/timeseries?bucket=day&from=2025-10-01&to=2025-11-01",
        ];
        let mut before = Vec::new();
        for path in paths {
            before.push(read(path).await);
        }
        let rows_before = app.write_counts();
        let (whole, _) = payloads(&app.db);
        // A kept event received long ago (kept events age by receipt).
        execute(
            &app.db,
            "UPDATE smartlead_events SET received_at = '2025-01-01T00:00:00.000Z'
             WHERE event_type = 'CAMPAIGN_STATUS_CHANGED'",
        );

        if backend == Backend::Sqlite {
            // As a file from before compression holds them: a few compressed payloads share a
            // page, and the free list below would have nothing to show.
            let (ok, _, err) = run_hub_on(&["payloads", "decompress"], Some(&app.db));
            assert!(ok, "{err}");
        }
        let bytes_before = payload_bytes(&app.db);
        let (ok, out, err) = prune(&app.db, &["--payloads-older-than", "30d", "--json"]);
        assert!(ok, "{err}");
        let summary: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            summary["pruned"].as_i64(),
            Some(whole - 1 + 1),
            "all but today's: {out}"
        );
        let freed = summary["freed_bytes"].as_i64().unwrap();
        assert!(freed > 1_000, "{out}");
        assert_eq!(freed, bytes_before - payload_bytes(&app.db), "{out}");
        assert_eq!(payloads(&app.db), (1, whole - 1));
        assert_eq!(
            kept_pruned(&app.db),
            1,
            "only the kept event received long ago"
        );

        // Every count, lead and rollup is what it was.
        assert_eq!(app.write_counts(), rows_before);
        for (path, earlier) in paths.iter().zip(&before) {
            assert_eq!(&read(path).await, earlier, "{path} changed");
        }
        assert_eq!(admin(&app.db).check_rollups().unwrap(), vec![]);
        // Dedupe keys stay: a late retry of a pruned event is still a duplicate.
        assert_eq!(
            app.deliver("05_email_open_seq1.json").await.body["status"],
            "duplicate"
        );
        // The events say their payload was pruned.
        let events = read("/api/events?limit=50").await;
        let shown: Vec<&Value> = events["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["event_data"])
            .collect();
        assert!(
            shown.contains(&&serde_json::json!({"pruned": true})),
            "{events}"
        );
        // SQLite: the space went to the free list, for reuse, with no VACUUM (PostgreSQL's
        // autovacuum makes it reusable in its own time).
        if backend == Backend::Sqlite {
            let free: i64 = app
                .sqlite()
                .query_row("PRAGMA freelist_count", [], |r| r.get(0))
                .unwrap();
            assert!(free > 0, "no page was freed");
        }

        let (ok, out, _) = prune(&app.db, &["--payloads-older-than", "30d"]);
        assert!(
            ok && out.starts_with("pruned the payloads of 0 events"),
            "{out}"
        );
    }
}

on_both_backends! {
    async fn bad_periods_are_refused_and_change_nothing(backend: Backend) {
        let test_db = TestDb::new(backend);
        let db = &test_db.db;
        let user = add_user(db, "owner@northpeak.example", ORG, Some(SECRET));
        ingest_in_batches(
            db,
            &[(user, ORG.to_owned(), fixture("05_email_open_seq1.json"))],
            1,
        );
        for period in ["0d", "abc", "-5d", "90", "5m", ""] {
            let flag = format!("--payloads-older-than={period}");
            let (ok, _, err) = prune(db, &[&flag]);
            assert!(!ok && err.contains("period"), "{period}: {err}");
        }
        assert_eq!(payloads(db), (1, 0));
    }

    async fn serve_with_payload_retention_prunes_in_the_background(backend: Backend) {
        let test_db = TestDb::new(backend);
        let db = &test_db.db;
        let user = add_user(db, "owner@northpeak.example", ORG, Some(SECRET));
        let deliveries: Vec<_> = OLD
            .iter()
            .map(|name| (user, ORG.to_owned(), fixture(name)))
            .collect();
        ingest_in_batches(db, &deliveries, 3);
        let (whole, _) = payloads(db);
        let events = "SELECT sum(events) FROM rollup_totals";
        let counts_before = count(db, events);

        let served = serve_file(db, |s| s.payload_retention = Some("30d".parse().unwrap()));
        let mut pruned = 0;
        for _ in 0..500 {
            pruned = payloads(db).1;
            if pruned == whole {
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
        served.stop().await;
        assert_eq!(
            pruned, whole,
            "the background pass did not prune every old payload"
        );
        assert_eq!(count(db, events), counts_before);
    }
}
