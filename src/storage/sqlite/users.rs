//! Users (tenants) and their Smartlead credentials.

use rusqlite::{params, Connection, OptionalExtension};

use super::StorageError;
use crate::domain::{OrgId, UserId, UtcTimestamp};
use crate::storage::records::{NewUser, SmartleadCredentials, User, WebhookTenant};

const USER_COLUMNS: &str = "id, email, name, smartlead_org_id, smartlead_org_name, created_at";

fn user_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        email: row.get(1)?,
        name: row.get(2)?,
        smartlead_org_id: row.get(3)?,
        smartlead_org_name: row.get(4)?,
        created_at: row.get(5)?,
    })
}

pub fn add_user(conn: &Connection, new: &NewUser<'_>) -> Result<User, StorageError> {
    let id = UserId::new();
    let now = UtcTimestamp::now().to_string();
    let inserted = conn.execute(
        "INSERT INTO users (id, email, name, smartlead_org_id, smartlead_org_name, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![id.to_string(), new.email, new.name, new.org_id.map(OrgId::as_str), new.org_name, now],
    );
    match inserted {
        Ok(_) => {}
        Err(err) if err.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
            return Err(StorageError::Conflict(
                "a user with that email or Smartlead org id already exists".into(),
            ))
        }
        Err(err) => return Err(err.into()),
    }
    find_user(conn, id)?.ok_or(StorageError::NotFound("user"))
}

pub fn find_user(conn: &Connection, user: UserId) -> Result<Option<User>, StorageError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
    Ok(conn
        .query_row(&sql, [user.to_string()], user_from_row)
        .optional()?)
}

pub fn list_users(conn: &Connection) -> Result<Vec<User>, StorageError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id");
    let mut stmt = conn.prepare(&sql)?;
    let users = stmt
        .query_map([], user_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(users)
}

/// Stores (replacing) the user's Smartlead credentials.
pub fn set_smartlead_credentials(
    conn: &Connection,
    user: UserId,
    credentials: &SmartleadCredentials,
) -> Result<(), StorageError> {
    if find_user(conn, user)?.is_none() {
        return Err(StorageError::NotFound("user"));
    }
    let json = serde_json::to_string(credentials).expect("credentials serialize to JSON");
    let now = UtcTimestamp::now().to_string();
    conn.execute(
        "INSERT INTO integration_credentials (id, user_id, provider, credentials, created_at, updated_at)
         VALUES (?1, ?2, 'smartlead', ?3, ?4, ?4)
         ON CONFLICT (user_id, provider) DO UPDATE SET credentials = excluded.credentials, updated_at = excluded.updated_at",
        params![UserId::new().to_string(), user.to_string(), json, now],
    )?;
    Ok(())
}

/// The user owning `org` and the org's webhook secret, if the org is known.
pub fn webhook_tenant(
    conn: &Connection,
    org: &OrgId,
) -> Result<Option<WebhookTenant>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, c.credentials
         FROM users u
         LEFT JOIN integration_credentials c ON c.user_id = u.id AND c.provider = 'smartlead'
         WHERE u.smartlead_org_id = ?1",
    )?;
    let row = stmt
        .query_row([org.as_str()], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?))
        })
        .optional()?;
    let Some((user_id, credentials)) = row else {
        return Ok(None);
    };
    let user_id = user_id.parse().map_err(|_| {
        StorageError::Conflict(format!("user id `{user_id}` in the database is not a UUID"))
    })?;
    Ok(Some(WebhookTenant::from_stored(
        user_id,
        org.clone(),
        credentials.as_deref(),
    )))
}

