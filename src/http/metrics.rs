//! `GET /metrics`: the numbers an operator watches, in the Prometheus/OpenMetrics text format
//! (prometheus-client encodes it). Unauthenticated on the bind address, as Prometheus expects,
//! unless `--metrics-token` asks for a bearer token.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use subtle::ConstantTimeEq;

use super::error::ErrorBody;
use super::{ApiError, AppState};
use crate::storage::records::StorageUsage;
use crate::storage::StorageMetrics;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    /// stored, duplicate, kept, held or rejected.
    pub outcome: &'static str,
    /// The error code of a rejected delivery, the reason of a held one; empty otherwise.
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The route's pattern, never the raw path (ids would make a series each), with its
    /// parameters as `:name` (`/api/campaigns/:campaign_id/stats`): braces inside a label
    /// value are legal but trip up many parsers and PromQL users.
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DriftLabels {
    pub user: String,
    pub campaign: String,
    pub metric: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UserLabels {
    pub user: String,
}

type RouteHistograms = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// Every metric the service exposes, and the registry that encodes them.
pub struct Metrics {
    registry: Registry,
    pub deliveries: Family<DeliveryLabels, Counter>,
    /// Receipt of a delivery to its acknowledgement (committed and synced).
    pub ingest_seconds: Histogram,
    pub read_seconds: RouteHistograms,
    database_bytes: Gauge,
    wal_bytes: Gauge,
    held_deliveries: Gauge,
    held_bytes: Gauge,
    storage_fault: Gauge,
    /// Registered by [`Metrics::watch_disk`] only (SQLite): on PostgreSQL the disk is the
    /// server's, and a 0 would read as a full disk.
    disk_free: Gauge,
    last_acknowledged: Gauge,
    smartlead_drift: Family<DriftLabels, Gauge>,
    reconcile_failures: Family<UserLabels, Counter>,
    previous_secret_accepted: Family<UserLabels, Counter>,
    newest_event: Family<UserLabels, Gauge>,
}

/// 100 µs … ~3.3 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_1, 2.0, 16))
}

impl Metrics {
    pub fn new(storage: &StorageMetrics) -> Self {
        let mut registry = Registry::default();
        let metrics = Self {
            deliveries: Family::default(),
            ingest_seconds: latency_histogram(),
            read_seconds: Family::new_with_constructor(latency_histogram),
            database_bytes: Gauge::default(),
            wal_bytes: Gauge::default(),
            held_deliveries: Gauge::default(),
            held_bytes: Gauge::default(),
            storage_fault: Gauge::default(),
            disk_free: Gauge::default(),
            last_acknowledged: Gauge::default(),
            smartlead_drift: Family::default(),
            reconcile_failures: Family::default(),
            previous_secret_accepted: Family::default(),
            newest_event: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "smartlead_hub_deliveries",
            "Webhook deliveries by outcome (stored, duplicate, kept, held, rejected) and code",
            metrics.deliveries.clone(),
        );
        registry.register_with_unit(
            "smartlead_hub_ingest",
            "Time from receiving a delivery to acknowledging it (committed and fsynced)",
            Unit::Seconds,
            metrics.ingest_seconds.clone(),
        );
        registry.register_with_unit(
            "smartlead_hub_read",
            "Read API latency by route",
            Unit::Seconds,
            metrics.read_seconds.clone(),
        );
        registry.register_with_unit(
            "smartlead_hub_database",
            "Size of the database file",
            Unit::Bytes,
            metrics.database_bytes.clone(),
        );
        registry.register_with_unit(
            "smartlead_hub_wal",
            "Size of the write-ahead log",
            Unit::Bytes,
            metrics.wal_bytes.clone(),
        );
        registry.register(
            "smartlead_hub_held_deliveries",
            "Deliveries held because they could not be mapped",
            metrics.held_deliveries.clone(),
        );
        registry.register_with_unit(
            "smartlead_hub_held_payload",
            "Payload bytes of the held deliveries",
            Unit::Bytes,
            metrics.held_bytes.clone(),
        );
        registry.register(
            "smartlead_hub_storage_fault",
            "1 once a storage fault has stopped every write until a restart (the reason is on /health)",
            metrics.storage_fault.clone(),
        );
        registry.register_with_unit(
            "smartlead_hub_last_acknowledged_delivery_timestamp",
            "When this process last acknowledged a delivery (Unix time; 0: none since it started)",
            Unit::Seconds,
            metrics.last_acknowledged.clone(),
        );
        registry.register(
            "smartlead_hub_smartlead_drift",
            "Smartlead's count minus the hub's, per compared metric (--reconcile-every)",
            metrics.smartlead_drift.clone(),
        );
        registry.register(
            "smartlead_hub_reconcile_failures",
            "Reconciliations with Smartlead that failed (unreachable, key refused)",
            metrics.reconcile_failures.clone(),
        );
        registry.register_with_unit(
            "smartlead_hub_user_newest_event_timestamp",
            "Each user's newest event, by its own time (Unix time), read at scrape time: an org \
             whose webhook went quiet while other orgs' deliveries keep the service's own fresh",
            Unit::Seconds,
            metrics.newest_event.clone(),
        );
        registry.register(
            "smartlead_hub_previous_webhook_secret_deliveries",
            "Deliveries accepted with the org's previous webhook secret, in its grace period: \
             while this still grows, Smartlead has not been given the new one",
            metrics.previous_secret_accepted.clone(),
        );
        registry.register(
            "smartlead_hub_build",
            "The running build",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        storage.register(&mut registry);
        Self {
            registry,
            ..metrics
        }
    }

    /// Counts one delivery's answer; an acknowledged one (anything but `rejected`) also marks
    /// the time, so that a webhook that went quiet (a URL or secret changed in Smartlead, a
    /// campaign stopped) can be noticed.
    pub fn delivery(&self, outcome: &'static str, code: &str) {
        if outcome != "rejected" {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_secs());
            self.last_acknowledged.set(now as i64);
        }
        let labels = DeliveryLabels {
            outcome,
            code: code.to_owned(),
        };
        self.deliveries.get_or_create(&labels).inc();
    }

