//! The projector on SQLite (the arithmetic is `storage/projection.rs`): reads the events above
//! the watermark in seq order, folds them, writes the rollup rows and the leads' activity, and
//! moves the watermark, all in the caller's transaction (the writer's, or the CLI's).
//!
//! seq is handed out by the one writer, so the order it is assigned in is the commit order:
//! everything at or below the watermark has been projected, nothing above it has.

use std::sync::LazyLock;

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::keys::{lead_id_of, lead_key, user_id_of};
use super::{rollups, StorageError};
use crate::domain::{CampaignId, EventType, UserId, UtcTimestamp};
use crate::storage::projection::{fold, Earliest, LeadHistory, PendingEvent, Projection};
use crate::storage::rollup_counts::{headline_case_sql, metrics};

/// The value a new event's seq takes: one past the highest given out. The watermark counts too,
/// so that a seq freed by deleting the newest event (a user removed) is never given out again
/// below the watermark, where the projector would never see it.
/// (`seq IS NOT NULL` lets the planner read the maximum off the partial index: without it,
/// every insert scanned the table.)
pub const NEXT_SEQ_SQL: &str =
    "(SELECT max(COALESCE((SELECT max(seq) FROM email_event_rows WHERE seq IS NOT NULL), 0),
                 (SELECT through FROM projection_watermark WHERE id = 1)) + 1)";

/// Every event with seq at or below this is in the rollups and its lead's activity.
pub fn watermark(conn: &Connection) -> Result<i64, StorageError> {
    Ok(conn
        .prepare_cached("SELECT through FROM projection_watermark WHERE id = 1")?
        .query_row([], |row| row.get(0))?)
}

/// The highest seq given out (0: none yet).
pub fn latest_seq(conn: &Connection) -> Result<i64, StorageError> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(max(seq), 0) FROM email_event_rows WHERE seq IS NOT NULL")?
        .query_row([], |row| row.get(0))?)
}

/// What one projection did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Projected {
    pub through: i64,
    pub events: usize,
    pub oldest_received: Option<UtcTimestamp>,
}

/// Projects up to `limit` events above the watermark, in the caller's write transaction.
pub fn project(conn: &Connection, limit: usize) -> Result<Projected, StorageError> {
    let from = watermark(conn)?;
    let pending = pending(conn, from, limit)?;
    if pending.is_empty() {
        return Ok(Projected {
            through: from,
            ..Projected::default()
        });
    }
    let Projection {
        mut counts,
        activity,
        through,
        events,
        oldest_received,
    } = fold(&pending, |event, lead| {
        Ok(LeadHistory {
            earliest: earliest_projected(conn, lead, &event.campaign, event.event_type, from)?,
            step_seen: step_seen(conn, lead, event, from)?,
        })
    })?;
    rollups::flush(&mut counts, conn)?;
    let now = UtcTimestamp::now().to_string();
    // Only a newer event moves the lead's latest activity, so any arrival order ends in the same
    // row (the order is a total one: time, then type, then campaign).
    let mut update = conn.prepare_cached(
        "UPDATE leads
         SET last_email_event = ?1, last_event_timestamp = ?2, smartlead_campaign_id = ?3, updated_at = ?5
         WHERE id = ?4
           AND (last_event_timestamp IS NULL
                OR (last_event_timestamp, COALESCE(last_email_event, ''), COALESCE(smartlead_campaign_id, ''))
                   < (?2, ?1, ?3))",
    )?;
    for ((_, lead), latest) in &activity {
        update.execute(params![
            latest.event_type,
            latest.at,
            latest.campaign,
            lead,
            now
        ])?;
    }
    conn.prepare_cached(
        "UPDATE projection_watermark SET through = ?1, updated_at = ?2 WHERE id = 1",
    )?
    .execute(params![through, now])?;
    Ok(Projected {
        through,
        events,
        oldest_received,
    })
}

/// Projects everything pending, in the caller's transaction: the CLI's writes end with this, so
/// that a command leaves the rollups complete, as the service's answers after their wait.
pub fn catch_up(conn: &Connection) -> Result<i64, StorageError> {
    loop {
        let done = project(conn, crate::storage::projection::MAX_EVENTS)?;
        if done.events == 0 {
            return Ok(done.through);
        }
    }
}

fn pending(
    conn: &Connection,
    through: i64,
    limit: usize,
) -> Result<Vec<PendingEvent>, StorageError> {
    // The ids through subqueries, so that the rows' seq index alone drives the scan.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT seq, {}, {}, campaign_id, event_type, timestamp, COALESCE(sequence_step, 1), created_at
         FROM email_event_rows WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        user_id_of("email_event_rows"),
        lead_id_of("email_event_rows"),
    ))?;
    let rows = stmt.query_map(params![through, limit as i64], pending_event)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn pending_event(row: &Row) -> rusqlite::Result<PendingEvent> {
    fn parsed<T, E: std::error::Error + Send + Sync + 'static>(
        column: usize,
        value: Result<T, E>,
    ) -> rusqlite::Result<T> {
        value.map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                column,
                rusqlite::types::Type::Text,
                Box::new(e),
            )
        })
    }
    let text = |column: usize| row.get_ref(column).and_then(|v| Ok(v.as_str()?.to_owned()));
    Ok(PendingEvent {
        seq: row.get(0)?,
        user: parsed(1, text(1)?.parse::<UserId>())?,
        lead: row.get(2)?,
        campaign: parsed(3, CampaignId::parse(&text(3)?).map_err(|e| ValueError(e.0)))?,
        event_type: parsed(4, text(4)?.parse::<EventType>())?,
        at: parsed(
            5,
            UtcTimestamp::parse(&text(5)?).map_err(|e| ValueError(e.0)),
        )?,
        step: row.get::<_, i64>(6)?.clamp(1, i64::from(u32::MAX)) as u32,
        received_at: parsed(
            7,
            UtcTimestamp::parse(&text(7)?).map_err(|e| ValueError(e.0)),
        )?,
    })
}

