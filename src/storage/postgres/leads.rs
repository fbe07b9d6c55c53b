//! A delivery's lead on PostgreSQL: found by its address, created when new, and its name and
//! company kept by the rule of `storage/lead_profiles.rs`, in the delivery's transaction.

use chrono::{DateTime, Utc};
use postgres::Row;
use uuid::Uuid;

use super::session::{Session, Sql};
use super::values::{clean, id_text};
use super::StorageError;
use crate::domain::UtcTimestamp;
use crate::domain::{CampaignId, EmailAddress, LeadId, LeadProfile, ProfileText, UserId};
use crate::storage::lead_profiles::{updated, StoredProfile};
use crate::storage::records::{KeptPayload, UnnamedLead};

const FIND: &str = "SELECT id, first_name, last_name, company, profile_at
                    FROM leads WHERE user_id = $1 AND email = $2";
const BY_ID: &str =
    "SELECT id, first_name, last_name, company, profile_at FROM leads WHERE id = $1";

/// The id of the user's lead with this email, created (with the campaign) when missing, and
/// whether it was created now; the profile an event of its time gives it noted either way. Not
/// locked: nothing in the ingest reads the lead's other events any more (the first-seen walk is
/// the projector's), and the unique keys settle races.
pub fn find_or_create(
    db: &mut Session<'_, '_>,
    user: UserId,
    email: &EmailAddress,
    campaign: Option<&CampaignId>,
    (profile, at): (&LeadProfile, UtcTimestamp),
    now: UtcTimestamp,
) -> Result<(Uuid, bool), StorageError> {
    if let Some(row) = db.query_opt(FIND, &[&user.as_uuid(), &email.as_str()])? {
        note(db, &row, profile, at, now)?;
        return Ok((row.get(0), false));
    }
    let id = LeadId::new().as_uuid();
    let part = |p: &Option<ProfileText>| p.as_ref().map(|t| clean(t.as_str()).into_owned());
    let inserted = db.query_opt(
        "INSERT INTO leads (id, user_id, email, smartlead_campaign_id, created_at, updated_at,
                            first_name, last_name, company, profile_at)
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9)
         ON CONFLICT (user_id, email) DO NOTHING
         RETURNING id",
        &[
            &id,
            &user.as_uuid(),
            &email.as_str(),
            &campaign.map(|c| clean(c.as_str()).into_owned()),
            &now.as_datetime(),
            &part(&profile.first_name),
            &part(&profile.last_name),
            &part(&profile.company),
            &(!profile.is_empty()).then(|| at.as_datetime()),
        ],
    )?;
    if let Some(row) = inserted {
        return Ok((row.get(0), true));
    }
    // Another process inserted it meanwhile (and has committed: the insert waited for it).
    let row = db.query_one(FIND, &[&user.as_uuid(), &email.as_str()])?;
    note(db, &row, profile, at, now)?;
    Ok((row.get(0), false))
}

/// Writes the profile of a found lead (`row`, as [`BY_ID`] reads it) when the event changes
/// it; whether it did. Another process may change the same lead's profile in between: the
/// update then finds the row's `profile_at` moved and matches nothing, and the rule runs again
/// on the row as it is now.
fn note(
    db: &mut impl Sql,
    row: &Row,
    profile: &LeadProfile,
    at: UtcTimestamp,
    now: UtcTimestamp,
) -> Result<bool, StorageError> {
    let id: Uuid = row.get(0);
    let mut stored = stored_profile(row);
    // A few rounds at most: a race is rare, and a `profile_at` another tool wrote finer than a
    // millisecond would never compare equal.
    for _ in 0..3 {
        let Some(profile) = updated(&stored, profile, at) else {
            break;
        };
        let written = db.execute(
            "UPDATE leads SET first_name = $1, last_name = $2, company = $3, profile_at = $4,
                              updated_at = $5
             WHERE id = $6 AND profile_at IS NOT DISTINCT FROM $7",
            &[
                &profile.first_name,
                &profile.last_name,
                &profile.company,
                &profile.at.as_datetime(),
                &now.as_datetime(),
                &id,
                &stored.at.map(|t| t.as_datetime()),
            ],
        )?;
        if written > 0 {
            return Ok(true);
        }
        stored = stored_profile(&db.query_one(BY_ID, &[&id])?);
    }
    Ok(false)
}

fn stored_profile(row: &Row) -> StoredProfile {
    StoredProfile {
        first_name: row.get(1),
        last_name: row.get(2),
        company: row.get(3),
        at: row
            .get::<_, Option<DateTime<Utc>>>(4)
            .map(UtcTimestamp::from_datetime),
    }
}

/// Leads with no profile time (stored before migration 017, or never named), in id order after
/// `after`, each with the payloads of its newest `events` email events, newest first.
pub fn unnamed(
    client: &mut impl Sql,
    after: Option<&str>,
    limit: usize,
    events: usize,
) -> Result<Vec<UnnamedLead>, StorageError> {
    let after = after_id(after)?;
    let leads = client.query(
        "SELECT id, user_id FROM leads WHERE profile_at IS NULL AND id > $1 ORDER BY id LIMIT $2",
        &[&after, &(limit as i64)],
    )?;
    let mut unnamed = Vec::with_capacity(leads.len());
    for lead in leads {
        let (id, user): (Uuid, Uuid) = (lead.get(0), lead.get(1));
        let rows = client.query(
            "SELECT \"timestamp\", event_data::text FROM email_events
             WHERE user_id = $1 AND lead_id = $2 ORDER BY \"timestamp\" DESC LIMIT $3",
            &[&user, &id, &(events as i64)],
        )?;
        unnamed.push(UnnamedLead {
            lead_id: id_text(id),
            payloads: rows
                .iter()
                .map(|row| {
                    let at: DateTime<Utc> = row.get(0);
                    (UtcTimestamp::from_datetime(at), row.get(1))
                })
                .collect(),
        });
    }
    Ok(unnamed)
}

/// Kept events that belong to a lead, in id order after `after`, with their payloads.
pub fn kept_payloads(
    client: &mut impl Sql,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<KeptPayload>, StorageError> {
    let after = after_id(after)?;
    let rows = client.query(
        "SELECT id, lead_id, received_at, event_data::text FROM smartlead_events
         WHERE lead_id IS NOT NULL AND id > $1 ORDER BY id LIMIT $2",
        &[&after, &(limit as i64)],
    )?;
    Ok(rows
        .iter()
        .map(|row| KeptPayload {
            id: id_text(row.get(0)),
            lead_id: id_text(row.get(1)),
            received_at: UtcTimestamp::from_datetime(row.get(2)),
            payload: row.get(3),
        })
        .collect())
}

/// A page's position: the id after which it starts (the nil id for the first page).
fn after_id(after: Option<&str>) -> Result<Uuid, StorageError> {
    match after {
        Some(id) => id
            .parse::<Uuid>()
            .map_err(|_| StorageError::Conflict(format!("`{id}` is not an id"))),
        None => Ok(Uuid::nil()),
    }
}

/// Notes the profile an event of time `at` gives the lead `lead_id`; whether it was written.
pub fn name(
    db: &mut impl Sql,
    lead_id: &str,
    profile: &LeadProfile,
    at: UtcTimestamp,
    now: UtcTimestamp,
) -> Result<bool, StorageError> {
    let Ok(id) = lead_id.parse::<Uuid>() else {
        return Ok(false);
    };
    match db.query_opt(BY_ID, &[&id])? {
        Some(row) => note(db, &row, profile, at, now),
        None => Ok(false),
    }
}
