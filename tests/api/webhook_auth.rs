//! Who may write: the org's body secret or its HMAC signature, nothing else. Fail closed.

use actix_web::http::StatusCode;

use crate::backends::on_both_backends;
use crate::helpers::{
    add_user, answer, fixture, fixture_signature, set_webhook_secret, sign, spawn_app_on,
    spawn_app_with, TestApp, ORG, OTHER_SECRET, SECRET,
};

const OPEN: &str = "05_email_open_seq1.json";
const LEGACY: &str = "02_email_sent_legacy_flat_no_secret.json";

#[actix_web::test]
async fn the_default_secret_serves_orgs_without_their_own() {
    let app = spawn_app_with(|s| s.default_webhook_secret = Some(SECRET.into())).await;
    add_user(
        &app.db_path,
        "single@example.com",
        "single-tenant-org",
        None,
    );
    let answer = app
        .post_webhook("single-tenant-org", fixture(OPEN), None)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    // An org with its own secret is still held to it.
    add_user(
        &app.db_path,
        "own@example.com",
        "own-secret-org",
        Some("its-own-secret"),
    );
    let answer = app
        .post_webhook("own-secret-org", fixture(OPEN), None)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

/// An app whose org's secret was cached by one accepted delivery, then replaced with
/// OTHER_SECRET; returns the app and the delivery's body.
async fn app_after_secret_rotation(tenant_cache_ms: u64) -> (TestApp, Vec<u8>) {
    let app = spawn_app_with(|s| s.tenant_cache_ms = tenant_cache_ms).await;
    let body = fixture(LEGACY);
    let answer = app
        .post_webhook(ORG, body.clone(), Some(&sign(&body, SECRET)))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    set_webhook_secret(&app.db_path, app.user_id, OTHER_SECRET);
    (app, body)
}

/// The org's secret is cached between deliveries; rotating it must not lock Smartlead out.
#[actix_web::test]
async fn a_rotated_secret_works_at_once_and_the_old_one_stops_with_it() {
    let (app, body) = app_after_secret_rotation(60_000).await;
    let answer = app
        .post_webhook(ORG, body.clone(), Some(&sign(&body, OTHER_SECRET)))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let answer = app
        .post_webhook(ORG, body.clone(), Some(&sign(&body, SECRET)))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
}

#[actix_web::test]
async fn a_replaced_secret_is_refused_once_the_cache_time_has_passed() {
    let (app, body) = app_after_secret_rotation(100).await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    let answer = app
        .post_webhook(ORG, body.clone(), Some(&sign(&body, SECRET)))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
}

on_both_backends! {
    async fn the_recorded_signature_of_every_fixture_verifies(backend: Backend) {
        let app = spawn_app_on(backend).await;
        for name in [
            "01_email_sent_new_and_deprecated_fields.json",
            LEGACY,
            "25_campaign_status_changed.json",
        ] {
            let answer = app
                .post_webhook(ORG, fixture(name), Some(&fixture_signature(name)))
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{name}: {}", answer.body);
        }
    }

    async fn without_secret_or_signature_the_legacy_payload_is_refused(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let answer = app.post_webhook(ORG, fixture(LEGACY), None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.error_code(), "unauthorized");
        assert_eq!(app.write_counts(), [0, 0, 0]);
    }

    async fn a_signature_that_does_not_verify_fails_whatever_the_body_says(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let body = fixture(OPEN); // carries the right secret_key
        for signature in [
            sign(&body, OTHER_SECRET),
            "sha256=00".into(),
            "not-a-signature".into(),
            sign(b"other body", SECRET),
        ] {
            let answer = app.post_webhook(ORG, body.clone(), Some(&signature)).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{signature}");
        }
        assert_eq!(app.write_counts(), [0, 0, 0]);
    }

    /// Two signature headers are ambiguous (which one would count?): authentication fails, in
    /// either order, even when one of them is valid.
    async fn two_signature_headers_fail_whatever_they_say(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let body = fixture(OPEN);
        let valid = sign(&body, SECRET);
        for pair in [
            [valid.as_str(), "sha256=00"],
            ["sha256=00", valid.as_str()],
            [valid.as_str(), valid.as_str()],
        ] {
            let response = app
                .client
                .post(app.webhook_url(ORG))
                .append_header(("x-smartlead-signature", pair[0]))
                .append_header(("x-smartlead-signature", pair[1]))
                .send_body(body.clone())
                .await
                .unwrap();
            let answer = answer(response).await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{pair:?}: {}",
                answer.body
            );
        }
        assert_eq!(app.write_counts(), [0, 0, 0]);
    }

    async fn a_signature_over_a_reserialized_body_fails(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let original = fixture(LEGACY);
        let value: serde_json::Value = serde_json::from_slice(&original).unwrap();
        let compact = serde_json::to_vec(&value).unwrap();
        assert_ne!(compact, original);
        let answer = app
            .post_webhook(ORG, compact, Some(&fixture_signature(LEGACY)))
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }

    async fn another_orgs_secret_is_refused(backend: Backend) {
        let app = spawn_app_on(backend).await;
        add_user(
            &app.db,
            "other@example.com",
            "fx-org-2002",
            Some(OTHER_SECRET),
        );
        let answer = app
            .deliver("bad/b12_wrong_secret_other_orgs_key.json")
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        // …and our secret does not open the other org either.
        let answer = app.post_webhook("fx-org-2002", fixture(OPEN), None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.write_counts(), [0, 0, 0]);
    }

    async fn unknown_org_and_unconfigured_secret_fail_closed(backend: Backend) {
        let app = spawn_app_on(backend).await;
        assert_eq!(
            app.post_webhook("no-such-org", fixture(OPEN), None)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        add_user(
            &app.db,
            "nosecret@example.com",
            "org-without-secret",
            None,
        );
        let body = fixture(OPEN);
        let signature = sign(&body, "");
        assert_eq!(
            app.post_webhook("org-without-secret", body.clone(), None)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.post_webhook("org-without-secret", body, Some(&signature))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(app.write_counts(), [0, 0, 0]);
    }

    async fn a_wrong_secret_is_refused_before_the_payload_is_judged(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let answer = app
            .post_webhook(ORG, r#"{"secret_key":"wrong","no_event_type":true}"#, None)
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            answer.body["error"]["message"],
            "the request could not be authenticated"
        );
    }

    async fn a_missing_org_id_is_a_coded_400(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let url = format!("{}/api/webhooks/smartlead", app.address);
        let response = app.client.post(url).send_body(fixture(OPEN)).await.unwrap();
        let answer = crate::helpers::answer(response).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(answer.error_code(), "missing_org_id");
    }
}
