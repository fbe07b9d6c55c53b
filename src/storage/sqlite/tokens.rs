//! API tokens: issue, list, revoke, and resolve a presented token to its user.

use rusqlite::{params, Connection, OptionalExtension};

use super::StorageError;
use crate::domain::{ApiToken, TokenId, UserId, UtcTimestamp};
use crate::storage::records::{TokenInfo, TokenOwner};

/// Creates a token for `user`, refused from `expires_at` on if given; the returned secret is
/// never stored.
pub fn issue(
    conn: &Connection,
    user: UserId,
    name: Option<&str>,
    expires_at: Option<UtcTimestamp>,
) -> Result<(TokenId, ApiToken), StorageError> {
    if super::users::find_user(conn, user)?.is_none() {
        return Err(StorageError::NotFound("user"));
    }
    let token = ApiToken::generate().map_err(|e| StorageError::Conflict(e.to_string()))?;
    let id = TokenId::new();
    conn.execute(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id.to_string(),
            user.to_string(),
            name,
            token.hash(),
            UtcTimestamp::now().to_string(),
            expires_at.map(|at| at.to_string())
        ],
    )?;
    Ok((id, token))
}

pub fn list(conn: &Connection, user: UserId) -> Result<Vec<TokenInfo>, StorageError> {
    let mut stmt = conn.prepare(
        "SELECT id, name, created_at, last_used_at, revoked_at, expires_at FROM api_tokens
         WHERE user_id = ?1 ORDER BY created_at, id",
    )?;
    let tokens = stmt
        .query_map([user.to_string()], |r| {
            Ok(TokenInfo {
                id: r.get(0)?,
                name: r.get(1)?,
                created_at: r.get(2)?,
                last_used_at: r.get(3)?,
                revoked_at: r.get(4)?,
                expires_at: r.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(tokens)
}

/// Revokes a token (idempotent: revoking twice keeps the first revocation time).
pub fn revoke(conn: &Connection, id: TokenId) -> Result<(), StorageError> {
    let found = conn.execute(
        "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
        params![id.to_string(), UtcTimestamp::now().to_string()],
    )?;
    if found == 0 {
        return Err(StorageError::NotFound("token"));
    }
    Ok(())
}

/// The owner of a live token. Unknown, revoked and expired tokens take the same path (one
/// indexed lookup by hash) and give the same answer, so timing cannot tell them apart.
pub fn owner(conn: &Connection, token: &ApiToken) -> Result<Option<TokenOwner>, StorageError> {
    // Timestamps are stored in one fixed-width form, so text order is time order.
    let now = UtcTimestamp::now().to_string();
    let row = conn
        .prepare_cached(
            "SELECT id, user_id, last_used_at, revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2),
                    expires_at
             FROM api_tokens WHERE token_hash = ?1",
        )?
        .query_row(params![token.hash(), now], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .optional()?;
    Ok(
        row.and_then(|(token_id, user_id, last_used_at, live, expires_at)| {
            let user_id = user_id.parse().ok()?;
            live.then_some(TokenOwner {
                token_id,
                user_id,
                last_used_at,
                expires_at,
            })
        }),
    )
}

pub fn touch(conn: &Connection, token_id: &str, at: UtcTimestamp) -> Result<(), StorageError> {
    conn.prepare_cached("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1")?
        .execute(params![token_id, at.to_string()])?;
    Ok(())
}
