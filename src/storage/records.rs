//! What crosses the storage boundary, the same for every backend: the records [`Store`] and
//! [`Admin`] take and return. A backend maps its rows to these; `http/` and `cli/` turn them into
//! answers. Nothing here knows SQL.
//!
//! [`Store`]: super::Store
//! [`Admin`]: super::Admin

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::domain::{EventType, OrgId, UserId};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub smartlead_org_id: Option<String>,
    pub smartlead_org_name: Option<String>,
    pub created_at: String,
}

/// The `credentials` JSON of a user's `'smartlead'` row. Secrets never appear in `Debug`.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct SmartleadCredentials {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

impl std::fmt::Debug for SmartleadCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("SmartleadCredentials")
            .field("webhook_secret", &redact(&self.webhook_secret))
            .field("api_key", &redact(&self.api_key))
            .finish()
    }
}

/// What the webhook needs to authenticate a delivery for an org.
#[derive(Debug, Clone)]
pub struct WebhookTenant {
    pub user_id: UserId,
    pub org_id: OrgId,
    /// The org's own secret, when one is configured.
    pub webhook_secret: Option<String>,
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub org_id: Option<&'a OrgId>,
    pub org_name: Option<&'a str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub name: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// Who a valid token belongs to.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub token_id: String,
    pub user_id: UserId,
    pub last_used_at: Option<String>,
}

/// What happened to a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum IngestOutcome {
    /// A new email event was stored. `seq`: its place in commit order, which reads can wait
    /// for (`min_event`) to see it in the analytics.
    Stored { event_id: String, seq: i64 },
    /// The same event was stored before; nothing changed. `seq` is the stored event's; 0 when
    /// there is nothing to wait for (a kept event, or one stored before events were numbered).
    Duplicate { event_id: String, seq: i64 },
    /// A non-email Smartlead event was kept in `smartlead_events`.
    Kept { event_id: String },
    /// An authentic delivery that could not be mapped was held for a later replay (or was
    /// held before: the same payload is held once).
    Held { held_id: String, reason: String },
}

/// How a wait for the projector's watermark ended (`min_event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwaitedWatermark {
    /// The watermark is at or past the event: the derived data includes it.
    Reached(i64),
    /// The wait's limit passed first; the watermark is still here.
    Behind(i64),
    /// No event has that seq yet (the newest is here): waiting would never end.
    Unissued(i64),
}

/// Where payload pruning goes on from: a table, a user, and the last (time, row) done there.
/// The default starts at the beginning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneCursor {
    pub table: usize,
    pub user_id: Option<String>,
    pub at: String,
    /// The backend's own position of the last row done (SQLite: its rowid; PostgreSQL: its
    /// id); empty at the start of a user's table.
    pub row: String,
}

impl PruneCursor {
    /// The start of the next of `tables` tables after this cursor's (`None`: that was the last).
    pub fn next_table(&self, tables: usize) -> Option<PruneCursor> {
        (self.table + 1 < tables).then(|| PruneCursor {
            table: self.table + 1,
            ..PruneCursor::default()
        })
    }

    /// The start of `user`'s rows in this cursor's table.
    pub fn user_start(&self, user: String) -> PruneCursor {
        PruneCursor {
            table: self.table,
            user_id: Some(user),
            ..PruneCursor::default()
        }
    }
}

/// What one pruning step did, and where to go on from (`None`: done).
#[derive(Debug, Clone, Default)]
pub struct PruneStep {
    pub pruned: u64,
    pub freed_bytes: u64,
    pub next: Option<PruneCursor>,
}

/// Whether the store can take writes now (`/ready`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready {
        version: usize,
    },
    /// The schema is not this binary's (a `migrate down` while serving).
    SchemaNotCurrent {
        version: usize,
        latest: usize,
    },
    /// A write did not get through the writer and the fsync in time.
    WriterStalled {
        waited: std::time::Duration,
    },
}

/// What the store occupies, for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct StorageUsage {
    /// The database itself (the file, or the server's relation sizes).
    pub database_bytes: u64,
    /// The write-ahead log not yet copied into the database.
    pub wal_bytes: u64,
    pub held_deliveries: u64,
    pub held_bytes: u64,
}

/// What a sync did with one event from Smartlead's REST statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackfillOutcome {
    /// Missing here: stored, counted, listed for a later webhook delivery to claim.
    Backfilled { event_id: String },
    /// The lead already has an event of this kind at this step of the campaign.
    Present,
}

/// How large the held-deliveries table may grow: past either bound the oldest are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldLimits {
    pub max_count: u64,
    pub max_bytes: u64,
}

impl Default for HeldLimits {
    fn default() -> Self {
        Self {
            max_count: 10_000,
            max_bytes: 256 * 1024 * 1024,
        }
    }
}

/// A held delivery as stored.
#[derive(Debug, Clone, Serialize)]
pub struct HeldDelivery {
    pub id: String,
    pub user_id: String,
    pub smartlead_org_id: String,
    pub reason: String,
    pub detail: String,
    pub bytes: i64,
    pub received_at: String,
    /// Left out of lists; `deliveries show` reads it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Box<RawValue>>,
}

/// One metric's numbers in a scope: events, distinct leads, first and last event time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricRow {
    pub metric: String,
    pub events: i64,
    pub leads: i64,
    pub first_at: String,
    pub last_at: String,
}

/// Whole hours `[from, to)` as rollup bucket starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourRange {
    pub from: String,
    pub to: String,
}

/// Events of one headline kind at one sequence step of a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepCount {
    pub step: u32,
    pub metric: String,
    pub events: i64,
}

/// Time-series granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Hour,
    Day,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    pub id: String,
    pub event_type: String,
    pub timestamp: String,
    pub campaign_id: String,
    pub message_id: String,
    pub email: String,
    pub lead_id: Option<String>,
    /// The stored JSON, passed through as is: no parse into a tree and serialize back.
    pub event_data: Box<RawValue>,
}

/// The `event_data` bytes one page of events may carry. Rows are capped by `limit`, but one
/// event may hold megabytes (a category update with a whole thread): 32 such events made a
/// 134 MB answer. A page ends early once it holds this much (always with at least one event,
/// so the list moves on), and says that more follow.
pub const PAGE_DATA_BYTES: usize = 1024 * 1024;

/// A kept (non-email) Smartlead event, as the read API lists it.
#[derive(Debug, Clone)]
pub struct KeptEvent {
    pub id: String,
    /// Smartlead's name, upper-cased (`LEAD_CATEGORY_UPDATED`, …).
    pub event_type: String,
    pub campaign_id: Option<String>,
    pub email: Option<String>,
    pub lead_id: Option<String>,
    /// The payload's own time, when it has one.
    pub event_timestamp: Option<String>,
    pub received_at: String,
    pub event_data: Box<RawValue>,
}

/// A page of events, and whether more follow (its last row is then the next cursor).
pub struct EventPage {
    pub events: Vec<EventRow>,
    pub more: bool,
}

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub email: Option<String>,
    pub event_type: Option<EventType>,
    pub campaign_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LeadRow {
    pub id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub smartlead_campaign_id: Option<String>,
    pub smartlead_category: Option<String>,
    pub last_email_event: Option<String>,
    pub last_event_timestamp: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct LeadFilter {
    pub campaign_id: Option<String>,
    pub last_event: Option<EventType>,
}

/// A position in a list ordered by (time DESC, id DESC): the last row of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyset {
    pub at: String,
    pub id: String,
}

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
