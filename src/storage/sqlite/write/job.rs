//! The unit of work the write pipeline passes along: the writer runs it inside its savepoint,
//! the syncer answers it once the batch is durable. Its own file, so that neither of the two
//! threads' modules imports the other.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::StorageError;

/// A unit of work for the writer thread.
pub(super) trait Job: Send {
    /// Runs the work inside the job's savepoint; false rolls the savepoint back.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the waiting caller once the batch's fate is known.
    fn finish(self: Box<Self>, committed: Result<(), Arc<StorageError>>);
}

pub(super) struct PendingWrite<T, F> {
    pub(super) work: Option<F>,
    pub(super) result: Option<Result<T, StorageError>>,
    pub(super) reply: oneshot::Sender<Result<T, StorageError>>,
}

impl<T, F> Job for PendingWrite<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, StorageError> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let result =
            catch_unwind(AssertUnwindSafe(|| work(conn))).unwrap_or(Err(StorageError::Panicked));
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, committed: Result<(), Arc<StorageError>>) {
        let answer = match (committed, self.result) {
            (Err(batch_error), _) => Err(StorageError::BatchFailed(batch_error)),
            (Ok(()), Some(result)) => result,
            (Ok(()), None) => Err(StorageError::WriterStopped),
        };
        // The caller may have gone (client disconnected); its answer is then moot.
        let _ = self.reply.send(answer);
    }
}
