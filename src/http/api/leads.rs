use actix_web::{web, HttpResponse};

use super::as_of::AsOf;
use super::bodies::{LeadDetail, LeadPage, Timeline};
use super::names::named_events;
use super::params::{encode_keyset, page};
use super::queries::{LeadListParams, Query, TimelineParams};
use crate::domain::LeadId;
use crate::http::auth::AuthenticatedUser;
use crate::http::error::ErrorBody;
use crate::http::openapi::query::{Leads, Page, Projected};
use crate::http::{get_only, ApiError, AppState};
use crate::storage::records::EventPage;

/// The user's leads with email activity, newest activity first.
#[utoipa::path(
    get,
    path = "/api/leads",
    operation_id = "list_leads",
    tag = "read",
    security(("bearer" = [])),
    params(Leads, Page, Projected),
    responses(
        (status = 200, description = "A page of leads", body = LeadPage),
        (status = 400, description = "A parameter does not parse (the message names it)", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown or revoked token", body = ErrorBody),
        (status = 503, description = "The database cannot answer now, or the lead activity has not reached `min_event` yet; retry", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    AuthenticatedUser(user): AuthenticatedUser,
    AsOf(as_of): AsOf,
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
    Ok(HttpResponse::Ok().json(LeadPage {
        as_of,
        leads: leads.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// One lead: its name, company, category and latest activity, with or without email activity.
#[utoipa::path(
    get,
    path = "/api/leads/{lead_id}",
    operation_id = "get_lead",
    tag = "read",
    security(("bearer" = [])),
    params(("lead_id" = String, Path, description = "The lead's id (from /api/leads or an event)"), Projected),
    responses(
        (status = 200, description = "The lead", body = LeadDetail),
        (status = 400, description = "A parameter does not parse (the message names it)", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown or revoked token", body = ErrorBody),
        (status = 404, description = "No such lead for this user", body = ErrorBody),
        (status = 503, description = "The database cannot answer now, or the lead activity has not reached `min_event` yet; retry", body = ErrorBody),
    )
)]
pub(crate) async fn lead(
    AuthenticatedUser(user): AuthenticatedUser,
    AsOf(as_of): AsOf,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // A malformed id cannot name any lead: the same 404 as another user's lead.
    let lead: LeadId = path.parse().map_err(|_| ApiError::NotFound("lead"))?;
    let found = state
        .store
        .lead(user, lead)
        .await?
        .ok_or(ApiError::NotFound("lead"))?;
    Ok(HttpResponse::Ok().json(LeadDetail {
        as_of,
        lead: found.into(),
    }))
}

/// A lead's timeline, newest first.
#[utoipa::path(
    get,
    path = "/api/leads/{lead_id}/events",
    operation_id = "list_lead_events",
    tag = "read",
    security(("bearer" = [])),
    params(("lead_id" = String, Path, description = "The lead's id (from /api/leads)"), Page),
    responses(
        (status = 200, description = "A page of the lead's events", body = Timeline),
        (status = 400, description = "A parameter does not parse (the message names it)", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown or revoked token", body = ErrorBody),
        (status = 404, description = "No such lead for this user", body = ErrorBody),
        (status = 503, description = "The database cannot answer now; retry", body = ErrorBody),
    )
)]
pub(crate) async fn events(
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
        events: named_events(&state, user, events).await?,
        next_cursor,
    }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_only("/api/leads", list))
        // Before `{lead_id}`, which would take `export` for a malformed id.
        .service(get_only("/api/leads/export", super::lead_export::export))
        .service(get_only("/api/leads/{lead_id}", lead))
        .service(get_only("/api/leads/{lead_id}/events", events));
}
