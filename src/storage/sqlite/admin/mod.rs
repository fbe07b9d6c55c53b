//! The command line's storage on SQLite: what [`Admin`](crate::storage::Admin) runs, over one
//! read-write connection. Safe while the service runs: each change is one short transaction.

use std::cell::OnceCell;
use std::path::Path;
use std::sync::Arc;

use rusqlite::{Connection, TransactionBehavior};

use super::payloads::{self, Payloads};
use super::StorageError;
use super::DEFAULT_BUSY_TIMEOUT;
use super::{forget, held, migrations, open_read_write, projection, rollups, tokens};
use super::{user_removal, users};
use crate::domain::UserId;
use crate::domain::{ApiToken, HeldId, InvalidValue, Mapped, OrgId, SmartleadEvent, TokenId};
use crate::domain::{CampaignId, EmailAddress, UtcTimestamp};
use crate::storage::records::{BackupSummary, IngestOutcome, NewUser, SmartleadCredentials};
use crate::storage::records::{CopyPosition, RowBatch};
use crate::storage::records::{ForgottenLead, MetricRow, User, UserRemoval, WebhookTenant};
use crate::storage::records::{HeldDelivery, HeldLimits, PruneCursor, PruneStep, TokenInfo};
use crate::storage::records::{PayloadForm, PayloadUsage, RecompressStep, TrainedDictionary};
use crate::storage::rollup_counts::ALL_CAMPAIGNS;

mod sync;

pub struct SqliteAdmin {
    conn: Connection,
    /// Loaded at first use, once the file is at the version the command works on.
    payloads: OnceCell<Arc<Payloads>>,
}

