//! How large one read answer can be: rows are capped by `limit`, and the event data a page
//! carries by a byte budget (1 MiB), so 32 events of 4 MB no longer make a 134 MB answer.

use std::collections::HashSet;

use serde_json::Value;

use crate::backends::on_both_backends;
use crate::helpers::{fixture, spawn_app_on, TestApp};

/// Stores `count` replies of the same lead, each carrying `bytes` of reply text.
async fn large_replies(app: &TestApp, count: usize, bytes: usize) {
    for n in 0..count {
        let mut reply: Value =
            serde_json::from_slice(&fixture("11_email_reply_full_new_fields_html_quotes.json"))
                .unwrap();
        reply["stats_id"] = format!("large-{n}-{bytes}").into();
        reply["event_timestamp"] = format!("2025-10-14T12:00:{n:02}Z").into();
        reply["reply_body"] = "x".repeat(bytes).into();
        let answer = app.post_signed(serde_json::to_vec(&reply).unwrap()).await;
        assert_eq!(answer.body["status"], "stored", "{}", answer.body);
    }
}

/// Follows `next_cursor` from `first` to the end; returns every page's event ids and the
/// largest page in bytes.
async fn walk(app: &TestApp, token: &str, first: &str) -> (Vec<Vec<String>>, usize) {
    let (mut pages, mut largest) = (Vec::new(), 0);
    let mut path = first.to_owned();
    loop {
        let request = app
            .client
            .get(format!("{}{path}", app.address))
            .bearer_auth(token);
        let mut response = request.send().await.unwrap();
        let bytes = response.body().limit(256 * 1024 * 1024).await.unwrap();
        assert_eq!(response.status(), 200);
        largest = largest.max(bytes.len());
        let page: Value = serde_json::from_slice(&bytes).unwrap();
        let ids = page["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect();
        pages.push(ids);
        match page["next_cursor"].as_str() {
            None => return (pages, largest),
            Some(cursor) => {
                let joiner = if first.contains('?') { '&' } else { '?' };
                path = format!("{}{joiner}cursor={cursor}", first);
            }
        }
    }
}

on_both_backends! {
    async fn a_page_ends_early_once_it_holds_a_mebibyte_of_event_data(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        large_replies(&app, 8, 400 * 1024).await;
        let lead = app.get_as(&token, "/api/events?limit=1").await.body["events"][0]["lead_id"]
            .as_str()
            .unwrap()
            .to_owned();

        for list in [
            "/api/events?limit=50",
            &format!("/api/leads/{lead}/events?limit=50"),
        ] {
            let (pages, largest) = walk(&app, &token, list).await;
            let all: Vec<&String> = pages.iter().flatten().collect();
            let distinct: HashSet<&String> = all.iter().copied().collect();
            assert_eq!(
                (all.len(), distinct.len()),
                (8, 8),
                "{list}: every event once"
            );
            assert!(pages.len() >= 3, "{list}: {} pages", pages.len());
            assert!(
                pages.iter().all(|p| p.len() <= 3),
                "{list}: a page holds at most 1 MiB of data plus one event: {pages:?}"
            );
            assert!(largest < 1_400_000, "{list}: a {largest}-byte answer");
        }
    }

    /// One event larger than the budget still comes back, on a page of its own.
    async fn an_event_larger_than_the_budget_comes_alone(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        large_replies(&app, 2, 3 * 1024 * 1024).await;
        let (pages, _) = walk(&app, &token, "/api/events?limit=50").await;
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![1, 1]);
    }
}
