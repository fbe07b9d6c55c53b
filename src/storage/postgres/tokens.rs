//! API tokens on PostgreSQL: issue, list, revoke, and resolve a presented token to its user.

use super::session::Sql;
use super::values::{id, id_text, text, text_opt};
use super::StorageError;
use crate::domain::{ApiToken, TokenId, UserId, UtcTimestamp};
use crate::storage::records::{TokenInfo, TokenOwner};

pub fn issue(
    client: &mut impl Sql,
    user: UserId,
    name: Option<&str>,
    expires_at: Option<UtcTimestamp>,
) -> Result<(TokenId, ApiToken), StorageError> {
    if super::users::find_user(client, user)?.is_none() {
        return Err(StorageError::NotFound("user"));
    }
    let token = ApiToken::generate().map_err(|e| StorageError::Conflict(e.to_string()))?;
    let token_id = TokenId::new();
    client.execute(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &token_id.as_uuid(),
            &user.as_uuid(),
            &name,
            &token.hash(),
            &UtcTimestamp::now().as_datetime(),
            &expires_at.map(|at| at.as_datetime()),
        ],
    )?;
    Ok((token_id, token))
}

pub fn list(client: &mut impl Sql, user: UserId) -> Result<Vec<TokenInfo>, StorageError> {
    let rows = client.query(
        "SELECT id, name, created_at, last_used_at, revoked_at, expires_at FROM api_tokens
         WHERE user_id = $1 ORDER BY created_at, id",
        &[&user.as_uuid()],
    )?;
    Ok(rows
        .iter()
        .map(|r| TokenInfo {
            id: id_text(r.get(0)),
            name: r.get(1),
            created_at: text(r.get(2)),
            last_used_at: text_opt(r.get(3)),
            revoked_at: text_opt(r.get(4)),
            expires_at: text_opt(r.get(5)),
        })
        .collect())
}

pub fn revoke(client: &mut impl Sql, token: TokenId) -> Result<(), StorageError> {
    let found = client.execute(
        "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
        &[&token.as_uuid(), &UtcTimestamp::now().as_datetime()],
    )?;
    if found == 0 {
        return Err(StorageError::NotFound("token"));
    }
    Ok(())
}

/// The owner of a live token; unknown, revoked and expired tokens take the same path. The
/// service's clock decides expiry, as on SQLite, not the server's.
pub fn owner(client: &mut impl Sql, token: &ApiToken) -> Result<Option<TokenOwner>, StorageError> {
    let row = client.query_opt(
        "SELECT id, user_id, last_used_at, revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2),
                expires_at
         FROM api_tokens WHERE token_hash = $1",
        &[&token.hash(), &UtcTimestamp::now().as_datetime()],
    )?;
    Ok(row.and_then(|r| {
        let live: bool = r.get(3);
        live.then(|| TokenOwner {
            token_id: id_text(r.get(0)),
            user_id: UserId::from_uuid(r.get(1)),
            last_used_at: text_opt(r.get(2)),
            expires_at: text_opt(r.get(4)),
        })
    }))
}

pub fn touch(client: &mut impl Sql, token_id: &str, at: UtcTimestamp) -> Result<(), StorageError> {
    client.execute(
        "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1",
        &[&id(token_id)?, &at.as_datetime()],
    )?;
    Ok(())
}
