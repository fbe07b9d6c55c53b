use std::time::Duration;

use actix_web::{web, HttpResponse};

use super::api::Health;
use super::error::ErrorBody;
use super::{ApiError, AppState};
use crate::storage::records::Readiness;
use crate::storage::StorageError;

/// `GET /health`: the database answers and reports its schema version. Any failure to read it
/// is "unavailable" (503), whatever its cause: that is what a load balancer needs to know. A
/// storage fault that stopped the writes (a failed fsync, the database's files deleted or
/// replaced, a malformed file) is a 503 `storage_fault` with its reason: only a restart helps.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "health",
    tag = "operations",
    responses(
        (status = 200, description = "Alive, and the database answers", body = Health),
        (status = 503, description = "The database cannot be read, or writes are stopped by a storage fault", body = ErrorBody),
    )
)]
pub(crate) async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
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

/// How long `/ready` waits for its write to get through the writer and the fsync.
const READY_WITHIN: Duration = Duration::from_secs(2);

/// `GET /ready`: whether this instance should get traffic. The schema is this binary's, and a
/// write goes through the whole write path (write lock, commit, fsync) in time; otherwise a 503
/// `not_ready` (or `storage_fault`) that says why. `/health` stays liveness: it does not write.
#[utoipa::path(
    get,
    path = "/ready",
    operation_id = "ready",
    tag = "operations",
    responses(
        (status = 200, description = "Ready for traffic", body = Health),
        (status = 503, description = "`not_ready` (the message says why) or `storage_fault`", body = ErrorBody),
    )
)]
pub(crate) async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Some(fault) = state.store.fault() {
        return Err(ApiError::Storage(StorageError::Faulted(fault)));
    }
    let readiness = state
        .store
        .readiness(READY_WITHIN)
        .await
        .map_err(|err| match err.fault() {
            Some(_) => ApiError::Storage(err),
            None => {
                tracing::warn!(error = %err, "readiness write failed");
                let transient = if err.is_transient() {
                    " (busy or at capacity)"
                } else {
                    ""
                };
                ApiError::NotReady(format!(
                    "a write could not be made{transient}; the log says why"
                ))
            }
        })?;
    match readiness {
        Readiness::Ready { version } => Ok(HttpResponse::Ok().json(Health {
            schema_version: version,
            status: "ready",
        })),
        Readiness::SchemaNotCurrent { version, latest } => Err(ApiError::NotReady(format!(
            "the database is at schema version {version}, this build needs {latest} (run `smartlead-hub migrate up`)"
        ))),
        Readiness::WriterStalled { waited } => Err(ApiError::NotReady(format!(
            "a write did not get through the writer and its fsync within {} ms",
            waited.as_millis()
        ))),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(super::get_only("/health", health))
        .service(super::get_only("/ready", ready));
}
