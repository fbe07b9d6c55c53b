//! `smartlead check` against a fake Smartlead (an in-process server speaking the REST shapes of
//! docs/SMARTLEAD-REST.md: string counters, `?api_key=`, 401 and 429 answers).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};

use crate::helpers::{add_user, admin, fixture, ingest_in_batches, run_hub, ORG, SECRET};
use smartlead_hub::storage::records::SmartleadCredentials;

const KEY: &str = "sl-key-3f9c2b7e1d";
const CAMPAIGN: &str = "3701245";

#[derive(Default)]
struct Fake {
    analytics: Mutex<Value>,
    analytics_calls: AtomicUsize,
}

fn authorized(req: &HttpRequest) -> bool {
    req.query_string()
        .split('&')
        .any(|pair| pair == format!("api_key={KEY}"))
}

async fn campaigns(req: HttpRequest) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().json(json!({"message": "Invalid API Key"}));
    }
    HttpResponse::Ok().json(json!([{"id": 3701245, "name": "Q4 Ops leaders", "status": "ACTIVE"}]))
}

async fn analytics(req: HttpRequest, fake: web::Data<Fake>) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().json(json!({"message": "Invalid API Key"}));
    }
    // The first call is rate-limited, as Smartlead does past its budget.
    if fake.analytics_calls.fetch_add(1, Ordering::SeqCst) == 0 {
        return HttpResponse::TooManyRequests()
            .insert_header(("retry-after", "1"))
            .json(json!({"error": {"code": "RATE_LIMIT_EXCEEDED"}}));
    }
    HttpResponse::Ok().json(fake.analytics.lock().unwrap().clone())
}

fn start_fake(fake: web::Data<Fake>) -> String {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(fake.clone())
            .route("/api/v1/campaigns/", web::get().to(campaigns))
            .route("/api/v1/campaigns/{id}/analytics", web::get().to(analytics))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());
    format!("http://127.0.0.1:{port}/api/v1")
}

/// Smartlead's counters for the local numbers, as strings the way Smartlead sends them.
fn analytics_like(db: &std::path::Path, user: smartlead_hub::domain::UserId) -> Value {
    let campaign = smartlead_hub::domain::CampaignId::parse(CAMPAIGN).unwrap();
    let rows = admin(db).campaign_metrics(user, &campaign).unwrap();
    let of = |metric: &str, unique: bool| {
        rows.iter()
            .find(|r| r.metric == metric)
            .map_or(0, |r| if unique { r.leads } else { r.events })
            .to_string()
    };
    json!({
        "id": 3701245, "status": "ACTIVE", "name": "Q4 Ops leaders",
        "sent_count": of("sent", false), "unique_sent_count": of("sent", true),
        "open_count": "999", "unique_open_count": of("opened", true),
        "click_count": of("clicked", false), "unique_click_count": of("clicked", true),
        "reply_count": of("replied", false), "block_count": "0", "total_count": "0",
        "bounce_count": of("bounced", false), "unsubscribed_count": of("unsubscribed", false),
        "campaign_lead_stats": {"total": 3, "interested": 0}
    })
}

async fn check(
    db: &std::path::Path,
    base: &str,
    user: &str,
    extra: &[&str],
) -> (bool, String, String) {
    let args: Vec<String> = ["smartlead", "check", "--user", user, "--api-base", base]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect();
    let db = db.to_owned();
    // The fake Smartlead runs on this test's runtime: the command waits on another thread.
    actix_web::rt::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_hub(&args, Some(&db))
    })
    .await
    .unwrap()
}

#[actix_web::test]
async fn check_agrees_names_what_is_missing_and_keeps_the_key_secret() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let user = add_user(&db, "owner@northpeak.example", ORG, Some(SECRET));
    let credentials = SmartleadCredentials {
        webhook_secret: Some(SECRET.into()),
        api_key: Some(KEY.into()),
    };
    admin(&db)
        .set_smartlead_credentials(user, &credentials)
        .unwrap();
    let names = [
        "01_email_sent_new_and_deprecated_fields.json",
        "05_email_open_seq1.json",
        "08_email_link_click_arrays.json",
        "11_email_reply_full_new_fields_html_quotes.json",
        "17_email_bounce_new_and_deprecated.json",
    ];
    let deliveries: Vec<_> = names
        .iter()
        .map(|n| (user, ORG.to_owned(), fixture(n)))
        .collect();
    ingest_in_batches(&db, &deliveries, 5);

    let fake = web::Data::new(Fake::default());
    *fake.analytics.lock().unwrap() = analytics_like(&db, user);
    let base = start_fake(fake.clone());
    let user = user.to_string();

    // Same numbers (opens differ, and are not compared): exit 0, after a 429 and its wait.
    let (ok, out, err) = check(&db, &base, &user, &["--json"]).await;
    assert!(ok, "{out}\n{err}");
    assert!(
        fake.analytics_calls.load(Ordering::SeqCst) >= 2,
        "the 429 was not retried"
    );
    let result: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(result[0]["campaign_id"], CAMPAIGN);
    assert_eq!(result[0]["agrees"], true);

    // Smartlead saw a reply this hub never received: exit 1, and the metric is named.
    fake.analytics.lock().unwrap()["reply_count"] = json!("9");
    let (ok, out, err) = check(&db, &base, &user, &["--campaign", CAMPAIGN]).await;
    assert!(!ok);
    assert!(err.contains("1 of 1 campaigns differ"), "{err}");
    let replies = out
        .lines()
        .find(|l| l.trim_start().starts_with("replies"))
        .unwrap();
    assert!(replies.contains("missing here"), "{out}");

    // A wrong key: a clear error, and the key appears nowhere.
    let wrong = SmartleadCredentials {
        webhook_secret: Some(SECRET.into()),
        api_key: Some("sl-wrong-key-0000".into()),
    };
    admin(&db)
        .set_smartlead_credentials(user.parse().unwrap(), &wrong)
        .unwrap();
    let (ok, out, err) = check(&db, &base, &user, &[]).await;
    assert!(!ok);
    assert!(err.contains("refused the API key"), "{err}");
    assert!(
        !out.contains("sl-wrong-key") && !err.contains("sl-wrong-key"),
        "{err}"
    );

    // No key at all, or an unknown user: clear errors before any request.
    let (ok, _, err) = check(&db, &base, "0192f0aa-0000-7000-8000-00000000ffff", &[]).await;
    assert!(!ok && err.contains("no user"), "{err}");
}
