//! Redeliveries: the same event, however often and however late, is one row; two different
//! events (two clicks on different links) are two.

use actix_web::http::StatusCode;

use crate::backends::{count, on_both_backends};
use crate::helpers::{fixture, post_body, post_fixture, run_hub_on, serve_file, spawn_app_on, ORG};
use crate::ingestion::EMAIL_FIXTURES;
use crate::process::prepared;

on_both_backends! {
    async fn a_redelivery_is_a_duplicate_and_leaves_the_lead_alone(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let first = app.deliver("05_email_open_seq1.json").await;
        app.projected().await;
        let lead_before = app.rows("SELECT updated_at, last_event_timestamp FROM leads", &[]);
        let again = app
            .deliver("28_email_open_seq1_retry_duplicate_of_05.json")
            .await;
        app.projected().await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.body["status"], "duplicate");
        assert_eq!(again.body["event_id"], first.body["event_id"]);
        let lead_after = app.rows("SELECT updated_at, last_event_timestamp FROM leads", &[]);
        assert_eq!(lead_before, lead_after);
        // A duplicate of a kept event with its own time is recognised too.
        assert_eq!(
            app.deliver("23_lead_category_updated_full_history.json")
                .await
                .body["status"],
            "kept"
        );
        assert_eq!(
            app.deliver("23_lead_category_updated_full_history.json")
                .await
                .body["status"],
            "duplicate"
        );
        assert_eq!(app.write_counts(), [1, 1, 1]);
    }

    async fn a_resend_with_different_metadata_is_still_the_same_event(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let original = String::from_utf8(fixture("05_email_open_seq1.json")).unwrap();
        let resent = original
            .replace("2025-09-30T08:14:40.843Z", "2025-11-02T10:00:00.000Z")
            .replace("hub-user-level", "renamed");
        assert_ne!(original, resent);
        assert_eq!(
            app.post_webhook(ORG, original, None).await.body["status"],
            "stored"
        );
        assert_eq!(
            app.post_webhook(ORG, resent, None).await.body["status"],
            "duplicate"
        );
    }

    async fn two_clicks_on_different_links_of_one_email_are_two_events(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let a = app.deliver("08_email_link_click_arrays.json").await;
        let b = app
            .deliver("09_email_link_click_second_link_same_email.json")
            .await;
        assert_eq!(
            (a.body["status"].as_str(), b.body["status"].as_str()),
            (Some("stored"), Some("stored"))
        );
        assert_ne!(a.body["event_id"], b.body["event_id"]);
    }

    async fn sixteen_concurrent_identical_deliveries_store_one_row(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let rounds = crate::helpers::soak_count("SOAK_DUPLICATE_ROUNDS", 5);
        let click_time = smartlead_hub::domain::UtcTimestamp::parse("2025-10-14T11:48:22Z").unwrap();
        for round in 0..rounds {
            let body = String::from_utf8(fixture("08_email_link_click_arrays.json"))
                .unwrap()
                .replace(
                    "2025-10-14T11:48:22.905114+00:00",
                    &click_time.plus_millis(i64::from(round)).to_string(),
                );
            let answers = futures_util::future::join_all(
                (0..16).map(|_| app.post_webhook(ORG, body.clone(), None)),
            )
            .await;
            let stored = answers
                .iter()
                .filter(|a| a.body["status"] == "stored")
                .count();
            let duplicates = answers
                .iter()
                .filter(|a| a.body["status"] == "duplicate")
                .count();
            assert_eq!((stored, duplicates), (1, 15), "round {round}");
            let ids: std::collections::HashSet<_> = answers
                .iter()
                .map(|a| a.body["event_id"].to_string())
                .collect();
            assert_eq!(ids.len(), 1, "every answer names the one stored event");
        }
        assert_eq!(app.write_counts()[0], i64::from(rounds));
    }
}

on_both_backends! {
    /// Keys begin with the event's time (issue 19). A database that held events before keeps
    /// their keys, and a redelivery of one of them is still found: `migrate down` gives every
    /// stored key its old form (what a file from before holds), `migrate up` notes that such
    /// keys exist, and each fixture delivered again is a duplicate.
    async fn events_stored_before_time_prefixed_keys_are_still_duplicates(backend: Backend) {
        let (test_db, _logs) = prepared(backend);
        let db = &test_db.db;
        let served = serve_file(db.clone(), |_| {});
        for (name, ..) in EMAIL_FIXTURES {
            let status = post_fixture(&served.base, name).await;
            assert!(status == "stored" || status == "duplicate", "{name}: {status}");
        }
        served.stop().await;
        let events = count(db, "SELECT count(*) FROM email_events");
        let timed = "SELECT count(*) FROM email_events WHERE length(dedupe_key) = 43";
        assert_eq!(count(db, timed), events, "every fixture has a time of its own");
        assert_eq!(count(db, "SELECT count(*) FROM legacy_dedupe_keys"), 0);

        let (ok, _, err) = run_hub_on(&["migrate", "down", "--to", "12"], Some(db));
        assert!(ok, "{err}");
        assert_eq!(count(db, timed), 0);
        let (ok, _, err) = run_hub_on(&["migrate", "up"], Some(db));
        assert!(ok, "{err}");
        assert_eq!(count(db, "SELECT count(*) FROM legacy_dedupe_keys"), 1);

        let served = serve_file(db.clone(), |_| {});
        for (name, ..) in EMAIL_FIXTURES {
            assert_eq!(post_fixture(&served.base, name).await, "duplicate", "{name}");
        }
        // A new event beside them (the open, a day later) gets a time-prefixed key.
        let mut later: serde_json::Value =
            serde_json::from_slice(&fixture("05_email_open_seq1.json")).unwrap();
        later["event_timestamp"] = "2025-10-15T11:47:09.603Z".into();
        assert_eq!(
            post_body(&served.base, serde_json::to_vec(&later).unwrap()).await,
            "stored"
        );
        served.stop().await;
        assert_eq!(count(db, "SELECT count(*) FROM email_events"), events + 1);
        assert_eq!(count(db, timed), 1);
    }
}
