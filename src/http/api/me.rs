use actix_web::{web, HttpResponse};

use super::bodies::Me;
use crate::http::auth::AuthenticatedUser;
use crate::http::{get_only, ApiError, AppState};

/// `GET /api/me`: who the token belongs to and their Smartlead org (seed usage example 1).
async fn me(
    AuthenticatedUser(user): AuthenticatedUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let found = state
        .store
        .user(user)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    Ok(HttpResponse::Ok().json(Me {
        email: found.email,
        id: found.id,
        name: found.name,
        smartlead_org_id: found.smartlead_org_id,
        smartlead_org_name: found.smartlead_org_name,
    }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_only("/api/me", me));
}
