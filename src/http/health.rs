use actix_web::{web, HttpResponse};

use super::api::Health;
use super::{ApiError, AppState};
use crate::storage::StorageError;

/// `GET /health`: the database answers and reports its schema version. Any failure to read it
/// is "unavailable" (503), whatever its cause: that is what a load balancer needs to know. A
/// storage fault that stopped the writes (a failed fsync, the database's files deleted or
/// replaced, a malformed file) is a 503 `storage_fault` with its reason: only a restart helps.
async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Some(fault) = state.store.fault() {
        return Err(ApiError::Storage(StorageError::Faulted(fault)));
    }
    let version = state
        .store
        .schema_version()
        .await
        .map_err(|err| ApiError::unavailable(err.into()))?;
    Ok(HttpResponse::Ok().json(Health {
        schema_version: version,
        status: "ok",
    }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(super::get_only("/health", health));
}
