//! `GET /api/held-deliveries`: what Smartlead sent for the user that was authentic but could not
//! be read as an event. Held deliveries are kept, not counted, so the user's numbers lack them
//! until an operator replays them (`smartlead-hub deliveries replay`) with a version that reads
//! them; the dashboard says so.

use actix_web::{web, HttpResponse};

use super::bodies::{HeldDeliveries, HeldReason};
use crate::http::auth::AuthenticatedUser;
use crate::http::error::ErrorBody;
use crate::http::{get_only, ApiError, AppState};

/// The user's held deliveries, counted by reason.
#[utoipa::path(
    get,
    path = "/api/held-deliveries",
    operation_id = "get_held_deliveries",
    tag = "read",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user's held deliveries by reason (none: total 0)", body = HeldDeliveries),
        (status = 400, description = "A parameter does not parse (the message names it)", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown or revoked token", body = ErrorBody),
        (status = 503, description = "The database cannot answer now; retry", body = ErrorBody),
    )
)]
pub(crate) async fn held(
    AuthenticatedUser(user): AuthenticatedUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let reasons: Vec<HeldReason> = state
        .store
        .held_reasons(user)
        .await?
        .into_iter()
        .map(|held| HeldReason {
            reason: held.reason,
            count: held.count,
            latest_received_at: held.latest_received_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(HeldDeliveries {
        total: reasons.iter().map(|r| r.count).sum(),
        reasons,
    }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_only("/api/held-deliveries", held));
}