    /// The last reconciliation's drift of one metric of one campaign.
    pub fn drift(&self, user: crate::domain::UserId, campaign: &str, metric: &str, drift: i64) {
        let labels = DriftLabels {
            user: user.to_string(),
            campaign: campaign.to_owned(),
            metric: metric.replace(' ', "_"),
        };
        self.smartlead_drift.get_or_create(&labels).set(drift);
    }

    /// A delivery authenticated by the secret its org's current one replaced.
    pub fn previous_secret_accepted(&self, user: crate::domain::UserId) {
        let labels = UserLabels {
            user: user.to_string(),
        };
        self.previous_secret_accepted.get_or_create(&labels).inc();
    }

    pub fn reconcile_failed(&self, user: crate::domain::UserId) {
        let labels = UserLabels {
            user: user.to_string(),
        };
        self.reconcile_failures.get_or_create(&labels).inc();
    }

    /// Exposes the free space on the database's filesystem (SQLite installs).
    pub fn watch_disk(&mut self) {
        self.registry.register_with_unit(
            "smartlead_hub_disk_free",
            "Space left for the service on the filesystem holding the SQLite database",
            Unit::Bytes,
            self.disk_free.clone(),
        );
    }

    /// The sizes and each user's newest event, as the scrape read them.
    pub fn set_usage(&self, usage: StorageUsage) {
        self.database_bytes.set(usage.database_bytes as i64);
        self.wal_bytes.set(usage.wal_bytes as i64);
        self.held_deliveries.set(usage.held_deliveries as i64);
        self.held_bytes.set(usage.held_bytes as i64);
        if let Some(free) = usage.disk_free_bytes {
            self.disk_free.set(free.min(i64::MAX as u64) as i64);
        }
        // Rebuilt on each scrape, so that a removed user's series goes with it.
        self.newest_event.clear();
        for (user, newest) in usage.newest_events {
            let labels = UserLabels {
                user: user.to_string(),
            };
            let seconds = newest.millis().div_euclid(1000);
            self.newest_event.get_or_create(&labels).set(seconds);
        }
    }

    /// The text `GET /metrics` answers: every registered family, encoded.
    pub fn exposition(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        encode(&mut text, &self.registry)?;
        Ok(text)
    }

    pub fn read(&self, route: &str, took: Duration) {
        self.read_seconds
            .get_or_create(&RouteLabels {
                route: route.replace('{', ":").replace('}', ""),
            })
            .observe(took.as_secs_f64());
    }
}

#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus/OpenMetrics text", content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8", body = String),
        (status = 401, description = "`--metrics-token` is set and was not presented", body = ErrorBody),
        (status = 503, description = "The database cannot answer now (never after a storage fault: `smartlead_hub_storage_fault` says so)", body = ErrorBody),
    )
)]
pub(crate) async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if let Some(expected) = &state.metrics_token {
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(ApiError::Unauthorized(super::error::AuthFailure::Metrics));
        }
    }
    let metrics = &state.metrics;
    let fault = state.store.fault();
    metrics.storage_fault.set(i64::from(fault.is_some()));
    match state.store.usage().await {
        Ok(usage) => metrics.set_usage(usage),
        // A faulted store still answers the scrape (sizes as last read), so that the alert on
        // the fault fires rather than the one on a failed scrape.
        Err(err) if fault.is_none() => return Err(ApiError::unavailable(err.into())),
        Err(err) => tracing::debug!(error = %err, "sizes not read after a storage fault"),
    }
    let text = metrics
        .exposition()
        .map_err(|err| ApiError::Internal(Box::new(err)))?;
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(text))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(super::get_only("/metrics", metrics));
}
