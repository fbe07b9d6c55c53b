//! Tokens issued for a limited time: refused from their expiry on, exactly as a revoked or
//! unknown token, and revoked by a rollback below the schema that knows expiry.

use actix_web::http::StatusCode;
use serde_json::Value;
use smartlead_hub::domain::UtcTimestamp;

use crate::backends::on_both_backends;
use crate::helpers::{admin, run_hub_on, spawn_app_on, TestApp};

/// `smartlead-hub ARGS` on the app's database: stdout, or the failure.
fn hub(app: &TestApp, args: &[&str]) -> String {
    let (ok, out, err) = run_hub_on(args, Some(&app.db));
    assert!(ok, "{args:?}: {err}");
    out
}

fn listed(app: &TestApp) -> Vec<Value> {
    let user = app.user_id.to_string();
    serde_json::from_str(&hub(app, &["tokens", "list", "--user", &user, "--json"])).unwrap()
}

on_both_backends! {
    async fn a_token_works_until_it_expires_and_is_then_refused_as_an_unknown_one(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let user = app.user_id.to_string();
        let out = hub(&app, &["tokens", "issue", "--user", &user, "--name", "contractor", "--expires-in", "2h"]);
        let token = out.lines().nth(1).unwrap().trim().to_owned();
        let expiring = out.lines().next().unwrap();
        assert!(expiring.contains(", expiring "), "{out}");
        let me = app.get_as(&token, "/api/me").await;
        assert_eq!(me.status, StatusCode::OK);

        let tokens = listed(&app);
        // `/api/me` names the expiry of the token it was asked with, as `tokens list` stores it.
        assert_eq!(me.body["token_expires_at"], tokens[0]["expires_at"], "{}", me.body);
        let until: chrono::DateTime<chrono::Utc> =
            tokens[0]["expires_at"].as_str().unwrap().parse().unwrap();
        let in_two_hours = chrono::Utc::now() + chrono::Duration::hours(2);
        assert!((in_two_hours - until).num_seconds().abs() < 60, "{until}");
        assert!(expiring.ends_with(tokens[0]["expires_at"].as_str().unwrap()), "{out}");
        let table = hub(&app, &["tokens", "list", "--user", &user]);
        assert!(table.lines().next().unwrap().contains("expires"), "{table}");

        // Past its expiry: the same answer as a token that never existed.
        let past = UtcTimestamp::now().plus_millis(-1_000);
        let (_, expired) = admin(&app.db)
            .issue_token(app.user_id, Some("old"), Some(past))
            .unwrap();
        let unknown = format!("slh_{}", "ab".repeat(32));
        for refused in [expired.expose(), unknown.as_str()] {
            let answer = app.get_as(refused, "/api/me").await;
            assert_eq!(
                (answer.status, answer.error_code()),
                (StatusCode::UNAUTHORIZED, "unauthorized"),
                "{}", answer.body
            );
        }
        let never = app.token_for(app.user_id);
        let me = app.get_as(&never, "/api/me").await;
        assert_eq!(me.status, StatusCode::OK);
        assert_eq!(me.body["token_expires_at"], Value::Null, "{}", me.body);
        let tokens = listed(&app);
        assert_eq!(tokens[2]["expires_at"], Value::Null, "{tokens:?}");
        let stored: chrono::DateTime<chrono::Utc> =
            tokens[1]["expires_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(stored, past.as_datetime(), "{tokens:?}");
    }

    async fn a_rollback_below_expiry_revokes_the_tokens_that_had_one(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let expiring = admin(&app.db)
            .issue_token(app.user_id, Some("short"), Some(UtcTimestamp::now().plus_millis(3_600_000)))
            .unwrap()
            .1;
        let lasting = app.token_for(app.user_id);
        let out = hub(&app, &["migrate", "down", "--to", "19"]);
        assert!(out.contains("19"), "{out}");
        // The CLI migrates up again as it opens the database: the revocation stays.
        let tokens = listed(&app);
        assert_eq!(tokens.len(), 2);
        assert!(tokens[0]["revoked_at"].is_string(), "{tokens:?}");
        assert_eq!(tokens[1]["revoked_at"], Value::Null, "{tokens:?}");
        assert_eq!(app.get_as(expiring.expose(), "/api/me").await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.get_as(&lasting, "/api/me").await.status, StatusCode::OK);
    }
}
