use crate::config::Settings;
use crate::startup::Application;

use super::CliResult;

pub fn run(settings: Settings) -> CliResult {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(&settings)?;
        let handle = app.handle();
        tracing::info!(
            address = %format!("http://{}:{}", settings.bind.ip(), app.port()),
            db = %settings.db.db.display(),
            "smartlead-hub listening"
        );
        actix_web::rt::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down: finishing in-flight requests");
            handle.stop(true).await;
        });
        app.run_until_stopped().await?;
        tracing::info!("stopped");
        Ok(())
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
