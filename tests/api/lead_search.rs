//! Finding a lead by what a person remembers of it: `/api/leads?q=` matches a part of the
//! address, of the name as shown ("First Last") or of the company, in any case, within the
//! user's own leads, in the list's order and pages. On both backends.

use actix_web::http::StatusCode;
use serde_json::Value;

use crate::backends::on_both_backends;
use crate::helpers::{add_user, fixture, ingest_in_batches, spawn_app_on, TestApp, ORG, SECRET};
use crate::ingestion::{ANNA, KWAME, ZOE};
use crate::lead_profiles::{deliver_every_naming_fixture, sent};

const RAHUL: &str = "rahul.iyer@example.in";
const JEAN_PIERRE: &str = "jp.martin@ancien-domaine.example";

/// `text` as a query-string value: every byte but an ASCII letter or digit percent-encoded.
pub fn encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The ids and addresses of a page of leads, in the answer's order.
fn leads_of(answer: &Value) -> Vec<(String, String)> {
    answer["leads"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page of leads: {answer}"))
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap().into(),
                l["email"].as_str().unwrap().into(),
            )
        })
        .collect()
}

/// The addresses of the leads `q` finds (one page of at most 500).
async fn found(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    let answer = app
        .get_as(token, &format!("/api/leads?limit=500&q={}", encoded(q)))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{q:?}: {}", answer.body);
    leads_of(&answer.body)
        .into_iter()
        .map(|(_, email)| email)
        .collect()
}

on_both_backends! {
    async fn finds_a_lead_by_its_address_name_or_company(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        deliver_every_naming_fixture(&app).await;

        // A part of the address, the first or last name, the name as shown, the company:
        // whatever the case, letters of any script included.
        for (q, expected) in [
            ("LEFÈVRE", vec![ZOE]),
            ("Zoë Lef", vec![ZOE]),
            ("müller & SÖHNE", vec![ZOE]),
            ("@example.in", vec![RAHUL]),
            ("iyer & sons", vec![RAHUL]),
            ("Jean-Pierre Martin", vec![JEAN_PIERRE]),
            ("kwame osei", vec![KWAME]),
            ("harbourline", vec![KWAME]),
            ("  kowalska ", vec![ANNA]),
        ] {
            assert_eq!(found(&app, &token, q).await, expected, "{q:?}");
        }
        // Nothing else matches: the name in another order, a search across two fields (the
        // end of the address and the first name), and `%` and `_`, which are only themselves.
        // Nor does a lead with no email activity (only a manual step): the list leaves it out.
        for q in ["osei kwame", "logistyka.example anna", "%", "_", "nobody", "nibhriain"] {
            assert_eq!(found(&app, &token, q).await, Vec::<String>::new(), "{q:?}");
        }

        // The list's order: what every lead matches is the whole list, in the same order.
        let everyone = app.get_as(&token, "/api/leads?limit=500").await;
        let everyone: Vec<String> = leads_of(&everyone.body).into_iter().map(|(_, e)| e).collect();
        assert!(everyone.len() >= 5, "{everyone:?}");
        assert_eq!(found(&app, &token, "@").await, everyone);
        // With the list's other filters: the campaign's leads, or those last opened.
        let zoes = app
            .get_as(&token, "/api/leads?q=zo&last_event=email_opened")
            .await;
        assert_eq!(zoes.status, StatusCode::OK, "{}", zoes.body);
        let last_opened = app.get_as(&token, "/api/leads?last_event=email_opened").await;
        let expected: Vec<_> = leads_of(&last_opened.body)
            .into_iter()
            .filter(|(_, email)| email == ZOE)
            .collect();
        assert_eq!(leads_of(&zoes.body), expected);
    }

    async fn a_search_finds_only_the_users_own_leads(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let other = add_user(&app.db, "other@example.com", "org-other", Some(SECRET));
        // Both users have a lead at Zoë's address, named alike.
        for org in [ORG, "org-other"] {
            let stored = app
                .post_webhook(org, fixture("01_email_sent_new_and_deprecated_fields.json"), None)
                .await;
            assert_eq!(stored.body["status"], "stored", "{}", stored.body);
        }
        let (token_a, token_b) = (app.token_for(app.user_id), app.token_for(other));
        let a = leads_of(&app.get_as(&token_a, "/api/leads?q=lefevre").await.body);
        let b = leads_of(&app.get_as(&token_b, "/api/leads?q=lefevre").await.body);
        assert_eq!((a.len(), b.len()), (1, 1), "{a:?} {b:?}");
        assert_ne!(a[0].0, b[0].0, "each user finds its own lead");
        let own = app.get_as(&token_a, "/api/leads").await;
        assert_eq!(a, leads_of(&own.body));
    }

    async fn a_search_pages_like_the_list(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        deliver_every_naming_fixture(&app).await;

        // Every lead's address has a dot: one lead a page, cursor after cursor.
        let all = found(&app, &token, ".").await;
        let mut paged = Vec::new();
        let mut path = "/api/leads?q=.&limit=1".to_owned();
        loop {
            let page = app.get_as(&token, &path).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            paged.extend(leads_of(&page.body).into_iter().map(|(_, email)| email));
            match page.body["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/leads?q=.&limit=1&cursor={cursor}"),
                None => break,
            }
            assert!(paged.len() <= all.len(), "more pages than leads: {paged:?}");
        }
        assert_eq!(paged, all);
    }

    async fn a_search_it_cannot_run_is_a_coded_400(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        assert_eq!(app.deliver("04_first_email_sent.json").await.status, StatusCode::OK);
        // An empty search is no search, as with every parameter (a form's empty field).
        for query in ["q=", "q=%20%20"] {
            let answer = app.get_as(&token, &format!("/api/leads?{query}")).await;
            assert_eq!(answer.status, StatusCode::OK, "{query}: {}", answer.body);
            assert_eq!(leads_of(&answer.body).len(), 1, "{query}: {}", answer.body);
        }
        let too_long = "a".repeat(101);
        for query in ["q=ann%0Akowalska", &format!("q={too_long}"), "q=ann&q=kow"] {
            let answer = app.get_as(&token, &format!("/api/leads?{query}")).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}: {}", answer.body);
            assert_eq!(answer.error_code(), "invalid_query_parameter", "{query}");
            let message = answer.body["error"]["message"].as_str().unwrap();
            assert!(message.contains("`q`"), "{query}: {message}");
        }
        let longest = app.get_as(&token, &format!("/api/leads?q={}", "a".repeat(100))).await;
        assert_eq!(longest.status, StatusCode::OK, "{}", longest.body);
    }
}

