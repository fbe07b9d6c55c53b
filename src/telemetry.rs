use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// `SMARTLEAD_HUB_LOG_FORMAT`: `text` (the default) or `json`.
pub const LOG_FORMAT: &str = "SMARTLEAD_HUB_LOG_FORMAT";

/// Logs to stderr (stdout stays clean for CLI output), filtered by `RUST_LOG`, default `info`;
/// one JSON object a line with `SMARTLEAD_HUB_LOG_FORMAT=json`, for a log shipper (Loki, Vector,
/// journald's JSON export) that would otherwise parse text. Read from the environment, not a
/// flag, so that it covers every subcommand and the argument errors before them alike.
pub fn init() -> Result<(), String> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match std::env::var(LOG_FORMAT).as_deref() {
        Err(_) | Ok("") | Ok("text") => false,
        Ok("json") => true,
        Ok(other) => {
            return Err(format!(
                "{LOG_FORMAT} must be text or json, not {:?}",
                other.chars().take(64).collect::<String>()
            ))
        }
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match json {
        true => logs.json().with_current_span(true).try_init(),
        false => logs.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
    Ok(())
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
