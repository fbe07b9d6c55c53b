//! The service's storage on PostgreSQL: what [`Store`](crate::storage::Store) runs. Writes go to
//! the writer (group commit), reads to the blocking pool over pooled connections, so nothing
//! blocks the async executor (the `postgres` client must never run on it).

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;

use super::blocking::DropOffExecutor;
use super::connection::{connect, read_pool, ReadPool};
use super::projector::Projector;
use super::session::{ReadConnection, Sql};
use super::{
    analytics, campaigns, events, held, migrations, projection, tokens, users, StorageError,
    Writers,
};
use crate::domain::{ApiToken, CampaignId, LeadId, OrgId, UserId, UtcTimestamp};
use crate::domain::{CampaignLabels, EmailEvent, SmartleadEvent, UnmappedDelivery};
use crate::storage::location::PostgresUrl;
use crate::storage::records::{AwaitedWatermark, BackfillOutcome, KeptEvent, StepCount};
use crate::storage::records::{Bucket, EventFilter, EventPage, HourRange, IngestOutcome, Keyset};
use crate::storage::records::{CampaignLabelRow, LeadNameRow, User, WebhookTenant};
use crate::storage::records::{HeldLimits, HeldReason, LeadFilter, LeadRow, MetricRow};
use crate::storage::records::{PruneCursor, PruneStep, Readiness, StorageUsage, TokenOwner};
use crate::storage::rollup_counts::ALL_CAMPAIGNS;
use crate::storage::{SeriesRow, StoreSettings};

#[derive(Clone)]
pub struct PostgresStore {
    /// Its idle connections close when the last clone goes, which may be on the executor.
    reads: Arc<DropOffExecutor<ReadPool>>,
    writers: Writers,
    projector: Projector,
    held_limits: HeldLimits,
    held_dropped: Counter,
}

