//! Storage, behind one boundary: the service uses [`Store`], the command line [`Admin`]; both
//! take and return domain and read-model values, and run their SQL on storage threads. The
//! SQLite backend is in `sqlite/`; errors and storage faults, shared by any backend, are here.

/// Hands a call to whichever backend `$facade` holds: `on_backend!(&self.0, store =>
/// store.ingest(…).await)`. Each facade's `Backend` enum lists the backends; a second one is a
/// second arm here.
macro_rules! on_backend {
    ($facade:expr, $backend:ident => $call:expr) => {
        match $facade {
            Backend::Sqlite($backend) => $call,
        }
    };
}

mod admin;
mod error;
mod fault;
mod sqlite;
mod store;

pub use admin::Admin;
pub use error::{BackendError, StorageError};
pub use fault::{FileChange, StorageFault};
pub use sqlite::{
    analytics, backup, events, integrity, migrations, open_read_write, rollups, tokens, users,
    BackupSummary, ReadPool, ServeLock, Writer, WriterSettings, DEFAULT_BUSY_TIMEOUT,
};
pub use store::{SeriesRow, Store, StoreSettings};
