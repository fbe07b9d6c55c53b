//! `leads forget` on PostgreSQL (see the SQLite backend's twin): one address's personal data
//! replaced in place, in the caller's transaction; counts, rollups and dedupe keys unchanged.
//! The old row versions stay on disk until VACUUM reclaims them (README).

use super::retention::PRUNED_PAYLOAD;
use super::session::Sql;
use super::StorageError;
use crate::domain::{EmailAddress, UserId};
use crate::storage::records::ForgottenLead;

pub fn forget_lead(
    db: &mut impl Sql,
    user: UserId,
    email: &EmailAddress,
) -> Result<ForgottenLead, StorageError> {
    let user = user.as_uuid();
    let email = email.as_str();
    let lead: Option<uuid::Uuid> = db
        .query_opt(
            "SELECT id FROM leads WHERE user_id = $1 AND email = $2",
            &[&user, &email],
        )?
        .map(|row| row.get(0));
    let pseudonym =
        ForgottenLead::pseudonym_for(&lead.unwrap_or_else(uuid::Uuid::now_v7).to_string());
    let mut email_events = 0;
    if let Some(lead) = lead {
        db.execute(
            "UPDATE leads SET email = $3, first_name = NULL, last_name = NULL, company = NULL,
                              updated_at = now()
             WHERE user_id = $1 AND id = $2",
            &[&user, &lead, &pseudonym],
        )?;
        email_events = db.execute(
            "UPDATE email_events SET email = $3, event_data = $4::text::jsonb
             WHERE user_id = $1 AND lead_id = $2",
            &[&user, &lead, &pseudonym, &PRUNED_PAYLOAD],
        )?;
    }
    let kept_events = db.execute(
        "UPDATE smartlead_events SET email = $3, event_data = $4::text::jsonb
         WHERE user_id = $1 AND (lead_id = $2 OR email = $5)",
        &[&user, &lead, &pseudonym, &PRUNED_PAYLOAD, &email],
    )?;
    let backfill_records = db.execute(
        "UPDATE rest_backfills SET email = $2 WHERE user_id = $1 AND email = $3",
        &[&user, &pseudonym, &email],
    )?;
    let held_deliveries_deleted = db.execute(
        "DELETE FROM held_deliveries WHERE user_id = $1 AND strpos(lower(payload::text), $2) > 0",
        &[&user, &email],
    )?;
    Ok(ForgottenLead {
        lead_id: lead.map(|id| id.to_string()),
        pseudonym,
        email_events,
        kept_events,
        backfill_records,
        held_deliveries_deleted,
    })
}
