//! Connections to the server: the writer's own client and a pool of readers, all with the
//! session settings the guarantees rest on.

use std::time::Duration;

use postgres::Client;
use r2d2_postgres::PostgresConnectionManager;

use super::session::ReadManager;
use super::StorageError;
use crate::storage::location::PostgresUrl;

/// How long a connection attempt may take before the request it serves gets a 503.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a statement waits for a row lock another session holds.
const LOCK_TIMEOUT_MS: u64 = 5_000;

pub type ReadPool = r2d2::Pool<ReadManager>;

/// The URL's settings, plus this service's: `synchronous_commit=on` (a COMMIT returns only once
/// its WAL is flushed, so a 2xx never precedes durability, whatever the server's default), UTC
/// as the session's time zone, and a name in `pg_stat_activity`.
pub fn config(url: &PostgresUrl) -> postgres::Config {
    let mut config = url.config();
    let options = config.get_options().unwrap_or("").to_owned();
    // lock_timeout: no statement waits forever behind a stuck session (the writers set the
    // service's own, `--busy-timeout-ms`).
    config.options(
        format!(
            "{options} -c synchronous_commit=on -c TimeZone=UTC -c lock_timeout={LOCK_TIMEOUT_MS}"
        )
        .trim(),
    );
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("smartlead-hub");
    }
    // The server's notices ("already exists, skipping") are for a developer, not the log.
    config.notice_callback(|notice| tracing::debug!(notice = notice.message(), "postgres notice"));
    config
}

/// A new connection. Any failure to get one (refused, timed out, the database not accepting
/// connections, too many clients) is [`StorageError::Pool`]: the server is unavailable, and a
/// delivery meeting it gets a 503.
pub fn connect(url: &PostgresUrl) -> Result<Client, StorageError> {
    config(url)
        .connect(super::tls::connector(url)?)
        .map_err(|err| StorageError::Pool(err.into()))
}

/// A pool of `size` reader connections, opened as they are needed.
pub fn read_pool(url: &PostgresUrl, size: u32) -> Result<ReadPool, StorageError> {
    let manager = ReadManager(PostgresConnectionManager::new(
        config(url),
        super::tls::connector(url)?,
    ));
    Ok(r2d2::Pool::builder()
        .max_size(size.max(1))
        .min_idle(Some(0))
        .connection_timeout(CONNECT_TIMEOUT)
        .build_unchecked(manager))
}
