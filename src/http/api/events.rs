use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::params::encode_keyset;
use super::queries::{EventSearchParams, Query};
use crate::http::auth::AuthenticatedUser;
use crate::http::{get_only, ApiError, AppState};
use crate::storage::records::{EventPage, EventRow};

/// Serialized straight to bytes, so each stored event_data is copied, not re-parsed.
#[derive(Serialize)]
struct EventList {
    events: Vec<EventRow>,
    next_cursor: Option<String>,
}

/// `GET /api/events?email=&event_type=&campaign_id=&from=&to=`: event search, newest first.
async fn search(
    AuthenticatedUser(user): AuthenticatedUser,
    Query(search): Query<EventSearchParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let EventPage { events, more } = state
        .store
        .search_events(user, search.filter, search.after, search.limit)
        .await?;
    let next_cursor = more
        .then(|| events.last().map(|e| encode_keyset(&e.timestamp, &e.id)))
        .flatten();
    Ok(HttpResponse::Ok().json(EventList {
        events,
        next_cursor,
    }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_only("/api/events", search));
}
