use std::sync::Arc;

use rusqlite::ErrorCode;

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
    /// The WAL could not be synced: the commit may not be on disk, so it was not acknowledged.
    #[error("the database could not be flushed to disk")]
    Unsynced(#[source] std::io::Error),
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
            | StorageError::Unsynced(_)
            | StorageError::File(_) => true,
            StorageError::BatchFailed(inner) => inner.is_transient(),
            StorageError::Sqlite(_)
            | StorageError::Migration(_)
            | StorageError::Panicked
            | StorageError::Conflict(_)
            | StorageError::NotFound(_) => false,
        }
    }
}

impl From<rusqlite::Error> for StorageError {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StorageError::Busy(err),
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

impl From<r2d2::Error> for StorageError {
    fn from(err: r2d2::Error) -> Self {
        StorageError::Pool(err)
    }
}

impl From<rusqlite_migration::Error> for StorageError {
    fn from(err: rusqlite_migration::Error) -> Self {
        StorageError::Migration(err)
    }
}
