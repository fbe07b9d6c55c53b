use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::params::{encode_keyset, page};
use super::queries::{LeadListParams, Query, TimelineParams};
use crate::domain::LeadId;
use crate::http::auth::AuthenticatedUser;
use crate::http::{get_only, ApiError, AppState};
use crate::storage::records::{EventPage, EventRow, LeadRow};

// Answers are typed structs serialized straight to bytes: going through `json!` would rebuild
// every stored event_data as a tree first.
#[derive(Serialize)]
struct LeadPage {
    leads: Vec<LeadRow>,
    next_cursor: Option<String>,
}

#[derive(Serialize)]
struct Timeline {
    lead_id: String,
    events: Vec<EventRow>,
    next_cursor: Option<String>,
}

/// `GET /api/leads?campaign_id=&last_event=&order=recent`: leads by newest activity.
async fn list(
    AuthenticatedUser(user): AuthenticatedUser,
    Query(query): Query<LeadListParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit;
    let rows = state
        .store
        .leads(user, query.filter, query.after, limit + 1)
        .await?;
    let (leads, more) = page(rows, limit);
    let next_cursor = more
        .then(|| {
            leads.last().and_then(|l| {
                l.last_event_timestamp
                    .as_deref()
                    .map(|at| encode_keyset(at, &l.id))
            })
        })
        .flatten();
    Ok(HttpResponse::Ok().json(LeadPage { leads, next_cursor }))
}

/// `GET /api/leads/{lead_id}/events?limit=10`: the lead's timeline, newest first (seed usage
/// example 2).
async fn events(
    AuthenticatedUser(user): AuthenticatedUser,
    path: web::Path<String>,
    Query(page_of): Query<TimelineParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // A malformed id cannot name any lead: the same 404 as another user's lead.
    let lead: LeadId = path.parse().map_err(|_| ApiError::NotFound("lead"))?;
    let limit = page_of.limit;
    let EventPage { events, more } = state
        .store
        .lead_events(user, lead, page_of.after, limit)
        .await?
        .ok_or(ApiError::NotFound("lead"))?;
    let next_cursor = more
        .then(|| events.last().map(|e| encode_keyset(&e.timestamp, &e.id)))
        .flatten();
    Ok(HttpResponse::Ok().json(Timeline {
        lead_id: lead.to_string(),
        events,
        next_cursor,
    }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_only("/api/leads", list))
        .service(get_only("/api/leads/{lead_id}/events", events));
}
