//! `/metrics` after known traffic, parsed by a Prometheus text parser; `/ready`.

use actix_web::http::StatusCode;
use prometheus_parse::{Scrape, Value};

use crate::backends::{on_both_backends, Backend};
use crate::helpers::{
    add_user, admin, fixture, inspect, spawn_app, spawn_app_on, spawn_app_with, TestApp, ORG,
    SECRET,
};

/// `GET /metrics`, parsed: it must answer 200 in the OpenMetrics format.
pub(crate) async fn scrape(app: &TestApp) -> Scrape {
    let mut response = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers().get("content-type").unwrap();
    assert!(content_type
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = String::from_utf8(response.body().await.unwrap().to_vec()).unwrap();
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("a valid exposition")
}

/// The value of the sample `name` whose labels include `labels`.
pub(crate) fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            Value::Summary(_) => panic!("no summaries here"),
        })
}

#[actix_web::test]
async fn metrics_count_known_traffic() {
    let app = spawn_app().await;
    assert_eq!(
        app.deliver("05_email_open_seq1.json").await.body["status"],
        "stored"
    );
    assert_eq!(
        app.deliver("28_email_open_seq1_retry_duplicate_of_05.json")
            .await
            .body["status"],
        "duplicate"
    );
    assert_eq!(
        app.deliver("25_campaign_status_changed.json").await.body["status"],
        "kept"
    );
    let held = app
        .post_signed(fixture("bad/b07_email_event_missing_lead_email.json"))
        .await;
    assert_eq!(held.body["status"], "held");
    assert_eq!(app.post_signed("{").await.error_code(), "invalid_json");
    assert_eq!(
        app.post_webhook(ORG, "{}", None).await.error_code(),
        "unauthorized"
    );
    let token = app.token_for(app.user_id);
    assert_eq!(
        app.get_as(&token, "/api/campaigns").await.status,
        StatusCode::OK
    );
    for _ in 0..2 {
        app.get_as(&token, "/api/campaigns/3701245/stats").await;
    }

    let scrape = scrape(&app).await;
    let deliveries = "smartlead_hub_deliveries_total";
    for (outcome, code, n) in [
        ("stored", "", 1.0),
        ("duplicate", "", 1.0),
        ("kept", "", 1.0),
        ("held", "missing_lead_email", 1.0),
        ("rejected", "invalid_json", 1.0),
        ("rejected", "unauthorized", 1.0),
    ] {
        assert_eq!(
            value(&scrape, deliveries, &[("outcome", outcome), ("code", code)]),
            Some(n),
            "{outcome} {code}"
        );
    }
    // Four acknowledged (stored, duplicate, kept, held): each timed from receipt to answer.
    assert_eq!(
        value(&scrape, "smartlead_hub_ingest_seconds_count", &[]),
        Some(4.0)
    );
    assert_eq!(
        value(
            &scrape,
            "smartlead_hub_read_seconds_count",
            &[("route", "/api/campaigns")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &scrape,
            "smartlead_hub_read_seconds_count",
            &[("route", "/api/campaigns/:campaign_id/stats")]
        ),
        Some(2.0)
    );
    // Three events and one held delivery went through the writer (plus the token's use).
    assert!(value(&scrape, "smartlead_hub_writer_batch_size_count", &[]).unwrap() >= 4.0);
    assert!(value(&scrape, "smartlead_hub_wal_fsync_seconds_count", &[]).unwrap() >= 1.0);
    assert!(value(&scrape, "smartlead_hub_writer_queue_depth", &[]).is_some());
    // The stored event was projected (the reads above waited for it): one projection timed
    // from the event's storing, nothing left pending.
    assert!(value(&scrape, "smartlead_hub_projection_lag_seconds_count", &[]).unwrap() >= 1.0);
    assert!(value(&scrape, "smartlead_hub_projection_lag_seconds_sum", &[]).unwrap() < 60.0);
    assert_eq!(
        value(&scrape, "smartlead_hub_projection_pending_events", &[]),
        Some(0.0)
    );
    assert_eq!(
        value(&scrape, "smartlead_hub_held_deliveries", &[]),
        Some(1.0)
    );
    assert!(value(&scrape, "smartlead_hub_held_payload_bytes", &[]).unwrap() > 0.0);
    let on_disk = std::fs::metadata(&app.db_path).unwrap().len() as f64;
    assert_eq!(
        value(&scrape, "smartlead_hub_database_bytes", &[]),
        Some(on_disk)
    );
    assert!(value(&scrape, "smartlead_hub_wal_bytes", &[]).unwrap() > 0.0);
    assert_eq!(
        value(&scrape, "smartlead_hub_storage_fault", &[]),
        Some(0.0)
    );
    // The last acknowledgement was during this test (a second either side for the clock).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let last = value(
        &scrape,
        "smartlead_hub_last_acknowledged_delivery_timestamp_seconds",
        &[],
    )
    .unwrap();
    assert!(
        (now - 120.0..=now + 1.0).contains(&last),
        "{last} against {now}"
    );
    assert_eq!(
        value(
            &scrape,
            "smartlead_hub_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
    assert!(scrape.docs.contains_key("smartlead_hub_deliveries"));
}

on_both_backends! {
    /// SQLite: the free space of the filesystem holding the file, as `statvfs` says now (within
    /// what a test beside it may write meanwhile). PostgreSQL: no such gauge (the disk is the
    /// server's; a 0 would read as full).
    async fn the_free_disk_is_the_database_file_s(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let scraped = value(&scrape(&app).await, "smartlead_hub_disk_free_bytes", &[]);
        match backend {
            Backend::Sqlite => {
                let folder = app.db_path.parent().unwrap();
                let fs = rustix::fs::statvfs(folder).unwrap();
                let now = (fs.f_bavail * fs.f_frsize) as f64;
                let scraped = scraped.expect("the gauge on SQLite");
                assert!((scraped - now).abs() < 256.0 * 1024.0 * 1024.0, "{scraped} against {now}");
            }
            Backend::Postgres => assert_eq!(scraped, None),
        }
    }

    /// One series per user with events, at its newest event's own time; a user without events
    /// has none, and a removed user's goes with it.
    async fn each_user_s_newest_event_is_a_series(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let quiet = add_user(&app.db, "quiet@example.com", "quiet-org", Some(SECRET));
        let newest = "smartlead_hub_user_newest_event_timestamp_seconds";
        let series = |scrape: &Scrape, user: &str| value(scrape, newest, &[("user", user)]);
        let user = app.user_id.to_string();
        assert_eq!(series(&scrape(&app).await, &user), None);

        assert_eq!(app.deliver("05_email_open_seq1.json").await.status, StatusCode::OK);
        app.projected().await;
        let scraped = scrape(&app).await;
        // The fixture's own time, 2025-10-14T11:47:09.603Z, in whole seconds.
        assert_eq!(series(&scraped, &user), Some(1_760_442_429.0));
        assert_eq!(series(&scraped, &quiet.to_string()), None);

        admin(&app.db)
            .remove_user(
                app.user_id,
                smartlead_hub::storage::records::USER_REMOVAL_BATCH,
                &mut |_, _| {},
            )
            .unwrap();
        assert_eq!(series(&scrape(&app).await, &user), None);
    }
}

/// A webhook gone quiet shows as an old last acknowledgement; a refusal is not one.
#[actix_web::test]
async fn refusals_do_not_move_the_last_acknowledgement() {
    let app = spawn_app().await;
    let last = "smartlead_hub_last_acknowledged_delivery_timestamp_seconds";
    assert_eq!(app.post_signed("{").await.error_code(), "invalid_json");
    assert_eq!(
        app.post_webhook(ORG, "{}", None).await.error_code(),
        "unauthorized"
    );
    assert_eq!(value(&scrape(&app).await, last, &[]), Some(0.0));
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    app.deliver("05_email_open_seq1.json").await;
    let at = value(&scrape(&app).await, last, &[]).unwrap();
    assert!(at >= before as f64 && at <= before as f64 + 60.0, "{at}");
}

#[actix_web::test]
async fn a_metrics_token_is_required_when_set() {
    let app = spawn_app_with(|s| s.metrics_token = Some("scrape-me".into())).await;
    let url = format!("{}/metrics", app.address);
    let bare = app.client.get(&url).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::UNAUTHORIZED);
    let wrong = app
        .client
        .get(&url)
        .bearer_auth("scrape-you")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = app
        .client
        .get(&url)
        .bearer_auth("scrape-me")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::OK);
}

#[actix_web::test]
async fn ready_says_why_it_is_not() {
    let app = spawn_app().await;
    let ready = app.get("/ready").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(ready.body["status"], "ready");

    // Another process holds the write lock past the probe's 2 s: not ready, with the reason.
    let locker = inspect(&app.db_path);
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let stalled = app.get("/ready").await;
    locker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(stalled.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(stalled.error_code(), "not_ready");
    let message = stalled.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("write"), "{message}");
    // Liveness is another question: the process answers.
    assert_eq!(app.get("/health").await.status, StatusCode::OK);

    // An operator rolled the schema back under the service.
    let mut admin = admin(&app.db_path);
    let latest = admin.migration_names().len();
    admin.migrate_to(latest - 1).unwrap();
    let behind = app.get("/ready").await;
    assert_eq!(behind.error_code(), "not_ready");
    let message = behind.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("migrate up"), "{message}");
}
