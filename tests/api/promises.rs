//! README promises that had no test, or one that would pass with the feature removed (issue 13's
//! test audit). Each test here fails if its promise is broken.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use actix_web::http::StatusCode;
use serde_json::Value;

use crate::helpers::{fixture, spawn_app, TestApp, ORG, SECRET};

/// A fixture with fields replaced (a JSON object merge at the top level).
fn event(name: &str, changes: Value) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&fixture(name)).unwrap();
    for (key, value) in changes.as_object().unwrap() {
        body[key] = value.clone();
    }
    serde_json::to_vec(&body).unwrap()
}

fn sent(email: &str, at: &str, stats_id: &str) -> Vec<u8> {
    event(
        "01_email_sent_new_and_deprecated_fields.json",
        serde_json::json!({"to_email": email, "sl_lead_email": email, "event_timestamp": at,
            "time_sent": at, "stats_id": stats_id}),
    )
}

async fn stored(app: &TestApp, body: Vec<u8>) {
    let answer = app.post_webhook(ORG, body, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

/// Within a range, `unique_leads` counts the leads *first* reached in it: a lead sent to
/// before the range and again inside it is not new there.
#[actix_web::test]
async fn unique_leads_in_a_range_are_the_leads_newly_reached_in_it() {
    let app = spawn_app().await;
    let token = app.token_for(app.user_id);
    stored(&app, sent("old@lead.example", "2025-10-13T10:00:00Z", "s1")).await;
    stored(&app, sent("old@lead.example", "2025-10-14T10:00:00Z", "s2")).await;
    stored(&app, sent("new@lead.example", "2025-10-14T11:00:00Z", "s3")).await;
    let day = app
        .get_as(
            &token,
            "/api/campaigns/3701245/stats?from=2025-10-14&to=2025-10-15",
        )
        .await;
    let count = &day.body["stats"]["by_type"]["email_sent"];
    assert_eq!(
        (count["events"].as_i64(), count["unique_leads"].as_i64()),
        (Some(2), Some(1)),
        "{}",
        day.body
    );
    let all = app.get_as(&token, "/api/campaigns/3701245/stats").await;
    let count = &all.body["stats"]["by_type"]["email_sent"];
    assert_eq!(
        (count["events"].as_i64(), count["unique_leads"].as_i64()),
        (Some(3), Some(2))
    );
}

/// No sends, only an open: every rate is null (a rate over zero sends means nothing).
#[actix_web::test]
async fn rates_are_null_when_nothing_was_sent() {
    let app = spawn_app().await;
    let token = app.token_for(app.user_id);
    app.deliver("05_email_open_seq1.json").await;
    let stats = app.get_as(&token, "/api/campaigns/3701245/stats").await;
    let rates = stats.body["stats"]["rates"].as_object().unwrap().clone();
    assert!(
        !rates.is_empty() && rates.values().all(Value::is_null),
        "{rates:?}"
    );
    stored(
        &app,
        sent(
            "zoe.lefevre@mueller-soehne.example",
            "2025-10-14T09:00:00Z",
            "s1",
        ),
    )
    .await;
    let stats = app.get_as(&token, "/api/campaigns/3701245/stats").await;
    assert_eq!(stats.body["stats"]["rates"]["open_rate"], 1.0);
}

/// Kept events without a time of their own (campaign status changes) cannot be told apart
/// from a genuine second one, so every delivery is stored.
#[actix_web::test]
async fn kept_events_without_a_time_are_stored_on_every_delivery() {
    let app = spawn_app().await;
    for _ in 0..3 {
        let answer = app.deliver("25_campaign_status_changed.json").await;
        assert_eq!(answer.body["status"], "kept", "{}", answer.body);
    }
    assert_eq!(app.write_counts()[1], 3);
}

/// Two events of one lead at the same millisecond: the tie is broken by type, so both arrival
/// orders leave the same lead row.
#[actix_web::test]
async fn same_time_events_leave_the_same_lead_row_in_either_order() {
    let at = "2025-10-14T12:00:00Z";
    let open = event(
        "05_email_open_seq1.json",
        serde_json::json!({"event_timestamp": at, "time_opened": at}),
    );
    let click = event(
        "08_email_link_click_arrays.json",
        serde_json::json!({"event_timestamp": at, "time_clicked": at}),
    );
    let mut rows = Vec::new();
    for order in [[&open, &click], [&click, &open]] {
        let app = spawn_app().await;
        for body in order {
            stored(&app, body.clone()).await;
        }
        app.projected().await;
        let leads: i64 = app
            .sqlite()
            .query_row("SELECT count(*) FROM leads", [], |r| r.get(0))
            .unwrap();
        assert_eq!(leads, 1, "both events are the same lead's");
        let row: (String, String) = app
            .sqlite()
            .query_row(
                "SELECT last_email_event, last_event_timestamp FROM leads",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        rows.push(row);
    }
    assert_eq!(rows[0], rows[1], "the arrival order decided the lead row");
}

/// A reply is the targeted lead's event, not the replier's, when the two differ (a colleague
/// answering for the lead).
#[actix_web::test]
async fn a_reply_belongs_to_the_targeted_lead_not_the_replier() {
    let app = spawn_app().await;
    let reply = event(
        "11_email_reply_full_new_fields_html_quotes.json",
        serde_json::json!({
            "to_email": "colleague@mueller-soehne.example",
            "sl_lead_email": "colleague@mueller-soehne.example",
            "leadCorrespondence": {"targetLeadEmail": "Zoe.Lefevre@Mueller-Soehne.example ",
                "replyReceivedFrom": "colleague@mueller-soehne.example"}}),
    );
    stored(&app, reply).await;
    let email: String = app
        .sqlite()
        .query_row("SELECT email FROM email_events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(email, "zoe.lefevre@mueller-soehne.example");
}

/// `/api/leads?campaign_id=` on a campaign that exists returns that campaign's leads only.
#[actix_web::test]
async fn the_lead_list_filters_by_an_existing_campaign() {
    let app = spawn_app().await;
    let token = app.token_for(app.user_id);
    stored(&app, sent("a@lead.example", "2025-10-14T10:00:00Z", "s1")).await;
    let mut other =
        serde_json::from_slice::<Value>(&sent("b@lead.example", "2025-10-14T10:00:00Z", "s2"))
            .unwrap();
    other["campaign_id"] = 42.into();
    stored(&app, serde_json::to_vec(&other).unwrap()).await;
    for (campaign, email) in [("3701245", "a@lead.example"), ("42", "b@lead.example")] {
        let leads = app
            .get_as(&token, &format!("/api/leads?campaign_id={campaign}"))
            .await;
        let emails: Vec<&str> = leads.body["leads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["email"].as_str().unwrap())
            .collect();
        assert_eq!(emails, vec![email], "{}", leads.body);
    }
}

/// The dedupe key is unique by behaviour: a second row with an existing key is refused by the
/// database itself, whatever the index is called.
#[actix_web::test]
async fn the_database_refuses_a_second_row_with_the_same_dedupe_key() {
    let app = spawn_app().await;
    app.deliver("05_email_open_seq1.json").await;
    let columns: Vec<String> = {
        let conn = app.sqlite();
        let mut statement = conn
            .prepare("SELECT name FROM pragma_table_info('email_events')")
            .unwrap();
        let names = statement.query_map([], |r| r.get(0)).unwrap();
        names.collect::<Result<_, _>>().unwrap()
    };
    let copied = columns
        .iter()
        .map(|c| {
            if c == "id" {
                "lower(hex(randomblob(16)))".to_owned()
            } else if c == "seq" {
                // Its own unique index would refuse the copy first.
                "NULL".to_owned()
            } else {
                c.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let err = app
        .sqlite()
        .execute(
            &format!(
                "INSERT INTO email_events ({}) SELECT {copied} FROM email_events",
                columns.join(", ")
            ),
            [],
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("UNIQUE") && err.to_string().contains("dedupe_key"),
        "{err}"
    );
}

/// A declared length over the limit is refused before a byte of the body is sent.
#[actix_web::test]
async fn a_declared_length_over_the_limit_is_413_before_the_body() {
    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let raw = actix_web::rt::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let head = format!(
            "POST /api/webhooks/smartlead?org_id={ORG} HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut answer = vec![0u8; 4096];
        let n = stream.read(&mut answer).unwrap_or(0);
        String::from_utf8_lossy(&answer[..n]).into_owned()
    })
    .await
    .unwrap();
    assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");
    assert!(raw.contains("payload_too_large"), "{raw}");
}

/// Secrets and tokens never reach the log, at the most verbose level, whether they were right
/// or wrong, in a body, a header or a URL.
#[actix_web::test]
async fn secrets_and_tokens_never_reach_the_log() {
    let (_dir, db) = crate::process::prepared_db();
    let hub = crate::process::HubProcess::start_with_log(&db, &[], "debug");
    let token = crate::helpers::issue_token(&db);
    let base = format!("http://127.0.0.1:{}", hub.port);
    let client = crate::helpers::client();
    let wrong = "fx-secret-WRONG-0000";
    for body in [
        fixture("05_email_open_seq1.json"),
        String::from_utf8(fixture("05_email_open_seq1.json"))
            .unwrap()
            .replace(SECRET, wrong)
            .into_bytes(),
    ] {
        client
            .post(hub.webhook_url())
            .send_body(body)
            .await
            .unwrap();
    }
    let signed = fixture("01_email_sent_new_and_deprecated_fields.json");
    let signature = crate::helpers::sign(&signed, SECRET);
    client
        .post(hub.webhook_url())
        .insert_header(("x-smartlead-signature", signature.as_str()))
        .send_body(signed)
        .await
        .unwrap();
    client
        .get(format!("{base}/api/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    client
        .get(format!("{base}/api/me"))
        .bearer_auth("slh_wrong_token_0000")
        .send()
        .await
        .unwrap();
    client
        .get(format!("{base}/api/me?token={token}"))
        .send()
        .await
        .unwrap();
    let log = hub.log();
    assert!(
        log.contains("request") && log.lines().count() > 5,
        "the log was captured: {log}"
    );
    for secret in [
        SECRET,
        wrong,
        &token,
        "slh_wrong_token_0000",
        &signature[7..],
    ] {
        assert!(!log.contains(secret), "`{secret}` is in the log");
    }
}
