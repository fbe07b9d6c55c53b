use std::sync::Arc;
use std::time::Duration;

use super::body_budget::BodyBudget;
use super::metrics::Metrics;
use super::tenant_cache::TenantCache;
use crate::smartlead::WebhookSecret;
use crate::storage::Store;

/// Shared by every handler.
pub struct AppState {
    /// The database, behind the storage boundary.
    pub store: Store,
    /// The secret of any org without its own (single-tenant installs).
    pub default_webhook_secret: Option<WebhookSecret>,
    /// Webhook tenants by org, so that a delivery needs no database read to authenticate.
    pub tenants: TenantCache,
    pub max_body_bytes: usize,
    /// Webhook body bytes held in memory at once, across all connections.
    pub body_budget: BodyBudget,
    pub body_timeout: Duration,
    pub metrics: Arc<Metrics>,
    /// The bearer token `/metrics` asks for, if any.
    pub metrics_token: Option<String>,
    /// Turns to read a lead export: each holds a read connection for as long as its read takes
    /// (~1.7 s for 500,000 leads), so exports get at most half of them and wait for the rest.
    pub export_turns: Arc<tokio::sync::Semaphore>,
}
