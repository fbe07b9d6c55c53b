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

/// A duration for a log field: milliseconds, to the microsecond (`latency_ms=0.066`, not
/// `0.06645899999999999`).
pub fn millis(elapsed: std::time::Duration) -> f64 {
    (elapsed.as_secs_f64() * 1e6).round() / 1e3
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn durations_are_logged_in_milliseconds_to_the_microsecond() {
        assert_eq!(super::millis(Duration::from_nanos(66_458_999)), 66.459);
        assert_eq!(
            super::millis(Duration::from_nanos(66_459)).to_string(),
            "0.066"
        );
    }
}
