//! The storage boundary the command line uses: synchronous (a command has no executor to keep
//! free), with the same migrations and rules as the service, on whichever backend the
//! [`Database`] names.

use super::postgres::PostgresAdmin;
use super::records::{BackfillOutcome, NewUser};
use super::records::{BackupSummary, HeldDelivery, HeldLimits, IngestOutcome, MetricRow};
use super::records::{CopyPosition, KeptPayload, RowBatch, UnnamedLead};
use super::records::{ForgottenLead, UserRemoval, WebhookTenant};
use super::records::{PayloadForm, PayloadUsage, RecompressStep, TrainedDictionary};
use super::records::{PruneCursor, PruneStep, SmartleadCredentials, TokenInfo, User};
use super::sqlite::SqliteAdmin;
use super::Database;
use super::StorageError;
use crate::domain::{ApiToken, CampaignId, HeldId, Mapped, OrgId, SmartleadEvent, TokenId};
use crate::domain::{CampaignLabels, EmailEvent, LeadProfile, UserId};
use crate::domain::{EmailAddress, UtcTimestamp};

pub struct Admin(Backend);

enum Backend {
    Sqlite(SqliteAdmin),
    Postgres(Box<PostgresAdmin>),
}

impl Admin {
    /// The database, created (a SQLite file) and migrated to the latest schema if needed.
    pub fn open(db: impl Into<Database>) -> Result<Self, StorageError> {
        Ok(Self(match db.into() {
            Database::Sqlite(path) => Backend::Sqlite(SqliteAdmin::open(&path)?),
            Database::Postgres(url) => Backend::Postgres(Box::new(PostgresAdmin::open(&url)?)),
        }))
    }

    /// The database at whatever version it is (for `migrate`).
    pub fn open_as_is(db: impl Into<Database>) -> Result<Self, StorageError> {
        Ok(Self(match db.into() {
            Database::Sqlite(path) => Backend::Sqlite(SqliteAdmin::open_as_is(&path)?),
            Database::Postgres(url) => {
                Backend::Postgres(Box::new(PostgresAdmin::open_as_is(&url)?))
            }
        }))
    }

    /// A consistent copy of the live SQLite database at `source`, written to `target` (which
    /// must not exist), taken without stopping the service's writes and checked before it is
    /// reported; with `page_size`, rebuilt with pages of that size. PostgreSQL has its own tools
    /// for this, which the error names.
    pub fn backup(
        source: &Database,
        target: &std::path::Path,
        page_size: Option<u32>,
    ) -> Result<BackupSummary, StorageError> {
        match source {
            Database::Sqlite(path) => SqliteAdmin::backup(path, target, page_size),
            Database::Postgres(_) => Err(StorageError::Conflict(
                "backup copies a SQLite file; on PostgreSQL use pg_dump, or the server's \
                 point-in-time recovery"
                    .into(),
            )),
        }
    }

    pub fn schema_version(&self) -> Result<usize, StorageError> {
        on_backend!(&self.0, admin => admin.schema_version())
    }

