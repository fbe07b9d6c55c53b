use tokio::signal::unix::{signal, Signal, SignalKind};

use std::net::SocketAddr;

use super::{demo, CliResult};
use crate::config::Settings;
use crate::startup::Application;

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
        Ok(())
    })
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
