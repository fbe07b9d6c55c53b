//! Every valid fixture through the real endpoint: the stored row, the lead, kept events, what
//! is never stored, on both backends. Redeliveries are in `dedupe`, arrival orders in
//! `ordering`.

use actix_web::http::StatusCode;

use crate::backends::{on_both_backends, Backend};
use crate::helpers::{fixture, fixture_signature, spawn_app_on, TestApp, ORG, SECRET};

pub const ZOE: &str = "zoe.lefevre@mueller-soehne.example";
pub const KWAME: &str = "k.osei@harbourline.example";
pub const ANNA: &str = "anna.kowalska@wisla-logistyka.example";
const SENT_TO_ZOE: &str = "<7c0e5a8d-1f3b-4a9e-b2d4-5e6f7a8b9c01@mail.northpeak-growth.io>";

/// (fixture, event_type, email, message_id, timestamp), written by reading each fixture.
pub const EMAIL_FIXTURES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "01_email_sent_new_and_deprecated_fields.json",
        "email_sent",
        ZOE,
        SENT_TO_ZOE,
        "2025-10-14T09:12:44.218Z",
    ),
    (
        "04_first_email_sent.json",
        "email_sent",
        ANNA,
        "<c8f0e2a4-6b1d-4c3e-9f57-a2b4c6d8e0f1@mail.northpeak-growth.io>",
        "2025-10-14T09:31:58.771Z",
    ),
    (
        "05_email_open_seq1.json",
        "email_opened",
        ZOE,
        SENT_TO_ZOE,
        "2025-10-14T11:47:09.603Z",
    ),
    (
        "06_email_open_followup_step3_string_seq.json",
        "email_follow_up_opened",
        ZOE,
        "<5f7a9c1e-3b5d-4f7a-8c9e-1a3b5c7d9e2f@mail.northpeak-growth.io>",
        "2025-10-21T07:02:30.110Z",
    ),
    // Nested docs shape: email trimmed and lower-cased, no message id anywhere.
    (
        "07_email_opened_nested_docs_shape.json",
        "email_opened",
        ANNA,
        "",
        "2025-10-14T12:03:00.000Z",
    ),
    (
        "08_email_link_click_arrays.json",
        "email_clicked",
        ZOE,
        SENT_TO_ZOE,
        "2025-10-14T11:48:22.905Z",
    ),
    (
        "09_email_link_click_second_link_same_email.json",
        "email_clicked",
        ZOE,
        SENT_TO_ZOE,
        "2025-10-14T11:49:05.331Z",
    ),
    (
        "11_email_reply_full_new_fields_html_quotes.json",
        "email_replied",
        ZOE,
        "<CAK4xZp3qW1v=Rr8mN0bT6yJd2fL9eHs5uGc7oPa1iVk@mail.gmail.com>",
        "2025-10-14T13:35:01.000Z",
    ),
    (
        "12_email_reply_legacy_fields_only.json",
        "email_replied",
        KWAME,
        "<BN8PR12MB3345A1B2C3D4E5F6A7B8C9D0E1F2@BN8PR12MB3345.namprd12.prod.outlook.com>",
        "2025-10-15T08:01:17.000Z",
    ),
    (
        "15_email_replied_nested_docs_shape.json",
        "email_replied",
        "rahul.iyer@example.in",
        "d41f0c2e9a7b@smartlead.ai",
        "2025-10-16T16:40:00.000Z",
    ),
    (
        "17_email_bounce_new_and_deprecated.json",
        "email_bounced",
        "jp.martin@ancien-domaine.example",
        "<9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d@mail.northpeak-growth.io>",
        "2025-10-14T09:40:58.000Z",
    ),
    (
        "20_lead_unsubscribed_new_z_timestamp.json",
        "email_unsubscribed",
        KWAME,
        "<77aa88bb-99cc-4dde-8eff-001122334455@mail.northpeak-growth.io>",
        "2025-10-18T14:46:19.940Z",
    ),
];

/// The stored row for an event id: (event_type, email, campaign_id, message_id, timestamp, lead email).
fn stored_row(app: &TestApp, event_id: &str) -> (String, String, String, String, String, String) {
    let row = app.rows(
        "SELECT e.event_type, e.email, e.campaign_id, e.message_id, e.timestamp, l.email
         FROM email_events e JOIN leads l ON l.id = e.lead_id WHERE e.id = $1",
        &[event_id],
    );
    let cell = |i: usize| row[0][i].clone().expect("not NULL");
    (cell(0), cell(1), cell(2), cell(3), cell(4), cell(5))
}

/// The stored payloads (`event_data`) of `table`, parsed.
fn payloads(app: &TestApp, table: &str) -> Vec<serde_json::Value> {
    app.rows(&format!("SELECT event_data FROM {table}"), &[])
        .into_iter()
        .map(|row| serde_json::from_str(row[0].as_deref().unwrap()).unwrap())
        .collect()
}