impl SqliteAdmin {
    /// The database at `path`, created and migrated to the latest schema if needed.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let mut admin = Self::open_as_is(path)?;
        admin.migrate_to_latest()?;
        Ok(admin)
    }

    /// The database at `path` at whatever version it is (for `migrate`).
    pub fn open_as_is(path: &Path) -> Result<Self, StorageError> {
        Ok(Self {
            conn: open_read_write(path, DEFAULT_BUSY_TIMEOUT)?,
            payloads: OnceCell::new(),
        })
    }

    pub fn backup(
        source: &Path,
        target: &Path,
        page_size: Option<u32>,
    ) -> Result<BackupSummary, StorageError> {
        super::backup(source, target, page_size, DEFAULT_BUSY_TIMEOUT)
    }

    /// The file's payload codec (see [`Payloads`]).
    fn payloads(&self) -> Result<Arc<Payloads>, StorageError> {
        if let Some(payloads) = self.payloads.get() {
            return Ok(payloads.clone());
        }
        let payloads = Arc::new(Payloads::load(&self.conn)?);
        Ok(self.payloads.get_or_init(|| payloads).clone())
    }

    pub fn schema_version(&self) -> Result<usize, StorageError> {
        migrations::current_version(&self.conn)
    }

    pub fn migration_names(&self) -> Vec<&'static str> {
        migrations::names().collect()
    }

    pub fn migrate_to_latest(&mut self) -> Result<(), StorageError> {
        self.payloads.take();
        migrations::to_latest(&mut self.conn)
    }

    /// Up or down to `version` (down steps delete what the undone migrations added).
    pub fn migrate_to(&mut self, version: usize) -> Result<(), StorageError> {
        // Below migration 012 the codec must write text again.
        self.payloads.take();
        migrations::to_version(&mut self.conn, version)
    }

    pub fn add_user(&self, new: &NewUser<'_>) -> Result<User, StorageError> {
        users::add_user(&self.conn, new)
    }

    pub fn webhook_tenant(&self, org: &OrgId) -> Result<Option<WebhookTenant>, StorageError> {
        users::webhook_tenant(&self.conn, org)
    }

    pub fn users(&self) -> Result<Vec<User>, StorageError> {
        users::list_users(&self.conn)
    }

    pub fn user(&self, user: UserId) -> Result<Option<User>, StorageError> {
        users::find_user(&self.conn, user)
    }

    pub fn set_org(
        &self,
        user: UserId,
        org: &OrgId,
        name: Option<&str>,
    ) -> Result<User, StorageError> {
        users::set_org(&self.conn, user, org, name)
    }

    /// How many rows of each table removing the user would delete.
    pub fn user_rows(&self, user: UserId) -> Result<Vec<(String, u64)>, StorageError> {
        Ok(users::shown_counts(users::user_rows(&self.conn, user)?))
    }

    /// The user's rows `batch` at a time, each batch its own transaction, then the user row.
    pub fn remove_user(
        &mut self,
        user: UserId,
        batch: usize,
        progress: &mut dyn FnMut(&str, u64),
    ) -> Result<UserRemoval, StorageError> {
        user_removal::remove_user(&mut self.conn, user, batch, progress)
    }

    /// Replaces one address's personal data in place (`leads forget`), in one transaction;
    /// with `secure_delete` on, so that the replaced text is zeroed in the file.
    pub fn forget_lead(
        &mut self,
        user: UserId,
        email: &EmailAddress,
    ) -> Result<ForgottenLead, StorageError> {
        self.conn.pragma_update(None, "secure_delete", true)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let forgotten = forget::forget_lead(&tx, user, email)?;
        tx.commit()?;
        Ok(forgotten)
    }

    pub fn smartlead_credentials(
        &self,
        user: UserId,
    ) -> Result<Option<SmartleadCredentials>, StorageError> {
        users::smartlead_credentials(&self.conn, user)
    }

    pub fn set_smartlead_credentials(
        &self,
        user: UserId,
        credentials: &SmartleadCredentials,
    ) -> Result<(), StorageError> {
        users::set_smartlead_credentials(&self.conn, user, credentials)
    }

    /// A new token for `user`: the token itself is returned once, only its hash is kept.
    pub fn issue_token(
        &self,
        user: UserId,
        name: Option<&str>,
        expires_at: Option<UtcTimestamp>,
    ) -> Result<(TokenId, ApiToken), StorageError> {
        tokens::issue(&self.conn, user, name, expires_at)
    }

    pub fn tokens(&self, user: UserId) -> Result<Vec<TokenInfo>, StorageError> {
        tokens::list(&self.conn, user)
    }

    pub fn revoke_token(&self, id: TokenId) -> Result<(), StorageError> {
        tokens::revoke(&self.conn, id)
    }

    /// Stores `events` in one transaction, as one writer batch does: each through the same
    /// `ingest` as a webhook delivery (dedupe, lead), then projected (rollups, leads' activity)
    /// before the COMMIT. For seeding and tests, which want to choose the batches.
    pub fn ingest_batch(
        &mut self,
        events: &[(UserId, OrgId, SmartleadEvent)],
        received_at: UtcTimestamp,
    ) -> Result<Vec<IngestOutcome>, StorageError> {
        let payloads = self.payloads()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let outcomes = events
            .iter()
            .map(|(user, org, event)| {
                super::events::ingest(&tx, &payloads, *user, org, event, received_at)
            })
            .collect::<Result<_, _>>()?;
        projection::catch_up(&tx)?;
        tx.commit()?;
        Ok(outcomes)
    }

    pub fn import_batch(
        &mut self,
        user: UserId,
        org: &OrgId,
        deliveries: &[Mapped],
        limits: HeldLimits,
        commit: bool,
    ) -> Result<Vec<IngestOutcome>, StorageError> {
        let now = UtcTimestamp::now();
        let payloads = self.payloads()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcomes = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            outcomes.push(match delivery {
                Mapped::Event(event) => {
                    super::events::ingest(&tx, &payloads, user, org, event, now)?
                }
                Mapped::Unmapped(unmapped) => held::hold(&tx, user, org, unmapped, limits)?.outcome,
            });
        }
        projection::catch_up(&tx)?;
        if commit {
            tx.commit()?;
        }
        Ok(outcomes)
    }

    pub fn prune_step(
        &mut self,
        before: UtcTimestamp,
        cursor: &PruneCursor,
        limit: usize,
    ) -> Result<PruneStep, StorageError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let step = super::retention::prune_step(&tx, before, cursor, limit)?;
        tx.commit()?;
        Ok(step)
    }

    /// Events and bytes per stored payload form (a full pass over the events).
    pub fn payload_usage(&self) -> Result<PayloadUsage, StorageError> {
        payloads::recompress::usage(&self.conn)
    }

    pub fn train_payload_dictionary(&mut self) -> Result<TrainedDictionary, StorageError> {
        let codec = self.payloads()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let trained = payloads::train(&tx, &codec)?;
        tx.commit()?;
        Ok(trained)
    }

    /// One step of the pass rewriting stored payloads into `form`, in its own transaction.
    pub fn recompress_step(
        &mut self,
        form: PayloadForm,
        limit: usize,
    ) -> Result<RecompressStep, StorageError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let codec = Payloads::for_form(&tx, form)?;
        let step = payloads::recompress::step(&tx, &codec, limit)?;
        tx.commit()?;
        Ok(step)
    }

    pub fn held_deliveries(&self, reason: Option<&str>) -> Result<Vec<HeldDelivery>, StorageError> {
        held::list(&self.conn, reason)
    }

    pub fn held_delivery(&self, id: HeldId) -> Result<Option<HeldDelivery>, StorageError> {
        held::get(&self.conn, id)
    }

    /// The held row is deleted first: if another replay took it meanwhile, nothing is stored.
    pub fn replay_held(
        &mut self,
        held: &HeldDelivery,
        event: SmartleadEvent,
    ) -> Result<Option<IngestOutcome>, StorageError> {
        let id: HeldId = held.id.parse().map_err(stored_value)?;
        let user: UserId = held.user_id.parse().map_err(stored_value)?;
        let org = OrgId::parse(&held.smartlead_org_id).map_err(stored_value)?;
        let received_at = UtcTimestamp::parse(&held.received_at).map_err(stored_value)?;
        let payloads = self.payloads()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !held::remove(&tx, id)? {
            return Ok(None);
        }
        let outcome = super::events::ingest(&tx, &payloads, user, &org, &event, received_at)?;
        projection::catch_up(&tx)?;
        tx.commit()?;
        Ok(Some(outcome))
    }

    pub fn user_metrics(&self, user: UserId) -> Result<Vec<MetricRow>, StorageError> {
        super::analytics::scope_metrics(&self.conn, user, ALL_CAMPAIGNS, None)
    }

    pub fn campaign_metrics(
        &self,
        user: UserId,
        campaign: &CampaignId,
    ) -> Result<Vec<MetricRow>, StorageError> {
        super::analytics::scope_metrics(&self.conn, user, campaign.as_str(), None)
    }

    /// Replaces every rollup with a recomputation from the events, in one transaction that
    /// holds the write lock for its length.
    pub fn rebuild_rollups(&mut self) -> Result<(), StorageError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        rollups::rebuild(&tx)?;
        Ok(tx.commit()?)
    }

    /// The rollup tables that differ from a recomputation, with how many rows differ: compared
    /// in one read transaction, so on one consistent snapshot.
    pub fn check_rollups(&mut self) -> Result<Vec<(&'static str, i64)>, StorageError> {
        let tx = self.conn.transaction()?;
        let differences = rollups::check(&tx)?;
        tx.rollback()?;
        Ok(differences)
    }

    pub fn read_rows(
        &self,
        table: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<RowBatch, StorageError> {
        let payloads = self.payloads()?;
        super::copy::read_rows(&self.conn, &payloads, table, after, limit)
    }

    /// `migrate-data` writes into PostgreSQL only.
    pub fn write_rows(&self, _batch: &RowBatch) -> Result<(), StorageError> {
        Err(copies_into_postgres())
    }

    pub fn copy_position(&self, _table: &str) -> Result<Option<CopyPosition>, StorageError> {
        Err(copies_into_postgres())
    }

    pub fn finish_copy(&self) -> Result<(), StorageError> {
        Err(copies_into_postgres())
    }

    pub fn catch_up_projection(&self) -> Result<(), StorageError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match projection::catch_up(&self.conn) {
            Ok(_) => Ok(self.conn.execute_batch("COMMIT")?),
            Err(err) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(err)
            }
        }
    }

    pub fn count_rows(&self, table: &str) -> Result<i64, StorageError> {
        super::copy::count_rows(&self.conn, table)
    }
}

fn copies_into_postgres() -> StorageError {
    StorageError::Conflict(
        "migrate-data copies from a SQLite file (--from) into PostgreSQL (--to)".into(),
    )
}

/// A stored value that does not parse: the file was changed by hand or damaged.
fn stored_value(err: InvalidValue) -> StorageError {
    StorageError::Database(format!("a stored value: {}", err.0).into())
}