on_both_backends! {
    /// The SQLite store reads the newest 2,000 leads in the list's order, then the whole table;
    /// both answer alike. 2,100 leads, a minute apart, the oldest and the 1,000th newest named
    /// Olafur, and every tenth lead a "Tenth".
    async fn a_search_past_the_newest_leads_reads_them_all(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        let leads = 2_100;
        let deliveries: Vec<_> = (0..leads)
            .map(|i| {
                let at = chrono::DateTime::from_timestamp(1_760_000_000 + 60 * i, 0)
                    .unwrap()
                    .to_rfc3339();
                let name = match i {
                    0 | 1_100 => "OLAFUR Thorsson".to_owned(),
                    i if i % 10 == 0 => format!("Tenth {i}"),
                    i => format!("Lead {i}"),
                };
                (app.user_id, ORG.to_owned(), sent(&format!("lead{i}@many.example"), &at, &name))
            })
            .collect();
        ingest_in_batches(&app.db, &deliveries, 700);
        let seq = app.count("SELECT max(seq) FROM email_events");
        app.last_seq.store(seq, std::sync::atomic::Ordering::SeqCst);

        // Newest first: the 1,000th newest, then the oldest, found beyond the first 2,000.
        let both = ["lead1100@many.example", "lead0@many.example"];
        assert_eq!(found(&app, &token, "olafur").await, both);
        // One a page: the first from among the newest, the second past them.
        let first = app.get_as(&token, "/api/leads?q=olafur&limit=1").await;
        let cursor = first.body["next_cursor"].as_str().expect("a second page").to_owned();
        let second = app
            .get_as(&token, &format!("/api/leads?q=olafur&limit=1&cursor={cursor}"))
            .await;
        let shown = [&first.body, &second.body].map(|page| leads_of(page)[0].1.clone());
        assert_eq!(shown, both);
        assert_eq!(second.body["next_cursor"], Value::Null, "{}", second.body);

        // Many matches, paged from the newest through the oldest: every tenth lead, in order.
        let mut tenths = Vec::new();
        let mut path = "/api/leads?q=tenth&limit=100".to_owned();
        loop {
            let page = app.get_as(&token, &path).await;
            tenths.extend(leads_of(&page.body).into_iter().map(|(_, email)| email));
            match page.body["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/leads?q=tenth&limit=100&cursor={cursor}"),
                None => break,
            }
        }
        let expected: Vec<String> = (0..leads)
            .rev()
            .filter(|i| i % 10 == 0 && *i != 0 && *i != 1_100)
            .map(|i| format!("lead{i}@many.example"))
            .collect();
        assert_eq!(tenths, expected);
    }
}

/// SQLite folds the case of every script's letters in the stored names as well (its own
/// `lower()` folds ASCII only; the service gives it Rust's). PostgreSQL's `lower()` folds what
/// the database's locale folds, which the README states.
#[actix_web::test]
async fn sqlite_folds_capitals_of_any_script_in_stored_names() {
    let app = crate::helpers::spawn_app().await;
    let token = app.token_for(app.user_id);
    let body = sent(
        "olafur@example.is",
        "2025-10-14T09:31:58.771Z",
        "ÓLAFUR ÞÓRSSON",
    );
    let stored = app.post_signed(body).await;
    assert_eq!(stored.body["status"], "stored", "{}", stored.body);
    assert_eq!(
        found(&app, &token, "ólafur þórsson").await,
        ["olafur@example.is"]
    );
}
