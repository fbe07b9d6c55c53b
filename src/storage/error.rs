use std::sync::Arc;

use rusqlite::ErrorCode;

use super::fault::StorageFault;

/// What went wrong below the HTTP layer. The variants say whether a retry can succeed, which is
/// what decides between a 4xx and a 503 for a webhook sender that retries.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Locked by another connection past the busy timeout.
    #[error("the database is busy")]
    Busy(#[source] rusqlite::Error),
    /// Read-only file, full disk, I/O error: nothing can be written until an operator acts.
    #[error("the database cannot be written")]
    Unwritable(#[source] rusqlite::Error),
    #[error("database error")]
    Sqlite(#[source] rusqlite::Error),
    #[error("no database connection available")]
    Pool(#[source] r2d2::Error),
    #[error("schema migration failed")]
    Migration(#[source] rusqlite_migration::Error),
    #[error("cannot prepare the database file")]
    File(#[source] std::io::Error),
    /// The writer's queue is full: back-pressure, answered at once rather than queued unboundedly.
    #[error("the write queue is full")]
    QueueFull,
    /// The writer has stopped (shutdown) before this write could be committed.
    #[error("the writer is not accepting work")]
    WriterStopped,
    /// A storage fault stopped every write until restart (see [`StorageFault`]).
    #[error(transparent)]
    Faulted(StorageFault),
    /// SQLite reports the file malformed (`SQLITE_CORRUPT`, `SQLITE_NOTADB`).
    #[error("the database file is malformed")]
    Corrupt(#[source] rusqlite::Error),
    #[error("a write panicked and was rolled back")]
    Panicked,
    /// The write itself succeeded but the batch it was part of did not commit.
    #[error("the batch this write belonged to did not commit")]
    BatchFailed(#[source] Arc<StorageError>),
    /// A request that contradicts existing data (e.g. an org id that belongs to another user).
    #[error("{0}")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Another `serve` already runs on this database file.
    #[error("another smartlead-hub serve (pid {pid}) is already running on {}; stop it first, or give this one another --db", db.display())]
    AlreadyServed { db: std::path::PathBuf, pid: String },
}

impl StorageError {
    /// True when the same request may succeed later: the sender should retry (HTTP 503).
    pub fn is_transient(&self) -> bool {
        match self {
            StorageError::Busy(_)
            | StorageError::Unwritable(_)
            | StorageError::Pool(_)
            | StorageError::QueueFull
            | StorageError::WriterStopped
            | StorageError::Faulted(_)
            | StorageError::Corrupt(_)
            | StorageError::File(_) => true,
            StorageError::BatchFailed(inner) => inner.is_transient(),
            StorageError::Sqlite(_)
            | StorageError::Migration(_)
            | StorageError::Panicked
            | StorageError::Conflict(_)
            | StorageError::AlreadyServed { .. }
            | StorageError::NotFound(_) => false,
        }
    }
}

impl StorageError {
    /// The fault this error raises or reports, if it is one that must stop every write.
    pub fn fault(&self) -> Option<StorageFault> {
        match self {
            StorageError::Faulted(fault) => Some(fault.clone()),
            StorageError::Corrupt(err) => Some(StorageFault::Malformed(err.to_string())),
            StorageError::BatchFailed(inner) => inner.fault(),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for StorageError {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StorageError::Busy(err),
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                StorageError::Corrupt(err)
            }
            Some(
                ErrorCode::ReadOnly
                | ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure
                | ErrorCode::CannotOpen
                | ErrorCode::PermissionDenied
                | ErrorCode::OutOfMemory,
            ) => StorageError::Unwritable(err),
            _ => StorageError::Sqlite(err),
        }
    }
}

fn is_corrupt(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
    )
}

impl From<r2d2::Error> for StorageError {
    fn from(err: r2d2::Error) -> Self {
        StorageError::Pool(err)
    }
}

impl From<rusqlite_migration::Error> for StorageError {
    fn from(err: rusqlite_migration::Error) -> Self {
        match err {
            // A malformed file is that, whoever read it first.
            rusqlite_migration::Error::RusqliteError { err, .. } if is_corrupt(&err) => {
                StorageError::Corrupt(err)
            }
            err => StorageError::Migration(err),
        }
    }
}
