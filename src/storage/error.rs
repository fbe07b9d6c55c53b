use std::sync::Arc;

use super::fault::StorageFault;

/// An error of the database library underneath, kept as the source of a [`StorageError`] (each
/// backend converts its own errors into the variants below).
pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

/// What went wrong below the HTTP layer. The variants say whether a retry can succeed, which is
/// what decides between a 4xx and a 503 for a webhook sender that retries.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Locked by another connection past the busy timeout.
    #[error("the database is busy")]
    Busy(#[source] BackendError),
    /// Read-only file, full disk, I/O error: nothing can be written until an operator acts.
    #[error("the database cannot be written")]
    Unwritable(#[source] BackendError),
    #[error("database error")]
    Database(#[source] BackendError),
    #[error("no database connection available")]
    Pool(#[source] BackendError),
    #[error("schema migration failed")]
    Migration(#[source] BackendError),
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
    /// The database reports its file malformed (SQLite: `SQLITE_CORRUPT`, `SQLITE_NOTADB`).
    #[error("the database file is malformed")]
    Corrupt(#[source] BackendError),
    #[error("a write panicked and was rolled back")]
    Panicked,
    /// The write itself succeeded but the batch it was part of did not commit.
    #[error("the batch this write belonged to did not commit")]
    BatchFailed(#[source] Arc<StorageError>),
    /// A job of a batch failed where it could not be isolated (PostgreSQL: outside a
    /// savepoint): the writer runs the batch again with one, so this is never an answer.
    #[error("a job of the batch failed")]
    JobFailed(#[source] Box<StorageError>),
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
            StorageError::JobFailed(inner) => inner.is_transient(),
            StorageError::Database(_)
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
