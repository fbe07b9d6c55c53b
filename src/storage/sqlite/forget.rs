//! `leads forget` on SQLite: one address's personal data replaced in place, in the caller's
//! write transaction (see [`ForgottenLead`]). Rows are updated, not deleted, so every count,
//! rollup, dedupe key and lead activity stays exactly as it was: an anonymous lead still opened
//! what it opened. The connection runs with `secure_delete`, so the replaced text is zeroed in
//! the database file rather than left in free space.

use rusqlite::{params, Connection, OptionalExtension};

use super::retention::PRUNED_PAYLOAD;
use super::StorageError;
use crate::domain::{EmailAddress, UserId, UtcTimestamp};
use crate::storage::records::ForgottenLead;

pub fn forget_lead(
    conn: &Connection,
    user: UserId,
    email: &EmailAddress,
) -> Result<ForgottenLead, StorageError> {
    let user = user.to_string();
    let email = email.as_str();
    let lead: Option<(String, Option<i64>)> = conn
        .query_row(
            "SELECT id, lead_key FROM leads WHERE user_id = ?1 AND email = ?2",
            params![user, email],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let pseudonym = ForgottenLead::pseudonym_for(
        &lead
            .as_ref()
            .map_or_else(|| uuid::Uuid::now_v7().to_string(), |(id, _)| id.clone()),
    );
    let mut email_events = 0;
    if let Some((id, key)) = &lead {
        conn.execute(
            "UPDATE leads SET email = ?1, first_name = NULL, last_name = NULL, company = NULL,
                              updated_at = ?3
             WHERE id = ?2",
            params![pseudonym, id, UtcTimestamp::now().to_string()],
        )?;
        // Every email event of the address is its lead's (a lead per address and user).
        if let Some(key) = key {
            email_events = conn.execute(
                "UPDATE email_event_rows SET email = ?1, event_data = ?2 WHERE lead_key = ?3",
                params![pseudonym, PRUNED_PAYLOAD, key],
            )?;
        }
    }
    let lead_id = lead.map(|(id, _)| id);
    // A kept event names its lead, or only the address (a lead it could not be tied to).
    let kept_events = conn.execute(
        "UPDATE smartlead_events SET email = ?1, event_data = ?2
         WHERE user_id = ?3 AND (lead_id = ?4 OR email = ?5)",
        params![pseudonym, PRUNED_PAYLOAD, user, lead_id, email],
    )?;
    let backfill_records = conn.execute(
        "UPDATE rest_backfills SET email = ?1 WHERE user_id = ?2 AND email = ?3",
        params![pseudonym, user, email],
    )?;
    // Held deliveries are whole bodies, read by no one until replayed: those naming the address
    // go (their counts are in no analytics).
    let held_deliveries_deleted = conn.execute(
        "DELETE FROM held_deliveries WHERE user_id = ?1 AND instr(lower(payload), ?2) > 0",
        params![user, email],
    )?;
    Ok(ForgottenLead {
        lead_id,
        pseudonym,
        email_events: email_events as u64,
        kept_events: kept_events as u64,
        backfill_records: backfill_records as u64,
        held_deliveries_deleted: held_deliveries_deleted as u64,
    })
}
