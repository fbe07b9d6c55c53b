//! The service's storage on SQLite: what [`Store`](crate::storage::Store) runs. Writes go to
//! the writer (group commit, then the fsync), reads to the blocking pool over the `query_only`
//! connections, so nothing blocks the async executor.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use rusqlite::Connection;

use super::payloads::Payloads;
use super::{analytics, campaigns, events, held, integrity, projection, tokens, users};
use super::{migrations, open_read_write, rollups, ReadPool, StorageError, Writer};
use crate::domain::{ApiToken, CampaignId, LeadId, OrgId, UserId, UtcTimestamp};
use crate::domain::{CampaignLabels, EmailEvent, SmartleadEvent, UnmappedDelivery};
use crate::storage::records::{AwaitedWatermark, BackfillOutcome, KeptEvent, StepCount};
use crate::storage::records::{Bucket, EventFilter, EventPage, HourRange, IngestOutcome, Keyset};
use crate::storage::records::{CampaignLabelRow, LeadNameRow, User, WebhookTenant};
use crate::storage::records::{HeldLimits, HeldReason, LeadFilter, LeadRow, MetricRow};
use crate::storage::records::{PruneCursor, PruneStep, Readiness, StorageUsage, TokenOwner};
use crate::storage::{StorageFault, StoreSettings};

use crate::storage::SeriesRow;

#[derive(Clone)]
pub struct SqliteStore {
    path: PathBuf,
    reads: ReadPool,
    writer: Writer,
    /// The codec of this file's payloads: the writer compresses with it, reads decompress.
    payloads: Arc<Payloads>,
    held_limits: HeldLimits,
    held_dropped: Counter,
}

impl SqliteStore {
    /// Opens the file (creating it if missing), migrates it, checks it (a malformed file is
    /// refused with [`StorageError::Corrupt`]), then starts the writer and the read pool.
    pub fn open(path: &Path, settings: &StoreSettings) -> Result<Self, StorageError> {
        let started = Instant::now();
        let mut conn = open_read_write(path, settings.busy_timeout)?;
        migrations::to_latest(&mut conn)?;
        integrity::check(&conn, settings.startup_check)?;
        tracing::info!(
            check = ?settings.startup_check,
            ms = crate::telemetry::millis(started.elapsed()),
            "database checked"
        );
        let payloads = Arc::new(Payloads::load(&conn)?);
        drop(conn);
        let writer = Writer::start(path, settings.writer, settings.metrics.clone())?;
        let reads = ReadPool::open(path, settings.read_connections, settings.busy_timeout)?;
        Ok(Self {
            path: path.to_owned(),
            reads,
            writer,
            payloads,
            held_limits: settings.held,
            held_dropped: settings.metrics.held_dropped.clone(),
        })
    }