impl PostgresStore {
    /// Connects, migrates (once, whichever process starts first) and starts the writer and the
    /// read pool. An unreachable server is refused here: the service does not start blind.
    pub fn open(url: &PostgresUrl, settings: &StoreSettings) -> Result<Self, StorageError> {
        // The `postgres` client runs its own runtime, which panics inside another one: the
        // service opens its store from the executor's thread, so the connecting happens on a
        // thread of its own.
        let (writers, projector) = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mut client = connect(url)?;
                    migrations::to_latest(&mut client)?;
                    drop(client);
                    let writers = Writers::start(
                        url,
                        settings.writer_connections,
                        settings.writer,
                        settings.metrics.clone(),
                    )?;
                    let projector = Projector::start(
                        url,
                        settings.writer.projection_batch,
                        settings.metrics.clone(),
                    )?;
                    Ok((writers, projector))
                })
                .join()
                .unwrap_or(Err(StorageError::Panicked))
        })?;
        Ok(Self {
            reads: Arc::new(DropOffExecutor::new(read_pool(
                url,
                settings.read_connections,
            )?)),
            writers,
            projector,
            held_limits: settings.held,
            held_dropped: settings.metrics.held_dropped.clone(),
        })
    }

    async fn read<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut ReadConnection) -> Result<T, StorageError> + Send + 'static,
    {
        let pool = ReadPool::clone(&self.reads);
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await
        .unwrap_or(Err(StorageError::Panicked))
    }

    /// PostgreSQL has no storage fault of this process's own to stop on: a server that fails
    /// fails each write (503), and the next write tries again.
    pub fn fault(&self) -> Option<crate::storage::StorageFault> {
        None
    }

    /// There is no fault to repair (above).
    pub fn restart_repairs_fault(&self) -> Option<bool> {
        None
    }

    pub async fn schema_version(&self) -> Result<usize, StorageError> {
        self.read(migrations::current_version).await
    }

    /// The writers commit what is queued and stop; then the projector projects what is left.
    pub async fn shutdown(&self) {
        self.writers.shutdown().await;
        self.projector.stop().await;
    }

    pub async fn webhook_tenant(&self, org: OrgId) -> Result<Option<WebhookTenant>, StorageError> {
        self.read(move |client| users::webhook_tenant(client, &org))
            .await
    }

    pub async fn ingest(
        &self,
        user: UserId,
        org: OrgId,
        event: SmartleadEvent,
        received_at: UtcTimestamp,
    ) -> Result<IngestOutcome, StorageError> {
        self.writers
            .of(user)
            .write(move |db| events::ingest(db, user, &org, &event, received_at))
            .await
    }

    /// The schema is this binary's, and a transaction gets through every writer within `within`.
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
        let request = || self.projector.request();
        crate::storage::projection::await_watermark(
            min_event,
            limit,
            read,
            request,
            self.projector.watermark(),
        )
        .await
    }

    pub async fn readiness(&self, within: Duration) -> Result<Readiness, StorageError> {
        let version = self.schema_version().await?;
        let latest = migrations::latest_version();
        if version != latest {
            return Ok(Readiness::SchemaNotCurrent { version, latest });
        }
        let probes = self
            .writers
            .all()
            .iter()
            .map(|writer| writer.write(|db| db.batch("SELECT 1")));
        match tokio::time::timeout(within, futures_util::future::join_all(probes)).await {
            Ok(answers) => answers
                .into_iter()
                .collect::<Result<Vec<()>, _>>()
                .map(|_| Readiness::Ready { version }),
            Err(_) => Ok(Readiness::WriterStalled { waited: within }),
        }
    }

    pub async fn prune_step(
        &self,
        before: UtcTimestamp,
        cursor: PruneCursor,
        limit: usize,
    ) -> Result<PruneStep, StorageError> {
        self.writers
            .shared()
            .write(move |db| super::retention::prune_step(db, before, &cursor, limit))
            .await
    }

    pub async fn backfill(
        &self,
        user: UserId,
        org: OrgId,
        events: Vec<EmailEvent>,
    ) -> Result<Vec<BackfillOutcome>, StorageError> {
        let now = UtcTimestamp::now();
        self.writers
            .of(user)
            .write(move |db| super::backfill::backfill_all(db, user, &org, &events, now))
            .await
    }

    pub async fn label_campaigns(
        &self,
        user: UserId,
        listed: Vec<(CampaignId, CampaignLabels)>,
        at: UtcTimestamp,
    ) -> Result<Vec<CampaignId>, StorageError> {
        let now = UtcTimestamp::now();
        self.writers
            .of(user)
            .write(move |db| super::campaigns::note_listed(db, user, &listed, at, now))
            .await
    }

    /// The database's size on the server, and the held table's. The WAL is the server's own.
    pub async fn usage(&self) -> Result<StorageUsage, StorageError> {
        self.read(|client| {
            let size: i64 = client
                .query_one("SELECT pg_database_size(current_database())", &[])?
                .get(0);
            let (held_deliveries, held_bytes) = held::totals(client)?;
            Ok(StorageUsage {
                database_bytes: size.max(0) as u64,
                wal_bytes: 0,
                held_deliveries,
                held_bytes,
                disk_free_bytes: None,
                newest_events: users::newest_events(client)?,
            })
        })
        .await
    }

    pub async fn hold(
        &self,
        user: UserId,
        org: OrgId,
        held: UnmappedDelivery,
    ) -> Result<IngestOutcome, StorageError> {
        let limits = self.held_limits;
        let held = self
            .writers
            .of(user)
            .write(move |db| held::hold(db, user, &org, &held, limits))
            .await?;
        self.held_dropped.inc_by(held.dropped);
        Ok(held.outcome)
    }

    pub async fn token_owner(&self, token: ApiToken) -> Result<Option<TokenOwner>, StorageError> {
        self.read(move |client| tokens::owner(client, &token)).await
    }

    pub async fn touch_token(
        &self,
        token_id: String,
        at: UtcTimestamp,
    ) -> Result<(), StorageError> {
        self.writers
            .shared()
            .write(move |db| tokens::touch(db, &token_id, at))
            .await
    }

    pub async fn smartlead_accounts(&self) -> Result<Vec<(UserId, String)>, StorageError> {
        self.read(users::smartlead_accounts).await
    }

    pub async fn user(&self, user: UserId) -> Result<Option<User>, StorageError> {
        self.read(move |client| users::find_user(client, user))
            .await
    }

    pub async fn campaigns(
        &self,
        user: UserId,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<MetricRow>)>, StorageError> {
        self.read(move |client| analytics::campaigns(client, user, after.as_deref(), limit))
            .await
    }

    /// The labels (name, status) of those of the user's `campaigns` that have any.
    pub async fn campaign_labels(
        &self,
        user: UserId,
        campaigns: Vec<String>,
    ) -> Result<HashMap<String, CampaignLabelRow>, StorageError> {
        self.read(move |client| campaigns::labels(client, user, &campaigns))
            .await
    }

    pub async fn metrics(
        &self,
        user: UserId,
        campaign: Option<CampaignId>,
        range: Option<HourRange>,
    ) -> Result<Option<Vec<MetricRow>>, StorageError> {
        self.read(move |client| {
            let scope = campaign.as_ref().map_or(ALL_CAMPAIGNS, CampaignId::as_str);
            if campaign.is_some() && !analytics::campaign_exists(client, user, scope)? {
                return Ok(None);
            }
            analytics::scope_metrics(client, user, scope, range.as_ref()).map(Some)
        })
        .await
    }

    pub async fn timeseries(
        &self,
        user: UserId,
        campaign: Option<CampaignId>,
        bucket: Bucket,
        range: HourRange,
    ) -> Result<Option<Vec<SeriesRow>>, StorageError> {
        self.read(move |client| {
            let scope = campaign.as_ref().map_or(ALL_CAMPAIGNS, CampaignId::as_str);
            if campaign.is_some() && !analytics::campaign_exists(client, user, scope)? {
                return Ok(None);
            }
            analytics::timeseries(client, user, scope, bucket, &range).map(Some)
        })
        .await
    }

    pub async fn campaign_steps(
        &self,
        user: UserId,
        campaign: CampaignId,
    ) -> Result<Option<Vec<StepCount>>, StorageError> {
        self.read(move |client| {
            if !analytics::campaign_exists(client, user, campaign.as_str())? {
                return Ok(None);
            }
            analytics::campaign_steps(client, user, campaign.as_str()).map(Some)
        })
        .await
    }

    pub async fn held_reasons(&self, user: UserId) -> Result<Vec<HeldReason>, StorageError> {
        self.read(move |client| held::reasons(client, user)).await
    }

    pub async fn kept_events(
        &self,
        user: UserId,
        campaign: Option<CampaignId>,
        after: Option<Keyset>,
        limit: usize,
    ) -> Result<(Vec<KeptEvent>, bool), StorageError> {
        self.read(move |client| {
            let campaign = campaign.as_ref().map(CampaignId::as_str);
            analytics::kept_events(client, user, campaign, after.as_ref(), limit)
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
        self.read(move |client| analytics::leads(client, user, &filter, after.as_ref(), limit))
            .await
    }

    pub async fn export_leads(
        &self,
        user: UserId,
        filter: LeadFilter,
        each: impl FnMut(LeadRow) -> ControlFlow<()> + Send + 'static,
    ) -> Result<(), StorageError> {
        self.read(move |conn| super::lead_export::export(conn, user, &filter, each))
            .await
    }

    pub async fn lead_names(
        &self,
        user: UserId,
        leads: Vec<String>,
    ) -> Result<HashMap<String, LeadNameRow>, StorageError> {
        self.read(move |client| analytics::lead_names(client, user, &leads))
            .await
    }

    pub async fn lead(&self, user: UserId, lead: LeadId) -> Result<Option<LeadRow>, StorageError> {
        self.read(move |client| analytics::lead(client, user, lead))
            .await
    }

    pub async fn lead_events(
        &self,
        user: UserId,
        lead: LeadId,
        after: Option<Keyset>,
        limit: usize,
    ) -> Result<Option<EventPage>, StorageError> {
        self.read(move |client| analytics::lead_events(client, user, lead, after.as_ref(), limit))
            .await
    }

    pub async fn search_events(
        &self,
        user: UserId,
        filter: EventFilter,
        after: Option<Keyset>,
        limit: usize,
    ) -> Result<EventPage, StorageError> {
        self.read(move |client| {
            analytics::search_events(client, user, &filter, after.as_ref(), limit)
        })
        .await
    }
}
