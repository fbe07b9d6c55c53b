use actix_web::http::StatusCode;

use crate::backends::on_both_backends;
use crate::helpers::{admin, spawn_app_on};

on_both_backends! {
    async fn health_reports_ok_and_the_schema_version(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let answer = app.get("/health").await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body["status"], "ok");
        assert_eq!(
            answer.body["schema_version"],
            admin(&app.db).migration_names().len()
        );
        let request_id = answer
            .headers
            .get("x-request-id")
            .expect("request id header");
        assert_eq!(request_id.to_str().unwrap().len(), 36);
    }

    async fn every_request_gets_its_own_request_id(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let a = app.get("/health").await;
        let b = app.get("/health").await;
        assert_ne!(a.headers.get("x-request-id"), b.headers.get("x-request-id"));
    }

    async fn unknown_routes_are_coded_json_404s(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let answer = app.get("/no/such/route").await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert_eq!(answer.error_code(), "route_not_found");
        assert!(answer.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/no/such/route"));
    }

    async fn wrong_method_on_the_webhook_is_a_coded_405(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let answer = app.get("/api/webhooks/smartlead?org_id=x").await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(answer.error_code(), "method_not_allowed");
    }

    /// HEAD is GET without the body, on every read route and the dashboard; other methods are 405.
    async fn head_answers_like_get_without_a_body(backend: Backend) {
        let app = spawn_app_on(backend).await;
        for path in ["/health", "/", "/assets/app.js", "/api/openapi.json"] {
            let mut response = app
                .client
                .head(format!("{}{path}", app.address))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert!(response.body().await.unwrap().is_empty(), "{path}");
        }
        let token = app.token_for(app.user_id);
        let me = app
            .client
            .head(format!("{}/api/me", app.address))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), StatusCode::OK);
        let put = app
            .client
            .put(format!("{}/health", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
}

/// A test that blocks its thread (a database scan, a CLI run) for longer than the server's
/// keep-alive (5 s) still reaches the server afterwards. The blocked runtime never saw the server
/// close the pooled connection, so awc's liveness check passed it and the request was written to a
/// closed socket (`Connect(Disconnected)`); the tests' client now drops connections idle for 2 s.
#[actix_web::test]
async fn a_request_after_blocking_past_the_servers_keep_alive_still_reaches_it() {
    let app = crate::helpers::spawn_app().await;
    assert_eq!(app.get("/health").await.status, StatusCode::OK);
    std::thread::sleep(std::time::Duration::from_secs(7));
    assert_eq!(app.get("/health").await.status, StatusCode::OK);
}
