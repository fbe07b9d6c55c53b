//! Bad input: the documented 4xx, a coded JSON error, nothing written, the server still up.
//! A body's own defects are judged once the delivery is authentic (signed here); before that,
//! every failure is the same 401 for a known org as for an unknown one.

use actix_web::http::StatusCode;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use futures_util::stream;

use crate::backends::on_both_backends;
use crate::helpers::{answer, fixture, spawn_app_on, spawn_app_with, Answer, TestApp, ORG, SECRET};

/// The declared length is judged before anything else (413 for any org); a body that streams
/// past the limit is cut off, and as it was never authenticated it answers like one (401).
#[actix_web::test]
async fn an_oversized_body_is_413_when_declared_and_cut_off_when_streamed() {
    let app = spawn_app_with(|s| s.max_body_bytes = 4096).await;
    let big = format!(
        r#"{{"secret_key":"{SECRET}","event_type":"EMAIL_OPEN","pad":"{}"}}"#,
        "x".repeat(8192)
    );
    for org in [ORG, "no-such-org"] {
        let declared = app.post_webhook(org, big.clone(), None).await;
        assert_eq!(
            (declared.status, declared.error_code()),
            (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
        );
    }
    let streamed = post_streamed(&app, ORG, big.as_bytes()).await;
    assert_eq!(
        (streamed.status, streamed.error_code()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );

    // A body just under the limit is judged on its merits.
    let fits = app
        .post_webhook(ORG, fixture("05_email_open_seq1.json"), None)
        .await;
    assert_eq!(fits.status, StatusCode::OK);
    assert_eq!(app.write_counts(), [1, 0, 1]);
}

/// Chunked, without a Content-Length.
async fn post_streamed(app: &TestApp, org: &str, body: &[u8]) -> Answer {
    let chunks: Vec<Result<actix_web::web::Bytes, std::io::Error>> = body
        .chunks(1000)
        .map(|c| Ok(actix_web::web::Bytes::copy_from_slice(c)))
        .collect();
    let response = app
        .client
        .post(app.webhook_url(org))
        .send_stream(stream::iter(chunks))
        .await
        .unwrap();
    answer(response).await
}

/// Declares `declared` bytes, sends `sent`, then goes silent with the connection open
/// (slow-loris); returns the raw HTTP answer.
async fn stall(app: &TestApp, org: &str, declared: usize, sent: &str) -> String {
    let address = app.address.trim_start_matches("http://").to_owned();
    let head = format!(
        "POST /api/webhooks/smartlead?org_id={org} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n\r\n{sent}"
    );
    actix_web::rt::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        let mut response = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            response.extend_from_slice(&buf[..n]);
            if response.windows(4).any(|w| w == b"\r\n\r\n") && response.ends_with(b"}}") {
                break;
            }
        }
        String::from_utf8_lossy(&response).into_owned()
    })
    .await
    .unwrap()
}

