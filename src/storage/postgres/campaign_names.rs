//! Campaign names on PostgreSQL: noted with each delivery, in its transaction, by the rule of
//! `storage/campaign_names.rs`; read by the campaign answers; migration 016 fills them for the
//! campaigns already stored.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::session::Sql;
use super::StorageError;
use crate::domain::{CampaignName, UserId, UtcTimestamp};
use crate::storage::campaign_names::supersedes;

/// Notes that an event of time `at` called the user's campaign `name`. Several writers (and
/// processes) may note the same campaign at once, so the upsert repeats the rule: whichever
/// commits last, the newest name stays.
pub fn note(
    db: &mut impl Sql,
    user: UserId,
    campaign: &str,
    name: &CampaignName,
    at: UtcTimestamp,
    now: UtcTimestamp,
) -> Result<(), StorageError> {
    let stored = db.query_opt(
        "SELECT name, named_at FROM campaign_names WHERE user_id = $1 AND campaign_id = $2",
        &[&user.as_uuid(), &campaign],
    )?;
    let stored = stored.map(|row| {
        (
            row.get::<_, String>(0),
            UtcTimestamp::from_datetime(row.get::<_, DateTime<Utc>>(1)),
        )
    });
    let stored = stored.as_ref().map(|(name, at)| (name.as_str(), *at));
    if !supersedes(stored, name.as_str(), at) {
        return Ok(());
    }
    db.execute(
        "INSERT INTO campaign_names (user_id, campaign_id, name, named_at, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id, campaign_id) DO UPDATE
         SET name = excluded.name, named_at = excluded.named_at, updated_at = excluded.updated_at
         WHERE (excluded.named_at, excluded.name) > (campaign_names.named_at, campaign_names.name)",
        &[
            &user.as_uuid(),
            &campaign,
            &name.as_str(),
            &at.as_datetime(),
            &now.as_datetime(),
        ],
    )?;
    Ok(())
}

/// The names of those of `campaigns` that have one, in one probe of the primary key.
pub fn names(
    client: &mut impl Sql,
    user: UserId,
    campaigns: &[String],
) -> Result<HashMap<String, String>, StorageError> {
    if campaigns.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = client.query(
        "SELECT campaign_id, name FROM campaign_names WHERE user_id = $1 AND campaign_id = ANY($2)",
        &[&user.as_uuid(), &campaigns],
    )?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}
