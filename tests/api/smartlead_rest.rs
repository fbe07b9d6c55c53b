//! `smartlead check` and `smartlead webhooks` against a fake Smartlead (an in-process server
//! speaking the REST shapes of docs/SMARTLEAD-REST.md: string counters, `?api_key=`, 401 and
//! 429 answers, Joi-style 400s, webhooks as plain arrays).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};

use crate::helpers::{add_user, admin, fixture, ingest_in_batches, ORG, SECRET};
use smartlead_hub::storage::records::SmartleadCredentials;

pub const KEY: &str = "sl-key-3f9c2b7e1d";
pub const CAMPAIGN: &str = "3701245";

#[derive(Default)]
pub struct Fake {
    pub analytics: Mutex<Value>,
    /// Statistics rows of CAMPAIGN (one per email).
    pub statistics: Mutex<Vec<Value>>,
    /// A hostile answer to give: `huge_page`, `repeat_pages`, `truncated`, `server_error`,
    /// `wrong_types`.
    pub fault: Mutex<Option<&'static str>>,
    analytics_calls: AtomicUsize,
    /// Webhooks by campaign id.
    webhooks: Mutex<std::collections::HashMap<String, Vec<Value>>>,
    posts: AtomicUsize,
    /// When each `/campaigns/` listing arrived, and the first analytics request.
    listings: Mutex<Vec<std::time::Instant>>,
    first_analytics: Mutex<Option<std::time::Instant>>,
}

fn authorized(req: &HttpRequest) -> bool {
    req.query_string()
        .split('&')
        .any(|pair| pair == format!("api_key={KEY}"))
}

async fn campaigns(req: HttpRequest, fake: web::Data<Fake>) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().json(json!({"message": "Invalid API Key"}));
    }
    fake.listings
        .lock()
        .unwrap()
        .push(std::time::Instant::now());
    // The budget is spent until the next second: a client must wait before its next request.
    HttpResponse::Ok()
        .insert_header(("x-ratelimit-limit", "60"))
        .insert_header(("x-ratelimit-remaining", "0"))
        .insert_header(("x-ratelimit-reset", "1"))
        .json(json!([
            {"id": 3701245, "name": "Q4 Ops leaders", "status": "ACTIVE"},
            {"id": "3709999", "name": "Paused one", "status": "PAUSED"}
        ]))
}

/// Pages of statistics, `limit` at most 1000 as Smartlead allows, `total_stats` a string.
async fn statistics(
    req: HttpRequest,
    path: web::Path<String>,
    fake: web::Data<Fake>,
) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().json(json!({"message": "Invalid API Key"}));
    }
    let query: std::collections::HashMap<String, String> =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .map(|q| q.into_inner())
            .unwrap_or_default();
    let number = |name: &str| {
        query
            .get(name)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0)
    };
    let (offset, limit) = (number("offset"), number("limit"));
    if limit > 1000 {
        return HttpResponse::BadRequest()
            .json(json!({"message": "\"limit\" must be less than or equal to 1000"}));
    }
    let fault = *fake.fault.lock().unwrap();
    let first = fake
        .statistics
        .lock()
        .unwrap()
        .first()
        .cloned()
        .unwrap_or(json!({}));
    match fault {
        Some("huge_page") => {
            return HttpResponse::Ok()
                .json(json!({"total_stats": "5000", "data": vec![first; limit + 1]}))
        }
        Some("repeat_pages") => {
            return HttpResponse::Ok()
                .json(json!({"total_stats": "9999999", "data": vec![first; limit]}))
        }
        Some("truncated") => {
            return HttpResponse::Ok()
                .content_type("application/json")
                .body(r#"{"total_stats":"5","data":[{"lead_email":"#)
        }
        Some("server_error") => return HttpResponse::ServiceUnavailable().finish(),
        _ => {}
    }
    let rows = if path.as_str() == CAMPAIGN {
        fake.statistics.lock().unwrap().clone()
    } else {
        Vec::new()
    };
    let page: Vec<Value> = rows.iter().skip(offset).take(limit).cloned().collect();
    HttpResponse::Ok().json(json!({"total_stats": rows.len().to_string(), "offset": offset, "limit": limit, "data": page}))
}

async fn list_webhooks(
    req: HttpRequest,
    path: web::Path<String>,
    fake: web::Data<Fake>,
) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().json(json!({"message": "Invalid API Key"}));
    }
    let hooks = fake.webhooks.lock().unwrap();
    HttpResponse::Ok().json(hooks.get(path.as_str()).cloned().unwrap_or_default())
}

