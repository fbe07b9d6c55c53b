//! The SQLite backend: the only code that speaks SQL or knows a file, behind the boundary of
//! [`Store`](super::Store) and [`Admin`](super::Admin). A second backend (PostgreSQL) sits
//! beside this folder and implements those two.
//!
//! Writes go through the single writer thread (`write/`: group commit, fsync, checkpoints);
//! reads use a pool of `query_only` connections. Every read takes the tenant (`UserId`) first,
//! so no function can return another user's rows.

mod admin;
pub mod analytics;
mod backfill;
mod backup;
pub mod campaigns;
mod connection;
mod copy;
mod error;
pub mod events;
mod files;
mod forget;
pub mod held;
pub mod integrity;
mod keys;
mod leads;
pub mod migrations;
pub mod payloads;
pub mod projection;
pub mod retention;
pub mod rollups;
mod serve_lock;
mod store;
pub mod tokens;
mod user_removal;
pub mod users;
mod values;
mod write;

pub use admin::SqliteAdmin;
pub use backup::backup;
use connection::{frames_of, page_size};
pub use connection::{open_read_write, parse_page_size, ReadPool};
pub use connection::{DEFAULT_BUSY_TIMEOUT, NEW_FILE_PAGE_SIZE};
pub use serve_lock::ServeLock;
pub use store::SqliteStore;
pub use write::{Writer, WriterSettings};

use super::{fault, StorageError};