/// A stored value that does not parse (the columns' CHECKs make this a corrupted file).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ValueError(String);

/// The first-seen walk's query (the lead's id is `?1`), run for every projected event.
static EARLIEST_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT campaign_id, event_type, timestamp FROM email_event_rows
         WHERE lead_key = {} AND (seq IS NULL OR seq <= ?2) ORDER BY timestamp",
        lead_key("?1")
    )
});

/// Whether the lead has a projected event of the step's query's headline kind (`?3`) at step
/// `?4` of campaign `?2` (the lead's id is `?1`, the watermark `?5`).
static STEP_SEEN_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT 1 FROM email_event_rows
         WHERE lead_key = {} AND campaign_id = ?2 AND {} = ?3
           AND COALESCE(sequence_step, 1) = ?4 AND (seq IS NULL OR seq <= ?5)
         LIMIT 1",
        lead_key("?1"),
        headline_case_sql()
    )
});

/// The plans of the projector's scan of pending events and of the next seq (run for every
/// stored event), so that tests can check that neither reads the table.
pub fn seq_plans(conn: &Connection) -> Result<Vec<Vec<String>>, StorageError> {
    Ok(vec![
        super::analytics::plans::explain(conn, &format!("SELECT {NEXT_SEQ_SQL}"), [])?,
        super::analytics::plans::explain(
            conn,
            "SELECT seq FROM email_event_rows WHERE seq > ?1 ORDER BY seq LIMIT 10",
            [0],
        )?,
    ])
}

/// The query plan of the first-seen walk, so that tests can check it stays on one lead's
/// index entries.
pub fn first_seen_plan(conn: &Connection) -> Result<Vec<String>, StorageError> {
    super::analytics::plans::explain(conn, &EARLIEST_SQL, ["lead", "0"])
}

/// The query plan of the step look-up, so that tests can check it stays on one lead's entries.
pub fn step_seen_plan(conn: &Connection) -> Result<Vec<String>, StorageError> {
    super::analytics::plans::explain(conn, &STEP_SEEN_SQL, ["lead", "1", "opened", "1", "0"])
}

/// Whether the event's lead has a projected event (seq at or below `through`) of the event's
/// headline kind at its step of its campaign: the lead's index entries, the table's row read
/// only for an entry of that campaign and kind (for its step). `false` for a type without one.
fn step_seen(
    conn: &Connection,
    lead: &str,
    event: &PendingEvent,
    through: i64,
) -> Result<bool, StorageError> {
    let Some(kind) = event.event_type.headline() else {
        return Ok(false);
    };
    Ok(conn
        .prepare_cached(&STEP_SEEN_SQL)?
        .query_row(
            params![
                lead,
                event.campaign.as_str(),
                kind.as_str(),
                event.step,
                through
            ],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The lead's earliest projected event (seq at or below `through`) of each metric `event_type`
/// counts towards, in `campaign` and in any campaign. idx_email_events_lead_timestamp walks one
/// lead's entries, oldest first, and the walk stops once every answer is known.
fn earliest_projected(
    conn: &Connection,
    lead: &str,
    campaign: &CampaignId,
    event_type: EventType,
    through: i64,
) -> Result<Vec<Earliest>, StorageError> {
    let mut found: Vec<Earliest> = metrics(event_type)
        .map(|metric| Earliest {
            metric,
            ..Earliest::default()
        })
        .collect();
    let mut stmt = conn.prepare_cached(&EARLIEST_SQL)?;
    let mut rows = stmt.query(params![lead, through])?;
    // The first match in time order is the earliest, and a campaign's earliest is never
    // earlier than the user-wide one: once every campaign answer is in, all are.
    while found.iter().any(|e| e.in_campaign.is_none()) {
        let Some(row) = rows.next()? else { break };
        let (stored_campaign, stored_type, at) = stored_event(row)?;
        let same_campaign = stored_campaign == campaign.as_str();
        for earliest in found.iter_mut() {
            if !metrics(stored_type).any(|m| m == earliest.metric) {
                continue;
            }
            earliest.user_wide.get_or_insert_with(|| at.to_owned());
            if same_campaign {
                earliest.in_campaign.get_or_insert_with(|| at.to_owned());
            }
        }
    }
    Ok(found)
}

/// (campaign, type, time) of a row of [`earliest_projected`]'s query, borrowed from the row.
fn stored_event<'a>(row: &'a Row) -> rusqlite::Result<(&'a str, EventType, &'a str)> {
    let event_type = row.get_ref(1)?.as_str()?;
    // The column's CHECK admits only these names: a failure here is a corrupted file.
    let event_type = event_type.parse().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok((
        row.get_ref(0)?.as_str()?,
        event_type,
        row.get_ref(2)?.as_str()?,
    ))
}
