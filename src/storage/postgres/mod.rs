//! The PostgreSQL backend (Citus-ready), beside the SQLite one and behind the same boundary of
//! [`Store`](super::Store) and [`Admin`](super::Admin): the same records, the same rollup
//! arithmetic, the same guarantees, in PostgreSQL's own dialect and types (`uuid`,
//! `timestamptz`, `jsonb`). Its schema is `migrations/postgres/`.
//!
//! Writes go through writer threads, a connection each, a tenant always on the same one (group
//! commit, `synchronous_commit=on`); reads through a pool. Several processes may serve one database: leads are locked per
//! ingest, rollups upserted in key order, and a batch that meets another process's is run again.

mod admin;
mod analytics;
mod backfill;
mod blocking;
mod campaigns;
mod connection;
mod copy;
mod error;
mod events;
mod forget;
mod held;
mod lead_export;
mod lead_search;
mod leads;
pub mod migrations;
mod projection;
mod projector;
mod query;
mod retention;
mod rollups;
mod search_reach;
mod session;
mod store;
mod tls;
mod tokens;
mod users;
mod values;
mod writer;

pub use admin::PostgresAdmin;
pub use store::PostgresStore;
use writer::Writers;

use super::StorageError;
