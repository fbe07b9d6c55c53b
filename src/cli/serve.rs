use tokio::signal::unix::{signal, Signal, SignalKind};

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;

use super::{demo, CliResult};
use crate::config::Settings;
use crate::startup::Application;
use crate::storage::Store;

/// The exit status after `--exit-on-storage-fault` stopped the service: sysexits' `EX_TEMPFAIL`
/// ("try again later"), which a supervisor restarts on and an operator can tell from a crash.
pub const EXIT_FOR_RESTART: u8 = 75;

/// `serve` stopped itself because a restart repairs the storage fault it met.
#[derive(Debug, thiserror::Error)]
#[error("stopped after a storage fault that a restart repairs (--exit-on-storage-fault); start the service again")]
pub struct StoppedForRestart;

pub fn run(settings: Settings) -> CliResult {
    actix_web::rt::System::new().block_on(async move {
        // Registered before the listener binds: a SIGTERM that arrives as soon as the port
        // accepts connections must already mean "shut down gracefully", not the default kill.
        let mut signals = ShutdownSignals::register()?;
        // Seeded before the service holds the file; printed once the port is known.
        let demo = match settings.demo {
            true => Some(demo::seed(
                &settings.db.db,
                demo::DEFAULT_EVENTS,
                demo::DEFAULT_SEED,
                true,
            )?),
            false => None,
        };
        let app = Application::build(&settings)?;
        if let Some(demo) = &demo {
            demo::print_welcome(demo, SocketAddr::new(settings.bind.ip(), app.port()))?;
        }
        let handle = app.handle();
        let stopped_for_restart = Arc::new(AtomicBool::new(false));
        if settings.exit_on_storage_fault {
            actix_web::rt::spawn(stop_when_a_restart_repairs(
                app.store().clone(),
                handle.clone(),
                stopped_for_restart.clone(),
            ));
        }
        tracing::info!(
            address = %format!("http://{}:{}", settings.bind.ip(), app.port()),
            db = %settings.db.db,
            "smartlead-hub listening"
        );
        actix_web::rt::spawn(async move {
            signals.received().await;
            tracing::info!("shutting down: finishing in-flight requests");
            handle.stop(true).await;
        });
        app.run_until_stopped().await?;
        tracing::info!("stopped");
        match stopped_for_restart.load(Ordering::SeqCst) {
            true => Err(StoppedForRestart.into()),
            false => Ok(()),
        }
    })
}

/// Watches for a storage fault (a few times a second: faults are rare, and the store's answer
/// is a memory read) until the writer has dealt with one. If a restart repairs it, stops the
/// server as SIGTERM does (in-flight requests are answered, with 503s); otherwise says once
/// that the service stays up, answering 503 with the reason, for an operator.
async fn stop_when_a_restart_repairs(store: Store, server: ServerHandle, stopped: Arc<AtomicBool>) {
    loop {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        let (Some(fault), Some(repairs)) = (store.fault(), store.restart_repairs_fault()) else {
            continue;
        };
        if repairs {
            tracing::error!(
                %fault,
                exit_status = EXIT_FOR_RESTART,
                "stopping so that a supervisor starts the service again, which repairs this fault"
            );
            stopped.store(true, Ordering::SeqCst);
            server.stop(true).await;
            return;
        }
        tracing::error!(
            %fault,
            "a restart does not repair this fault: the service stays up, answering 503 with the reason, for an operator"
        );
        return;
    }
}

/// SIGINT (Ctrl-C) and SIGTERM.
struct ShutdownSignals {
    interrupt: Signal,
    terminate: Signal,
}

impl ShutdownSignals {
    fn register() -> std::io::Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn received(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
