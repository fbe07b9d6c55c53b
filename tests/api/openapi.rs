//! The API contract: the served OpenAPI document is the committed one, and every route's real
//! answers (success and error) conform to it, read strictly (no property it does not document).

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{fixture, sign, spawn_app, Answer, ORG, SECRET};

fn committed() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json"))
        .expect("docs/openapi.json")
}

#[actix_web::test]
async fn the_served_document_is_the_committed_one() {
    let app = spawn_app().await;
    let mut response = app
        .client
        .get(format!("{}/api/openapi.json", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let served = String::from_utf8(response.body().await.unwrap().to_vec()).unwrap();
    assert!(
        served == committed(),
        "docs/openapi.json is stale: run `cargo run -- openapi > docs/openapi.json`"
    );
    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_smartlead-hub"))
        .arg("openapi")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(printed.stdout).unwrap(), served);
    let doc: Value = serde_json::from_str(&served).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

/// The document with every documented object closed: an answer may carry only what it says.
fn strict(mut doc: Value) -> Value {
    fn close(schema: &mut Value) {
        match schema {
            Value::Object(map) => {
                if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                    map.insert("additionalProperties".into(), Value::Bool(false));
                }
                map.values_mut().for_each(close);
            }
            Value::Array(items) => items.iter_mut().for_each(close),
            _ => {}
        }
    }
    close(&mut doc["components"]);
    doc
}

struct Contract {
    doc: Value,
    checked: BTreeSet<(String, String)>,
}

impl Contract {
    /// Validates `answer` against what the document says `method path` answers with its status.
    fn check(&mut self, method: &str, path: &str, answer: &Answer) {
        let status = answer.status.as_u16().to_string();
        let response = &self.doc["paths"][path][method]["responses"][&status];
        assert!(
            response.is_object(),
            "{method} {path} answered {status}, which the document does not list: {}",
            answer.body
        );
        // An answer that is not JSON (the CSV export) must be of a media type the document
        // names for that status.
        let media = answer.headers.get("content-type").map(|t| {
            t.to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .trim()
                .to_owned()
        });
        if let Some(media) = media.filter(|m| m != "application/json") {
            assert!(
                response["content"][&media].is_object(),
                "{method} {path} {status} answered {media}, which the document does not say"
            );
            self.checked.insert((method.to_owned(), path.to_owned()));
            return;
        }
        let schema = &response["content"]["application/json"]["schema"];
        assert!(
            schema.is_object(),
            "{method} {path} {status} has no JSON schema"
        );
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "allOf": [schema],
            "components": self.doc["components"],
        });
        let validator = jsonschema::validator_for(&root).expect("a valid schema");
        let errors: Vec<String> = validator
            .iter_errors(&answer.body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status} does not conform: {errors:?}\n{}",
            answer.body
        );
        self.checked.insert((method.to_owned(), path.to_owned()));
    }
}

