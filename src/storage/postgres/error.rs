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
        // 55P03: a lock held by another connection past `lock_timeout`.
        if is_retryable(code) || *code == SqlState::LOCK_NOT_AVAILABLE {
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

/// Another writer (another service process) got there first: a unique key taken between this
/// job's check and its insert. Running the batch again finds the row.
#[derive(Debug, thiserror::Error)]
#[error("a concurrent writer stored the same {0}")]
pub struct ConcurrentWrite(pub &'static str);

impl ConcurrentWrite {
    pub fn error(what: &'static str) -> StorageError {
        StorageError::Busy(Box::new(ConcurrentWrite(what)))
    }
}

/// Whether the writer should run a failed batch again at once: another writer met this one
/// (a deadlock, a serialization failure, a unique key taken meanwhile). A lock held past
/// `lock_timeout` is busy too, but not worth waiting for again: that batch gets its 503.
pub fn run_again(err: &StorageError) -> bool {
    let StorageError::Busy(source) = err else {
        return false;
    };
    source.downcast_ref::<ConcurrentWrite>().is_some()
        || source
            .downcast_ref::<postgres::Error>()
            .and_then(postgres::Error::code)
            .is_some_and(is_retryable)
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
