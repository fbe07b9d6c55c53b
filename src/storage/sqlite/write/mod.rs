//! The write pipeline: one writer thread commits batches (group commit), a syncer thread makes
//! each batch durable before its callers are answered, and a checkpointer copies the WAL into
//! the database file off that path. Between batches the writer thread also runs the projector's
//! turns (`projector`). The job they pass along is in `job`.

mod batch;
mod checkpointer;
mod job;
mod projector;
mod syncer;
mod writer;
#[cfg(test)]
mod writer_tests;

pub use writer::{Writer, WriterSettings};

use super::{fault, files, open_read_write, projection, StorageError, DEFAULT_BUSY_TIMEOUT};
use super::{frames_of, page_size};