    /// Every migration's name, in order: version N is the first N applied.
    pub fn migration_names(&self) -> Vec<&'static str> {
        on_backend!(&self.0, admin => admin.migration_names())
    }

    pub fn migrate_to_latest(&mut self) -> Result<(), StorageError> {
        on_backend!(&mut self.0, admin => admin.migrate_to_latest())
    }

    /// Up or down to `version` (down steps delete what the undone migrations added).
    pub fn migrate_to(&mut self, version: usize) -> Result<(), StorageError> {
        on_backend!(&mut self.0, admin => admin.migrate_to(version))
    }

    pub fn add_user(&self, new: &NewUser<'_>) -> Result<User, StorageError> {
        on_backend!(&self.0, admin => admin.add_user(new))
    }

    /// The user and webhook secret behind a Smartlead org, if the org is known.
    pub fn webhook_tenant(&self, org: &OrgId) -> Result<Option<WebhookTenant>, StorageError> {
        on_backend!(&self.0, admin => admin.webhook_tenant(org))
    }

    pub fn users(&self) -> Result<Vec<User>, StorageError> {
        on_backend!(&self.0, admin => admin.users())
    }

    pub fn user(&self, user: UserId) -> Result<Option<User>, StorageError> {
        on_backend!(&self.0, admin => admin.user(user))
    }

    /// Moves the user to another Smartlead org (the webhook URL changes with it).
    pub fn set_org(
        &self,
        user: UserId,
        org: &OrgId,
        name: Option<&str>,
    ) -> Result<User, StorageError> {
        on_backend!(&self.0, admin => admin.set_org(user, org, name))
    }

    /// How many rows of each table [`Self::remove_user`] would delete now.
    pub fn user_rows(&self, user: UserId) -> Result<Vec<(String, u64)>, StorageError> {
        on_backend!(&self.0, admin => admin.user_rows(user))
    }

    /// Deletes the user and everything that belongs to it; how many rows of each table went.
    /// SQLite deletes `batch` rows per transaction, so that the service's deliveries wait for
    /// one batch at most; PostgreSQL, in one transaction, locks only the user's rows.
    /// `progress` hears of each batch: its table and the rows removed from it so far.
    pub fn remove_user(
        &mut self,
        user: UserId,
        batch: usize,
        progress: &mut dyn FnMut(&str, u64),
    ) -> Result<UserRemoval, StorageError> {
        on_backend!(&mut self.0, admin => admin.remove_user(user, batch, progress))
    }

    /// Replaces one address's personal data (`leads forget`): the lead gets a pseudonym for an
    /// address and loses its name and company, its events and kept events their payloads, and
    /// held deliveries naming the address are deleted; every count stays. One transaction.
    pub fn forget_lead(
        &mut self,
        user: UserId,
        email: &EmailAddress,
    ) -> Result<ForgottenLead, StorageError> {
        on_backend!(&mut self.0, admin => admin.forget_lead(user, email))
    }

    pub fn smartlead_credentials(
        &self,
        user: UserId,
    ) -> Result<Option<SmartleadCredentials>, StorageError> {
        on_backend!(&self.0, admin => admin.smartlead_credentials(user))
    }

    pub fn set_smartlead_credentials(
        &self,
        user: UserId,
        credentials: &SmartleadCredentials,
    ) -> Result<(), StorageError> {
        on_backend!(&self.0, admin => admin.set_smartlead_credentials(user, credentials))
    }

    /// A new token for `user`, refused from `expires_at` on if given: the token itself is
    /// returned once, only its hash is kept.
    pub fn issue_token(
        &self,
        user: UserId,
        name: Option<&str>,
        expires_at: Option<UtcTimestamp>,
    ) -> Result<(TokenId, ApiToken), StorageError> {
        on_backend!(&self.0, admin => admin.issue_token(user, name, expires_at))
    }

    pub fn tokens(&self, user: UserId) -> Result<Vec<TokenInfo>, StorageError> {
        on_backend!(&self.0, admin => admin.tokens(user))
    }

    pub fn revoke_token(&self, id: TokenId) -> Result<(), StorageError> {
        on_backend!(&self.0, admin => admin.revoke_token(id))
    }

    /// Stores `events` in one transaction, as one writer batch does (the same ingest as a
    /// webhook delivery), projects them before the COMMIT, without the fsync wait.
    pub fn ingest_batch(
        &mut self,
        events: &[(UserId, OrgId, SmartleadEvent)],
        received_at: UtcTimestamp,
    ) -> Result<Vec<IngestOutcome>, StorageError> {
        on_backend!(&mut self.0, admin => admin.ingest_batch(events, received_at))
    }

    /// Stores a batch of deliveries for `user`'s `org` in one transaction, as a writer batch
    /// does: events through the webhook's ingest (dedupe, lead, rollups), unmapped ones held
    /// within `limits`. A dry run (`commit` false) rolls the transaction back: the outcomes say
    /// what would have happened, and nothing changes.
    pub fn import_batch(
        &mut self,
        user: UserId,
        org: &OrgId,
        deliveries: &[Mapped],
        limits: HeldLimits,
        commit: bool,
    ) -> Result<Vec<IngestOutcome>, StorageError> {
        on_backend!(&mut self.0, admin => admin.import_batch(user, org, deliveries, limits, commit))
    }

    /// One step of payload pruning (see `Store::prune_step`), in its own transaction.
    pub fn prune_step(
        &mut self,
        before: UtcTimestamp,
        cursor: &PruneCursor,
        limit: usize,
    ) -> Result<PruneStep, StorageError> {
        on_backend!(&mut self.0, admin => admin.prune_step(before, cursor, limit))
    }

    /// Events and bytes per stored payload form. SQLite only, like the three below: PostgreSQL
    /// compresses large values itself (TOAST) and keeps payloads as JSONB.
    pub fn payload_usage(&self) -> Result<PayloadUsage, StorageError> {
        match &self.0 {
            Backend::Sqlite(admin) => admin.payload_usage(),
            Backend::Postgres(_) => Err(sqlite_only()),
        }
    }

    /// Trains a dictionary on the file's own payloads and makes it the newest.
    pub fn train_payload_dictionary(&mut self) -> Result<TrainedDictionary, StorageError> {
        match &mut self.0 {
            Backend::Sqlite(admin) => admin.train_payload_dictionary(),
            Backend::Postgres(_) => Err(sqlite_only()),
        }
    }

    /// One step (one transaction) of the resumable pass rewriting stored payloads into `form`.
    pub fn recompress_step(
        &mut self,
        form: PayloadForm,
        limit: usize,
    ) -> Result<RecompressStep, StorageError> {
        match &mut self.0 {
            Backend::Sqlite(admin) => admin.recompress_step(form, limit),
            Backend::Postgres(_) => Err(sqlite_only()),
        }
    }

    /// Stores events built from Smartlead's REST statistics for the emails whose webhook never
    /// came (skipping kinds the lead already has at that step), in one transaction; a dry run
    /// rolls it back.
    pub fn backfill_batch(
        &mut self,
        user: UserId,
        org: &OrgId,
        events: &[EmailEvent],
        commit: bool,
    ) -> Result<Vec<BackfillOutcome>, StorageError> {
        on_backend!(&mut self.0, admin => admin.backfill_batch(user, org, events, commit))
    }

    /// Notes the campaigns' labels as Smartlead listed them at `at` (see
    /// `Store::label_campaigns`), in one transaction; a dry run rolls it back.
    pub fn label_campaigns(
        &mut self,
        user: UserId,
        listed: &[(CampaignId, CampaignLabels)],
        at: UtcTimestamp,
        commit: bool,
    ) -> Result<Vec<CampaignId>, StorageError> {
        on_backend!(&mut self.0, admin => admin.label_campaigns(user, listed, at, commit))
    }

    /// Up to `limit` leads with no profile time (stored before migration 017, or never named),
    /// in id order after `after`, each with the payloads of its newest `events` email events.
    pub fn unnamed_leads(
        &mut self,
        after: Option<&str>,
        limit: usize,
        events: usize,
    ) -> Result<Vec<UnnamedLead>, StorageError> {
        on_backend!(&mut self.0, admin => admin.unnamed_leads(after, limit, events))
    }

    /// Kept (non-email) events that belong to a lead, in id order after `after`, with their
    /// payloads: what `leads name` reads companies from.
    pub fn kept_payloads(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<KeptPayload>, StorageError> {
        on_backend!(&self.0, admin => admin.kept_payloads(after, limit))
    }

    /// Notes each lead's profile as an event of its time gave it (the rule of
    /// `storage/lead_profiles.rs`), in one transaction; how many were written. A dry run rolls
    /// it back.
    pub fn name_leads(
        &mut self,
        named: &[(String, LeadProfile, UtcTimestamp)],
        commit: bool,
    ) -> Result<usize, StorageError> {
        on_backend!(&mut self.0, admin => admin.name_leads(named, commit))
    }

    /// Held deliveries (only those held for `reason`, if given), oldest first, no payloads.
    pub fn held_deliveries(&self, reason: Option<&str>) -> Result<Vec<HeldDelivery>, StorageError> {
        on_backend!(&self.0, admin => admin.held_deliveries(reason))
    }

    /// One held delivery, with its payload.
    pub fn held_delivery(&self, id: HeldId) -> Result<Option<HeldDelivery>, StorageError> {
        on_backend!(&self.0, admin => admin.held_delivery(id))
    }

    /// Stores `event`, mapped from the held delivery `held`, and forgets the held delivery, in
    /// one transaction. `None` when it is no longer held (replayed meanwhile): nothing changes.
    pub fn replay_held(
        &mut self,
        held: &HeldDelivery,
        event: SmartleadEvent,
    ) -> Result<Option<IngestOutcome>, StorageError> {
        on_backend!(&mut self.0, admin => admin.replay_held(held, event))
    }

    /// The user's all-time metrics across campaigns (empty before its first projected event).
    pub fn user_metrics(&self, user: UserId) -> Result<Vec<MetricRow>, StorageError> {
        on_backend!(&self.0, admin => admin.user_metrics(user))
    }

    /// A campaign's all-time metrics (empty when the user has no events in it).
    pub fn campaign_metrics(
        &self,
        user: UserId,
        campaign: &CampaignId,
    ) -> Result<Vec<MetricRow>, StorageError> {
        on_backend!(&self.0, admin => admin.campaign_metrics(user, campaign))
    }

    /// Replaces every rollup with a recomputation from the events, in one transaction.
    pub fn rebuild_rollups(&mut self) -> Result<(), StorageError> {
        on_backend!(&mut self.0, admin => admin.rebuild_rollups())
    }

    /// The rollup tables that differ from a recomputation (one consistent snapshot), with how
    /// many rows differ.
    pub fn check_rollups(&mut self) -> Result<Vec<(&'static str, i64)>, StorageError> {
        on_backend!(&mut self.0, admin => admin.check_rollups())
    }

    /// Up to `limit` rows of `table` after `after` (a previous batch's `next`), every value as
    /// text: the source side of `migrate-data` (SQLite).
    pub fn read_rows(
        &self,
        table: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<RowBatch, StorageError> {
        on_backend!(&self.0, admin => admin.read_rows(table, after, limit))
    }

    /// Inserts a batch read by [`Admin::read_rows`] (rows already there skipped) and records
    /// how far the copy of its table got, in one transaction: the target side (PostgreSQL).
    pub fn write_rows(&self, batch: &RowBatch) -> Result<(), StorageError> {
        on_backend!(&self.0, admin => admin.write_rows(batch))
    }

    /// How far a copy into this database got with `table` (`None`: not started).
    pub fn copy_position(&self, table: &str) -> Result<Option<CopyPosition>, StorageError> {
        on_backend!(&self.0, admin => admin.copy_position(table))
    }

    /// Applies every event the projector has not applied yet (rollups, leads' activity).
    pub fn catch_up_projection(&self) -> Result<(), StorageError> {
        on_backend!(&self.0, admin => admin.catch_up_projection())
    }

    /// Forgets a complete copy's positions.
    pub fn finish_copy(&self) -> Result<(), StorageError> {
        on_backend!(&self.0, admin => admin.finish_copy())
    }

    pub fn count_rows(&self, table: &str) -> Result<i64, StorageError> {
        on_backend!(&self.0, admin => admin.count_rows(table))
    }
}

fn sqlite_only() -> StorageError {
    StorageError::Conflict(
        "payload compression is the SQLite file's: PostgreSQL compresses large values itself \
         (TOAST) and keeps event_data as JSONB"
            .into(),
    )
}
