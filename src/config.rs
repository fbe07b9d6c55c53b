//! Settings: every flag is also an environment variable; doc comments are the `--help` text.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Command, FromArgMatches};

use crate::domain::Period;
use crate::storage::records::{HeldLimits, StartupCheck};
use crate::storage::{Database, DatabaseParser, StorageMetrics, StoreSettings, WriterSettings};

/// The longest `--commit-delay-ms` accepted: every acknowledgement waits for it.
const MAX_COMMIT_DELAY_MS: u64 = 100;

/// Where the database lives. Shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// SQLite database file (created, with owner-only permissions, if missing), or a
    /// PostgreSQL URL (`postgres://user:password@host:port/database`).
    #[arg(
        long,
        global = true,
        env = "SMARTLEAD_HUB_DB",
        default_value = "data/smartlead-hub.db",
        hide_env_values = true,
        value_parser = DatabaseParser
    )]
    pub db: Database,
}

/// How the service runs.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    #[command(flatten)]
    pub db: DbArgs,

    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "SMARTLEAD_HUB_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Webhook secret for every org that has none of its own (single-tenant installs).
    #[arg(
        long = "default-webhook-secret",
        env = "SMARTLEAD_HUB_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub default_webhook_secret: Option<String>,

    /// Largest accepted webhook body in bytes (category events carry whole threads).
    #[arg(long, env = "SMARTLEAD_HUB_MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Webhook body bytes held in memory at once, across all connections (64 MiB: a small VPS);
    /// a delivery that would pass it is refused with 503 and retried by Smartlead.
    #[arg(long, env = "SMARTLEAD_HUB_MAX_BUFFERED_BODY_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_buffered_body_bytes: usize,

    /// Seconds a client has to send a request body before it is refused (slow senders).
    #[arg(long, env = "SMARTLEAD_HUB_BODY_TIMEOUT_SECS", default_value_t = 30)]
    pub body_timeout_secs: u64,

    /// Seconds a client has to send its request headers.
    #[arg(long, env = "SMARTLEAD_HUB_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,

    /// Writes that may wait for the writer before new ones are refused with 503.
    #[arg(long, env = "SMARTLEAD_HUB_QUEUE_DEPTH", default_value_t = WriterSettings::default().queue_depth)]
    pub queue_depth: usize,

    /// Most writes committed in one transaction.
    #[arg(long, env = "SMARTLEAD_HUB_MAX_BATCH", default_value_t = WriterSettings::default().max_batch)]
    pub max_batch: usize,

    /// WAL length, in 4 KiB units whatever the file's page size, past which it is checkpointed
    /// to the end and started over; bounds the `-wal` file's size.
    #[arg(long, env = "SMARTLEAD_HUB_WAL_REWIND_PAGES", default_value_t = WriterSettings::default().wal_rewind_pages)]
    pub wal_rewind_pages: u32,

    /// Milliseconds a write waits for another process's lock on the database before the
    /// delivery is refused with 503 (Smartlead retries).
    #[arg(long, env = "SMARTLEAD_HUB_BUSY_TIMEOUT_MS", default_value_t = 5000)]
    pub busy_timeout_ms: u64,

    /// Milliseconds an org's user and webhook secret are remembered between deliveries
    /// (0 = read them for every delivery). A secret removed or replaced with the CLI stops
    /// being accepted within this time; a new secret works at once.
    #[arg(long, env = "SMARTLEAD_HUB_TENANT_CACHE_MS", default_value_t = 1000)]
    pub tenant_cache_ms: u64,

    /// Most held deliveries kept (authentic deliveries that could not be mapped); past it the
    /// oldest are dropped, with a warning in the log.
    #[arg(long, env = "SMARTLEAD_HUB_HELD_MAX_COUNT", default_value_t = HeldLimits::default().max_count)]
    pub held_max_count: u64,

    /// Most payload bytes of held deliveries kept; past it the oldest are dropped.
    #[arg(long, env = "SMARTLEAD_HUB_HELD_MAX_BYTES", default_value_t = HeldLimits::default().max_bytes)]
    pub held_max_bytes: u64,

    /// A bearer token `GET /metrics` requires (unset: open on the bind address, as Prometheus
    /// expects).
    #[arg(long, env = "SMARTLEAD_HUB_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Read-only database connections for the HTTP read paths.
    #[arg(long, env = "SMARTLEAD_HUB_READ_CONNECTIONS", default_value_t = 4)]
    pub read_connections: u32,

    /// The most events one projection transaction applies to the analytics and the leads'
    /// activity. On SQLite it runs on the writer's thread between batches, so this bounds the
    /// pause it adds to an acknowledgement; a backlog is worked off in several.
    #[arg(long, env = "SMARTLEAD_HUB_PROJECTION_BATCH", default_value_t = crate::storage::projection::DEFAULT_BATCH)]
    pub projection_batch: usize,

    /// SQLite only: milliseconds a batch that is not full waits for more deliveries before it
    /// commits (0 = at once). Each commit rewrites the pages its events share, so at low rates
    /// a delay writes fewer bytes per event (BENCHMARKS.md: at 1,000/s, 5 ms writes about a
    /// quarter less), and it adds itself to every acknowledgement. For a disk that wears.
    /// (PostgreSQL: the server's own `commit_delay`.)
    #[arg(long, env = "SMARTLEAD_HUB_COMMIT_DELAY_MS", default_value_t = 0)]
    pub commit_delay_ms: u64,

    /// PostgreSQL only: writer connections, each committing its own batches; a tenant's writes
    /// always go to the same one (SQLite has one writer).
    #[arg(long, env = "SMARTLEAD_HUB_WRITER_CONNECTIONS", default_value_t = 4)]
    pub writer_connections: u32,

    /// HTTP worker threads (0 = one per CPU core).
    #[arg(long, env = "SMARTLEAD_HUB_WORKERS", default_value_t = 0)]
    pub workers: usize,

    /// How much of the database file is checked before the service listens: `quick` (header,
    /// schema, users, credentials and tokens in full, the first page of every other table:
    /// milliseconds) or `full` (every page, ~4 s per million events). A malformed file is
    /// refused; damage found later stops the writes and turns `/health` to 503.
    #[arg(long, env = "SMARTLEAD_HUB_STARTUP_CHECK", value_enum, default_value_t = StartupCheckArg::Quick)]
    pub startup_check: StartupCheckArg,

    /// Clear the payloads of events older than this (`90d`, `12h`, `2w`) in the background,
    /// once an hour, in small batches (as `smartlead-hub prune` does). Unset: kept forever.
    #[arg(long, env = "SMARTLEAD_HUB_PAYLOAD_RETENTION")]
    pub payload_retention: Option<Period>,

    /// Compare every account's numbers with Smartlead's (as `smartlead check` does) this often
    /// (`6h`), in the background; the drift goes to /metrics and the log. Unset: never.
    #[arg(long, env = "SMARTLEAD_HUB_RECONCILE_EVERY")]
    pub reconcile_every: Option<Period>,

    /// With --reconcile-every: also backfill what Smartlead has and the hub lacks, as
    /// `smartlead sync` does, for the campaigns that differ.
    #[arg(long, env = "SMARTLEAD_HUB_RECONCILE_BACKFILL")]
    pub reconcile_backfill: bool,

    /// Smartlead's REST API base URL (for --reconcile-every).
    #[arg(long, env = "SMARTLEAD_HUB_SMARTLEAD_API_BASE", default_value = crate::reconcile::client::DEFAULT_BASE)]
    pub smartlead_api_base: String,

    /// Before serving, create the demo user and its synthetic history (as `smartlead-hub demo`
    /// does; a second start adds nothing) and print its API token.
    #[arg(long, env = "SMARTLEAD_HUB_DEMO")]
    pub demo: bool,

    /// Seconds in-flight requests get to finish after SIGTERM/Ctrl-C.
    #[arg(
        long,
        env = "SMARTLEAD_HUB_SHUTDOWN_TIMEOUT_SECS",
        default_value_t = 30
    )]
    pub shutdown_timeout_secs: u64,

    /// SQLite: after a storage fault that a restart repairs (a failed fsync, the WAL deleted and
    /// written back), stop gracefully and exit with status 75, for a supervisor (systemd's
    /// `Restart=on-failure`) to start the service again, instead of answering 503 until someone
    /// restarts it. Other faults keep the service up, so that `/health` says why.
    #[arg(long, env = "SMARTLEAD_HUB_EXIT_ON_STORAGE_FAULT")]
    pub exit_on_storage_fault: bool,
}

