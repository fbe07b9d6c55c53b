//! The command line's storage on PostgreSQL: what [`Admin`](crate::storage::Admin) runs, over
//! one connection. Safe while services run: each change is one transaction, and the ingests
//! lock leads and upsert rollups exactly as the services' writers do.

use std::cell::RefCell;

use postgres::{Client, IsolationLevel};

use super::blocking::{off_executor, DropOffExecutor};
use super::session::{Session, StatementCache};
use super::StorageError;
use super::{connection, forget, held, migrations, projection, rollups, tokens, users};
use crate::domain::{ApiToken, HeldId, InvalidValue, Mapped, OrgId, SmartleadEvent, TokenId};
use crate::domain::{CampaignId, CampaignLabels, EmailAddress, EmailEvent, LeadProfile};
use crate::domain::{UserId, UtcTimestamp};
use crate::storage::location::PostgresUrl;
use crate::storage::records::{BackfillOutcome, ForgottenLead, MetricRow, User, WebhookTenant};
use crate::storage::records::{CopyPosition, KeptPayload, RowBatch, UnnamedLead};
use crate::storage::records::{HeldDelivery, HeldLimits, IngestOutcome, NewUser};
use crate::storage::records::{PruneCursor, PruneStep, SmartleadCredentials, TokenInfo};
use crate::storage::records::{UserRemoval, ORG_RELEASE_GRACE};
use crate::storage::rollup_counts::ALL_CAMPAIGNS;

/// The connection sits in a `RefCell` so that the facade's reads take `&self` as on SQLite
/// (whose connection needs no `&mut` to read); the CLI is single-threaded.
pub struct PostgresAdmin {
    client: RefCell<DropOffExecutor<Client>>,
    cache: RefCell<StatementCache>,
}

impl PostgresAdmin {
    pub fn open(url: &PostgresUrl) -> Result<Self, StorageError> {
        let admin = Self::open_as_is(url)?;
        admin.migrate_to_latest()?;
        Ok(admin)
    }

    pub fn open_as_is(url: &PostgresUrl) -> Result<Self, StorageError> {
        Ok(Self {
            client: RefCell::new(DropOffExecutor::new(off_executor(|| {
                connection::connect(url)
            })?)),
            cache: RefCell::new(StatementCache::default()),
        })
    }

    /// Runs `work` in one transaction with the writer's session; committed when `commit`.
    fn write<T: Send>(
        &self,
        commit: bool,
        work: impl FnOnce(&mut Session<'_, '_>) -> Result<T, StorageError> + Send,
    ) -> Result<T, StorageError> {
        self.run(|client, cache| {
            let mut tx = client.transaction()?;
            let value = {
                let mut db = Session::new(&mut tx, cache);
                projection::take_turn(&mut db)?;
                let value = work(&mut db)?;
                // What the work stored is projected before the COMMIT, as the SQLite CLI does.
                projection::catch_up(&mut db)?;
                value
            };
            if commit {
                tx.commit()?;
            }
            Ok(value)
        })
    }

    /// Runs `work` on the connection, off the executor if called from one.
    fn run<T: Send>(
        &self,
        work: impl FnOnce(&mut Client, &mut StatementCache) -> Result<T, StorageError> + Send,
    ) -> Result<T, StorageError> {
        let mut client = self.client.borrow_mut();
        let mut cache = self.cache.borrow_mut();
        let (client, cache): (&mut Client, &mut StatementCache) = (&mut client, &mut cache);
        off_executor(move || work(client, cache))
    }

    pub fn schema_version(&self) -> Result<usize, StorageError> {
        self.run(|client, _| migrations::current_version(client))
    }