async fn save_webhook(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
    fake: web::Data<Fake>,
) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().json(json!({"message": "Invalid API Key"}));
    }
    if body.get("categories") == Some(&json!([])) {
        return HttpResponse::BadRequest()
            .json(json!({"message": "\"categories\" does not contain 1 required value(s)"}));
    }
    fake.posts.fetch_add(1, Ordering::SeqCst);
    let mut hooks = fake.webhooks.lock().unwrap();
    let list = hooks.entry(path.into_inner()).or_default();
    let mut hook = body.into_inner();
    match hook["id"].as_u64() {
        Some(id) => {
            let slot = list.iter_mut().find(|h| h["id"] == id).unwrap();
            *slot = hook.clone();
        }
        None => {
            hook["id"] = json!(900 + list.len());
            list.push(hook.clone());
        }
    }
    HttpResponse::Ok().json(json!({"ok": true, "id": hook["id"]}))
}

async fn analytics(
    req: HttpRequest,
    path: web::Path<String>,
    fake: web::Data<Fake>,
) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().json(json!({"message": "Invalid API Key"}));
    }
    fake.first_analytics
        .lock()
        .unwrap()
        .get_or_insert_with(std::time::Instant::now);
    // The first call is rate-limited, as Smartlead does past its budget.
    if fake.analytics_calls.fetch_add(1, Ordering::SeqCst) == 0 {
        return HttpResponse::TooManyRequests()
            .insert_header(("retry-after", "1"))
            .json(json!({"error": {"code": "RATE_LIMIT_EXCEEDED"}}));
    }
    if *fake.fault.lock().unwrap() == Some("wrong_types") {
        return HttpResponse::Ok().json(json!({"id": 1, "sent_count": {"not": "a count"}}));
    }
    if path.as_str() != CAMPAIGN {
        // A campaign that never sent anything (drafted): nothing to miss.
        return HttpResponse::Ok().json(json!({"id": path.as_str(), "sent_count": "0", "unique_sent_count": "0", "open_count": "0"}));
    }
    HttpResponse::Ok().json(fake.analytics.lock().unwrap().clone())
}

pub fn start_fake(fake: web::Data<Fake>) -> String {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(fake.clone())
            .route("/api/v1/campaigns/", web::get().to(campaigns))
            .route("/api/v1/campaigns/{id}/analytics", web::get().to(analytics))
            .route(
                "/api/v1/campaigns/{id}/statistics",
                web::get().to(statistics),
            )
            .route(
                "/api/v1/campaigns/{id}/webhooks",
                web::get().to(list_webhooks),
            )
            .route(
                "/api/v1/campaigns/{id}/webhooks",
                web::post().to(save_webhook),
            )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());
    format!("http://127.0.0.1:{port}/api/v1")
}

/// Stores the fake's API key (and the fixtures' webhook secret) for `user`.
pub fn give_api_key(
    db: impl Into<smartlead_hub::storage::Database>,
    user: smartlead_hub::domain::UserId,
) {
    let credentials = SmartleadCredentials {
        webhook_secret: Some(SECRET.into()),
        api_key: Some(KEY.into()),
        ..Default::default()
    };
    admin(db)
        .set_smartlead_credentials(user, &credentials)
        .unwrap();
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
    let args: Vec<String> = [
        "smartlead",
        "check",
        "--user",
        user,
        "--smartlead-api-base",
        base,
    ]
    .iter()
    .chain(extra)
    .map(|s| s.to_string())
    .collect();
    hub(db, args).await
}

#[actix_web::test]
async fn check_agrees_names_what_is_missing_and_keeps_the_key_secret() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let user = add_user(&db, "owner@northpeak.example", ORG, Some(SECRET));
    give_api_key(&db, user);
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
    assert_eq!(
        result[1]["campaign_id"], "3709999",
        "every campaign of the account"
    );
    assert_eq!(result[1]["agrees"], true);
    // The listing said the budget was spent: the next request came after its reset.
    let listed = fake.listings.lock().unwrap()[0];
    let first_analytics = fake
        .first_analytics
        .lock()
        .unwrap()
        .expect("analytics asked");
    assert!(
        first_analytics.duration_since(listed) >= std::time::Duration::from_millis(900),
        "the client did not wait for x-ratelimit-reset"
    );

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
        ..Default::default()
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

/// The binary with `args` on `db`. The fake Smartlead runs on this test's runtime, so the
/// command waits on another thread.
pub async fn hub(
    db: impl Into<smartlead_hub::storage::Database>,
    args: Vec<String>,
) -> (bool, String, String) {
    let db = db.into();
    actix_web::rt::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::helpers::run_hub_on(&args, Some(&db))
    })
    .await
    .unwrap()
}

