//! Users (tenants) and their Smartlead credentials, on PostgreSQL.

use postgres::Row;

use super::error::is_unique_violation;
use super::session::Sql;
use super::values::{id_text, text};
use super::StorageError;
use crate::domain::{OrgId, UserId, UtcTimestamp};
use crate::storage::records::{NewUser, SmartleadCredentials, User, WebhookTenant};

const USER_COLUMNS: &str = "id, email, name, smartlead_org_id, smartlead_org_name, created_at";

fn user_from_row(row: &Row) -> User {
    User {
        id: id_text(row.get(0)),
        email: row.get(1),
        name: row.get(2),
        smartlead_org_id: row.get(3),
        smartlead_org_name: row.get(4),
        created_at: text(row.get(5)),
    }
}

pub fn add_user(client: &mut impl Sql, new: &NewUser<'_>) -> Result<User, StorageError> {
    let id = UserId::new();
    let now = UtcTimestamp::now().as_datetime();
    let inserted = client.execute(
        "INSERT INTO users (id, email, name, smartlead_org_id, smartlead_org_name, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
        &[&id.as_uuid(), &new.email, &new.name, &new.org_id.map(OrgId::as_str), &new.org_name, &now],
    );
    match inserted {
        Ok(_) => {}
        Err(err) if is_unique_violation(&err) => {
            return Err(StorageError::Conflict(
                "a user with that email or Smartlead org id already exists".into(),
            ))
        }
        Err(err) => return Err(err),
    }
    find_user(client, id)?.ok_or(StorageError::NotFound("user"))
}

pub fn find_user(client: &mut impl Sql, user: UserId) -> Result<Option<User>, StorageError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    Ok(client
        .query_opt(&sql, &[&user.as_uuid()])?
        .as_ref()
        .map(user_from_row))
}

pub fn list_users(client: &mut impl Sql) -> Result<Vec<User>, StorageError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id");
    Ok(client.query(&sql, &[])?.iter().map(user_from_row).collect())
}

pub fn set_smartlead_credentials(
    client: &mut impl Sql,
    user: UserId,
    credentials: &SmartleadCredentials,
) -> Result<(), StorageError> {
    if find_user(client, user)?.is_none() {
        return Err(StorageError::NotFound("user"));
    }
    let json = serde_json::to_string(credentials).expect("credentials serialize to JSON");
    let now = UtcTimestamp::now().as_datetime();
    client.execute(
        "INSERT INTO integration_credentials (id, user_id, provider, credentials, created_at, updated_at)
         VALUES ($1, $2, 'smartlead', $3::text::jsonb, $4, $4)
         ON CONFLICT (user_id, provider) DO UPDATE SET credentials = excluded.credentials, updated_at = excluded.updated_at",
        &[&UserId::new().as_uuid(), &user.as_uuid(), &json, &now],
    )?;
    Ok(())
}

pub fn webhook_tenant(
    client: &mut impl Sql,
    org: &OrgId,
) -> Result<Option<WebhookTenant>, StorageError> {
    let row = client.query_opt(
        "SELECT u.id, c.credentials::text
         FROM users u
         LEFT JOIN integration_credentials c ON c.user_id = u.id AND c.provider = 'smartlead'
         WHERE u.smartlead_org_id = $1",
        &[&org.as_str()],
    )?;
    let Some(row) = row else {
        return Ok(None);
    };
    let user_id: uuid::Uuid = row.get(0);
    let credentials: Option<String> = row.get(1);
    Ok(Some(WebhookTenant::from_stored(
        UserId::from_uuid(user_id),
        org.clone(),
        credentials.as_deref(),
    )))
}

/// Each user's newest event, by its own time (the user-wide rollup totals: one index seek a
/// user); users without events are left out.
pub fn newest_events(client: &mut impl Sql) -> Result<Vec<(UserId, UtcTimestamp)>, StorageError> {
    let rows = client.query(
        "SELECT u.id, (SELECT max(t.last_at) FROM rollup_totals t
                       WHERE t.user_id = u.id AND t.campaign_id = '')
         FROM users u",
        &[],
    )?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let newest: Option<chrono::DateTime<chrono::Utc>> = row.get(1);
            Some((
                UserId::from_uuid(row.get(0)),
                UtcTimestamp::from_datetime(newest?),
            ))
        })
        .collect())
}

