//! What an attacker's probe of the running service found (issue 13), each now a test: repeated
//! parameters, wrong methods, echoed input, caching headers, absurd ranges, backup symlinks,
//! broken HTTP framing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use actix_web::http::StatusCode;

use crate::helpers::{spawn_app, TestApp, ORG};

async fn signed_in() -> (TestApp, String) {
    let app = spawn_app().await;
    let token = app.token_for(app.user_id);
    (app, token)
}

#[actix_web::test]
async fn a_query_parameter_given_twice_is_refused_naming_it() {
    let (app, token) = signed_in().await;
    for path in [
        "/api/events?limit=1&limit=500",
        "/api/leads?order=recent&order=recent",
        "/api/stats?from=2025-01-01&from=2025-02-01",
    ] {
        let answer = app.get_as(&token, path).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(answer.error_code(), "invalid_query_parameter");
        let message = answer.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("more than once"), "{path}: {message}");
    }
    let answer = app
        .post_webhook(&format!("{ORG}&org_id=other"), "{}", None)
        .await;
    assert_eq!(
        (answer.status, answer.error_code()),
        (StatusCode::BAD_REQUEST, "invalid_query_parameter")
    );
}

#[actix_web::test]
async fn a_wrong_method_on_any_route_is_405() {
    let app = spawn_app().await;
    for path in [
        "/health",
        "/api/me",
        "/api/campaigns",
        "/api/campaigns/7/stats",
        "/api/campaigns/7/timeseries",
        "/api/stats",
        "/api/timeseries",
        "/api/leads",
        "/api/leads/export",
        "/api/leads/0192f0c1-0000-7000-8000-000000000000",
        "/api/leads/0192f0c1-0000-7000-8000-000000000000/events",
        "/api/events",
    ] {
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            let request = app
                .client
                .request(method.parse().unwrap(), format!("{}{path}", app.address));
            let answer = crate::helpers::answer(request.send().await.unwrap()).await;
            assert_eq!(
                answer.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert_eq!(answer.error_code(), "method_not_allowed");
        }
    }
    let answer =
        crate::helpers::answer(app.client.get(app.webhook_url(ORG)).send().await.unwrap()).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
}

