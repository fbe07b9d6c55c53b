//! What crosses the storage boundary, the same for every backend: the records [`Store`] and
//! [`Admin`] take and return. A backend maps its rows to these; `http/` and `cli/` turn them into
//! answers. Nothing here knows SQL.
//!
//! [`Store`]: super::Store
//! [`Admin`]: super::Admin

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::domain::{OrgId, UserId, UtcTimestamp};

mod admin;
mod reads;

pub use admin::*;
pub use reads::*;

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
    /// The secret `webhook_secret` replaced, still accepted until `previous_webhook_secret_until`
    /// (a timestamp as [`UtcTimestamp`] writes it): Smartlead never retries a 401, so deliveries
    /// it still signs with the old secret while the operator changes it there would be lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_webhook_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_webhook_secret_until: Option<String>,
}

impl SmartleadCredentials {
    /// The stored JSON; a row that is not our shape reads as no credentials at all (fail closed).
    pub fn from_stored(json: &str) -> Option<Self> {
        serde_json::from_str(json).ok()
    }

    /// The previous secret and the end of its grace period, when both are stored and readable.
    pub fn previous_webhook_secret(&self) -> Option<PreviousSecret> {
        let secret = self
            .previous_webhook_secret
            .clone()
            .filter(|s| !s.is_empty())?;
        let until = UtcTimestamp::parse(self.previous_webhook_secret_until.as_deref()?).ok()?;
        Some(PreviousSecret { secret, until })
    }
}

impl std::fmt::Debug for SmartleadCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("SmartleadCredentials")
            .field("webhook_secret", &redact(&self.webhook_secret))
            .field("api_key", &redact(&self.api_key))
            .field(
                "previous_webhook_secret",
                &redact(&self.previous_webhook_secret),
            )
            .field(
                "previous_webhook_secret_until",
                &self.previous_webhook_secret_until,
            )
            .finish()
    }
}

/// A replaced webhook secret in its grace period.
#[derive(Clone, PartialEq, Eq)]
pub struct PreviousSecret {
    pub secret: String,
    /// Accepted before this instant, refused from it on.
    pub until: UtcTimestamp,
}

impl std::fmt::Debug for PreviousSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreviousSecret")
            .field("secret", &"<redacted>")
            .field("until", &self.until)
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
    /// The secret it replaced, while that is still accepted.
    pub previous_webhook_secret: Option<PreviousSecret>,
}

impl WebhookTenant {
    /// The org's tenant from its user and the stored credentials JSON, if any.
    pub fn from_stored(user_id: UserId, org_id: OrgId, credentials: Option<&str>) -> Self {
        let credentials = credentials.and_then(SmartleadCredentials::from_stored);
        let credentials = credentials.as_ref();
        Self {
            user_id,
            org_id,
            webhook_secret: credentials
                .and_then(|c| c.webhook_secret.clone())
                .filter(|s| !s.is_empty()),
            previous_webhook_secret: credentials
                .and_then(SmartleadCredentials::previous_webhook_secret),
        }
    }

    /// The previous secret, if it is still accepted at `now`.
    pub fn previous_secret_at(&self, now: UtcTimestamp) -> Option<&str> {
        self.previous_webhook_secret
            .as_ref()
            .filter(|previous| now < previous.until)
            .map(|previous| previous.secret.as_str())
    }
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
    /// Refused from this instant on; `None`: never expires.
    pub expires_at: Option<String>,
}

/// Who a valid token belongs to.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub token_id: String,
    pub user_id: UserId,
    pub last_used_at: Option<String>,
    /// When the token stops being accepted (`tokens issue --expires-in`); `None`: never.
    pub expires_at: Option<String>,
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
#[derive(Debug, Clone, Default)]
pub struct StorageUsage {
    /// The database itself (the file, or the server's relation sizes).
    pub database_bytes: u64,
    /// The write-ahead log not yet copied into the database.
    pub wal_bytes: u64,
    pub held_deliveries: u64,
    pub held_bytes: u64,
    /// SQLite: the space left for this process's user on the filesystem holding the database
    /// (`None` on PostgreSQL, or when the filesystem does not say).
    pub disk_free_bytes: Option<u64>,
    /// Each user's newest event (its own time), from the user-wide rollup totals: an org whose
    /// webhook went quiet while others' did not. Users without events are left out.
    pub newest_events: Vec<(UserId, UtcTimestamp)>,
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

/// One reason a user's deliveries are held for: how many, and the newest's receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldReason {
    pub reason: String,
    pub count: i64,
    pub latest_received_at: String,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(json: &str) -> WebhookTenant {
        let user = "0190b8a0-0000-7000-8000-000000000001".parse().unwrap();
        WebhookTenant::from_stored(user, OrgId::parse("org-1").unwrap(), Some(json))
    }

    fn at(raw: &str) -> UtcTimestamp {
        UtcTimestamp::parse(raw).unwrap()
    }

    #[test]
    fn the_previous_secret_is_accepted_before_its_end_and_not_from_it() {
        let tenant = tenant(
            r#"{"webhook_secret":"new","previous_webhook_secret":"old",
                "previous_webhook_secret_until":"2026-11-27T12:00:00.000Z"}"#,
        );
        assert_eq!(tenant.webhook_secret.as_deref(), Some("new"));
        let end = at("2026-11-27T12:00:00.000Z");
        assert_eq!(tenant.previous_secret_at(end.plus_millis(-1)), Some("old"));
        assert_eq!(tenant.previous_secret_at(end), None);
    }

    #[test]
    fn credentials_stored_before_grace_periods_or_half_written_keep_no_previous_secret() {
        let now = at("2026-11-26T12:00:00.000Z");
        let older = tenant(r#"{"webhook_secret":"s","api_key":"k"}"#);
        assert_eq!(older.webhook_secret.as_deref(), Some("s"));
        assert!(older.previous_webhook_secret.is_none());
        for json in [
            r#"{"webhook_secret":"s","previous_webhook_secret":"old"}"#,
            r#"{"webhook_secret":"s","previous_webhook_secret":"old","previous_webhook_secret_until":"soon"}"#,
            r#"{"webhook_secret":"s","previous_webhook_secret":"","previous_webhook_secret_until":"2099-01-01T00:00:00.000Z"}"#,
        ] {
            assert_eq!(tenant(json).previous_secret_at(now), None, "{json}");
        }
        // Not our shape at all: no secret, fail closed.
        assert!(tenant("[1]").webhook_secret.is_none());
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let credentials = SmartleadCredentials::from_stored(
            r#"{"webhook_secret":"s3cret-a","api_key":"s3cret-b","previous_webhook_secret":"s3cret-c",
                "previous_webhook_secret_until":"2099-01-01T00:00:00.000Z"}"#,
        )
        .unwrap();
        let shown = format!(
            "{credentials:?} {:?}",
            credentials.previous_webhook_secret()
        );
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("2099-01-01"), "{shown}");
    }
}