on_both_backends! {
    async fn every_email_fixture_becomes_the_expected_row(backend: Backend) {
        let app = spawn_app_on(backend).await;
        for (name, event_type, email, message_id, timestamp) in EMAIL_FIXTURES {
            let answer = app.deliver(name).await;
            assert_eq!(answer.status, StatusCode::OK, "{name}: {}", answer.body);
            assert_eq!(answer.body["status"], "stored", "{name}");
            let event_id = answer.body["event_id"].as_str().unwrap();
            let row = stored_row(&app, event_id);
            let expected = (
                event_type.to_string(),
                email.to_string(),
                "3701245".to_string(),
                message_id.to_string(),
                timestamp.to_string(),
                email.to_string(),
            );
            assert_eq!(row, expected, "{name}");
        }
        let stored = app.count("SELECT count(*) FROM email_events");
        assert_eq!(stored, EMAIL_FIXTURES.len() as i64);
    }

    async fn the_signed_legacy_payload_is_stored_through_the_header(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let name = "02_email_sent_legacy_flat_no_secret.json";
        let answer = app
            .post_webhook(ORG, fixture(name), Some(&fixture_signature(name)))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let row = stored_row(&app, answer.body["event_id"].as_str().unwrap());
        assert_eq!(row.0, "email_sent");
        assert_eq!(row.1, KWAME);
        assert_eq!(
            row.3,
            "<e41d2c9b-77a0-4f1e-8c3d-9b0a6e5f4d12@mail.northpeak-growth.io>"
        );
        assert_eq!(row.4, "2025-10-14T09:20:03.000Z");
    }

    async fn leads_hold_their_newest_activity_and_category(backend: Backend) {
        let app = spawn_app_on(backend).await;
        for (name, ..) in EMAIL_FIXTURES {
            assert_eq!(app.deliver(name).await.status, StatusCode::OK);
        }
        assert_eq!(
            app.deliver("23_lead_category_updated_full_history.json")
                .await
                .body["status"],
            "kept"
        );
        app.projected().await;

        let user = app.user_id.to_string();
        let lead = |email: &str| {
            app.rows(
                "SELECT last_email_event, last_event_timestamp, smartlead_campaign_id, smartlead_category
                 FROM leads WHERE user_id = $1 AND email = $2",
                &[&user, email],
            )
            .remove(0)
        };
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            lead(ZOE),
            [some("email_follow_up_opened"), some("2025-10-21T07:02:30.110Z"), some("3701245"), some("Meeting Request")]
        );
        assert_eq!(
            lead(KWAME),
            [some("email_unsubscribed"), some("2025-10-18T14:46:19.940Z"), some("3701245"), None]
        );
        assert_eq!(
            lead(ANNA),
            [some("email_opened"), some("2025-10-14T12:03:00.000Z"), some("3701245"), None]
        );
        assert_eq!(app.count("SELECT count(*) FROM leads"), 5, "one lead per distinct address");
    }

    async fn non_email_events_are_kept_with_their_type_campaign_lead_and_time(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let expected = [
            (
                "23_lead_category_updated_full_history.json",
                "LEAD_CATEGORY_UPDATED",
                Some("3701245"),
                Some(ZOE),
                Some("2025-10-14T13:36:12.402Z"),
            ),
            (
                "25_campaign_status_changed.json",
                "CAMPAIGN_STATUS_CHANGED",
                Some("3701245"),
                None,
                None,
            ),
            (
                "26_manual_step_reached.json",
                "MANUAL_STEP_REACHED",
                Some("3701245"),
                Some("siobhan.nibhriain@example.ie"),
                None,
            ),
            (
                "27_untracked_replies.json",
                "UNTRACKED_REPLIES",
                None,
                None,
                Some("2025-10-20T05:24:33.353Z"),
            ),
        ];
        for (name, event_type, campaign, email, time) in expected {
            let answer = app.deliver(name).await;
            assert_eq!(answer.status, StatusCode::OK, "{name}: {}", answer.body);
            assert_eq!(answer.body["status"], "kept", "{name}");
            let row = app
                .rows(
                    "SELECT event_type, campaign_id, email, event_timestamp, received_at
                     FROM smartlead_events WHERE id = $1",
                    &[answer.body["event_id"].as_str().unwrap()],
                )
                .remove(0);
            assert_eq!(row[0].as_deref(), Some(event_type), "{name}");
            assert_eq!(row[1].as_deref(), campaign, "{name}");
            assert_eq!(row[2].as_deref(), email, "{name}");
            assert_eq!(row[3].as_deref(), time, "{name}");
            let received = row[4].as_deref().unwrap();
            assert!(
                received.ends_with('Z') && received.len() == 24,
                "{name}: received_at {received}"
            );
        }
        let email_events = app.count("SELECT count(*) FROM email_events");
        assert_eq!(email_events, 0, "kept events are not email events");
    }

    async fn secrets_are_never_stored_and_hostile_strings_are_stored_verbatim(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let answer = app
            .deliver("bad/b08_sql_injection_and_xss_strings_valid_reply.json")
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.body["status"], "stored");
        for name in [
            "01_email_sent_new_and_deprecated_fields.json",
            "23_lead_category_updated_full_history.json",
        ] {
            app.deliver(name).await;
        }
        let hostile = app.rows(
            "SELECT event_data FROM email_events WHERE id = $1",
            &[answer.body["event_id"].as_str().unwrap()],
        );
        let hostile: serde_json::Value = serde_json::from_str(hostile[0][0].as_deref().unwrap()).unwrap();
        assert_eq!(hostile["subject"], "Re: '; DROP TABLE email_events; --");
        let mut stored = payloads(&app, "email_events");
        stored.extend(payloads(&app, "smartlead_events"));
        assert_eq!(stored.len(), 3);
        for payload in &stored {
            assert!(payload.get("secret_key").is_none(), "{payload}");
            assert!(!payload.to_string().contains(SECRET), "{payload}");
        }
        // Everything else of the payload is kept, unknown fields included.
        assert!(stored.iter().any(|p| p["webhook_name"] == "hub-user-level"));
    }

    async fn the_seed_usage_queries_return_the_stored_data(backend: Backend) {
        let app = spawn_app_on(backend).await;
        for (name, ..) in EMAIL_FIXTURES {
            app.deliver(name).await;
        }
        let user = app.user_id.to_string();

        let org = app.rows(
            "SELECT smartlead_org_id, smartlead_org_name FROM users WHERE id = $1",
            &[&user],
        );
        assert_eq!(org, [[Some(ORG.to_string()), Some("Test org".to_string())]]);

        let zoe_lead = app.rows("SELECT id FROM leads WHERE email = $1", &[ZOE])[0][0]
            .clone()
            .unwrap();
        // The seed's examples, as written for PostgreSQL (FILTER, $n): SQLite runs them too.
        let timeline = app.rows(
            "SELECT ee.event_type, ee.timestamp, ee.event_data FROM email_events ee
             WHERE ee.lead_id = $1 ORDER BY ee.timestamp DESC LIMIT 10",
            &[&zoe_lead],
        );
        let types: Vec<&str> = timeline.iter().map(|r| r[0].as_deref().unwrap()).collect();
        assert_eq!(
            types,
            [
                "email_follow_up_opened",
                "email_replied",
                "email_clicked",
                "email_clicked",
                "email_opened",
                "email_sent"
            ]
        );
        assert!(timeline.windows(2).all(|w| w[0][1] >= w[1][1]), "newest first");

        let performance = app.rows(
            "SELECT campaign_id,
                    COUNT(*) FILTER (WHERE event_type = 'email_sent') AS sent,
                    COUNT(*) FILTER (WHERE event_type = 'email_opened') AS opened,
                    COUNT(*) FILTER (WHERE event_type = 'email_clicked') AS clicked,
                    COUNT(*) FILTER (WHERE event_type = 'email_replied') AS replied
             FROM email_events WHERE user_id = $1 AND campaign_id = $2 GROUP BY campaign_id",
            &[&user, "3701245"],
        );
        // From EMAIL_FIXTURES: sent 01, 04; opened 05, 07; clicked 08, 09; replied 11, 12, 15.
        let numbers: Vec<&str> = performance[0].iter().map(|c| c.as_deref().unwrap()).collect();
        assert_eq!(numbers, ["3701245", "2", "2", "2", "3"]);
    }

    /// A NUL character, which JSON may carry (`\u0000`) and PostgreSQL's text cannot hold, in a
    /// payload, a message id and a lead category: stored, never refused (a refused authentic
    /// delivery is lost). SQLite keeps it; PostgreSQL stores U+FFFD in its place.
    async fn nul_characters_are_stored_not_refused(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let open = String::from_utf8(fixture("05_email_open_seq1.json"))
            .unwrap()
            .replace("Lyon warehouse", "Lyon\\u0000warehouse")
            .replace("<7c0e5a8d-1f3b", "<7c0e\\u00005a8d-1f3b");
        let answer = app.post_signed(open).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.body["status"], "stored");
        let category = String::from_utf8(fixture("23_lead_category_updated_full_history.json"))
            .unwrap()
            .replace("\"new_name\": \"Meeting Request\"", "\"new_name\": \"Meeting\\u0000Request\"");
        let answer = app.post_signed(category).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.body["status"], "kept");

        let nul = match backend {
            Backend::Sqlite => "\0",
            Backend::Postgres => "\u{FFFD}",
        };
        let stored = payloads(&app, "email_events");
        assert_eq!(stored[0]["subject"], format!("Lyon{nul}warehouse"));
        let message_id = app.rows("SELECT message_id FROM email_events", &[]);
        assert!(message_id[0][0].as_deref().unwrap().contains(&format!("7c0e{nul}5a8d")));
        let lead = app.rows("SELECT smartlead_category FROM leads", &[]);
        assert_eq!(lead[0][0].as_deref(), Some(format!("Meeting{nul}Request").as_str()));
    }
}
