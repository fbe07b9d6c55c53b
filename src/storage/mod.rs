//! Storage, behind one boundary: the service uses [`Store`], the command line [`Admin`]; both
//! take and return domain values and [`records`], and run their SQL on storage threads. The
//! backends are `sqlite/` (the default: one file) and `postgres/` (scale past one box), chosen
//! by the [`Database`] a `--db` value names; what every backend shares is here: the records,
//! the rollup arithmetic ([`rollup_counts`]), errors and storage faults. The backends' modules
//! are public only for their own tests and benchmarks.

/// Hands a call to whichever backend `$facade` holds: `on_backend!(&self.0, store =>
/// store.ingest(…).await)`. Each facade's `Backend` enum lists the backends.
macro_rules! on_backend {
    ($facade:expr, $backend:ident => $call:expr) => {
        match $facade {
            Backend::Sqlite($backend) => $call,
            Backend::Postgres($backend) => $call,
        }
    };
}

mod admin;
pub mod campaigns;
mod error;
mod fault;
pub mod lead_profiles;
mod location;
mod metrics;
pub mod postgres;
pub mod projection;
pub mod records;
pub mod rollup_counts;
pub mod sqlite;
mod store;
mod thread_slot;

pub use admin::Admin;
pub use error::{BackendError, StorageError};
pub use fault::{FileChange, StorageFault};
pub use location::{Database, DatabaseParser, PostgresUrl};
pub use metrics::StorageMetrics;
pub use sqlite::{parse_page_size, ServeLock, WriterSettings};
pub use store::{SeriesRow, Store, StoreSettings};
