//! The naive port `bench_ingest --naive` compares against: what a straightforward first version
//! of this service would be. The same HTTP stack (actix-web) and the same parser, the seed's
//! schema (migrations 000 and 001: the seed's tables and indexes), and per webhook one
//! transaction committed with `synchronous=FULL` on one shared connection: authenticate against
//! the org's user, dedupe on (message id, type, time), insert the event, upsert its lead and
//! move the lead's latest activity. No rollups (the seed has none); non-email events are answered
//! `kept` without being stored (the seed has no table for them, and they are 1% of the load).

use std::path::Path;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use rusqlite::{params, Connection, OptionalExtension};
use smartlead_hub::domain::{EventId, LeadId, SmartleadEvent, UtcTimestamp};
use smartlead_hub::smartlead::{authenticate, WebhookSecret};

/// Creates the seed's schema in a new file at `db`, with a user for each of `orgs` orgs.
fn prepare(db: &Path, orgs: usize) -> Connection {
    let conn = Connection::open(db).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )
    .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for name in [
        "20250101_000_clento_base.sql",
        "20250108_001_smartlead_integration.sql",
    ] {
        conn.execute_batch(&std::fs::read_to_string(root.join(name)).unwrap())
            .unwrap();
    }
    for org in 0..orgs {
        conn.execute(
            "INSERT INTO users (id, email, smartlead_org_id) VALUES (?1, ?2, ?3)",
            params![
                format!("00000000-0000-4000-8000-{org:012}"),
                format!("naive{org}@example.com"),
                format!("bench-org-{org}")
            ],
        )
        .unwrap();
    }
    conn
}

/// Serves the naive port on `port` over a new file at `db` until killed. `secret(org index)` is
/// each org's webhook secret.
pub fn serve(port: u16, db: &Path, orgs: usize, secret: fn(usize) -> String) {
    let conn = Arc::new(Mutex::new(prepare(db, orgs)));
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(conn.clone()))
                .app_data(web::Data::new(secret))
                .app_data(web::PayloadConfig::new(4 << 20))
                .route("/api/webhooks/smartlead", web::post().to(receive))
        })
        .bind(("127.0.0.1", port))
        .unwrap()
        .run()
        .await
        .unwrap();
    });
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    conn: web::Data<Arc<Mutex<Connection>>>,
    secret: web::Data<fn(usize) -> String>,
) -> HttpResponse {
    let org = req
        .query_string()
        .strip_prefix("org_id=")
        .unwrap_or_default()
        .to_owned();
    let Ok(delivery) = smartlead_hub::smartlead::parse_delivery(&body) else {
        return HttpResponse::BadRequest().finish();
    };
    let org_index: usize = org
        .strip_prefix("bench-org-")
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX);
    let expected = WebhookSecret::new(secret(org_index));
    if authenticate(&body, None, delivery.secret_key.as_ref(), Some(&expected)).is_err() {
        return HttpResponse::Unauthorized().finish();
    }
    let Ok(event) = delivery.event(UtcTimestamp::now()) else {
        return HttpResponse::Ok().json(serde_json::json!({"status": "held"}));
    };
    let SmartleadEvent::Email(event) = event else {
        return HttpResponse::Ok().json(serde_json::json!({"status": "kept"}));
    };
    let conn = conn.get_ref().clone();
    let stored = web::block(move || -> rusqlite::Result<&'static str> {
        let mut conn = conn.lock().unwrap();
        let tx = conn.transaction()?;
        let user: String = tx.query_row(
            "SELECT id FROM users WHERE smartlead_org_id = ?1",
            [&org],
            |r| r.get(0),
        )?;
        let at = event.occurred_at.to_string();
        let seen = tx
            .query_row(
                "SELECT 1 FROM email_events WHERE message_id = ?1 AND event_type = ?2 AND timestamp = ?3",
                params![event.message_id, event.event_type.as_str(), at],
                |_| Ok(()),
            )
            .optional()?;
        if seen.is_some() {
            return Ok("duplicate");
        }
        tx.execute(
            "INSERT INTO leads (id, user_id, email) VALUES (?1, ?2, ?3) ON CONFLICT (user_id, email) DO NOTHING",
            params![LeadId::new().to_string(), user, event.email.as_str()],
        )?;
        let lead: String = tx.query_row(
            "SELECT id FROM leads WHERE user_id = ?1 AND email = ?2",
            params![user, event.email.as_str()],
            |r| r.get(0),
        )?;
        tx.execute(
            "UPDATE leads SET last_email_event = ?1, last_event_timestamp = ?2, smartlead_campaign_id = ?3
             WHERE id = ?4 AND (last_event_timestamp IS NULL OR last_event_timestamp < ?2)",
            params![event.event_type.as_str(), at, event.campaign_id.as_str(), lead],
        )?;
        tx.execute(
            "INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email, lead_id,
                                       smartlead_org_id, event_data, timestamp)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                EventId::new().to_string(),
                user,
                event.campaign_id.as_str(),
                event.message_id,
                event.event_type.as_str(),
                event.email.as_str(),
                lead,
                org,
                event.payload,
                at
            ],
        )?;
        tx.commit()?;
        Ok("stored")
    })
    .await;
    match stored {
        Ok(Ok(status)) => HttpResponse::Ok().json(serde_json::json!({ "status": status })),
        _ => HttpResponse::ServiceUnavailable().finish(),
    }
}
