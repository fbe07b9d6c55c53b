use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::params::{encode_keyset, Params};
use crate::domain::EmailAddress;
use crate::http::auth::AuthenticatedUser;
use crate::http::{get_only, ApiError, AppState};
use crate::storage::analytics::{EventFilter, EventPage, EventRow};

/// Serialized straight to bytes, so each stored event_data is copied, not re-parsed.
#[derive(Serialize)]
struct EventList {
    events: Vec<EventRow>,
    next_cursor: Option<String>,
}

/// `GET /api/events?email=&event_type=&campaign_id=&from=&to=`: event search, newest first.
async fn search(
    AuthenticatedUser(user): AuthenticatedUser,
    params: Params,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let email = params
        .text("email")
        .map(|raw| {
            EmailAddress::parse(raw).map_err(|e| ApiError::InvalidQuery {
                name: "email".into(),
                reason: e.0,
            })
        })
        .transpose()?;
    let (from, to) = params.time_range()?;
    let filter = EventFilter {
        email: email.map(|e| e.as_str().to_owned()),
        event_type: params.event_type("event_type")?,
        campaign_id: params.campaign_id()?,
        from: from.map(|t| t.to_string()),
        to: to.map(|t| t.to_string()),
    };
    let limit = params.limit(50)?;
    let after = params.keyset_cursor()?;
    let EventPage { events, more } = state
        .store
        .search_events(user, filter, after, limit)
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
