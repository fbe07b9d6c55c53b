//! Builds the running service from [`Settings`]; used by `main` and by the tests alike.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::http::header;
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App, HttpServer};

use crate::config::Settings;
use crate::http::{self, AppState, BodyBudget, TenantCache};
use crate::smartlead::WebhookSecret;
use crate::storage::{ServeLock, StorageError, Store};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("invalid settings: {0}")]
    Settings(String),
    #[error("cannot open or migrate the database")]
    Storage(#[from] StorageError),
    /// Another `serve` holds the file (see `ServeLock`).
    #[error(transparent)]
    AlreadyServed(StorageError),
    #[error("the database file is malformed; restore it from a backup (smartlead-hub backup) or move it aside")]
    Malformed(#[source] StorageError),
    #[error("cannot listen on the address")]
    Bind(#[from] std::io::Error),
}

pub struct Application {
    port: u16,
    server: Server,
    store: Store,
    /// Released (another `serve` may start) once this one has stopped writing.
    _lock: Option<ServeLock>,
}

impl Application {
    /// Opens (creating and migrating) the database, starts the writer and binds the listener.
    pub fn build(settings: &Settings) -> Result<Self, StartupError> {
        settings.validate().map_err(StartupError::Settings)?;
        let db = &settings.db.db;
        // Two services on one SQLite file would fight over its writer; on PostgreSQL, several
        // are how the service scales past one box.
        let lock = match db.sqlite_path() {
            Some(path) => Some(ServeLock::acquire(path).map_err(|err| match err {
                StorageError::AlreadyServed { .. } => StartupError::AlreadyServed(err),
                err => StartupError::Storage(err),
            })?),
            None => None,
        };
        let store_settings = settings.store();
        let mut metrics = http::Metrics::new(&store_settings.metrics);
        if db.sqlite_path().is_some() {
            metrics.watch_disk();
        }
        let metrics = Arc::new(metrics);
        let store = Store::open(db, &store_settings).map_err(|err| match err.fault() {
            Some(_) => StartupError::Malformed(err),
            None => StartupError::Storage(err),
        })?;

        let state = web::Data::new(AppState {
            store: store.clone(),
            default_webhook_secret: settings
                .default_webhook_secret
                .clone()
                .map(WebhookSecret::new),
            tenants: TenantCache::new(settings.tenant_cache()),
            max_body_bytes: settings.max_body_bytes,
            body_budget: BodyBudget::new(settings.max_buffered_body_bytes),
            body_timeout: settings.body_timeout(),
            metrics,
            metrics_token: settings.metrics_token.clone(),
            export_turns: Arc::new(tokio::sync::Semaphore::new(
                (settings.read_connections as usize / 2).max(1),
            )),
        });

        if let Some(every) = settings.reconcile_every {
            let plan = crate::jobs::reconcile::Reconcile {
                every,
                api_base: settings.smartlead_api_base.clone(),
                backfill: settings.reconcile_backfill,
            };
            actix_web::rt::spawn(crate::jobs::reconcile::run(
                store.clone(),
                state.metrics.clone(),
                plan,
            ));
        }
        if let Some(retention) = settings.payload_retention {
            actix_web::rt::spawn(crate::jobs::retention::run(store.clone(), retention));
        }
        let listener = TcpListener::bind(settings.bind)?;
        let port = listener.local_addr()?.port();
        let mut server = HttpServer::new(move || {
            App::new()
                // Answers carry tokens' owners and lead data: never cached, never sniffed.
                .wrap(
                    DefaultHeaders::new()
                        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                        .add((header::CACHE_CONTROL, "no-store")),
                )
                .wrap(from_fn(http::log_requests))
                .app_data(state.clone())
                .configure(http::configure)
        })
        .listen(listener)?
        // Shutdown is ours: main turns SIGINT/SIGTERM into a graceful stop, then drains the writer.
        .disable_signals()
        .shutdown_timeout(settings.shutdown_timeout_secs)
        .client_request_timeout(Duration::from_secs(settings.header_timeout_secs));
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        Ok(Self {
            port,
            server: server.run(),
            store,
            _lock: lock,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The service's store (for watching its faults).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Stops the server: `handle.stop(true)` lets in-flight requests finish.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped, then commits whatever the writer still holds and checkpoints.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.store.shutdown().await;
        drop(self._lock);
        served
    }
}
