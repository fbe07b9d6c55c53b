//! The schema, as embedded SQL migrations with a down step each.

use std::sync::LazyLock;

use rusqlite::Connection;
use rusqlite_migration::{Migrations, SchemaVersion, M};

use super::StorageError;

/// `migrations/NAME.sql` with `migrations/NAME.down.sql` as its down step.
macro_rules! migration {
    ($name:literal) => {
        (
            $name,
            M::up(include_str!(concat!("../../../migrations/", $name, ".sql"))).down(include_str!(
                concat!("../../../migrations/", $name, ".down.sql")
            )),
        )
    };
    // Migrations that rebuild tables also verify every foreign key afterwards.
    ($name:literal, rebuilds_tables) => {
        (
            $name,
            M::up(include_str!(concat!("../../../migrations/", $name, ".sql")))
                .down(include_str!(concat!(
                    "../../../migrations/",
                    $name,
                    ".down.sql"
                )))
                .foreign_key_check(),
        )
    };
}

/// File name and migration, in order: version N is the state after the Nth entry. (Lazy: a
/// migration with steps in Rust cannot be built in a constant.)
static MIGRATIONS: LazyLock<Vec<(&str, M<'static>)>> = LazyLock::new(|| {
    vec![
        migration!("20250101_000_clento_base"),
        migration!("20250108_001_smartlead_integration", rebuilds_tables),
        migration!("20250115_002_webhook_ingestion"),
        migration!("20250122_003_read_api"),
        migration!("20250129_004_lean_indexes", rebuilds_tables),
        migration!("20250205_005_daily_rollup"),
        migration!("20250212_006_write_path", rebuilds_tables),
        migration!("20250219_007_firsts_from_lead_events"),
        migration!("20250226_008_held_deliveries"),
        migration!("20250305_009_sequence_steps"),
        migration!("20250312_010_rest_backfills"),
        migration!("20250319_011_projection"),
        (
            "20250326_012_payload_compression",
            M::up_with_hook(
                include_str!("../../../migrations/20250326_012_payload_compression.sql"),
                super::payloads::schema::up,
            )
            .down_with_hook(
                include_str!("../../../migrations/20250326_012_payload_compression.down.sql"),
                super::payloads::schema::down,
            ),
        ),
        migration!("20250402_013_timed_dedupe_keys"),
        migration!("20250409_014_partial_lead_activity_indexes"),
        migration!("20250416_015_integer_keys", rebuilds_tables),
        (
            "20250423_016_campaigns",
            M::up_with_hook(
                include_str!("../../../migrations/20250423_016_campaigns.sql"),
                super::campaigns::label_stored_campaigns,
            )
            .down(include_str!(
                "../../../migrations/20250423_016_campaigns.down.sql"
            )),
        ),
        migration!("20250430_017_lead_profiles"),
        migration!("20250507_018_kept_events_by_campaign"),
        migration!("20250514_019_foreign_key_indexes"),
        migration!("20250521_020_token_expiry"),
        migration!("20250528_021_step_leads"),
    ]
});

fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().map(|(_, m)| m.clone()).collect())
}

/// The newest schema version this binary knows.
pub fn latest_version() -> usize {
    MIGRATIONS.len()
}

/// The names of the migrations, index 0 = version 1.
pub fn names() -> impl Iterator<Item = &'static str> {
    MIGRATIONS.iter().map(|(name, _)| *name)
}

/// The version the database is at (0 = empty).
pub fn current_version(conn: &Connection) -> Result<usize, StorageError> {
    let version = migrations().current_version(conn)?;
    if let SchemaVersion::Outside(v) = version {
        // A newer binary migrated this file: refuse rather than guess at a schema we do not know.
        return Err(StorageError::Conflict(format!(
            "the database is at schema version {v}, newer than this binary's {}",
            latest_version()
        )));
    }
    Ok(usize::from(version))
}

pub fn to_latest(conn: &mut Connection) -> Result<(), StorageError> {
    current_version(conn)?;
    Ok(migrations().to_latest(conn)?)
}

/// The version that numbered events and moved the derived data to the projector.
const PROJECTION_VERSION: usize = 12;

pub fn to_version(conn: &mut Connection, version: usize) -> Result<(), StorageError> {
    let current = current_version(conn)?;
    if current >= PROJECTION_VERSION && version < PROJECTION_VERSION {
        // Below it nothing projects: every pending event goes into the rollups first, by this
        // binary's projector, which reads only the latest schema (a file left part way down
        // goes up again for it).
        if current < latest_version() {
            to_latest(conn)?;
        }
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        super::projection::catch_up(&tx)?;
        tx.commit()?;
    }
    Ok(migrations().to_version(conn, version)?)
}

/// Applies every migration to an in-memory database: catches SQL errors without a file.
pub fn validate() -> Result<(), StorageError> {
    Ok(migrations().validate()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        validate().unwrap();
    }

    #[test]
    fn every_migration_goes_down_and_up_again() {
        let mut conn = Connection::open_in_memory().unwrap();
        to_latest(&mut conn).unwrap();
        for version in (0..latest_version()).rev() {
            to_version(&mut conn, version).unwrap();
            assert_eq!(current_version(&conn).unwrap(), version);
        }
        to_latest(&mut conn).unwrap();
        assert_eq!(current_version(&conn).unwrap(), latest_version());
    }
}
