//! PostgreSQL's errors as [`StorageError`]s, by SQLSTATE: what a retry can fix (the server
//! unreachable, out of connections, read-only, a deadlock) is a 503 for the webhook sender;
//! a constraint is a conflict; anything else a bug.

use postgres::error::SqlState;

use super::StorageError;

impl From<postgres::Error> for StorageError {
    fn from(err: postgres::Error) -> Self {
        let Some(code) = err.code() else {
            // No SQLSTATE: the connection itself failed (refused, closed, timed out).
            return StorageError::Pool(err.into());
        };
        if is_retryable(code) {
            return StorageError::Busy(err.into());
        }
        match code.code() {
            // Class 08: connection exception; 57P: operator intervention (shutdown, restart);
            // 53300: too many connections.
            c if c.starts_with("08") || c.starts_with("57P") || c == "53300" => {
                StorageError::Pool(err.into())
            }
            // 25006: read-only transaction (a standby, `default_transaction_read_only`);
            // 53100: disk full; 53200: out of memory; 58030: I/O error.
            "25006" | "53100" | "53200" | "58030" => StorageError::Unwritable(err.into()),
            // XX001/XX002: data or index corrupted.
            "XX001" | "XX002" => StorageError::Corrupt(err.into()),
            _ => StorageError::Database(err.into()),
        }
    }
}

/// A deadlock or a serialization failure: the transaction was aborted and may simply be run
/// again.
pub fn is_retryable(code: &SqlState) -> bool {
    *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::T_R_SERIALIZATION_FAILURE
}

/// True for an error that means a unique or primary key already holds the value.
pub fn is_unique_violation(err: &StorageError) -> bool {
    let StorageError::Database(source) = err else {
        return false;
    };
    source
        .downcast_ref::<postgres::Error>()
        .and_then(postgres::Error::code)
        == Some(&SqlState::UNIQUE_VIOLATION)
}