/// A 5,000-character id comes back as its first 64 characters and a count, not whole.
#[actix_web::test]
async fn error_messages_echo_at_most_a_short_piece_of_the_input() {
    let (app, token) = signed_in().await;
    let long = "9".repeat(5000);
    let cases = [
        (
            format!("/api/leads?campaign_id={long}"),
            "invalid_query_parameter",
        ),
        (
            format!("/api/campaigns/{long}/stats"),
            "invalid_path_parameter",
        ),
        (
            format!("/api/events?from={long}"),
            "invalid_query_parameter",
        ),
        (
            format!("/api/events?{long}=1&{long}=2"),
            "invalid_query_parameter",
        ),
        (
            format!("/api/events?event_type={long}"),
            "invalid_query_parameter",
        ),
        (format!("/api/{long}"), "route_not_found"),
    ];
    for (path, code) in cases {
        let answer = app.get_as(&token, &path).await;
        assert_eq!(answer.error_code(), code, "{}", &path[..40]);
        let message = answer.body["error"]["message"].as_str().unwrap();
        assert!(message.len() < 300, "{code}: {} characters", message.len());
        assert!(message.contains("more characters"), "{message}");
    }
    let signed = format!(
        r#"{{"event_type":"EMAIL_OPEN","campaign_id":"{}","to_email":"a@b.io"}}"#,
        "7".repeat(5000)
    );
    let answer = app.post_signed(signed).await;
    assert_eq!(
        answer.body["reason"], "invalid_field_type",
        "{}",
        answer.body
    );
    let detail: String = app
        .sqlite()
        .query_row("SELECT detail FROM held_deliveries", [], |r| r.get(0))
        .unwrap();
    assert!(detail.len() < 300, "{detail}");
    let key = "k".repeat(5000);
    let ambiguous = format!(r#"{{"{key}":1,"{key}":2}}"#);
    let answer = app.post_signed(ambiguous).await;
    assert_eq!(answer.error_code(), "ambiguous_payload");
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(message.len() < 300, "{} characters", message.len());
}

/// Answers carry tokens' owners and lead data: no cache may keep them, no browser may sniff them.
#[actix_web::test]
async fn every_answer_is_no_store_and_nosniff() {
    let (app, token) = signed_in().await;
    let answers = [
        app.get_as(&token, "/api/me").await,
        app.get("/api/me").await,
        app.get("/health").await,
        app.get("/no-such-route").await,
        app.deliver("05_email_open_seq1.json").await,
    ];
    for answer in answers {
        assert_eq!(answer.headers.get("cache-control").unwrap(), "no-store");
        assert_eq!(
            answer.headers.get("x-content-type-options").unwrap(),
            "nosniff"
        );
    }
}

/// Times beyond what any event can have are a clear 400, and an open end of a stats range is
/// shown as null, never as an internal placeholder.
#[actix_web::test]
async fn ranges_are_bounded_and_open_ends_are_null() {
    let (app, token) = signed_in().await;
    app.deliver("05_email_open_seq1.json").await;
    for (path, name) in [
        ("/api/stats?from=9999-01-01", "from"),
        ("/api/stats?to=9999-12-31T23:59:59Z", "to"),
        ("/api/events?from=1900-01-01", "from"),
        (
            "/api/campaigns/2001/timeseries?bucket=day&to=2200-01-01",
            "to",
        ),
    ] {
        let answer = app.get_as(&token, path).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}");
        let message = answer.body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("`{name}`")) && message.contains("between"),
            "{message}"
        );
    }
    let from_only = app.get_as(&token, "/api/stats?from=2025-10-14").await;
    assert_eq!(from_only.status, StatusCode::OK, "{}", from_only.body);
    assert_eq!(from_only.body["range"]["from"], "2025-10-14T00:00:00.000Z");
    assert!(
        from_only.body["range"]["to"].is_null(),
        "{}",
        from_only.body
    );
    let to_only = app.get_as(&token, "/api/stats?to=2025-10-15").await;
    assert!(to_only.body["range"]["from"].is_null(), "{}", to_only.body);
    assert_eq!(to_only.body["range"]["to"], "2025-10-15T00:00:00.000Z");
    assert!(
        !to_only.body.to_string().contains("9999") && !from_only.body.to_string().contains("0000-")
    );
}

/// `backup --to` creates its file: a symlink planted at that path is refused, not followed.
#[test]
fn backup_refuses_a_symlink_at_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    crate::helpers::admin(&db);
    let aimed_at = dir.path().join("elsewhere.db");
    let link = dir.path().join("backup.db");
    std::os::unix::fs::symlink(&aimed_at, &link).unwrap();
    let output = crate::process::backup_to(&db, &link);
    assert!(!output.status.success());
    assert!(!aimed_at.exists(), "the symlink was followed");
    assert!(String::from_utf8_lossy(&output.stderr).contains("exists"));
}

/// A backup that fails part way (here: the source is not a database) leaves no file at its
/// target to be taken for a backup later, whether copied page by page or rebuilt.
#[test]
fn a_failed_backup_leaves_no_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("hub.db");
    std::fs::write(&source, vec![0x5a; 64 * 1024]).unwrap();
    for page_size in [None, Some("1024")] {
        let to = dir.path().join("backup.db");
        let mut args = vec!["backup", "--to", to.to_str().unwrap()];
        args.extend(
            page_size
                .map(|size| ["--page-size", size])
                .into_iter()
                .flatten(),
        );
        let (ok, _, err) = crate::helpers::run_hub(&args, Some(&source));
        assert!(!ok, "{page_size:?}");
        assert!(err.contains("not a database"), "{page_size:?}: {err}");
        assert!(!to.exists(), "{page_size:?}: a half-written copy was left");
    }
}

/// A request that is not HTTP never reaches a handler: actix-http answers it with a bare 400
/// and closes the connection (it has no hook for a coded body). The service carries on.
#[actix_web::test]
async fn broken_http_framing_is_a_400_and_the_service_carries_on() {
    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let raw = actix_web::rt::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        stream
            .write_all(b"POST /api/webhooks/smartlead?org_id=x HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    })
    .await
    .unwrap();
    assert!(raw.starts_with("HTTP/1.1 400"), "{raw}");
    assert_eq!(app.get("/health").await.status, StatusCode::OK);
}
