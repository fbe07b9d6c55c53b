use std::time::Duration;

use actix_web::web;
use rusqlite::Connection;

use super::body_budget::BodyBudget;
use super::tenant_cache::TenantCache;
use super::ApiError;
use crate::smartlead::WebhookSecret;
use crate::storage::{ReadPool, StorageError, Writer};

/// Shared by every handler.
pub struct AppState {
    pub reads: ReadPool,
    pub writer: Writer,
    /// The secret of any org without its own (single-tenant installs).
    pub default_webhook_secret: Option<WebhookSecret>,
    /// Webhook tenants by org, so that a delivery needs no database read to authenticate.
    pub tenants: TenantCache,
    pub max_body_bytes: usize,
    /// Webhook body bytes held in memory at once, across all connections.
    pub body_budget: BodyBudget,
    pub body_timeout: Duration,
}

impl AppState {
    /// Runs a read on the blocking pool, never on the async executor, carrying the request span.
    pub async fn read<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    {
        let pool = self.reads.clone();
        let span = tracing::Span::current();
        let answer = web::block(move || {
            let _entered = span.enter();
            let conn = pool.get()?;
            work(&conn)
        })
        .await
        .map_err(|err| ApiError::Internal(Box::new(err)))?;
        // A read that finds the file malformed stops the writes too, and `/health` says so.
        if let Some(fault) = answer.as_ref().err().and_then(StorageError::fault) {
            self.writer.raise(fault);
        }
        answer.map_err(ApiError::from)
    }
}
