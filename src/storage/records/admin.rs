//! The CLI's records: the start-up check, backups, migrate-data's copy, payload compression,
//! leads to name.

use crate::domain::UtcTimestamp;

/// How much of the file is read before the service listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartupCheck {
    /// The header and schema (read by opening and migrating), every page of the small tables
    /// the service cannot run without (users, credentials, API tokens) with their indexes, and
    /// the root and first leaf of every other table and index. Milliseconds, whatever the
    /// number of events.
    Quick,
    /// `PRAGMA quick_check` of the whole file: every page of every table and index. Reads the
    /// whole file, about 4 s per million stored events on the benchmark machine.
    Full,
}

/// What a backup copied.
pub struct BackupSummary {
    pub email_events: i64,
    /// The copy's page size, in bytes.
    pub page_size: u32,
}

/// Rows of one table as `migrate-data` moves them between backends: every value as text (or
/// NULL), in the columns' order, and where the next batch of the table starts.
#[derive(Debug, Clone, Default)]
pub struct RowBatch {
    pub table: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// The source's position after the last row (opaque; `None`: the table is done).
    pub next: Option<String>,
}

/// The tables `migrate-data` copies, in an order that keeps every foreign key satisfied.
pub const COPIED_TABLES: &[&str] = &[
    "users",
    "integration_credentials",
    "api_tokens",
    "leads",
    "email_events",
    // Its row says the copied events include keys from before time-prefixed ones.
    "legacy_dedupe_keys",
    "smartlead_events",
    "campaigns",
    "held_deliveries",
    "rest_backfills",
    "rollup_hourly",
    "rollup_daily",
    "rollup_totals",
    "rollup_steps",
];

/// `name` as one of [`COPIED_TABLES`] (the only names a copy puts into SQL).
pub fn copied_table(name: &str) -> Option<&'static str> {
    COPIED_TABLES.iter().find(|t| **t == name).copied()
}

/// How far `migrate-data` got with one table on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyPosition {
    /// Where the next batch starts in the source (`None` once `done`).
    pub next: Option<String>,
    pub done: bool,
    pub rows: i64,
}

/// The form a recompression pass rewrites stored payloads into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadForm {
    /// Compressed with the file's newest dictionary.
    Newest,
    /// JSON text again (before `migrate down` on a large file, or to read with plain `sqlite3`).
    Text,
}

/// What one recompression step did, and how far the pass is (event rowids, in order).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RecompressStep {
    /// The dictionary version written (0: JSON text).
    pub target: i64,
    pub read: u64,
    pub rewritten: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
    pub position: i64,
    pub end: i64,
    pub done: bool,
}

/// A dictionary `payloads train` added.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainedDictionary {
    pub version: i64,
    pub zstd_id: u32,
    pub bytes: usize,
    pub samples: usize,
}

/// How the stored payloads are held: events and bytes per form.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PayloadUsage {
    /// The dictionary version new payloads are compressed with (none: stored as text).
    pub newest_dictionary: Option<i64>,
    pub forms: Vec<PayloadFormUsage>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PayloadFormUsage {
    /// `text`, or `dictionary N`.
    pub form: String,
    pub events: u64,
    pub bytes: u64,
}

/// A lead stored without a profile time, and the payloads of its newest email events (newest
/// first, each with its event's time), for `leads name` to read its name from.
#[derive(Debug, Clone)]
pub struct UnnamedLead {
    pub lead_id: String,
    pub payloads: Vec<(UtcTimestamp, String)>,
}

/// A kept (non-email) event of a lead, for `leads name` to read the lead's name and company
/// from (a category update's `lead_data` is the only source of a company most leads have).
#[derive(Debug, Clone)]
pub struct KeptPayload {
    pub id: String,
    pub lead_id: String,
    pub received_at: UtcTimestamp,
    pub payload: String,
}

/// Rows per transaction `users remove` deletes on SQLite by default: ~45 ms of the service's
/// writer per batch of email events with warm pages (BENCHMARKS.md, "Removing a user").
pub const USER_REMOVAL_BATCH: usize = 500;

/// How long `users remove` on PostgreSQL waits between releasing the user's org and deleting
/// its rows: twice the service's default `--tenant-cache-ms`, so that running services have
/// forgotten the org and refuse its deliveries instead of waiting on the user row.
pub const ORG_RELEASE_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// What `users remove` deleted: rows per table, and in how many transactions (SQLite removes
/// in batches, so that the service's writer waits for one at most; PostgreSQL in one, after
/// the one that releases the org).
#[derive(Debug, Clone, serde::Serialize)]
pub struct UserRemoval {
    pub tables: Vec<(String, u64)>,
    pub transactions: usize,
}

/// What `leads forget` did to one address of one user: the lead (if one was stored) now has a
/// pseudonym for an address, no name or company, and its events and kept events no payload;
/// held deliveries naming the address are deleted. Counts and analytics are unchanged.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ForgottenLead {
    /// The lead's id (its events keep pointing at it), when a lead had that address.
    pub lead_id: Option<String>,
    /// What the address became: `forgotten-<lead id>@forgotten.invalid`.
    pub pseudonym: String,
    pub email_events: u64,
    pub kept_events: u64,
    pub backfill_records: u64,
    pub held_deliveries_deleted: u64,
}

impl ForgottenLead {
    /// The address that replaces a forgotten one: unique per lead (the leads' address is unique
    /// per user), never deliverable (`.invalid` is reserved), and saying what happened.
    pub fn pseudonym_for(lead_id: &str) -> String {
        format!("forgotten-{lead_id}@forgotten.invalid")
    }
}
