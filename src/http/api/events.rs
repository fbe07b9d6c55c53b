use actix_web::{web, HttpResponse};

use super::bodies::{EventList, KeptEventList};
use super::names::{named_events, named_kept_events};
use super::params::encode_keyset;
use super::queries::{EventSearchParams, KeptEventParams, Query};
use crate::http::auth::AuthenticatedUser;
use crate::http::error::ErrorBody;
use crate::http::openapi::query::{Events, Kept, Page, Range};
use crate::http::{get_only, ApiError, AppState};
use crate::storage::records::EventPage;

/// The user's events matching every filter given, newest first.
#[utoipa::path(
    get,
    path = "/api/events",
    operation_id = "search_events",
    tag = "read",
    security(("bearer" = [])),
    params(Events, Range, Page),
    responses(
        (status = 200, description = "A page of events", body = EventList),
        (status = 400, description = "A parameter does not parse (the message names it)", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown or revoked token", body = ErrorBody),
        (status = 503, description = "The database cannot answer now; retry", body = ErrorBody),
    )
)]
pub(crate) async fn search(
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
    // Serialized straight to bytes: each stored event_data is copied, never re-parsed.
    Ok(HttpResponse::Ok().json(EventList {
        events: named_events(&state, user, events).await?,
        next_cursor,
    }))
}

/// The user's kept (non-email) Smartlead events, of one campaign if given, newest received
/// first.
#[utoipa::path(
    get,
    path = "/api/kept-events",
    operation_id = "list_kept_events",
    tag = "read",
    security(("bearer" = [])),
    params(Kept, Page),
    responses(
        (status = 200, description = "A page of kept events", body = KeptEventList),
        (status = 400, description = "A parameter does not parse (the message names it)", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown or revoked token", body = ErrorBody),
        (status = 503, description = "The database cannot answer now; retry", body = ErrorBody),
    )
)]
pub(crate) async fn kept(
    AuthenticatedUser(user): AuthenticatedUser,
    Query(list): Query<KeptEventParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (events, more) = state
        .store
        .kept_events(user, list.campaign, list.after, list.limit)
        .await?;
    let next_cursor = more
        .then(|| events.last().map(|e| encode_keyset(&e.received_at, &e.id)))
        .flatten();
    Ok(HttpResponse::Ok().json(KeptEventList {
        events: named_kept_events(&state, user, events).await?,
        next_cursor,
    }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_only("/api/events", search))
        .service(get_only("/api/kept-events", kept));
}