    pub fn migration_names(&self) -> Vec<&'static str> {
        migrations::names().collect()
    }

    pub fn migrate_to_latest(&self) -> Result<(), StorageError> {
        self.run(|client, _| migrations::to_latest(client))
    }

    pub fn migrate_to(&self, version: usize) -> Result<(), StorageError> {
        self.run(|client, _| migrations::to_version(client, version))
    }

    pub fn add_user(&self, new: &NewUser<'_>) -> Result<User, StorageError> {
        self.run(|client, _| users::add_user(client, new))
    }

    pub fn webhook_tenant(&self, org: &OrgId) -> Result<Option<WebhookTenant>, StorageError> {
        self.run(|client, _| users::webhook_tenant(client, org))
    }

    pub fn users(&self) -> Result<Vec<User>, StorageError> {
        self.run(|client, _| users::list_users(client))
    }

    pub fn user(&self, user: UserId) -> Result<Option<User>, StorageError> {
        self.run(|client, _| users::find_user(client, user))
    }

    pub fn set_org(
        &self,
        user: UserId,
        org: &OrgId,
        name: Option<&str>,
    ) -> Result<User, StorageError> {
        self.run(|client, _| users::set_org(client, user, org, name))
    }

    /// How many rows of each table removing the user would delete.
    pub fn user_rows(&self, user: UserId) -> Result<Vec<(String, u64)>, StorageError> {
        self.run(|client, _| users::user_rows(client, user))
    }

    /// The org released first, then, after [`ORG_RELEASE_GRACE`], the rows in one transaction,
    /// which locks only the user's own rows (`_batch` is SQLite's). A delivery of the user's
    /// arriving during that transaction would wait for it on the user row, and with it the
    /// service's writer and every tenant's deliveries; released and forgotten by the services
    /// beforehand, the org's deliveries are refused (401) without touching the row.
    pub fn remove_user(
        &self,
        user: UserId,
        _batch: usize,
        _progress: &mut dyn FnMut(&str, u64),
    ) -> Result<UserRemoval, StorageError> {
        self.run(|client, _| {
            if users::release_org(client, user)? {
                std::thread::sleep(ORG_RELEASE_GRACE);
            }
            let mut tx = client.transaction()?;
            let tables = users::remove_user(&mut tx, user)?;
            tx.commit()?;
            Ok(UserRemoval {
                tables,
                transactions: 2,
            })
        })
    }

    /// Replaces one address's personal data in place (`leads forget`), in one transaction.
    pub fn forget_lead(
        &self,
        user: UserId,
        email: &EmailAddress,
    ) -> Result<ForgottenLead, StorageError> {
        self.run(|client, _| {
            let mut tx = client.transaction()?;
            let forgotten = forget::forget_lead(&mut tx, user, email)?;
            tx.commit()?;
            Ok(forgotten)
        })
    }

    pub fn smartlead_credentials(
        &self,
        user: UserId,
    ) -> Result<Option<SmartleadCredentials>, StorageError> {
        self.run(|client, _| users::smartlead_credentials(client, user))
    }

    pub fn set_smartlead_credentials(
        &self,
        user: UserId,
        credentials: &SmartleadCredentials,
    ) -> Result<(), StorageError> {
        self.run(|client, _| users::set_smartlead_credentials(client, user, credentials))
    }

    pub fn issue_token(
        &self,
        user: UserId,
        name: Option<&str>,
        expires_at: Option<UtcTimestamp>,
    ) -> Result<(TokenId, ApiToken), StorageError> {
        self.run(|client, _| tokens::issue(client, user, name, expires_at))
    }

    pub fn tokens(&self, user: UserId) -> Result<Vec<TokenInfo>, StorageError> {
        self.run(|client, _| tokens::list(client, user))
    }

    pub fn revoke_token(&self, id: TokenId) -> Result<(), StorageError> {
        self.run(|client, _| tokens::revoke(client, id))
    }

    pub fn ingest_batch(
        &self,
        events: &[(UserId, OrgId, SmartleadEvent)],
        received_at: UtcTimestamp,
    ) -> Result<Vec<IngestOutcome>, StorageError> {
        self.write(true, |db| {
            events
                .iter()
                .map(|(user, org, event)| super::events::ingest(db, *user, org, event, received_at))
                .collect()
        })
    }

    pub fn import_batch(
        &self,
        user: UserId,
        org: &OrgId,
        deliveries: &[Mapped],
        limits: HeldLimits,
        commit: bool,
    ) -> Result<Vec<IngestOutcome>, StorageError> {
        let now = UtcTimestamp::now();
        self.write(commit, |db| {
            deliveries
                .iter()
                .map(|delivery| match delivery {
                    Mapped::Event(event) => super::events::ingest(db, user, org, event, now),
                    Mapped::Unmapped(unmapped) => {
                        held::hold(db, user, org, unmapped, limits).map(|held| held.outcome)
                    }
                })
                .collect()
        })
    }

    pub fn prune_step(
        &self,
        before: UtcTimestamp,
        cursor: &PruneCursor,
        limit: usize,
    ) -> Result<PruneStep, StorageError> {
        self.run(|client, _| {
            let mut tx = client.transaction()?;
            let step = super::retention::prune_step(&mut tx, before, cursor, limit)?;
            tx.commit()?;
            Ok(step)
        })
    }

    pub fn backfill_batch(
        &self,
        user: UserId,
        org: &OrgId,
        events: &[EmailEvent],
        commit: bool,
    ) -> Result<Vec<BackfillOutcome>, StorageError> {
        let now = UtcTimestamp::now();
        self.write(commit, |db| {
            super::backfill::backfill_all(db, user, org, events, now)
        })
    }

    pub fn label_campaigns(
        &self,
        user: UserId,
        listed: &[(CampaignId, CampaignLabels)],
        at: UtcTimestamp,
        commit: bool,
    ) -> Result<Vec<CampaignId>, StorageError> {
        let now = UtcTimestamp::now();
        self.write(commit, |db| {
            super::campaigns::note_listed(db, user, listed, at, now)
        })
    }

    pub fn unnamed_leads(
        &self,
        after: Option<&str>,
        limit: usize,
        events: usize,
    ) -> Result<Vec<UnnamedLead>, StorageError> {
        self.run(|client, _| super::leads::unnamed(client, after, limit, events))
    }

    pub fn kept_payloads(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<KeptPayload>, StorageError> {
        self.run(|client, _| super::leads::kept_payloads(client, after, limit))
    }

    pub fn name_leads(
        &self,
        named: &[(String, LeadProfile, UtcTimestamp)],
        commit: bool,
    ) -> Result<usize, StorageError> {
        let now = UtcTimestamp::now();
        self.write(commit, |db| {
            let mut written = 0;
            for (lead, profile, at) in named {
                written += usize::from(super::leads::name(db, lead, profile, *at, now)?);
            }
            Ok(written)
        })
    }

    pub fn held_deliveries(&self, reason: Option<&str>) -> Result<Vec<HeldDelivery>, StorageError> {
        self.run(|client, _| held::list(client, reason))
    }

    pub fn held_delivery(&self, id: HeldId) -> Result<Option<HeldDelivery>, StorageError> {
        self.run(|client, _| held::get(client, id))
    }

    /// The held row is deleted first: if another replay took it meanwhile, nothing is stored.
    pub fn replay_held(
        &self,
        delivery: &HeldDelivery,
        event: SmartleadEvent,
    ) -> Result<Option<IngestOutcome>, StorageError> {
        let user: UserId = delivery.user_id.parse().map_err(stored_value)?;
        let org = OrgId::parse(&delivery.smartlead_org_id).map_err(stored_value)?;
        let received_at = UtcTimestamp::parse(&delivery.received_at).map_err(stored_value)?;
        let held_id = delivery.id.clone();
        self.write(true, |db| {
            if !held::remove(db, &held_id)? {
                return Ok(None);
            }
            super::events::ingest(db, user, &org, &event, received_at).map(Some)
        })
    }

    pub fn user_metrics(&self, user: UserId) -> Result<Vec<MetricRow>, StorageError> {
        self.run(|client, _| super::analytics::scope_metrics(client, user, ALL_CAMPAIGNS, None))
    }

    pub fn campaign_metrics(
        &self,
        user: UserId,
        campaign: &CampaignId,
    ) -> Result<Vec<MetricRow>, StorageError> {
        self.run(|client, _| super::analytics::scope_metrics(client, user, campaign.as_str(), None))
    }

    /// Replaces every rollup with a recomputation, in one transaction that locks the rollup
    /// tables against the services' writers for its length.
    pub fn rebuild_rollups(&self) -> Result<(), StorageError> {
        self.run(|client, cache| {
            let mut tx = client.transaction()?;
            // The projector's turn first (a running service's waits, then skips), then the
            // tables: in the order the projector takes them, so the two never deadlock.
            projection::catch_up(&mut Session::new(&mut tx, cache))?;
            tx.batch_execute(
                "LOCK TABLE rollup_hourly, rollup_daily, rollup_totals, rollup_steps IN EXCLUSIVE MODE",
            )?;
            rollups::rebuild(&mut tx)?;
            Ok(tx.commit()?)
        })
    }

    /// The rollup tables that differ from a recomputation, compared on one snapshot
    /// (REPEATABLE READ: the rollups and the events as of one instant).
    pub fn check_rollups(&self) -> Result<Vec<(&'static str, i64)>, StorageError> {
        self.run(|client, _| {
            let mut tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .start()?;
            let differences = rollups::check(&mut tx)?;
            tx.rollback()?;
            Ok(differences)
        })
    }

    /// `migrate-data` reads from SQLite only.
    pub fn read_rows(
        &self,
        _table: &str,
        _after: Option<&str>,
        _limit: usize,
    ) -> Result<RowBatch, StorageError> {
        Err(StorageError::Conflict(
            "migrate-data copies from a SQLite file (--from) into PostgreSQL (--to)".into(),
        ))
    }

    pub fn write_rows(&self, batch: &RowBatch) -> Result<(), StorageError> {
        self.run(|client, _| super::copy::write_rows(client, batch))
    }

    pub fn copy_position(&self, table: &str) -> Result<Option<CopyPosition>, StorageError> {
        self.run(|client, _| super::copy::position(client, table))
    }

    pub fn catch_up_projection(&self) -> Result<(), StorageError> {
        // Every write of the CLI's ends by projecting what is queued: an empty one does only that.
        self.write(true, |_| Ok(()))
    }

    pub fn finish_copy(&self) -> Result<(), StorageError> {
        self.run(|client, _| super::copy::finish(client))
    }

    pub fn count_rows(&self, table: &str) -> Result<i64, StorageError> {
        self.run(|client, _| super::copy::count_rows(client, table))
    }
}

fn stored_value(err: InvalidValue) -> StorageError {
    StorageError::Database(format!("a stored value: {}", err.0).into())
}