/// `--startup-check`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StartupCheckArg {
    Quick,
    Full,
}

impl From<StartupCheckArg> for StartupCheck {
    fn from(arg: StartupCheckArg) -> Self {
        match arg {
            StartupCheckArg::Quick => StartupCheck::Quick,
            StartupCheckArg::Full => StartupCheck::Full,
        }
    }
}

impl Settings {
    /// Settings for the database `db` (a SQLite path or a PostgreSQL URL) with every other
    /// value at its default. The defaults come from the flag definitions above (environment
    /// variables ignored), so they are written only once.
    pub fn with_db(db: impl Into<Database>) -> Self {
        let command =
            Settings::augment_args(Command::new("smartlead-hub")).mut_args(|arg| arg.env(None));
        let matches = command
            .try_get_matches_from(["smartlead-hub"])
            .expect("the defaults parse");
        let mut settings = Settings::from_arg_matches(&matches).expect("the defaults are settings");
        settings.db.db = db.into();
        settings
    }

    /// Rejects values that parse but cannot work.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("--max-body-bytes", self.max_body_bytes as u64),
            ("--body-timeout-secs", self.body_timeout_secs),
            ("--header-timeout-secs", self.header_timeout_secs),
            ("--queue-depth", self.queue_depth as u64),
            ("--max-batch", self.max_batch as u64),
            ("--read-connections", u64::from(self.read_connections)),
            ("--writer-connections", u64::from(self.writer_connections)),
            ("--projection-batch", self.projection_batch as u64),
            ("--busy-timeout-ms", self.busy_timeout_ms),
        ];
        if let Some((flag, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(format!("{flag} must be greater than 0"));
        }
        if self.commit_delay_ms > MAX_COMMIT_DELAY_MS {
            // Every acknowledgement waits for it; Smartlead's own timeout is not documented.
            return Err(format!(
                "--commit-delay-ms must be at most {MAX_COMMIT_DELAY_MS}"
            ));
        }
        if self.max_buffered_body_bytes < self.max_body_bytes {
            return Err("--max-buffered-body-bytes must be at least --max-body-bytes".into());
        }
        if self
            .default_webhook_secret
            .as_deref()
            .is_some_and(str::is_empty)
        {
            return Err("SMARTLEAD_HUB_WEBHOOK_SECRET must not be empty when set".into());
        }
        if self.held_max_bytes < self.max_body_bytes as u64 || self.held_max_count == 0 {
            return Err(
                "--held-max-bytes must be at least --max-body-bytes, and --held-max-count at least 1"
                    .into(),
            );
        }
        if !self.smartlead_api_base.starts_with("https://")
            && !self.smartlead_api_base.starts_with("http://")
        {
            return Err("--smartlead-api-base must be an http(s) URL".into());
        }
        // An empty token would make `Authorization: Bearer ` the password.
        if self.metrics_token.as_deref().is_some_and(str::is_empty) {
            return Err(
                "--metrics-token (SMARTLEAD_HUB_METRICS_TOKEN) must not be empty when set".into(),
            );
        }
        Ok(())
    }

    /// How the store opens the file and runs.
    pub fn store(&self) -> StoreSettings {
        StoreSettings {
            writer: self.writer(),
            read_connections: self.read_connections,
            writer_connections: self.writer_connections,
            busy_timeout: self.busy_timeout(),
            startup_check: self.startup_check.into(),
            held: HeldLimits {
                max_count: self.held_max_count,
                max_bytes: self.held_max_bytes,
            },
            metrics: StorageMetrics::default(),
        }
    }

    pub fn writer(&self) -> WriterSettings {
        WriterSettings {
            queue_depth: self.queue_depth,
            max_batch: self.max_batch,
            busy_timeout: self.busy_timeout(),
            wal_rewind_pages: self.wal_rewind_pages,
            projection_batch: self.projection_batch,
            commit_delay: Duration::from_millis(self.commit_delay_ms),
        }
    }

    pub fn tenant_cache(&self) -> Duration {
        Duration::from_millis(self.tenant_cache_ms)
    }

    pub fn busy_timeout(&self) -> Duration {
        Duration::from_millis(self.busy_timeout_ms)
    }

    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_db_takes_the_documented_defaults() {
        let settings = Settings::with_db("x.db");
        assert_eq!(settings.db.db, Database::Sqlite("x.db".into()));
        assert_eq!(settings.bind, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(settings.max_body_bytes, 4 * 1024 * 1024);
        assert_eq!(
            (settings.body_timeout_secs, settings.header_timeout_secs),
            (30, 10)
        );
        assert_eq!(
            (settings.busy_timeout_ms, settings.read_connections),
            (5000, 4)
        );
        assert_eq!(settings.queue_depth, WriterSettings::default().queue_depth);
        assert!(settings.default_webhook_secret.is_none());
        assert_eq!(settings.writer().commit_delay, Duration::ZERO);
        settings.validate().unwrap();
    }

    #[test]
    fn a_commit_delay_is_taken_up_to_its_limit() {
        let mut settings = Settings::with_db("x.db");
        settings.commit_delay_ms = MAX_COMMIT_DELAY_MS;
        settings.validate().unwrap();
        assert_eq!(settings.writer().commit_delay, Duration::from_millis(100));
        settings.commit_delay_ms = MAX_COMMIT_DELAY_MS + 1;
        assert_eq!(
            settings.validate().unwrap_err(),
            "--commit-delay-ms must be at most 100"
        );
    }
}
