//! What `smartlead sync` and `leads name` write through [`SqliteAdmin`]: events backfilled from
//! Smartlead's REST API, campaign names and statuses, and leads named from stored payloads.

use rusqlite::TransactionBehavior;

use super::super::{backfill, campaigns, leads, projection};
use super::SqliteAdmin;
use crate::domain::UtcTimestamp;
use crate::domain::{CampaignId, CampaignLabels, EmailEvent, LeadProfile, OrgId, UserId};
use crate::storage::records::{BackfillOutcome, KeptPayload, UnnamedLead};
use crate::storage::StorageError;

impl SqliteAdmin {
    pub fn backfill_batch(
        &mut self,
        user: UserId,
        org: &OrgId,
        events: &[EmailEvent],
        commit: bool,
    ) -> Result<Vec<BackfillOutcome>, StorageError> {
        let now = UtcTimestamp::now();
        let payloads = self.payloads()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let outcomes = backfill::backfill_all(&tx, &payloads, user, org, events, now)?;
        projection::catch_up(&tx)?;
        if commit {
            tx.commit()?;
        }
        Ok(outcomes)
    }

    pub fn label_campaigns(
        &mut self,
        user: UserId,
        listed: &[(CampaignId, CampaignLabels)],
        at: UtcTimestamp,
        commit: bool,
    ) -> Result<Vec<CampaignId>, StorageError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = campaigns::note_listed(&tx, user, listed, at, UtcTimestamp::now())?;
        if commit {
            tx.commit()?;
        }
        Ok(changed)
    }

    pub fn unnamed_leads(
        &mut self,
        after: Option<&str>,
        limit: usize,
        events: usize,
    ) -> Result<Vec<UnnamedLead>, StorageError> {
        let payloads = self.payloads()?;
        leads::unnamed(&self.conn, &payloads, after, limit, events)
    }

    pub fn kept_payloads(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<KeptPayload>, StorageError> {
        leads::kept_payloads(&self.conn, after, limit)
    }

    pub fn name_leads(
        &mut self,
        named: &[(String, LeadProfile, UtcTimestamp)],
        commit: bool,
    ) -> Result<usize, StorageError> {
        let now = UtcTimestamp::now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut written = 0;
        for (lead, profile, at) in named {
            written += usize::from(leads::name(&tx, lead, profile, *at, now)?);
        }
        if commit {
            tx.commit()?;
        }
        Ok(written)
    }
}
