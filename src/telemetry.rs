use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Logs to stderr (stdout stays clean for CLI output), filtered by `RUST_LOG`, default `info`.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
