//! An authentic delivery is never lost: one that cannot be mapped is held (200, stored
//! verbatim without its secret), bounded, and replayed by a later mapper with
//! `deliveries replay`. Unauthenticated or unreadable bodies still store nothing.

use actix_web::http::StatusCode;
use serde_json::Value;

use crate::backends::on_both_backends;
use crate::helpers::{add_user, fixture, sign, spawn_app_on, spawn_app_with, TestApp, ORG, SECRET};

/// A signed email open for `ORG`; `edit` breaks it.
fn open(edit: impl Fn(String) -> String) -> String {
    edit(format!(
        r#"{{"secret_key":"{SECRET}","event_type":"EMAIL_OPEN","campaign_id":7,"to_email":"a@b.io","event_timestamp":"2025-10-14T11:47:09Z"}}"#
    ))
}

/// The held rows: (reason, payload).
fn held_rows(app: &TestApp) -> Vec<(String, String)> {
    app.rows(
        "SELECT reason, payload FROM held_deliveries ORDER BY received_at, id",
        &[],
    )
    .into_iter()
    .map(|row| (row[0].clone().unwrap(), row[1].clone().unwrap()))
    .collect()
}

#[actix_web::test]
async fn the_held_table_keeps_its_bounds_by_dropping_the_oldest() {
    let app = spawn_app_with(|s| s.held_max_count = 3).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let body = open(|b| b.replace("\"to_email\":\"a@b.io\",", &format!("\"note\":{n},")));
        let answer = app.post_signed(body).await;
        assert_eq!(answer.body["status"], "held");
        ids.push(answer.body["held_id"].as_str().unwrap().to_owned());
    }
    let kept: Vec<String> = app
        .sqlite()
        .prepare("SELECT id FROM held_deliveries ORDER BY received_at, id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(kept, ids[2..], "the three newest stay");

    // A byte bound: each payload (secret removed) is 93 bytes, so 200 bytes keep two.
    let app = spawn_app_with(|s| {
        s.max_body_bytes = 200;
        s.held_max_bytes = 200;
    })
    .await;
    for n in 0..4 {
        let body = open(|b| b.replace("\"to_email\":\"a@b.io\",", &format!("\"note\":{n},")));
        app.post_signed(body).await;
    }
    let bytes: i64 = app
        .sqlite()
        .query_row("SELECT sum(bytes) FROM held_deliveries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(bytes, 2 * 93);
    assert_eq!(app.held_count(), 2);
}

on_both_backends! {
    async fn unmappable_authentic_deliveries_are_held_with_their_reason(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                fixture("bad/b03_missing_event_type.json"),
                "missing_event_type",
            ),
            (fixture("bad/b05_wrong_types.json"), "invalid_field_type"),
            (
                fixture("bad/b07_email_event_missing_lead_email.json"),
                "missing_lead_email",
            ),
            (
                open(|b| b.replace("2025-10-14T11:47:09Z", "last tuesday")).into(),
                "invalid_timestamp",
            ),
            (
                open(|b| b.replace("\"a@b.io\"", "\"not-an-address\"")).into(),
                "invalid_lead_email",
            ),
            (
                open(|b| b.replace("\"campaign_id\":7,", "")).into(),
                "missing_campaign_id",
            ),
            (
                open(|b| b.replace("\"campaign_id\":7", "\"campaign_id\":{\"id\":7}")).into(),
                "invalid_field_type",
            ),
            (
                open(|b| b.replace("\"event_type\":\"EMAIL_OPEN\"", "\"event_type\":42")).into(),
                "invalid_field_type",
            ),
        ];
        for (body, reason) in &cases {
            let answer = app.post_signed(body.clone()).await;
            assert_eq!(answer.status, StatusCode::OK, "{reason}: {}", answer.body);
            assert_eq!(answer.body["status"], "held", "{}", answer.body);
            assert_eq!(answer.body["reason"], *reason);
            assert_eq!(answer.body["held_id"].as_str().unwrap().len(), 36);
        }
        // Unsigned, authenticated by the secret in the body: held just the same.
        let unsigned = open(|b| b.replace("\"to_email\":\"a@b.io\",", ""));
        let answer = app.post_webhook(ORG, unsigned, None).await;
        assert_eq!(answer.body["status"], "held", "{}", answer.body);

        let rows = held_rows(&app);
        let reasons: Vec<&str> = rows.iter().map(|(r, _)| r.as_str()).collect();
        let expected: Vec<&str> = cases
            .iter()
            .map(|(_, r)| *r)
            .chain(["missing_lead_email"])
            .collect();
        assert_eq!(reasons, expected);
        for (_, payload) in &rows {
            assert!(!payload.contains(SECRET), "a secret was stored: {payload}");
            assert!(!payload.contains("secret_key"), "{payload}");
        }
        // Nothing was stored as an event, no lead was made up.
        assert_eq!(app.write_counts(), [0, 0, 0]);
    }

    async fn unauthenticated_or_unreadable_bodies_are_not_held(backend: Backend) {
        let app = spawn_app_on(backend).await;
        // An unmappable body with the wrong secret, and a signature that does not match.
        let unmappable = open(|b| b.replace("\"to_email\":\"a@b.io\",", ""));
        let wrong = unmappable.replace(SECRET, "not-the-secret");
        assert_eq!(
            app.post_webhook(ORG, wrong, None).await.status,
            StatusCode::UNAUTHORIZED
        );
        let bad_signature = sign(unmappable.as_bytes(), "not-the-secret");
        let answer = app
            .post_webhook(ORG, unmappable.clone(), Some(&bad_signature))
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        // Signed but not one JSON object: unreadable, a 400.
        assert_eq!(
            app.post_signed("[1,2]").await.error_code(),
            "payload_not_object"
        );
        assert_eq!(app.held_count(), 0);
    }

    async fn the_same_delivery_is_held_once(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let body = fixture("bad/b07_email_event_missing_lead_email.json");
        let first = app.post_signed(body.clone()).await;
        let again = app.post_signed(body).await;
        assert_eq!(first.body["held_id"], again.body["held_id"]);
        assert_eq!(app.held_count(), 1);
    }

    /// The user sees what is held for them, by reason, and nothing held for another user.
    async fn the_user_sees_their_held_deliveries_by_reason(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        let none = app.get_as(&token, "/api/held-deliveries").await;
        assert_eq!(none.status, StatusCode::OK);
        assert_eq!(none.body, serde_json::json!({"total": 0, "reasons": []}));

        for body in [
            open(|b| b.replace("\"a@b.io\"", "\"not-an-address\"")),
            open(|b| b.replace("\"to_email\":\"a@b.io\",", "")),
            open(|b| b.replace("\"to_email\":\"a@b.io\",", "\"note\":1,")),
        ] {
            assert_eq!(app.post_signed(body).await.body["status"], "held");
        }
        let other_org = "held-other-org";
        let other = add_user(&app.db, "held-other@example.com", other_org, Some(SECRET));
        let theirs = open(|b| b.replace("\"campaign_id\":7,", ""));
        let answer = app.post_webhook(other_org, theirs, None).await;
        assert_eq!(answer.body["status"], "held", "{}", answer.body);

        let mine = app.get_as(&token, "/api/held-deliveries").await;
        assert_eq!(mine.body["total"], 3, "{}", mine.body);
        let reasons: Vec<(&str, i64)> = mine.body["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["reason"].as_str().unwrap(), r["count"].as_i64().unwrap()))
            .collect();
        assert_eq!(
            reasons,
            [("missing_lead_email", 2), ("invalid_lead_email", 1)]
        );
        let latest = mine.body["reasons"][0]["latest_received_at"].as_str().unwrap();
        assert!(latest.ends_with('Z') && latest.len() == 24, "{latest}");

        let theirs = app
            .get_as(&app.token_for(other), "/api/held-deliveries")
            .await;
        assert_eq!(theirs.body["total"], 1);
        assert_eq!(theirs.body["reasons"][0]["reason"], "missing_campaign_id");
    }

    async fn the_held_answer_is_durable_json(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let answer = app
            .post_signed(fixture("bad/b03_missing_event_type.json"))
            .await;
        let keys: Vec<&String> = answer.body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["held_id", "reason", "status"]);
        let stored: Value = serde_json::from_str(&held_rows(&app)[0].1).unwrap();
        assert!(stored.is_object());
    }
}