#[actix_web::test]
async fn a_body_that_never_finishes_is_refused_after_the_body_timeout() {
    let app = spawn_app_with(|s| s.body_timeout_secs = 1).await;
    let response = stall(&app, ORG, 1000, "{\"secret_key\":").await;
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    assert!(response.contains(r#""code":"unauthorized""#), "{response}");
    assert_eq!(app.write_counts(), [0, 0, 0]);
    assert_eq!(app.get("/health").await.status, StatusCode::OK);
}

/// Nobody without the secret can tell a known org from an unknown one: for every kind of
/// unauthenticated request the two answers are identical, status, code and message.
#[actix_web::test]
async fn an_unauthenticated_caller_cannot_tell_known_orgs_from_unknown_ones() {
    let app = spawn_app_with(|s| {
        s.max_body_bytes = 4096;
        s.body_timeout_secs = 1;
    })
    .await;
    let wrong_secret = String::from_utf8(fixture("05_email_open_seq1.json"))
        .unwrap()
        .replace(SECRET, "not-the-secret");
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("not json", b"not json".to_vec()),
        ("empty", Vec::new()),
        ("truncated", fixture("bad/b01_truncated_json.json")),
        ("an array", b"[1,2,3]".to_vec()),
        (
            "two secret_keys",
            format!(r#"{{"secret_key":"{SECRET}","secret_key":"x"}}"#).into_bytes(),
        ),
        ("no secret", br#"{"event_type":"EMAIL_OPEN"}"#.to_vec()),
        ("a wrong secret", wrong_secret.into_bytes()),
        (
            "another org's valid event",
            fixture("bad/b12_wrong_secret_other_orgs_key.json"),
        ),
    ];
    for (what, body) in bodies {
        let known = app.post_webhook(ORG, body.clone(), None).await;
        let unknown = app.post_webhook("no-such-org", body.clone(), None).await;
        assert_same(what, &known, &unknown);
        let bad_signature = Some("sha256=00");
        let known = app.post_webhook(ORG, body.clone(), bad_signature).await;
        let unknown = app.post_webhook("no-such-org", body, bad_signature).await;
        assert_same(what, &known, &unknown);
    }
    let oversized = vec![b'x'; 8192];
    let known = post_streamed(&app, ORG, &oversized).await;
    let unknown = post_streamed(&app, "no-such-org", &oversized).await;
    assert_same("streamed past the limit", &known, &unknown);
    let known = stall(&app, ORG, 1000, "{").await;
    let unknown = stall(&app, "no-such-org", 1000, "{").await;
    let status_and_body = |raw: &str| {
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
        (
            head.lines().next().unwrap_or_default().to_owned(),
            body.to_owned(),
        )
    };
    assert_eq!(
        status_and_body(&known),
        status_and_body(&unknown),
        "slow body"
    );
    assert_eq!(app.write_counts(), [0, 0, 0]);
}

fn assert_same(what: &str, known: &Answer, unknown: &Answer) {
    assert_eq!(
        (known.status, &known.body),
        (unknown.status, &unknown.body),
        "{what}: a known org answers differently from an unknown one"
    );
    assert_eq!(
        known.status,
        StatusCode::UNAUTHORIZED,
        "{what}: {}",
        known.body
    );
}

on_both_backends! {
    async fn every_bad_fixture_gets_its_status_and_code_and_writes_nothing(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let cases = [
            (
                "bad/b01_truncated_json.json",
                StatusCode::BAD_REQUEST,
                "invalid_json",
            ),
            (
                "bad/b10_empty_body.json",
                StatusCode::BAD_REQUEST,
                "empty_body",
            ),
            (
                "bad/b12_wrong_secret_other_orgs_key.json",
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            ),
        ];
        for (name, status, code) in cases {
            // Signed, so that the body's defect is judged; b12 is unsigned (its wrong secret is it).
            let answer = match name.contains("wrong_secret") {
                true => app.deliver(name).await,
                false => app.post_signed(fixture(name)).await,
            };
            assert_eq!(
                (answer.status, answer.error_code()),
                (status, code),
                "{name}: {}",
                answer.body
            );
            assert!(!answer.body["error"]["message"].as_str().unwrap().is_empty());
        }
        assert_eq!(app.write_counts(), [0, 0, 0]);
        assert_eq!(app.held_count(), 0);
        assert_eq!(app.get("/health").await.status, StatusCode::OK);
    }

    /// Hand-made bodies, each signed so that only its own defect is judged: bodies that cannot be
    /// read as one JSON object at all. (Readable but unmappable ones are held: held.rs.)
    async fn malformed_bodies_are_coded_400s(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let cases: Vec<(String, &str)> = vec![
            ("[1,2,3]".into(), "payload_not_object"),
            ("\"just a string\"".into(), "payload_not_object"),
            ("{\"a\":".into(), "invalid_json"),
            (
                format!(
                    r#"{{"secret_key":"{SECRET}","event_type":"EMAIL_OPEN","event_type":"EMAIL_REPLY"}}"#
                ),
                "ambiguous_payload",
            ),
            (
                format!(
                    r#"{{"secret_key":"{SECRET}","secret_key":"{SECRET}","event_type":"EMAIL_OPEN"}}"#
                ),
                "ambiguous_payload",
            ),
        ];
        for (body, code) in cases {
            let answer = app.post_signed(body.clone()).await;
            assert_eq!(
                answer.status,
                StatusCode::BAD_REQUEST,
                "{body}: {}",
                answer.body
            );
            assert_eq!(answer.error_code(), code, "{body}");
        }
        let non_utf8 = [
            b"{\"secret_key\":\"".as_slice(),
            SECRET.as_bytes(),
            b"\",\"event_type\":\"\xff\xfe\"}",
        ]
        .concat();
        assert_eq!(app.post_signed(non_utf8).await.error_code(), "invalid_json");
        let deep = format!(
            "{{\"secret_key\":\"{SECRET}\",\"x\":{}{}}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert_eq!(app.post_signed(deep).await.error_code(), "invalid_json");
        assert_eq!(app.write_counts(), [0, 0, 0]);
    }

    /// Large but valid:/// Large but valid: a 10,000-element array and a 3 MiB string inside real events are stored
    /// (they are hostile only in size, and within the limit), and the server stays healthy.
    async fn huge_arrays_and_strings_within_the_limit_are_stored(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let mut open: serde_json::Value =
            serde_json::from_slice(&fixture("05_email_open_seq1.json")).unwrap();
        open["cc_emails"] = serde_json::Value::Array(
            (0..10_000)
                .map(|i| format!("cc{i}@example.com").into())
                .collect(),
        );
        let answer = app
            .post_webhook(ORG, serde_json::to_vec(&open).unwrap(), None)
            .await;
        assert_eq!(answer.body["status"], "stored", "{}", answer.body);

        let mut reply: serde_json::Value =
            serde_json::from_slice(&fixture("11_email_reply_full_new_fields_html_quotes.json"))
                .unwrap();
        reply["reply_body"] = "x".repeat(3 * 1024 * 1024).into();
        let answer = app
            .post_webhook(ORG, serde_json::to_vec(&reply).unwrap(), None)
            .await;
        assert_eq!(answer.body["status"], "stored", "{}", answer.body);
        let stored = app.rows(
            "SELECT event_data FROM email_events WHERE event_type = 'email_replied'",
            &[],
        );
        let stored: Value = serde_json::from_str(stored[0][0].as_deref().unwrap()).unwrap();
        assert_eq!(stored["reply_body"].as_str().unwrap().len(), 3 * 1024 * 1024);
        assert_eq!(app.get("/health").await.status, StatusCode::OK);
    }
}