pub fn set_org(
    client: &mut impl Sql,
    user: UserId,
    org: &OrgId,
    name: Option<&str>,
) -> Result<User, StorageError> {
    let taken = client.query_opt(
        "SELECT id FROM users WHERE smartlead_org_id = $1 AND id <> $2",
        &[&org.as_str(), &user.as_uuid()],
    )?;
    if let Some(other) = taken {
        let other: uuid::Uuid = other.get(0);
        return Err(StorageError::Conflict(format!(
            "org {org} belongs to user {}",
            id_text(other)
        )));
    }
    let changed = client.execute(
        "UPDATE users SET smartlead_org_id = $1, smartlead_org_name = COALESCE($2, smartlead_org_name),
                          updated_at = $3
         WHERE id = $4",
        &[&org.as_str(), &name, &UtcTimestamp::now().as_datetime(), &user.as_uuid()],
    );
    match changed {
        Ok(0) => return Err(StorageError::NotFound("user")),
        Ok(_) => {}
        // Taken by another process between the check and the update.
        Err(err) if is_unique_violation(&err) => {
            return Err(StorageError::Conflict(format!(
                "org {org} belongs to another user"
            )))
        }
        Err(err) => return Err(err),
    }
    find_user(client, user)?.ok_or(StorageError::NotFound("user"))
}

pub fn smartlead_credentials(
    client: &mut impl Sql,
    user: UserId,
) -> Result<Option<SmartleadCredentials>, StorageError> {
    let json: Option<String> = client
        .query_opt(
            "SELECT credentials::text FROM integration_credentials
             WHERE user_id = $1 AND provider = 'smartlead'",
            &[&user.as_uuid()],
        )?
        .map(|row| row.get(0));
    json.map(|json| {
        serde_json::from_str(&json).map_err(|e| {
            StorageError::Conflict(format!(
                "the stored Smartlead credentials do not parse: {e}"
            ))
        })
    })
    .transpose()
}

/// Clears the user's org, so that its deliveries are refused as an unknown org's (the first step
/// of a removal): whether it had one.
pub fn release_org(client: &mut impl Sql, user: UserId) -> Result<bool, StorageError> {
    if find_user(client, user)?.is_none() {
        return Err(StorageError::NotFound("user"));
    }
    Ok(client.execute(
        "UPDATE users SET smartlead_org_id = NULL WHERE id = $1 AND smartlead_org_id IS NOT NULL",
        &[&user.as_uuid()],
    )? > 0)
}

/// Deletes `user` and every row the schema cascades from it; how many rows of each table went.
/// Runs in the caller's transaction.
pub fn remove_user(
    client: &mut impl Sql,
    user: UserId,
) -> Result<Vec<(String, u64)>, StorageError> {
    let removed = user_rows(client, user)?;
    client.execute("DELETE FROM users WHERE id = $1", &[&user.as_uuid()])?;
    Ok(removed)
}

/// How many rows of each table the schema would delete with `user`.
pub fn user_rows(client: &mut impl Sql, user: UserId) -> Result<Vec<(String, u64)>, StorageError> {
    if find_user(client, user)?.is_none() {
        return Err(StorageError::NotFound("user"));
    }
    // The tables whose foreign key to users cascades, read from the catalog.
    let tables: Vec<String> = client
        .query(
            "SELECT DISTINCT c.conrelid::regclass::text AS name
             FROM pg_constraint c
             WHERE c.contype = 'f' AND c.confrelid = 'users'::regclass AND c.confdeltype = 'c'
             ORDER BY name",
            &[],
        )?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut removed = Vec::new();
    for table in tables {
        let rows: i64 = client
            .query_one(
                &format!("SELECT count(*) FROM \"{table}\" WHERE user_id = $1"),
                &[&user.as_uuid()],
            )?
            .get(0);
        removed.push((table, rows as u64));
    }
    Ok(removed)
}

pub fn smartlead_accounts(client: &mut impl Sql) -> Result<Vec<(UserId, String)>, StorageError> {
    let rows = client.query(
        "SELECT user_id, credentials::text FROM integration_credentials WHERE provider = 'smartlead'
         ORDER BY user_id",
        &[],
    )?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let user: uuid::Uuid = row.get(0);
            let json: String = row.get(1);
            let key = serde_json::from_str::<SmartleadCredentials>(&json)
                .ok()?
                .api_key
                .filter(|k| !k.is_empty())?;
            Some((UserId::from_uuid(user), key))
        })
        .collect())
}