    /// Runs a read on the blocking pool, carrying the caller's span. A read that finds the file
    /// malformed stops the writes too, and [`SqliteStore::fault`] says so.
    async fn read<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    {
        let pool = self.reads.clone();
        let span = tracing::Span::current();
        let answer = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let conn = pool.get()?;
            work(&conn)
        })
        .await
        .unwrap_or(Err(StorageError::Panicked));
        if let Some(fault) = answer.as_ref().err().and_then(StorageError::fault) {
            self.writer.raise(fault);
        }
        answer
    }

    /// The fault that stopped the writes, if any (also noticing files replaced under it).
    pub fn fault(&self) -> Option<StorageFault> {
        self.writer.fault()
    }

    /// Whether a restart repairs the fault in force, once the writer has dealt with it.
    pub fn restart_repairs_fault(&self) -> Option<bool> {
        self.writer.restart_repairs_fault()
    }

    pub async fn schema_version(&self) -> Result<usize, StorageError> {
        self.read(migrations::current_version).await
    }

    /// Commits whatever is queued, then stops the writer and checkpoints.
    pub async fn shutdown(&self) {
        self.writer.shutdown().await;
    }

    /// The user and secret behind a webhook org, if the org is known.
    pub async fn webhook_tenant(&self, org: OrgId) -> Result<Option<WebhookTenant>, StorageError> {
        self.read(move |conn| users::webhook_tenant(conn, &org))
            .await
    }

    /// Stores a delivery (or finds it stored before); answered once it is durable.
    pub async fn ingest(
        &self,
        user: UserId,
        org: OrgId,
        event: SmartleadEvent,
        received_at: UtcTimestamp,
    ) -> Result<IngestOutcome, StorageError> {
        let payloads = self.payloads.clone();
        self.writer
            .write(move |conn| events::ingest(conn, &payloads, user, &org, &event, received_at))
            .await
    }

    pub async fn watermark(&self) -> Result<i64, StorageError> {
        self.read(projection::watermark).await
    }

    pub async fn latest_seq(&self) -> Result<i64, StorageError> {
        self.read(projection::latest_seq).await
    }

    /// Waits until the watermark reaches `min_event` (see `storage::projection`).
    pub async fn await_watermark(
        &self,
        min_event: i64,
        limit: Duration,
    ) -> Result<AwaitedWatermark, StorageError> {
        let read =
            || self.read(|conn| Ok((projection::watermark(conn)?, projection::latest_seq(conn)?)));
        let request = || self.writer.request_projection();
        crate::storage::projection::await_watermark(
            min_event,
            limit,
            read,
            request,
            self.writer.watermark(),
        )
        .await
    }

    /// Whether the service can take writes now: the schema is this binary's, and a write goes
    /// through the writer and the syncer (an empty transaction under the write lock, committed
    /// and fsynced) within `within`.
    pub async fn readiness(&self, within: Duration) -> Result<Readiness, StorageError> {
        let version = self.schema_version().await?;
        let latest = migrations::latest_version();
        if version != latest {
            return Ok(Readiness::SchemaNotCurrent { version, latest });
        }
        let probe = self.writer.write(|conn| {
            conn.execute_batch("SELECT 1")?;
            Ok(())
        });
        match tokio::time::timeout(within, probe).await {
            Ok(answer) => answer.map(|()| Readiness::Ready { version }),
            Err(_) => Ok(Readiness::WriterStalled { waited: within }),
        }
    }

    pub async fn prune_step(
        &self,
        before: UtcTimestamp,
        cursor: PruneCursor,
        limit: usize,
    ) -> Result<PruneStep, StorageError> {
        self.writer
            .write(move |conn| super::retention::prune_step(conn, before, &cursor, limit))
            .await
    }

    /// Backfills events from Smartlead's REST statistics, as one writer job.
    pub async fn backfill(
        &self,
        user: UserId,
        org: OrgId,
        events: Vec<EmailEvent>,
    ) -> Result<Vec<BackfillOutcome>, StorageError> {
        let now = UtcTimestamp::now();
        let payloads = self.payloads.clone();
        self.writer
            .write(move |conn| {
                super::backfill::backfill_all(conn, &payloads, user, &org, &events, now)
            })
            .await
    }

    /// Notes the campaigns' labels as Smartlead listed them at `at`, as one writer job.
    pub async fn label_campaigns(
        &self,
        user: UserId,
        listed: Vec<(CampaignId, CampaignLabels)>,
        at: UtcTimestamp,
    ) -> Result<Vec<CampaignId>, StorageError> {
        let now = UtcTimestamp::now();
        self.writer
            .write(move |conn| campaigns::note_listed(conn, user, &listed, at, now))
            .await
    }

    /// The file sizes and the held table's size, read on a storage thread.
    pub async fn usage(&self) -> Result<StorageUsage, StorageError> {
        let path = self.path.clone();
        self.read(move |conn| {
            let size = |path: &Path| std::fs::metadata(path).map_or(0, |m| m.len());
            let mut wal = path.clone().into_os_string();
            wal.push("-wal");
            let (held_deliveries, held_bytes) = held::totals(conn)?;
            let folder = match path.parent() {
                Some(folder) if !folder.as_os_str().is_empty() => folder,
                _ => Path::new("."),
            };
            let disk_free_bytes = rustix::fs::statvfs(folder)
                .ok()
                .map(|fs| fs.f_bavail.saturating_mul(fs.f_frsize));
            Ok(StorageUsage {
                database_bytes: size(&path),
                wal_bytes: size(Path::new(&wal)),
                held_deliveries,
                held_bytes,
                disk_free_bytes,
                newest_events: users::newest_events(conn)?,
            })
        })
        .await
    }

    /// Holds an unmappable delivery; answered once it is durable.
    pub async fn hold(
        &self,
        user: UserId,
        org: OrgId,
        held: UnmappedDelivery,
    ) -> Result<IngestOutcome, StorageError> {
        let limits = self.held_limits;
        let held = self
            .writer
            .write(move |conn| held::hold(conn, user, &org, &held, limits))
            .await?;
        self.held_dropped.inc_by(held.dropped);
        Ok(held.outcome)
    }

    /// Who an API token belongs to, if it is valid and not revoked.
    pub async fn token_owner(&self, token: ApiToken) -> Result<Option<TokenOwner>, StorageError> {
        self.read(move |conn| tokens::owner(conn, &token)).await
    }

    /// Records that a token was used at `at`.
    pub async fn touch_token(
        &self,
        token_id: String,
        at: UtcTimestamp,
    ) -> Result<(), StorageError> {
        self.writer
            .write(move |conn| tokens::touch(conn, &token_id, at))
            .await
    }

    pub async fn smartlead_accounts(&self) -> Result<Vec<(UserId, String)>, StorageError> {
        self.read(users::smartlead_accounts).await
    }

    pub async fn user(&self, user: UserId) -> Result<Option<User>, StorageError> {
        self.read(move |conn| users::find_user(conn, user)).await
    }

    /// The user's campaigns with events, after the campaign `after`, each with its metrics.
    pub async fn campaigns(
        &self,
        user: UserId,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<MetricRow>)>, StorageError> {
        self.read(move |conn| analytics::campaigns(conn, user, after.as_deref(), limit))
            .await
    }

    /// The labels (name, status) of those of the user's `campaigns` that have any.
    pub async fn campaign_labels(
        &self,
        user: UserId,
        campaigns: Vec<String>,
    ) -> Result<HashMap<String, CampaignLabelRow>, StorageError> {
        self.read(move |conn| campaigns::labels(conn, user, &campaigns))
            .await
    }

    /// One campaign's metrics (`None` when the user has no events in it), or all the user's
    /// without a campaign; all-time, or in a range of whole hours.
    pub async fn metrics(
        &self,
        user: UserId,
        campaign: Option<CampaignId>,
        range: Option<HourRange>,
    ) -> Result<Option<Vec<MetricRow>>, StorageError> {
        self.read(move |conn| {
            let scope = campaign
                .as_ref()
                .map_or(rollups::ALL_CAMPAIGNS, CampaignId::as_str);
            if campaign.is_some() && !analytics::campaign_exists(conn, user, scope)? {
                return Ok(None);
            }
            analytics::scope_metrics(conn, user, scope, range.as_ref()).map(Some)
        })
        .await
    }

    /// A campaign's counts per bucket over `range` (`None` when the user has no events in it),
    /// or, without a campaign, the user's across campaigns.
    pub async fn timeseries(
        &self,
        user: UserId,
        campaign: Option<CampaignId>,
        bucket: Bucket,
        range: HourRange,
    ) -> Result<Option<Vec<SeriesRow>>, StorageError> {
        self.read(move |conn| {
            let scope = campaign
                .as_ref()
                .map_or(rollups::ALL_CAMPAIGNS, CampaignId::as_str);
            if campaign.is_some() && !analytics::campaign_exists(conn, user, scope)? {
                return Ok(None);
            }
            analytics::timeseries(conn, user, scope, bucket, &range).map(Some)
        })
        .await
    }

    pub async fn campaign_steps(
        &self,
        user: UserId,
        campaign: CampaignId,
    ) -> Result<Option<Vec<StepCount>>, StorageError> {
        self.read(move |conn| {
            if !analytics::campaign_exists(conn, user, campaign.as_str())? {
                return Ok(None);
            }
            analytics::campaign_steps(conn, user, campaign.as_str()).map(Some)
        })
        .await
    }

    pub async fn held_reasons(&self, user: UserId) -> Result<Vec<HeldReason>, StorageError> {
        self.read(move |conn| held::reasons(conn, user)).await
    }

    pub async fn kept_events(
        &self,
        user: UserId,
        campaign: Option<CampaignId>,
        after: Option<Keyset>,
        limit: usize,
    ) -> Result<(Vec<KeptEvent>, bool), StorageError> {
        self.read(move |conn| {
            let campaign = campaign.as_ref().map(CampaignId::as_str);
            analytics::kept_events(conn, user, campaign, after.as_ref(), limit)
        })
        .await
    }

    pub async fn leads(
        &self,
        user: UserId,
        filter: LeadFilter,
        after: Option<Keyset>,
        limit: usize,
    ) -> Result<Vec<LeadRow>, StorageError> {
        self.read(move |conn| analytics::leads(conn, user, &filter, after.as_ref(), limit))
            .await
    }

    pub async fn export_leads(
        &self,
        user: UserId,
        filter: LeadFilter,
        each: impl FnMut(LeadRow) -> ControlFlow<()> + Send + 'static,
    ) -> Result<(), StorageError> {
        self.read(move |conn| analytics::export_leads(conn, user, &filter, each))
            .await
    }

    pub async fn lead_names(
        &self,
        user: UserId,
        leads: Vec<String>,
    ) -> Result<HashMap<String, LeadNameRow>, StorageError> {
        self.read(move |conn| analytics::lead_names(conn, user, &leads))
            .await
    }

    pub async fn lead(&self, user: UserId, lead: LeadId) -> Result<Option<LeadRow>, StorageError> {
        self.read(move |conn| analytics::lead(conn, user, lead))
            .await
    }

    /// A page of a lead's timeline, newest first (`None` when the lead is not the user's).
    pub async fn lead_events(
        &self,
        user: UserId,
        lead: LeadId,
        after: Option<Keyset>,
        limit: usize,
    ) -> Result<Option<EventPage>, StorageError> {
        let payloads = self.payloads.clone();
        self.read(move |conn| {
            analytics::lead_events(conn, &payloads, user, lead, after.as_ref(), limit)
        })
        .await
    }

    pub async fn search_events(
        &self,
        user: UserId,
        filter: EventFilter,
        after: Option<Keyset>,
        limit: usize,
    ) -> Result<EventPage, StorageError> {
        let payloads = self.payloads.clone();
        self.read(move |conn| {
            analytics::search_events(conn, &payloads, user, &filter, after.as_ref(), limit)
        })
        .await
    }
}
