//! Rotating an org's webhook secret without losing a delivery: Smartlead never retries a 401,
//! so while the operator changes the secret in Smartlead, deliveries it still authenticates
//! with the old one are accepted for the grace period `--keep-previous-for` asked for.

use actix_web::http::StatusCode;
use serde_json::Value;
use smartlead_hub::storage::records::SmartleadCredentials;

use crate::backends::on_both_backends;
use crate::helpers::{
    admin, fixture, run_hub_on, sign, spawn_app_on_with, TestApp, ORG, OTHER_SECRET, SECRET,
};
use crate::metrics::{scrape, value};

/// Unsigned, its `secret_key` is `SECRET` (the fixtures' secret).
const OPEN: &str = "05_email_open_seq1.json";
const THIRD_SECRET: &str = "fx-secret-third-3b1f0e6a-7d24-4c89-9a52-e8f1c6b0d473";

/// The app with no tenant cache, so that each delivery reads the stored credentials.
async fn app(backend: crate::backends::Backend) -> TestApp {
    spawn_app_on_with(backend, |s| s.tenant_cache_ms = 0).await
}

/// `smartlead-hub credentials ARGS --user U` on the app's database: stdout, or the failure.
fn credentials(app: &TestApp, args: &[&str]) -> Result<String, String> {
    let user = app.user_id.to_string();
    let mut full = vec!["credentials"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--user", &user]);
    let (ok, out, err) = run_hub_on(&full, Some(&app.db));
    for secret in [SECRET, OTHER_SECRET, THIRD_SECRET] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "a secret was printed: {out}{err}"
        );
    }
    if ok {
        Ok(out)
    } else {
        Err(err)
    }
}

/// The open fixture with `secret_key` replaced: an unsigned delivery under `secret`.
fn unsigned_under(secret: &str) -> Vec<u8> {
    String::from_utf8(fixture(OPEN))
        .unwrap()
        .replace(SECRET, secret)
        .into_bytes()
}

/// Each way a delivery can carry `secret`: unsigned with it in the body, and signed with it.
async fn statuses_under(app: &TestApp, secret: &str) -> [StatusCode; 2] {
    let unsigned = app.post_webhook(ORG, unsigned_under(secret), None).await;
    let body = fixture("02_email_sent_legacy_flat_no_secret.json");
    let signed = app
        .post_webhook(ORG, body.clone(), Some(&sign(&body, secret)))
        .await;
    [unsigned.status, signed.status]
}

async fn previous_secret_deliveries(app: &TestApp) -> Option<f64> {
    let user = app.user_id.to_string();
    value(
        &scrape(app).await,
        "smartlead_hub_previous_webhook_secret_deliveries_total",
        &[("user", user.as_str())],
    )
}

const OK: [StatusCode; 2] = [StatusCode::OK, StatusCode::OK];
const REFUSED: [StatusCode; 2] = [StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED];

