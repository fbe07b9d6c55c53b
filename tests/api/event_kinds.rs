//! `GET /api/events?kind=`: the events a headline kind counts (`replied`: first replies and
//! follow-ups' replies), in one newest-first list with its cursor, as the replies feed reads
//! them; and `GET /api/leads?last_kind=`, the leads whose latest event is of such a type. On
//! both backends.

use actix_web::http::StatusCode;
use serde_json::Value;

use crate::backends::{on_both_backends, Backend};
use crate::helpers::{fixture, spawn_app_on, TestApp};
use crate::ingestion::{EMAIL_FIXTURES, ZOE};
use crate::read_api::headline_of;

const KINDS: [&str; 6] = [
    "sent",
    "opened",
    "clicked",
    "replied",
    "bounced",
    "unsubscribed",
];

/// A reply to the third email of the sequence: Smartlead's EMAIL_REPLY with a step above 1.
fn follow_up_reply() -> Vec<u8> {
    let mut body: Value =
        serde_json::from_slice(&fixture("11_email_reply_full_new_fields_html_quotes.json"))
            .unwrap();
    body["sequence_number"] = 3.into();
    body["time_replied"] = "2025-10-23T08:15:00+00:00".into();
    body["event_timestamp"] = "2025-10-23T08:15:00+00:00".into();
    body["message_id"] = "<follow-up-reply-1@mail.gmail.com>".into();
    serde_json::to_vec(&body).unwrap()
}

async fn app_with_replies(backend: Backend) -> (TestApp, String) {
    let app = spawn_app_on(backend).await;
    for (name, ..) in EMAIL_FIXTURES {
        assert_eq!(app.deliver(name).await.status, StatusCode::OK, "{name}");
    }
    let answer = app.post_signed(follow_up_reply()).await;
    assert_eq!(answer.body["status"], "stored", "{}", answer.body);
    let token = app.token_for(app.user_id);
    (app, token)
}

/// Every event of `query`, page by page through the cursor, as (type, timestamp, id).
async fn every_event(app: &TestApp, token: &str, query: &str) -> Vec<(String, String, String)> {
    let mut events = Vec::new();
    let mut path = format!("/api/events?{query}");
    loop {
        let page = app.get_as(token, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        for event in page.body["events"].as_array().unwrap() {
            events.push((
                event["event_type"].as_str().unwrap().to_owned(),
                event["timestamp"].as_str().unwrap().to_owned(),
                event["id"].as_str().unwrap().to_owned(),
            ));
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/events?{query}&cursor={cursor}"),
            None => return events,
        }
    }
}

on_both_backends! {
    async fn a_kind_lists_every_type_it_counts_newest_first(backend: Backend) {
        let (app, token) = app_with_replies(backend).await;
        let replies = every_event(&app, &token, "kind=replied&limit=2").await;
        let mut expected = every_event(&app, &token, "event_type=email_replied").await;
        expected.extend(every_event(&app, &token, "event_type=email_follow_up_replied").await);
        expected.sort_by(|a, b| (&b.1, &b.2).cmp(&(&a.1, &a.2)));
        assert_eq!(replies, expected);
        assert_eq!(replies[0].0, "email_follow_up_replied", "the newest: {replies:?}");
        assert_eq!(replies.len(), 4);

        // Each kind holds exactly the events its headline number counts.
        let stats = app.get_as(&token, "/api/stats").await.body["stats"].clone();
        for kind in KINDS {
            let events = every_event(&app, &token, &format!("kind={kind}&limit=3")).await;
            assert_eq!(events.len() as i64, stats["headline"][kind]["events"].as_i64().unwrap(), "{kind}");
            assert!(events.iter().all(|e| headline_of(&e.0) == Some(kind)), "{kind}: {events:?}");
        }
        let fixtures_opened = EMAIL_FIXTURES.iter().filter(|f| headline_of(f.1) == Some("opened")).count();
        assert_eq!(every_event(&app, &token, "kind=opened").await.len(), fixtures_opened);

        // With a type as well, both hold; with a campaign, only its events.
        let both = every_event(&app, &token, "kind=replied&event_type=email_follow_up_replied").await;
        assert_eq!(both.len(), 1);
        assert!(every_event(&app, &token, "kind=replied&event_type=email_opened").await.is_empty());
        assert!(every_event(&app, &token, "kind=replied&campaign_id=999").await.is_empty());
    }

    async fn a_lead_list_by_last_kind_holds_every_type_it_counts(backend: Backend) {
        let (app, token) = app_with_replies(backend).await;
        let emails = |answer: &Value| -> Vec<String> {
            answer["leads"].as_array().unwrap().iter().map(|l| l["email"].as_str().unwrap().to_owned()).collect()
        };
        for kind in KINDS {
            let listed = app.get_as(&token, &format!("/api/leads?last_kind={kind}&limit=500")).await;
            assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
            let mut expected = Vec::new();
            let all = app.get_as(&token, "/api/leads?limit=500").await;
            for lead in all.body["leads"].as_array().unwrap() {
                if headline_of(lead["last_email_event"].as_str().unwrap()) == Some(kind) {
                    expected.push(lead["email"].as_str().unwrap().to_owned());
                }
            }
            assert_eq!(emails(&listed.body), expected, "{kind}, in the list's order");
        }
        // Zoë's latest is the follow-up's reply: a replied lead, not one whose last is a first reply.
        let replied = app.get_as(&token, "/api/leads?last_kind=replied").await;
        assert!(emails(&replied.body).contains(&ZOE.to_owned()), "{}", replied.body);
        let first_replies = app.get_as(&token, "/api/leads?last_event=email_replied").await;
        assert!(!emails(&first_replies.body).contains(&ZOE.to_owned()));
        // With the list's other filters (the export's are compared in `lead_export`).
        let both = app.get_as(&token, "/api/leads?last_kind=replied&campaign_id=3701245").await;
        assert_eq!(emails(&both.body), emails(&replied.body));
        let bad = app.get_as(&token, "/api/leads?last_kind=email_replied").await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
        assert!(bad.body["error"]["message"].as_str().unwrap().contains("last_kind"));
    }

    async fn an_unknown_or_repeated_kind_is_a_coded_400(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        for path in ["/api/events?kind=email_replied", "/api/events?kind=", "/api/events?kind=replied&kind=sent"] {
            let answer = app.get_as(&token, path).await;
            if path.ends_with("kind=") {
                // Empty is no filter, as with every text parameter.
                assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
                continue;
            }
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}: {}", answer.body);
            assert_eq!(answer.error_code(), "invalid_query_parameter");
            assert!(answer.body["error"]["message"].as_str().unwrap().contains("kind"), "{}", answer.body);
        }
    }
}
