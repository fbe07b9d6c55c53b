//! Storage faults answer 503 with Retry-After, never 2xx or 500; once cleared, a redelivery
//! is stored exactly once.

use actix_web::http::StatusCode;

use crate::helpers::{spawn_app_with, ORG};

#[actix_web::test]
async fn a_database_locked_past_the_timeout_is_503_then_the_retry_is_stored_once() {
    let app = spawn_app_with(|s| s.busy_timeout_ms = 200).await;
    let body = crate::helpers::fixture("05_email_open_seq1.json");

    // Another process holds the write lock.
    let locker = app.db();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let refused = app.post_webhook(ORG, body.clone(), None).await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.body
    );
    assert_eq!(refused.error_code(), "database_unavailable");
    assert_eq!(refused.headers.get("retry-after").unwrap(), "5");
    locker.execute_batch("ROLLBACK").unwrap();
    drop(locker);

    assert_eq!(app.write_counts(), [0, 0, 0]);
    let retried = app.post_webhook(ORG, body.clone(), None).await;
    assert_eq!(retried.body["status"], "stored", "{}", retried.body);
    let again = app.post_webhook(ORG, body, None).await;
    assert_eq!(again.body["status"], "duplicate");
    assert_eq!(app.write_counts(), [1, 0, 1]);
}
