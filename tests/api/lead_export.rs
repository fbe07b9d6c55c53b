//! `GET /api/leads/export`: the lead list as CSV, every page of it, with the list's filters;
//! cells a spreadsheet would run as formulas made inert. On both backends, compared with what
//! `/api/leads` answers page by page.

use actix_web::http::StatusCode;
use serde_json::Value;

use crate::backends::on_both_backends;
use crate::helpers::{add_user, ingest_in_batches, spawn_app_on, spawn_app_on_with, TestApp, ORG};
use crate::lead_profiles::{deliver_every_naming_fixture, sent};
use crate::lead_search::encoded;

const HEADER: [&str; 10] = [
    "id",
    "email",
    "first_name",
    "last_name",
    "company",
    "smartlead_campaign_id",
    "campaign_name",
    "smartlead_category",
    "last_email_event",
    "last_event_timestamp",
];

/// The answer's rows, parsed as a spreadsheet would, after checking the header row.
async fn exported(app: &TestApp, token: &str, query: &str) -> Vec<Vec<String>> {
    // As `get_as` does: the lead list trails the deliveries by a projection.
    let seq = app.last_seq.load(std::sync::atomic::Ordering::SeqCst);
    let response = app
        .client
        .get(format!(
            "{}/api/leads/export?{query}&min_event={seq}",
            app.address
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let mut response = response;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(header("content-type").unwrap(), "text/csv; charset=utf-8");
    assert_eq!(
        header("content-disposition").unwrap(),
        "attachment; filename=\"leads.csv\""
    );
    assert!(header("x-as-of").unwrap().parse::<i64>().is_ok());
    let length = header("content-length").expect("the file's length, known before it is sent");
    let body = response.body().limit(64 << 20).await.unwrap();
    assert_eq!(length, body.len().to_string());
    let mut reader = csv::Reader::from_reader(body.as_ref());
    assert_eq!(reader.headers().unwrap(), HEADER.as_slice(), "{query}");
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// Every lead `/api/leads?{query}` lists, page by page, as its export should show it.
async fn listed(app: &TestApp, token: &str, query: &str) -> Vec<Vec<String>> {
    let campaigns = app.get_as(token, "/api/campaigns?limit=500").await.body;
    let name_of = |campaign: &Value| {
        campaigns["campaigns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| &c["campaign_id"] == campaign)
            .and_then(|c| c["name"].as_str())
            .unwrap_or("")
            .to_owned()
    };
    let mut rows = Vec::new();
    let mut path = format!("/api/leads?{query}&limit=7");
    loop {
        let page = app.get_as(token, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for lead in page.body["leads"].as_array().unwrap() {
            let text = |field: &str| lead[field].as_str().unwrap_or("").to_owned();
            rows.push(vec![
                text("id"),
                text("email"),
                text("first_name"),
                text("last_name"),
                text("company"),
                text("smartlead_campaign_id"),
                name_of(&lead["smartlead_campaign_id"]),
                text("smartlead_category"),
                text("last_email_event"),
                text("last_event_timestamp"),
            ]);
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/leads?{query}&limit=7&cursor={cursor}"),
            None => return rows,
        }
    }
}

/// Leads named so that a spreadsheet would run their names, and one that needs CSV quoting.
async fn deliver_awkward_names(app: &TestApp) {
    for (i, name) in [
        "=HYPERLINK(\"http://evil.example\") Smith",
        "+1 Plus",
        "-Minus Dash",
        "Anna \"Ania\", Jr",
    ]
    .iter()
    .enumerate()
    {
        let at = format!("2025-10-2{i}T10:00:00Z");
        let body = sent(&format!("awkward{i}@names.example"), &at, name);
        assert_eq!(app.post_signed(body).await.body["status"], "stored");
    }
}

on_both_backends! {
    async fn the_export_is_every_page_of_the_list(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        deliver_every_naming_fixture(&app).await;
        deliver_awkward_names(&app).await;

        let rows = exported(&app, &token, "").await;
        let mut expected = listed(&app, &token, "order=recent").await;
        assert_eq!(rows.len(), 9, "{rows:?}");
        // Formulas are made inert in the export; everything else is the list's.
        for row in &mut expected {
            for cell in row.iter_mut() {
                if cell.starts_with(['=', '+', '-', '@']) {
                    cell.insert(0, '\'');
                }
            }
        }
        assert_eq!(rows, expected);
        let named = |email: &str| rows.iter().find(|r| r[1] == email).unwrap().clone();
        assert_eq!(named("awkward0@names.example")[2], "'=HYPERLINK(\"http://evil.example\")");
        assert_eq!(named("awkward2@names.example")[2], "'-Minus");
        assert_eq!(named("awkward3@names.example")[3], "\"Ania\", Jr", "quoted and back");
        assert!(rows.iter().any(|r| r[6].starts_with("Q4 Ops leaders")), "campaign names: {rows:?}");
        assert!(rows.iter().any(|r| r[4] == "Müller & Söhne"), "companies: {rows:?}");

        // The list's filters, alone and together.
        for query in [
            "campaign_id=3701245",
            "last_event=email_replied",
            "last_kind=replied",
            "last_kind=replied&q=zoe",
            "q=names.example",
            &format!("q={}", encoded("Müller")),
            "q=ania&campaign_id=3701245",
            "campaign_id=999",
        ] {
            let rows = exported(&app, &token, query).await;
            let mut expected = listed(&app, &token, query).await;
            for row in &mut expected {
                for cell in row.iter_mut() {
                    if cell.starts_with(['=', '+', '-', '@']) {
                        cell.insert(0, '\'');
                    }
                }
            }
            assert_eq!(rows, expected, "{query}");
        }
        assert!(exported(&app, &token, "campaign_id=999").await.is_empty());

        // Another user's export holds none of these; bad filters are the list's coded 400s.
        let other = add_user(&app.db, "other@example.com", "org-other", None);
        assert!(exported(&app, &app.token_for(other), "").await.is_empty());
        let long = format!("q={}", "x".repeat(101));
        for (query, name) in [("last_event=email_maybe", "last_event"), (long.as_str(), "q"), ("q=a&q=b", "q")] {
            let answer = app.get_as(&token, &format!("/api/leads/export?{query}")).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}: {}", answer.body);
            assert_eq!(answer.error_code(), "invalid_query_parameter");
            assert!(answer.body["error"]["message"].as_str().unwrap().contains(name), "{}", answer.body);
        }
    }

    async fn concurrent_exports_take_turns_and_all_finish(backend: Backend) {
        // Two read connections: one export reads at a time, the others wait for its turn.
        let app = spawn_app_on_with(backend, |settings| settings.read_connections = 2).await;
        let token = app.token_for(app.user_id);
        deliver_every_naming_fixture(&app).await;
        let exports = (0..5).map(|_| exported(&app, &token, ""));
        let all = futures_util::future::join_all(exports).await;
        assert_eq!(all[0].len(), 5, "{:?}", all[0]);
        assert!(all.iter().all(|rows| rows == &all[0]));
        // And the reads around them go on.
        assert_eq!(app.get_as(&token, "/api/stats").await.status, StatusCode::OK);
    }

    async fn a_large_export_streams_in_order(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let token = app.token_for(app.user_id);
        // ~150 bytes a row: well over the 64 KiB a chunk holds.
        let deliveries: Vec<_> = (0..1_500)
            .map(|i| {
                let at = format!("2025-09-{:02}T{:02}:{:02}:00Z", 1 + i / 100, (i / 60) % 24, i % 60);
                let body = sent(&format!("lead{i:04}@bulk.example"), &at, &format!("Lead Number{i}"));
                (app.user_id, ORG.to_owned(), body)
            })
            .collect();
        ingest_in_batches(&app.db, &deliveries, 500);
        let seq = app.count("SELECT max(seq) FROM email_events");
        app.last_seq.store(seq, std::sync::atomic::Ordering::SeqCst);
        let rows = exported(&app, &token, "").await;
        assert_eq!(rows.len(), 1_500);
        let mut ids = Vec::new();
        let mut path = "/api/leads?limit=500".to_owned();
        loop {
            let page = app.get_as(&token, &path).await;
            ids.extend(page.body["leads"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_owned()));
            match page.body["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/leads?limit=500&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>(), ids);
    }
}
