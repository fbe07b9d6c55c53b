//! The storage boundary the service uses. `http/` calls these methods with domain values and
//! gets domain or read-model values back: it never sees a connection, a closure over one, or
//! SQL. Every method runs its SQL on a storage thread, never on the async executor.
//!
//! These methods are what a backend implements: each goes to [`SqliteStore`] or
//! [`PostgresStore`], whichever the [`Database`] named.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::time::Duration;

use super::postgres::PostgresStore;
use super::records::{AwaitedWatermark, BackfillOutcome, KeptEvent, StepCount, WebhookTenant};
use super::records::{Bucket, EventFilter, EventPage, HourRange, IngestOutcome, Keyset};
use super::records::{CampaignLabelRow, LeadNameRow};
use super::records::{HeldLimits, HeldReason, PruneCursor, PruneStep, Readiness, StorageUsage};
use super::records::{LeadFilter, LeadRow, MetricRow, StartupCheck, TokenOwner, User};
use super::sqlite::SqliteStore;
use super::Database;
use super::{StorageError, StorageFault, StorageMetrics, WriterSettings};
use crate::domain::{ApiToken, CampaignId, LeadId, OrgId, UserId, UtcTimestamp};
use crate::domain::{CampaignLabels, EmailEvent, SmartleadEvent, UnmappedDelivery};

/// How the store opens the database and runs.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    pub writer: WriterSettings,
    pub read_connections: u32,
    /// PostgreSQL: writer connections (tenants are spread over them).
    pub writer_connections: u32,
    pub busy_timeout: Duration,
    pub startup_check: StartupCheck,
    pub held: HeldLimits,
    /// Where the write pipeline records its numbers.
    pub metrics: StorageMetrics,
}

/// A campaign's per-bucket counts: (bucket start, metric, events).
pub type SeriesRow = (String, String, i64);

#[derive(Clone)]
pub struct Store(Backend);

