//! The only code that speaks SQL.
//!
//! Writes go through the single [`Writer`] thread (group commit); reads use a pool of
//! `query_only` connections. Every read takes the tenant (`UserId`) first, so no function can
//! return another user's rows.

mod admin;
pub mod analytics;
mod backup;
mod checkpointer;
mod connection;
mod error;
pub mod events;
mod fault;
mod files;
pub mod integrity;
pub mod migrations;
pub mod rollups;
mod serve_lock;
mod store;
mod syncer;
pub mod tokens;
pub mod users;
mod writer;
#[cfg(test)]
mod writer_tests;

pub use admin::Admin;
pub use backup::{backup, BackupSummary};
pub use connection::{open_read_write, ReadPool, DEFAULT_BUSY_TIMEOUT};
pub use error::StorageError;
pub use fault::StorageFault;
pub use files::FileChange;
pub use serve_lock::ServeLock;
pub use store::{SeriesRow, Store, StoreSettings};
pub use writer::{Writer, WriterSettings};
