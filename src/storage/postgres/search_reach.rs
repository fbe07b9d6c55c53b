//! How far back an event search by type must read, as on SQLite (see its `search_reach`): no
//! matching event is older than the oldest the rollups counted or the oldest still queued for
//! the projector.

use chrono::{DateTime, Utc};

use super::session::Sql;
use super::values::text;
use super::StorageError;
use crate::domain::UserId;
use crate::storage::records::{EventFilter, SearchReach};
use crate::storage::rollup_counts::ALL_CAMPAIGNS;

pub(super) fn search_reach(
    client: &mut impl Sql,
    user: UserId,
    filter: &EventFilter,
) -> Result<SearchReach, StorageError> {
    let (metric, types) = match filter.reach_by_type() {
        Ok(typed) => typed,
        Err(reach) => return Ok(reach),
    };
    // The queue first: an event it no longer holds when the rollups are read next was projected
    // before, and is counted there. (One committed after this read was acknowledged after the
    // search began, which may leave it out.)
    let types: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    let campaign = filter.campaign_id.as_deref();
    let pending: Option<DateTime<Utc>> = client
        .query_one(
            "SELECT min(\"timestamp\") FROM projection_queue
             WHERE user_id = $1 AND event_type = ANY($2) AND ($3::text IS NULL OR campaign_id = $3)",
            &[&user.as_uuid(), &types, &campaign],
        )?
        .get(0);
    let projected: Option<DateTime<Utc>> = client
        .query_opt(
            "SELECT first_at FROM rollup_totals WHERE user_id = $1 AND campaign_id = $2 AND metric = $3",
            &[&user.as_uuid(), &campaign.unwrap_or(ALL_CAMPAIGNS), &metric],
        )?
        .map(|row| row.get(0));
    Ok(match projected.into_iter().chain(pending).min() {
        None => SearchReach::Nothing,
        Some(at) => SearchReach::From(text(at)),
    })
}