#[actix_web::test]
async fn every_route_answers_as_documented() {
    let app = spawn_app().await;
    let mut served = app
        .client
        .get(format!("{}/api/openapi.json", app.address))
        .send()
        .await
        .unwrap();
    let doc: Value = served.json().limit(1 << 20).await.unwrap();
    let mut contract = Contract {
        doc: strict(doc.clone()),
        checked: BTreeSet::new(),
    };
    let webhook = "/api/webhooks/smartlead";

    // The webhook: each 200 answer, and its errors.
    for name in [
        "05_email_open_seq1.json",
        "28_email_open_seq1_retry_duplicate_of_05.json",
        "25_campaign_status_changed.json",
        "11_email_reply_full_new_fields_html_quotes.json",
        "23_lead_category_updated_full_history.json",
    ] {
        contract.check("post", webhook, &app.deliver(name).await);
    }
    let held = app
        .post_signed(fixture("bad/b07_email_event_missing_lead_email.json"))
        .await;
    assert_eq!(held.body["status"], "held");
    contract.check("post", webhook, &held);
    contract.check("post", webhook, &app.post_signed("{").await);
    contract.check("post", webhook, &app.post_webhook(ORG, "{}", None).await);
    contract.check("post", webhook, &app.post_webhook("", "{}", None).await);
    let big = vec![b' '; 5 * 1024 * 1024];
    let signature = sign(&big, SECRET);
    contract.check(
        "post",
        webhook,
        &app.post_webhook(ORG, big, Some(&signature)).await,
    );

    let token = app.token_for(app.user_id);
    let lead: String = app
        .sqlite()
        .query_row("SELECT id FROM leads LIMIT 1", [], |r| r.get(0))
        .unwrap();
    let gets: Vec<(&str, String)> = vec![
        ("/api/me", "/api/me".into()),
        ("/api/campaigns", "/api/campaigns".into()),
        ("/api/campaigns", "/api/campaigns?limit=1".into()),
        ("/api/campaigns", "/api/campaigns?limit=0".into()),
        ("/api/campaigns/{campaign_id}/stats", "/api/campaigns/3701245/stats".into()),
        ("/api/campaigns/{campaign_id}/stats", "/api/campaigns/3701245/stats?from=2025-10-14T00:00:00Z".into()),
        ("/api/campaigns/{campaign_id}/stats", "/api/campaigns/999/stats".into()),
        ("/api/stats", "/api/stats?from=2025-10-01T00:00:00Z&to=2025-11-01T00:00:00Z".into()),
        ("/api/stats", "/api/stats?from=yesterday".into()),
        ("/api/campaigns/{campaign_id}/timeseries", "/api/campaigns/3701245/timeseries?bucket=hour&from=2025-10-14T00:00:00Z&to=2025-10-15T00:00:00Z".into()),
        ("/api/campaigns/{campaign_id}/timeseries", "/api/campaigns/999/timeseries".into()),
        ("/api/timeseries", "/api/timeseries?bucket=day&from=2025-10-01&to=2025-11-01".into()),
        ("/api/timeseries", "/api/timeseries?bucket=minute".into()),
        ("/api/leads", "/api/leads?limit=1&order=recent".into()),
        ("/api/leads", "/api/leads?last_event=email_replied&campaign_id=3701245".into()),
        ("/api/leads/export", "/api/leads/export?campaign_id=3701245".into()),
        ("/api/leads/export", "/api/leads/export?last_event=nope".into()),
        ("/api/leads/{lead_id}", format!("/api/leads/{lead}")),
        ("/api/leads/{lead_id}", "/api/leads/0192f0aa-0000-7000-8000-00000000ffff".into()),
        ("/api/leads/{lead_id}/events", format!("/api/leads/{lead}/events?limit=1")),
        ("/api/leads/{lead_id}/events", "/api/leads/0192f0aa-0000-7000-8000-00000000ffff/events".into()),
        ("/api/events", "/api/events?limit=2".into()),
        ("/api/events", "/api/events?kind=replied&limit=2".into()),
        ("/api/events", "/api/events?kind=answered".into()),
        ("/api/campaigns/{campaign_id}/steps", "/api/campaigns/3701245/steps".into()),
        ("/api/campaigns/{campaign_id}/steps", "/api/campaigns/999/steps".into()),
        ("/api/kept-events", "/api/kept-events?campaign_id=3701245&limit=1".into()),
        ("/api/kept-events", "/api/kept-events?cursor=zz".into()),
        ("/api/held-deliveries", "/api/held-deliveries".into()),
        ("/api/events", "/api/events?email=zoe.lefevre@mueller-soehne.example&event_type=email_opened&from=2025-10-01T00:00:00Z".into()),
    ];
    for (template, path) in &gets {
        contract.check("get", template, &app.get_as(&token, path).await);
    }
    // Without a token: the same 401 on every read route.
    contract.check("get", "/api/me", &app.get("/api/me").await);
    for route in ["/health", "/ready"] {
        contract.check("get", route, &app.get(route).await);
    }

    // Every operation of the document was exercised (metrics and the document itself are not
    // JSON answers: checked by their own tests).
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), path.clone()))
        })
        .filter(|(_, path)| path != "/metrics" && path != "/api/openapi.json")
        .collect();
    assert_eq!(contract.checked, documented);
}

/// `npx openapi-typescript docs/openapi.json` needs unique operation ids.
#[test]
fn operation_ids_are_unique() {
    let doc: Value = serde_json::from_str(&committed()).unwrap();
    let ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|ops| ops.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
}

/// The check itself can fail: an undocumented field, a wrong type or a missing field is caught.
#[test]
fn the_contract_check_rejects_what_the_document_does_not_say() {
    let doc = strict(serde_json::from_str(&committed()).unwrap());
    let good = json!({"email": "a@b.io", "id": "x", "name": null, "smartlead_org_id": null, "smartlead_org_name": null, "webhook_secret": "none"});
    let mut extra = good.clone();
    extra["token_hash"] = json!("leak");
    let mut wrong = good.clone();
    wrong["email"] = json!(7);
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("id");
    for (body, conforms) in [
        (good, true),
        (extra, false),
        (wrong, false),
        (missing, false),
    ] {
        let answer = Answer {
            status: StatusCode::OK,
            body: body.clone(),
            headers: Default::default(),
        };
        let mut contract = Contract {
            doc: doc.clone(),
            checked: BTreeSet::new(),
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            contract.check("get", "/api/me", &answer)
        }));
        assert_eq!(outcome.is_ok(), conforms, "{body}");
    }
}
