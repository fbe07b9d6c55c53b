//! The command line's storage on PostgreSQL: what [`Admin`](crate::storage::Admin) runs, over
//! one connection. Safe while services run: each change is one transaction, and the ingests
//! lock leads and upsert rollups exactly as the services' writers do.

use std::cell::RefCell;

use postgres::{Client, IsolationLevel};

use super::session::{Session, StatementCache};
use super::{connection, held, migrations, rollups, tokens, users, StorageError};
use crate::domain::{ApiToken, HeldId, InvalidValue, Mapped, OrgId, SmartleadEvent, TokenId};
use crate::domain::{CampaignId, EmailEvent, UserId, UtcTimestamp};
use crate::storage::location::PostgresUrl;
use crate::storage::records::{BackfillOutcome, MetricRow, User, WebhookTenant};
use crate::storage::records::{HeldDelivery, HeldLimits, IngestOutcome, NewUser};
use crate::storage::records::{PruneCursor, PruneStep, SmartleadCredentials, TokenInfo};
use crate::storage::rollup_counts::PendingCounts;

/// The connection sits in a `RefCell` so that the facade's reads take `&self` as on SQLite
/// (whose connection needs no `&mut` to read); the CLI is single-threaded.
pub struct PostgresAdmin {
    client: RefCell<Client>,
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
            client: RefCell::new(connection::connect(url)?),
            cache: RefCell::new(StatementCache::default()),
        })
    }

    /// Runs `work` in one transaction with the writer's session; committed when `commit`.
    fn write<T>(
        &self,
        commit: bool,
        work: impl FnOnce(&mut Session<'_, '_>, &mut PendingCounts) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut client = self.client.borrow_mut();
        let mut cache = self.cache.borrow_mut();
        let mut tx = client.transaction()?;
        let value = {
            let mut db = Session::new(&mut tx, &mut cache);
            let mut counts = PendingCounts::default();
            let value = work(&mut db, &mut counts)?;
            rollups::flush(&mut counts, &mut db)?;
            value
        };
        if commit {
            tx.commit()?;
        }
        Ok(value)
    }

    pub fn schema_version(&self) -> Result<usize, StorageError> {
        migrations::current_version(&mut *self.client.borrow_mut())
    }

    pub fn migration_names(&self) -> Vec<&'static str> {
        migrations::names().collect()
    }

    pub fn migrate_to_latest(&self) -> Result<(), StorageError> {
        migrations::to_latest(&mut self.client.borrow_mut())
    }

    pub fn migrate_to(&self, version: usize) -> Result<(), StorageError> {
        migrations::to_version(&mut self.client.borrow_mut(), version)
    }

    pub fn add_user(&self, new: &NewUser<'_>) -> Result<User, StorageError> {
        users::add_user(&mut *self.client.borrow_mut(), new)
    }

    pub fn webhook_tenant(&self, org: &OrgId) -> Result<Option<WebhookTenant>, StorageError> {
        users::webhook_tenant(&mut *self.client.borrow_mut(), org)
    }

    pub fn users(&self) -> Result<Vec<User>, StorageError> {
        users::list_users(&mut *self.client.borrow_mut())
    }

    pub fn user(&self, user: UserId) -> Result<Option<User>, StorageError> {
        users::find_user(&mut *self.client.borrow_mut(), user)
    }

    pub fn set_org(
        &self,
        user: UserId,
        org: &OrgId,
        name: Option<&str>,
    ) -> Result<User, StorageError> {
        users::set_org(&mut *self.client.borrow_mut(), user, org, name)
    }

    pub fn remove_user(&self, user: UserId) -> Result<Vec<(String, u64)>, StorageError> {
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction()?;
        let removed = users::remove_user(&mut tx, user)?;
        tx.commit()?;
        Ok(removed)
    }

    pub fn smartlead_credentials(
        &self,
        user: UserId,
    ) -> Result<Option<SmartleadCredentials>, StorageError> {
        users::smartlead_credentials(&mut *self.client.borrow_mut(), user)
    }

    pub fn set_smartlead_credentials(
        &self,
        user: UserId,
        credentials: &SmartleadCredentials,
    ) -> Result<(), StorageError> {
        users::set_smartlead_credentials(&mut *self.client.borrow_mut(), user, credentials)
    }

    pub fn issue_token(
        &self,
        user: UserId,
        name: Option<&str>,
    ) -> Result<(TokenId, ApiToken), StorageError> {
        tokens::issue(&mut *self.client.borrow_mut(), user, name)
    }

    pub fn tokens(&self, user: UserId) -> Result<Vec<TokenInfo>, StorageError> {
        tokens::list(&mut *self.client.borrow_mut(), user)
    }

    pub fn revoke_token(&self, id: TokenId) -> Result<(), StorageError> {
        tokens::revoke(&mut *self.client.borrow_mut(), id)
    }

    pub fn ingest_batch(
        &self,
        events: &[(UserId, OrgId, SmartleadEvent)],
        received_at: UtcTimestamp,
    ) -> Result<Vec<IngestOutcome>, StorageError> {
        self.write(true, |db, counts| {
            events
                .iter()
                .map(|(user, org, event)| {
                    super::events::ingest(db, counts, *user, org, event, received_at)
                })
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
        self.write(commit, |db, counts| {
            deliveries
                .iter()
                .map(|delivery| match delivery {
                    Mapped::Event(event) => {
                        super::events::ingest(db, counts, user, org, event, now)
                    }
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
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction()?;
        let step = super::retention::prune_step(&mut tx, before, cursor, limit)?;
        tx.commit()?;
        Ok(step)
    }

    pub fn backfill_batch(
        &self,
        user: UserId,
        org: &OrgId,
        events: &[EmailEvent],
        commit: bool,
    ) -> Result<Vec<BackfillOutcome>, StorageError> {
        let now = UtcTimestamp::now();
        self.write(commit, |db, counts| {
            super::backfill::backfill_all(db, counts, user, org, events, now)
        })
    }

    pub fn held_deliveries(&self, reason: Option<&str>) -> Result<Vec<HeldDelivery>, StorageError> {
        held::list(&mut *self.client.borrow_mut(), reason)
    }

    pub fn held_delivery(&self, id: HeldId) -> Result<Option<HeldDelivery>, StorageError> {
        held::get(&mut *self.client.borrow_mut(), id)
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
        self.write(true, |db, counts| {
            if !held::remove(db.tx(), &held_id)? {
                return Ok(None);
            }
            super::events::ingest(db, counts, user, &org, &event, received_at).map(Some)
        })
    }

    pub fn campaign_metrics(
        &self,
        user: UserId,
        campaign: &CampaignId,
    ) -> Result<Vec<MetricRow>, StorageError> {
        super::analytics::scope_metrics(
            &mut *self.client.borrow_mut(),
            user,
            campaign.as_str(),
            None,
        )
    }

    /// Replaces every rollup with a recomputation, in one transaction that locks the rollup
    /// tables against the services' writers for its length.
    pub fn rebuild_rollups(&self) -> Result<(), StorageError> {
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction()?;
        tx.batch_execute(
            "LOCK TABLE rollup_hourly, rollup_daily, rollup_totals, rollup_steps IN EXCLUSIVE MODE",
        )?;
        rollups::rebuild(&mut tx)?;
        Ok(tx.commit()?)
    }

    /// The rollup tables that differ from a recomputation, compared on one snapshot
    /// (REPEATABLE READ: the rollups and the events as of one instant).
    pub fn check_rollups(&self) -> Result<Vec<(&'static str, i64)>, StorageError> {
        let mut client = self.client.borrow_mut();
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .start()?;
        let differences = rollups::check(&mut tx)?;
        tx.rollback()?;
        Ok(differences)
    }
}

fn stored_value(err: InvalidValue) -> StorageError {
    StorageError::Database(format!("a stored value: {}", err.0).into())
}