#[derive(Clone)]
enum Backend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    /// Opens the database (creating a SQLite file if missing), migrates it, checks it (a
    /// malformed file is refused with [`StorageError::Corrupt`]) and starts the writer and the
    /// readers.
    pub fn open(db: &Database, settings: &StoreSettings) -> Result<Self, StorageError> {
        Ok(Self(match db {
            Database::Sqlite(path) => Backend::Sqlite(SqliteStore::open(path, settings)?),
            Database::Postgres(url) => Backend::Postgres(PostgresStore::open(url, settings)?),
        }))
    }

    /// Which backend this is (`sqlite`, `postgres`), for logs and `/metrics`.
    pub fn backend_name(&self) -> &'static str {
        match self.0 {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// The fault that stopped every write until restart, if there is one.
    pub fn fault(&self) -> Option<StorageFault> {
        on_backend!(&self.0, store => store.fault())
    }

    /// Whether starting the process again repairs the fault that stopped every write: `true` for
    /// a failed fsync or a deleted WAL once written back, `false` for the faults a restart would
    /// hide or be refused on; `None` while there is no fault or the writer has not dealt with it.
    pub fn restart_repairs_fault(&self) -> Option<bool> {
        on_backend!(&self.0, store => store.restart_repairs_fault())
    }

    pub async fn schema_version(&self) -> Result<usize, StorageError> {
        on_backend!(&self.0, store => store.schema_version().await)
    }

    /// Commits everything already queued, then stops writing.
    pub async fn shutdown(&self) {
        on_backend!(&self.0, store => store.shutdown().await)
    }

    /// The user and secret behind a webhook org, if the org is known.
    pub async fn webhook_tenant(&self, org: OrgId) -> Result<Option<WebhookTenant>, StorageError> {
        on_backend!(&self.0, store => store.webhook_tenant(org).await)
    }

    /// Stores a delivery, or finds it stored before; answered only once it is durable.
    pub async fn ingest(
        &self,
        user: UserId,
        org: OrgId,
        event: SmartleadEvent,
        received_at: UtcTimestamp,
    ) -> Result<IngestOutcome, StorageError> {
        on_backend!(&self.0, store => store.ingest(user, org, event, received_at).await)
    }

    /// The projector's watermark: the analytics and the leads' activity include every event
    /// whose seq is at or below it.
    pub async fn watermark(&self) -> Result<i64, StorageError> {
        on_backend!(&self.0, store => store.watermark().await)
    }

    /// The highest seq given out so far: `await_watermark` of it waits for everything stored.
    pub async fn latest_seq(&self) -> Result<i64, StorageError> {
        on_backend!(&self.0, store => store.latest_seq().await)
    }

    /// Waits (up to `limit`) until the watermark reaches `min_event`, asking the projector to
    /// run now rather than at its next tick.
    pub async fn await_watermark(
        &self,
        min_event: i64,
        limit: Duration,
    ) -> Result<AwaitedWatermark, StorageError> {
        on_backend!(&self.0, store => store.await_watermark(min_event, limit).await)
    }

    /// Whether the store can take writes now: schema current, a write through the whole write
    /// path (lock, commit, fsync) answered within `within`.
    pub async fn readiness(&self, within: Duration) -> Result<Readiness, StorageError> {
        on_backend!(&self.0, store => store.readiness(within).await)
    }

    /// Replaces the `event_data` of up to `limit` events older than `before`, after `cursor`,
    /// with a small marker (counts, dedupe keys and rollups unchanged); one writer job, so it
    /// waits its turn with the deliveries instead of contending with them for the lock.
    pub async fn prune_step(
        &self,
        before: UtcTimestamp,
        cursor: PruneCursor,
        limit: usize,
    ) -> Result<PruneStep, StorageError> {
        on_backend!(&self.0, store => store.prune_step(before, cursor, limit).await)
    }

    /// Stores events built from Smartlead's REST statistics where the lead has no event of
    /// their kind at their step of the campaign (see `smartlead sync`); one writer job.
    pub async fn backfill(
        &self,
        user: UserId,
        org: OrgId,
        events: Vec<EmailEvent>,
    ) -> Result<Vec<BackfillOutcome>, StorageError> {
        on_backend!(&self.0, store => store.backfill(user, org, events).await)
    }

    /// Notes the campaigns' names and statuses as Smartlead's campaign list gave them at `at`
    /// (by the rule of `storage/campaigns.rs`, as if an event of that time carried them); the
    /// campaigns whose labels changed. One writer job.
    pub async fn label_campaigns(
        &self,
        user: UserId,
        listed: Vec<(CampaignId, CampaignLabels)>,
        at: UtcTimestamp,
    ) -> Result<Vec<CampaignId>, StorageError> {
        on_backend!(&self.0, store => store.label_campaigns(user, listed, at).await)
    }

    /// How much the store occupies (database, WAL, held deliveries), for `/metrics`.
    pub async fn usage(&self) -> Result<StorageUsage, StorageError> {
        on_backend!(&self.0, store => store.usage().await)
    }

    /// Holds an authentic delivery that could not be mapped (the same payload once); answered
    /// once it is durable. The oldest held ones go once the table passes its limits.
    pub async fn hold(
        &self,
        user: UserId,
        org: OrgId,
        held: UnmappedDelivery,
    ) -> Result<IngestOutcome, StorageError> {
        on_backend!(&self.0, store => store.hold(user, org, held).await)
    }

    /// Who an API token belongs to, if it is valid and not revoked.
    pub async fn token_owner(&self, token: ApiToken) -> Result<Option<TokenOwner>, StorageError> {
        on_backend!(&self.0, store => store.token_owner(token).await)
    }

    /// Records that a token was used at `at`.
    pub async fn touch_token(
        &self,
        token_id: String,
        at: UtcTimestamp,
    ) -> Result<(), StorageError> {
        on_backend!(&self.0, store => store.touch_token(token_id, at).await)
    }

    /// Every user with a Smartlead API key, and the key (for the reconciliation job).
    pub async fn smartlead_accounts(&self) -> Result<Vec<(UserId, String)>, StorageError> {
        on_backend!(&self.0, store => store.smartlead_accounts().await)
    }

    pub async fn user(&self, user: UserId) -> Result<Option<User>, StorageError> {
        on_backend!(&self.0, store => store.user(user).await)
    }

    /// The user's campaigns with events, after the campaign `after`, each with its metrics.
    pub async fn campaigns(
        &self,
        user: UserId,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<MetricRow>)>, StorageError> {
        on_backend!(&self.0, store => store.campaigns(user, after, limit).await)
    }

    /// The labels (name, status) of those of the user's `campaigns` that have any.
    pub async fn campaign_labels(
        &self,
        user: UserId,
        campaigns: Vec<String>,
    ) -> Result<HashMap<String, CampaignLabelRow>, StorageError> {
        on_backend!(&self.0, store => store.campaign_labels(user, campaigns).await)
    }

    /// One campaign's metrics (`None` when the user has no events in it), or all the user's
    /// without a campaign; all-time, or in a range of whole hours.
    pub async fn metrics(
        &self,
        user: UserId,
        campaign: Option<CampaignId>,
        range: Option<HourRange>,
    ) -> Result<Option<Vec<MetricRow>>, StorageError> {
        on_backend!(&self.0, store => store.metrics(user, campaign, range).await)
    }

    /// A campaign's counts per bucket over `range` (`None` when the user has no events in it),
    /// or, without a campaign, the user's across all campaigns.
    pub async fn timeseries(
        &self,
        user: UserId,
        campaign: Option<CampaignId>,
        bucket: Bucket,
        range: HourRange,
    ) -> Result<Option<Vec<SeriesRow>>, StorageError> {
        on_backend!(&self.0, store => store.timeseries(user, campaign, bucket, range).await)
    }

    /// A campaign's events per sequence step and headline kind (`None` when the user has no
    /// events in it).
    pub async fn campaign_steps(
        &self,
        user: UserId,
        campaign: CampaignId,
    ) -> Result<Option<Vec<StepCount>>, StorageError> {
        on_backend!(&self.0, store => store.campaign_steps(user, campaign).await)
    }

    /// The user's held deliveries (authentic, but not mappable when received) by reason.
    pub async fn held_reasons(&self, user: UserId) -> Result<Vec<HeldReason>, StorageError> {
        on_backend!(&self.0, store => store.held_reasons(user).await)
    }

    /// A page of the user's kept (non-email) events, of one campaign if given, newest received
    /// first, and whether more follow.
    pub async fn kept_events(
        &self,
        user: UserId,
        campaign: Option<CampaignId>,
        after: Option<Keyset>,
        limit: usize,
    ) -> Result<(Vec<KeptEvent>, bool), StorageError> {
        on_backend!(&self.0, store => store.kept_events(user, campaign, after, limit).await)
    }

    /// The user's leads, newest activity first.
    pub async fn leads(
        &self,
        user: UserId,
        filter: LeadFilter,
        after: Option<Keyset>,
        limit: usize,
    ) -> Result<Vec<LeadRow>, StorageError> {
        on_backend!(&self.0, store => store.leads(user, filter, after, limit).await)
    }

    /// Every lead the list shows for `filter` (every page of it), in its order, read in one
    /// statement (one snapshot) and handed to `each` one at a time until it breaks: an export
    /// of any size in bounded memory. It holds a read connection until it ends.
    pub async fn export_leads(
        &self,
        user: UserId,
        filter: LeadFilter,
        each: impl FnMut(LeadRow) -> ControlFlow<()> + Send + 'static,
    ) -> Result<(), StorageError> {
        on_backend!(&self.0, store => store.export_leads(user, filter, each).await)
    }

    /// The names and companies of those of `leads` that are the user's.
    pub async fn lead_names(
        &self,
        user: UserId,
        leads: Vec<String>,
    ) -> Result<HashMap<String, LeadNameRow>, StorageError> {
        on_backend!(&self.0, store => store.lead_names(user, leads).await)
    }

    /// One of the user's leads, with or without activity (`None` when it is not the user's).
    pub async fn lead(&self, user: UserId, lead: LeadId) -> Result<Option<LeadRow>, StorageError> {
        on_backend!(&self.0, store => store.lead(user, lead).await)
    }

    /// A page of a lead's timeline, newest first (`None` when the lead is not the user's).
    pub async fn lead_events(
        &self,
        user: UserId,
        lead: LeadId,
        after: Option<Keyset>,
        limit: usize,
    ) -> Result<Option<EventPage>, StorageError> {
        on_backend!(&self.0, store => store.lead_events(user, lead, after, limit).await)
    }

    /// A page of the user's events matching `filter`, newest first.
    pub async fn search_events(
        &self,
        user: UserId,
        filter: EventFilter,
        after: Option<Keyset>,
        limit: usize,
    ) -> Result<EventPage, StorageError> {
        on_backend!(&self.0, store => store.search_events(user, filter, after, limit).await)
    }
}
