//! Campaign labels on PostgreSQL (a campaign's name and status): noted with each delivery, in
//! its transaction, by the rule of `storage/campaigns.rs`; read by the campaign answers;
//! migration 016 fills them for the campaigns already stored.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use postgres::Row;

use super::session::Sql;
use super::StorageError;
use crate::domain::{CampaignId, CampaignLabels, UserId, UtcTimestamp};
use crate::storage::campaigns::{replaced, Replaced, StoredLabels};
use crate::storage::records::CampaignLabelRow;

/// Whether the row being inserted carries a newer `$label` than the stored one.
macro_rules! newer {
    ($label:literal, $at:literal) => {
        concat!(
            "(excluded.",
            $at,
            " IS NOT NULL AND (campaigns.",
            $at,
            " IS NULL OR (excluded.",
            $at,
            ", excluded.",
            $label,
            ") > (campaigns.",
            $at,
            ", campaigns.",
            $label,
            ")))"
        )
    };
}

/// The stored row, with the labels the event replaces (`$3`…`$6`; NULL: keep), each only if
/// it is still newer than the stored one when the row is locked.
static UPSERT_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let (name, status) = (newer!("name", "named_at"), newer!("status", "status_at"));
    format!(
        "INSERT INTO campaigns (user_id, campaign_id, name, named_at, status, status_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (user_id, campaign_id) DO UPDATE
         SET name = CASE WHEN {name} THEN excluded.name ELSE campaigns.name END,
             named_at = CASE WHEN {name} THEN excluded.named_at ELSE campaigns.named_at END,
             status = CASE WHEN {status} THEN excluded.status ELSE campaigns.status END,
             status_at = CASE WHEN {status} THEN excluded.status_at ELSE campaigns.status_at END,
             updated_at = excluded.updated_at"
    )
});

/// Notes the labels an event of time `at` gave the user's campaign; whether its row was
/// written. Several writers (and processes) may note the same campaign at once, so the upsert
/// repeats the rule per label: whichever commits last, the newest value stays.
pub fn note(
    db: &mut impl Sql,
    user: UserId,
    campaign: &str,
    labels: &CampaignLabels,
    at: UtcTimestamp,
    now: UtcTimestamp,
) -> Result<bool, StorageError> {
    if labels.is_empty() {
        return Ok(false);
    }
    let stored = db
        .query_opt(
            "SELECT name, named_at, status, status_at FROM campaigns
             WHERE user_id = $1 AND campaign_id = $2",
            &[&user.as_uuid(), &campaign],
        )?
        .map(|row| stored_labels(&row))
        .unwrap_or_default();
    let Some(Replaced { name, status }) = replaced(&stored, labels, at) else {
        return Ok(false);
    };
    let at = at.as_datetime();
    db.execute(
        &UPSERT_SQL,
        &[
            &user.as_uuid(),
            &campaign,
            &name,
            &name.map(|_| at),
            &status,
            &status.map(|_| at),
            &now.as_datetime(),
        ],
    )?;
    Ok(true)
}

/// Notes the labels of the user's campaigns as Smartlead listed them at `at`: the campaigns
/// whose name or status changed.
pub fn note_listed(
    db: &mut impl Sql,
    user: UserId,
    listed: &[(CampaignId, CampaignLabels)],
    at: UtcTimestamp,
    now: UtcTimestamp,
) -> Result<Vec<CampaignId>, StorageError> {
    let mut changed = Vec::new();
    for (campaign, labels) in listed {
        if note(db, user, campaign.as_str(), labels, at, now)? {
            changed.push(campaign.clone());
        }
    }
    Ok(changed)
}

fn stored_labels(row: &Row) -> StoredLabels {
    let label = |value: usize| {
        let text: Option<String> = row.get(value);
        let at: Option<DateTime<Utc>> = row.get(value + 1);
        text.zip(at.map(UtcTimestamp::from_datetime))
    };
    StoredLabels {
        name: label(0),
        status: label(2),
    }
}

/// The labels of those of `campaigns` that have any, in one probe of the primary key.
pub fn labels(
    client: &mut impl Sql,
    user: UserId,
    campaigns: &[String],
) -> Result<HashMap<String, CampaignLabelRow>, StorageError> {
    if campaigns.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = client.query(
        "SELECT campaign_id, name, status FROM campaigns WHERE user_id = $1 AND campaign_id = ANY($2)",
        &[&user.as_uuid(), &campaigns],
    )?;
    Ok(rows
        .iter()
        .map(|row| {
            let labels = CampaignLabelRow {
                name: row.get(1),
                status: row.get(2),
            };
            (row.get(0), labels)
        })
        .collect())
}