#[actix_web::test]
async fn webhooks_ensure_creates_updates_and_leaves_others_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let user = add_user(&db, "owner@northpeak.example", ORG, Some(SECRET));
    give_api_key(&db, user);
    let fake = web::Data::new(Fake::default());
    let foreign = json!({"id": 17, "name": "zapier", "webhook_url": "https://hooks.example/zap", "event_types": ["EMAIL_REPLY"]});
    fake.webhooks
        .lock()
        .unwrap()
        .insert(CAMPAIGN.into(), vec![foreign.clone()]);
    let base = start_fake(fake.clone());
    let url = format!("https://hub.example.net/api/webhooks/smartlead?org_id={ORG}");
    let ensure = |extra: &[&str]| {
        let mut args: Vec<String> = [
            "smartlead",
            "webhooks",
            "ensure",
            "--user",
            &user.to_string(),
            "--url",
            &url,
            "--smartlead-api-base",
            &base,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };

    // Created on the active campaign only; the paused one and the foreign hook untouched.
    let (ok, out, err) = hub(&db, ensure(&["--all-active", "--json"])).await;
    assert!(ok, "{err}");
    let done: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        done,
        json!([{"campaign_id": CAMPAIGN, "webhook": "created"}])
    );
    let hooks = fake.webhooks.lock().unwrap().clone();
    assert!(!hooks.contains_key("3709999"));
    let ours = &hooks[CAMPAIGN];
    assert_eq!(ours[0], foreign);
    assert_eq!(ours[1]["webhook_url"], url.as_str());
    assert!(
        ours[1].get("categories").is_none(),
        "an empty category list is refused by Smartlead"
    );
    assert_eq!(ours[1]["event_types"].as_array().unwrap().len(), 7);

    // Again: nothing to do, nothing posted.
    let posts = fake.posts.load(Ordering::SeqCst);
    let (ok, out, _) = hub(&db, ensure(&["--campaign", CAMPAIGN])).await;
    assert!(ok && out.contains("unchanged"), "{out}");
    assert_eq!(fake.posts.load(Ordering::SeqCst), posts);

    // Someone trimmed our event types: updated in place, same id.
    fake.webhooks.lock().unwrap().get_mut(CAMPAIGN).unwrap()[1]["event_types"] =
        json!(["EMAIL_SENT"]);
    let (ok, out, _) = hub(&db, ensure(&["--campaign", CAMPAIGN])).await;
    assert!(ok && out.contains("updated"), "{out}");
    let hooks = fake.webhooks.lock().unwrap()[CAMPAIGN].clone();
    assert_eq!(hooks.len(), 2);
    assert_eq!(hooks[0], foreign);
    assert_eq!(hooks[1]["event_types"].as_array().unwrap().len(), 7);

    // The list shows both.
    let list: Vec<String> = [
        "smartlead",
        "webhooks",
        "list",
        "--user",
        &user.to_string(),
        "--campaign",
        CAMPAIGN,
        "--json",
        "--smartlead-api-base",
        &base,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (ok, out, _) = hub(&db, list).await;
    assert!(ok);
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed[0]["webhooks"].as_array().unwrap().len(), 2);

    // A URL for another org (or not the webhook's path) is refused before any request.
    let posts = fake.posts.load(Ordering::SeqCst);
    for bad in [
        "https://hub.example.net/api/webhooks/smartlead?org_id=someone-else",
        "https://hub.example.net/?org_id=fx-org-1001",
        "ftp://x/api/webhooks/smartlead?org_id=fx-org-1001",
    ] {
        let mut args = ensure(&["--campaign", CAMPAIGN]);
        let at = args.iter().position(|a| a == "--url").unwrap() + 1;
        args[at] = bad.to_string();
        let (ok, _, err) = hub(&db, args).await;
        assert!(!ok && err.contains("--url must be"), "{bad}: {err}");
    }
    assert_eq!(fake.posts.load(Ordering::SeqCst), posts);
}

/// `serve --reconcile-every`: the same comparison in the background, as a metric.
#[actix_web::test]
async fn serve_reconciles_in_the_background_and_exposes_the_drift() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let user = add_user(&db, "owner@northpeak.example", ORG, Some(SECRET));
    give_api_key(&db, user);
    let reply = (
        user,
        ORG.to_owned(),
        fixture("11_email_reply_full_new_fields_html_quotes.json"),
    );
    ingest_in_batches(&db, &[reply], 1);
    let fake = web::Data::new(Fake::default());
    let mut analytics = analytics_like(&db, user);
    analytics["reply_count"] = json!("4");
    *fake.analytics.lock().unwrap() = analytics;
    let base = start_fake(fake.clone());

    let served = crate::helpers::serve_file(&db, |s| {
        s.reconcile_every = Some("1h".parse().unwrap());
        s.smartlead_api_base = base.clone();
    });
    let client = crate::helpers::client();
    let wanted = format!("smartlead_hub_smartlead_drift{{user=\"{user}\",campaign=\"{CAMPAIGN}\",metric=\"replies\"}} 3");
    let mut text = String::new();
    for _ in 0..200 {
        let mut response = client
            .get(format!("{}/metrics", served.base))
            .send()
            .await
            .unwrap();
        text = String::from_utf8(response.body().await.unwrap().to_vec()).unwrap();
        if text.contains(&wanted) {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    served.stop().await;
    assert!(
        text.contains(&wanted),
        "no drift of 3 replies in:\n{}",
        text.lines()
            .filter(|l| l.contains("drift"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(!text.contains(KEY), "the API key reached /metrics");
}