on_both_backends! {
    async fn the_replaced_secret_is_accepted_for_the_grace_period_and_counted(backend: Backend) {
        let app = app(backend).await;
        let out = credentials(
            &app,
            &["set-smartlead", "--webhook-secret", OTHER_SECRET, "--keep-previous-for", "2h"],
        )
        .unwrap();
        assert!(out.contains("the previous webhook secret is accepted too until"), "{out}");

        assert_eq!(statuses_under(&app, OTHER_SECRET).await, OK, "the new secret");
        assert_eq!(previous_secret_deliveries(&app).await, None);
        assert_eq!(statuses_under(&app, SECRET).await, OK, "the previous secret");
        assert_eq!(previous_secret_deliveries(&app).await, Some(2.0));
        assert_eq!(statuses_under(&app, THIRD_SECRET).await, REFUSED, "any other");

        let shown: Value =
            serde_json::from_str(&credentials(&app, &["show", "--json"]).unwrap()).unwrap();
        assert_eq!(shown["previous_webhook_secret"], "****3a40 (46 characters)");
        let until = shown["previous_webhook_secret_until"].as_str().unwrap();
        let in_two_hours = chrono::Utc::now() + chrono::Duration::hours(2);
        let until: chrono::DateTime<chrono::Utc> = until.parse().unwrap();
        assert!((in_two_hours - until).num_seconds().abs() < 60, "{until}");

        // The operator's list says which orgs are mid-rotation, and until when.
        let user = app.user_id.to_string();
        let (ok, listed, _) = run_hub_on(&["users", "list"], Some(&app.db));
        assert!(ok);
        let row = listed.lines().find(|l| l.starts_with(&user)).unwrap();
        assert!(row.contains(" rotating "), "{listed}");
        let (ok, shown, _) = run_hub_on(&["users", "show", &user, "--json"], Some(&app.db));
        assert!(ok);
        let shown: Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(shown["previous_webhook_secret_until"], until.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));

        // Setting the secret again without a period ends the grace at once.
        let out = credentials(&app, &["set-smartlead", "--webhook-secret", OTHER_SECRET]).unwrap();
        assert!(out.contains("the previous webhook secret is no longer accepted"), "{out}");
        assert_eq!(statuses_under(&app, SECRET).await, REFUSED);
        assert_eq!(statuses_under(&app, OTHER_SECRET).await, OK);
        let (ok, shown, _) = run_hub_on(&["users", "show", &user], Some(&app.db));
        assert!(ok && shown.contains("webhook:  secret stored\n"), "{shown}");
    }

    async fn a_previous_secret_past_its_end_is_refused(backend: Backend) {
        let app = app(backend).await;
        let ended = SmartleadCredentials {
            webhook_secret: Some(OTHER_SECRET.into()),
            previous_webhook_secret: Some(SECRET.into()),
            previous_webhook_secret_until: Some("2026-01-01T00:00:00.000Z".into()),
            ..Default::default()
        };
        admin(&app.db).set_smartlead_credentials(app.user_id, &ended).unwrap();
        assert_eq!(statuses_under(&app, SECRET).await, REFUSED);
        assert_eq!(statuses_under(&app, OTHER_SECRET).await, OK);
        let shown = credentials(&app, &["show"]).unwrap();
        assert!(
            shown.contains("previous:     ****3a40 (46 characters), no longer accepted, since 2026-01-01T00:00:00.000Z"),
            "{shown}"
        );
        assert_eq!(previous_secret_deliveries(&app).await, None);
    }

    async fn setting_one_credential_keeps_the_other(backend: Backend) {
        let app = app(backend).await;
        let out = credentials(&app, &["set-smartlead", "--api-key", "sl-key-0000000000001"]).unwrap();
        assert!(out.contains("set Smartlead API key") && out.contains("kept the stored webhook secret"), "{out}");
        assert_eq!(statuses_under(&app, SECRET).await, OK, "the secret still works");

        let out = credentials(&app, &["set-smartlead", "--webhook-secret", OTHER_SECRET]).unwrap();
        assert!(out.contains("kept the stored API key"), "{out}");
        let stored = admin(&app.db).smartlead_credentials(app.user_id).unwrap().unwrap();
        assert_eq!(stored.api_key.as_deref(), Some("sl-key-0000000000001"));
        assert_eq!(stored.webhook_secret.as_deref(), Some(OTHER_SECRET));

        credentials(&app, &["set-smartlead", "--remove-api-key"]).unwrap();
        let stored = admin(&app.db).smartlead_credentials(app.user_id).unwrap().unwrap();
        assert_eq!(stored.api_key, None);
        assert_eq!(stored.webhook_secret.as_deref(), Some(OTHER_SECRET));

        // Refused, nothing written: a period with no other secret to keep, or past 30 days.
        let err = credentials(
            &app,
            &["set-smartlead", "--webhook-secret", OTHER_SECRET, "--keep-previous-for", "1h"],
        )
        .unwrap_err();
        assert!(err.contains("no other webhook secret stored"), "{err}");
        let err = credentials(
            &app,
            &["set-smartlead", "--webhook-secret", SECRET, "--keep-previous-for", "31d"],
        )
        .unwrap_err();
        assert!(err.contains("at most 30d"), "{err}");
        let err = credentials(&app, &["set-smartlead"]).unwrap_err();
        assert!(err.contains("--webhook-secret"), "{err}");
        let stored = admin(&app.db).smartlead_credentials(app.user_id).unwrap().unwrap();
        assert_eq!(stored.webhook_secret.as_deref(), Some(OTHER_SECRET));
        assert!(stored.previous_webhook_secret.is_none());
    }
}