/// Moves `user` to Smartlead org `org` (named `name`); another user's org is refused.
pub fn set_org(
    conn: &Connection,
    user: UserId,
    org: &OrgId,
    name: Option<&str>,
) -> Result<User, StorageError> {
    let taken: Option<String> = conn
        .query_row(
            "SELECT id FROM users WHERE smartlead_org_id = ?1 AND id <> ?2",
            params![org.as_str(), user.to_string()],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(other) = taken {
        return Err(StorageError::Conflict(format!(
            "org {org} belongs to user {other}"
        )));
    }
    let changed = conn.execute(
        "UPDATE users SET smartlead_org_id = ?1, smartlead_org_name = COALESCE(?2, smartlead_org_name),
                          updated_at = ?3
         WHERE id = ?4",
        params![org.as_str(), name, UtcTimestamp::now().to_string(), user.to_string()],
    )?;
    if changed == 0 {
        return Err(StorageError::NotFound("user"));
    }
    find_user(conn, user)?.ok_or(StorageError::NotFound("user"))
}

/// The user's Smartlead credentials, if any are set.
pub fn smartlead_credentials(
    conn: &Connection,
    user: UserId,
) -> Result<Option<SmartleadCredentials>, StorageError> {
    let json: Option<String> = conn
        .query_row(
            "SELECT credentials FROM integration_credentials WHERE user_id = ?1 AND provider = 'smartlead'",
            [user.to_string()],
            |row| row.get(0),
        )
        .optional()?;
    json.map(|json| {
        serde_json::from_str(&json).map_err(|e| {
            StorageError::Conflict(format!(
                "the stored Smartlead credentials do not parse: {e}"
            ))
        })
    })
    .transpose()
}

/// The name a table's rows are reported under: email events are read as `email_events` (the
/// view over their rows, migration 015).
pub fn shown_table(table: &str) -> &str {
    match table {
        "email_event_rows" => "email_events",
        _ => table,
    }
}

/// Row counts by table as reported: each table by its [`shown_table`] name, in name order.
pub fn shown_counts(counts: Vec<(String, u64)>) -> Vec<(String, u64)> {
    let mut shown: Vec<(String, u64)> = counts
        .into_iter()
        .map(|(table, rows)| (shown_table(&table).to_owned(), rows))
        .collect();
    shown.sort();
    shown
}

/// Deletes `user` and, through the schema's `ON DELETE CASCADE`, every row that belongs to it;
/// returns how many rows of each table went, by the tables' own names. Runs in the caller's
/// transaction.
/// Clears the user's org, so that its deliveries are refused as an unknown org's (the first step
/// of a removal): whether it had one.
pub fn release_org(conn: &Connection, user: UserId) -> Result<bool, StorageError> {
    if find_user(conn, user)?.is_none() {
        return Err(StorageError::NotFound("user"));
    }
    Ok(conn.execute(
        "UPDATE users SET smartlead_org_id = NULL WHERE id = ?1 AND smartlead_org_id IS NOT NULL",
        [user.to_string()],
    )? > 0)
}

pub fn remove_user(conn: &Connection, user: UserId) -> Result<Vec<(String, u64)>, StorageError> {
    let removed = user_rows(conn, user)?;
    conn.execute("DELETE FROM users WHERE id = ?1", [user.to_string()])?;
    Ok(removed)
}

/// How many rows of each table the schema would delete with `user`, by the tables' own names.
pub fn user_rows(conn: &Connection, user: UserId) -> Result<Vec<(String, u64)>, StorageError> {
    if find_user(conn, user)?.is_none() {
        return Err(StorageError::NotFound("user"));
    }
    // The tables the schema cascades from users, and by which column, read from the schema.
    let tables: Vec<(String, String, String)> = conn
        .prepare(
            "SELECT DISTINCT m.name, f.\"from\", f.\"to\" FROM sqlite_schema m, pragma_foreign_key_list(m.name) f
             WHERE m.type = 'table' AND f.\"table\" = 'users' AND f.on_delete = 'CASCADE'
             ORDER BY m.name",
        )?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut removed = Vec::new();
    for (table, from, to) in tables {
        let rows: i64 = conn.query_row(
            &format!(
                "SELECT count(*) FROM \"{table}\" WHERE \"{from}\" = (SELECT \"{to}\" FROM users WHERE id = ?1)"
            ),
            [user.to_string()],
            |row| row.get(0),
        )?;
        removed.push((table, rows as u64));
    }
    Ok(removed)
}

/// Each user's newest event, by its own time (the user-wide rollup totals: one index seek a
/// user); users without events are left out.
pub fn newest_events(conn: &Connection) -> Result<Vec<(UserId, UtcTimestamp)>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, (SELECT max(t.last_at) FROM rollup_totals t
                       WHERE t.user_id = u.id AND t.campaign_id = '')
         FROM users u",
    )?;
    let rows: Vec<(String, Option<String>)> = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(user, newest)| {
            Some((user.parse().ok()?, UtcTimestamp::parse(&newest?).ok()?))
        })
        .collect())
}

/// Every user with a Smartlead API key, and the key.
pub fn smartlead_accounts(conn: &Connection) -> Result<Vec<(UserId, String)>, StorageError> {
    let mut stmt = conn.prepare(
        "SELECT user_id, credentials FROM integration_credentials WHERE provider = 'smartlead'
         ORDER BY user_id",
    )?;
    let rows: Vec<(String, String)> = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(user, json)| {
            let key = serde_json::from_str::<SmartleadCredentials>(&json)
                .ok()?
                .api_key
                .filter(|k| !k.is_empty())?;
            Some((user.parse().ok()?, key))
        })
        .collect())
}
