//! A delivery's lead on PostgreSQL: found by its address, created when new, and its name and
//! company kept by the rule of `storage/lead_profiles.rs`, in the delivery's transaction.

use chrono::{DateTime, Utc};
use postgres::Row;
use uuid::Uuid;

use super::session::{Session, Sql};
use super::values::clean;
use super::StorageError;
use crate::domain::UtcTimestamp;
use crate::domain::{CampaignId, EmailAddress, LeadId, LeadProfile, ProfileText, UserId};
use crate::storage::lead_profiles::{updated, StoredProfile};

const FIND: &str = "SELECT id, first_name, last_name, company, profile_at
                    FROM leads WHERE user_id = $1 AND email = $2";

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
        return note(db, &row, profile, at, now).map(|id| (id, false));
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
    note(db, &row, profile, at, now).map(|id| (id, false))
}

/// Writes the profile of a found lead (`row`, as [`FIND`] reads it) when the event changes it.
/// Another process may change the same lead's profile in between: the update then finds the
/// row's `profile_at` moved and matches nothing, and the rule runs again on the row as it is now.
fn note(
    db: &mut impl Sql,
    row: &Row,
    profile: &LeadProfile,
    at: UtcTimestamp,
    now: UtcTimestamp,
) -> Result<Uuid, StorageError> {
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
            break;
        }
        let now_stored = db.query_one(
            "SELECT id, first_name, last_name, company, profile_at FROM leads WHERE id = $1",
            &[&id],
        )?;
        stored = stored_profile(&now_stored);
    }
    Ok(id)
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
