//! Redeliveries: the same event, however often and however late, is one row; two different
//! events (two clicks on different links) are two.

use actix_web::http::StatusCode;

use crate::backends::on_both_backends;
use crate::helpers::{fixture, spawn_app_on, ORG};

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
