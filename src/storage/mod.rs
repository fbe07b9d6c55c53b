//! Storage, behind one boundary: the service uses [`Store`], the command line [`Admin`]; both
//! take and return domain values and [`records`], and run their SQL on storage threads. The
//! SQLite backend is in `sqlite/`; what every backend shares is here: the records, the rollup
//! arithmetic ([`rollup_counts`]), errors and storage faults. `sqlite` is public only for the
//! backend's own tests and benchmarks.

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
mod metrics;
pub mod records;
pub mod rollup_counts;
pub mod sqlite;
mod store;

pub use admin::Admin;
pub use error::{BackendError, StorageError};
pub use fault::{FileChange, StorageFault};
pub use metrics::StorageMetrics;
pub use sqlite::{ServeLock, WriterSettings};
pub use store::{SeriesRow, Store, StoreSettings};
