//! The PostgreSQL schema: `migrations/postgres/`, the same versions as the SQLite history, each
//! with its down step, applied by a small runner (the versions and the down steps are what
//! `migrate status|up|down --to N` needs, which the runner crates for `postgres` lack). Each run
//! is one transaction under an advisory lock, so two processes starting together migrate once.

use postgres::Client;

use super::session::{Session, Sql, StatementCache};

use super::StorageError;

macro_rules! migration {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../../migrations/postgres/", $name, ".sql")),
            include_str!(concat!("../../../migrations/postgres/", $name, ".down.sql")),
        )
    };
}

/// (name, up, down), in order: version N is the state after the Nth entry.
const MIGRATIONS: &[(&str, &str, &str)] = &[
    migration!("20250101_000_clento_base"),
    migration!("20250108_001_smartlead_integration"),
    migration!("20250115_002_webhook_ingestion"),
    migration!("20250122_003_read_api"),
    migration!("20250129_004_lean_indexes"),
    migration!("20250205_005_daily_rollup"),
    migration!("20250212_006_write_path"),
    migration!("20250219_007_firsts_from_lead_events"),
    migration!("20250226_008_held_deliveries"),
    migration!("20250305_009_sequence_steps"),
    migration!("20250312_010_rest_backfills"),
    migration!("20250319_011_projection"),
    migration!("20250326_012_payload_compression"),
    migration!("20250402_013_timed_dedupe_keys"),
    migration!("20250409_014_partial_lead_activity_indexes"),
    migration!("20250416_015_integer_keys"),
    migration!("20250423_016_campaigns"),
    migration!("20250430_017_lead_profiles"),
    migration!("20250507_018_kept_events_by_campaign"),
    migration!("20250514_019_foreign_key_indexes"),
    migration!("20250521_020_token_expiry"),
    migration!("20250528_021_step_leads"),
];

/// The version that numbered events and moved the derived data to the projector.
const PROJECTION_VERSION: usize = 12;

/// Where the applied versions are recorded.
const VERSIONS_TABLE: &str = "smartlead_hub_schema_versions";

/// `pg_advisory_xact_lock` key: "smartlead-hub migrations".
const LOCK_KEY: i64 = 0x5348_4d49_4752_4154;

pub fn latest_version() -> usize {
    MIGRATIONS.len()
}

pub fn names() -> impl Iterator<Item = &'static str> {
    MIGRATIONS.iter().map(|(name, _, _)| *name)
}

/// The version the database is at (0 = empty); a newer one than this binary knows is refused.
pub fn current_version(client: &mut impl Sql) -> Result<usize, StorageError> {
    let exists: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&VERSIONS_TABLE])?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let version: i32 = client
        .query_one(
            &format!("SELECT COALESCE(max(version), 0) FROM {VERSIONS_TABLE}"),
            &[],
        )?
        .get(0);
    let version = version as usize;
    if version > latest_version() {
        return Err(StorageError::Conflict(format!(
            "the database is at schema version {version}, newer than this binary's {}",
            latest_version()
        )));
    }
    Ok(version)
}

pub fn to_latest(client: &mut Client) -> Result<(), StorageError> {
    to_version(client, latest_version())
}

/// Up or down to `target`, in one transaction.
pub fn to_version(client: &mut Client, target: usize) -> Result<(), StorageError> {
    if target > latest_version() {
        return Err(StorageError::Conflict(format!(
            "there is no schema version {target}; the latest is {}",
            latest_version()
        )));
    }
    if target < PROJECTION_VERSION && current_version(client)? >= PROJECTION_VERSION {
        // Below it nothing projects: every queued event goes into the rollups first.
        let mut tx = client.transaction()?;
        let mut cache = StatementCache::default();
        super::projection::catch_up(&mut Session::new(&mut tx, &mut cache))?;
        tx.commit()?;
    }
    let mut attempt = 1;
    loop {
        match migrate_once(client, target) {
            Err(Attempt::Deadlocked(err)) if attempt < ATTEMPTS => {
                tracing::warn!(error = %describe(&err), attempt, "schema migration aborted by the server to break a deadlock; running it again");
                std::thread::sleep(std::time::Duration::from_millis(50 * attempt as u64));
                attempt += 1;
            }
            Err(Attempt::Deadlocked(err)) => return Err(err.into()),
            Err(Attempt::Failed(err)) => return Err(err),
            Ok(()) => return Ok(()),
        }
    }
}

/// How many times a migration the server aborted to break a deadlock runs. A running service's
/// projector and writers read the tables a migration locks, in their own order; the server then
/// aborts one of the transactions, and when that is the migration's, rolled back whole, it can
/// simply run again.
const ATTEMPTS: usize = 5;

enum Attempt {
    Deadlocked(postgres::Error),
    Failed(StorageError),
}

impl From<postgres::Error> for Attempt {
    fn from(err: postgres::Error) -> Self {
        match err.code() {
            Some(code) if super::error::is_retryable(code) => Attempt::Deadlocked(err),
            _ => Attempt::Failed(err.into()),
        }
    }
}

impl From<StorageError> for Attempt {
    fn from(err: StorageError) -> Self {
        Attempt::Failed(err)
    }
}

/// One run of [`to_version`]'s transaction.
fn migrate_once(client: &mut Client, target: usize) -> Result<(), Attempt> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])?;
    let current = current_version(&mut tx)?;
    if current == 0 {
        // Created here rather than IF NOT EXISTS, whose notice the client logs at every start.
        tx.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {VERSIONS_TABLE} (
                 version integer PRIMARY KEY,
                 name text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now())"
        ))?;
    }
    let failed = |name: &str, err: postgres::Error| match err.code() {
        Some(code) if super::error::is_retryable(code) => Attempt::Deadlocked(err),
        _ => Attempt::Failed(StorageError::Migration(
            format!("{name}: {}", describe(&err)).into(),
        )),
    };
    for (version, (name, up, _)) in MIGRATIONS.iter().enumerate().take(target).skip(current) {
        tx.batch_execute(up).map_err(|e| failed(name, e))?;
        tx.execute(
            &format!("INSERT INTO {VERSIONS_TABLE} (version, name) VALUES ($1, $2)"),
            &[&((version + 1) as i32), &name],
        )?;
    }
    for (version, (name, _, down)) in MIGRATIONS
        .iter()
        .enumerate()
        .take(current)
        .skip(target)
        .rev()
    {
        tx.batch_execute(down).map_err(|e| failed(name, e))?;
        tx.execute(
            &format!("DELETE FROM {VERSIONS_TABLE} WHERE version = $1"),
            &[&((version + 1) as i32)],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The server's message for a failed statement (the `Display` of the error alone says only
/// "db error").
pub fn describe(err: &postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => err.to_string(),
    }
}
