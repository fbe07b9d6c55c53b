use actix_web::{web, HttpResponse};
use serde_json::json;

use super::{ApiError, AppState};
use crate::storage::migrations;

/// `GET /health`: the database answers and reports its schema version. Any failure to read it
/// is "unavailable" (503), whatever its cause: that is what a load balancer needs to know.
async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let version = state
        .read(migrations::current_version)
        .await
        .map_err(ApiError::unavailable)?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ok", "schema_version": version })))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health));
}
