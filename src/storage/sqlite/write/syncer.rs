//! Group fsync of the WAL, off the writer thread.
//!
//! Under `synchronous=FULL` SQLite fsyncs the WAL inside every COMMIT, so the writer sat idle
//! for the whole fsync (2–5 ms here, half of each batch) before it could start the next
//! batch. Instead the writer commits with `synchronous=NORMAL`, which writes the transaction's
//! frames to the WAL and keeps the file consistent (the WAL is still synced before every
//! checkpoint and when it is restarted), and hands the batch to this thread. This thread
//! `fdatasync`s the WAL — which makes every frame written before the call durable, the batch's
//! commit frame included — and only then answers the batch's callers. Meanwhile the writer
//! is already running the next batch, and every batch that committed during one fsync shares
//! the next one.
//!
//! Nothing is acknowledged before the fsync that covers its commit has returned, so a 2xx means
//! the same as under `synchronous=FULL`. After a failed fsync the kernel may have dropped the
//! unwritten pages and a later fsync can still report success, so the first failure is final:
//! every batch after it is refused until the process restarts and SQLite recovers the WAL from
//! what is really on disk.
//!
//! The file synced is the very one SQLite writes, held since the writer started ([`DatabaseFiles`]),
//! never whatever bears the `-wal` name now. After each fsync, and before answering, the three
//! files are checked to still be the ones at their paths: a WAL deleted or replaced under the
//! service (by hand, or by another process's SQLite) holds commits that the next start would
//! not find, so that is a fault too, and nothing is acknowledged after it.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use prometheus_client::metrics::histogram::Histogram;

use super::fault::{Faults, StorageFault};
use super::files::DatabaseFiles;
use super::job::Job;
use super::StorageError;

/// Committed batches that may wait for an fsync before the writer itself waits. Bounds the
/// memory held by answered-but-not-yet-durable work, and passes back-pressure to the queue.
const MAX_PENDING_BATCHES: usize = 8;

pub(super) struct Syncer {
    batches: Option<SyncSender<Vec<Box<dyn Job>>>>,
    thread: Option<JoinHandle<()>>,
}

impl Syncer {
    /// Starts the thread; `durable` is what a batch's answer waits for: [`sync`] in the
    /// service, something the tests control in theirs.
    pub(super) fn start(
        durable: impl FnMut() -> Result<(), StorageFault> + Send + 'static,
        faults: Faults,
        fsync_seconds: Histogram,
    ) -> Result<Self, StorageError> {
        let (batches, receiver) = sync_channel(MAX_PENDING_BATCHES);
        let thread = std::thread::Builder::new()
            .name("sqlite-wal-sync".into())
            .spawn(move || run(durable, faults, receiver, fsync_seconds))
            .map_err(StorageError::File)?;
        Ok(Self {
            batches: Some(batches),
            thread: Some(thread),
        })
    }

    /// Hands over a committed batch; its jobs are answered once the WAL is durable.
    pub(super) fn submit(&self, batch: Vec<Box<dyn Job>>) {
        let Some(batches) = &self.batches else {
            return;
        };
        if let Err(returned) = batches.send(batch) {
            // The thread is gone (it panicked): nothing can be made durable any more.
            let failure = Arc::new(StorageError::WriterStopped);
            for job in returned.0 {
                job.finish(Err(failure.clone()));
            }
        }
    }

    /// Syncs and answers everything submitted so far, then stops the thread.
    pub(super) fn stop(mut self) {
        drop(self.batches.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(
    mut durable: impl FnMut() -> Result<(), StorageFault>,
    faults: Faults,
    receiver: Receiver<Vec<Box<dyn Job>>>,
    fsync_seconds: Histogram,
) {
    while let Ok(first) = receiver.recv() {
        let mut jobs = first;
        while let Ok(more) = receiver.try_recv() {
            jobs.extend(more);
        }
        let started = Instant::now();
        let outcome = match faults.current() {
            Some(fault) => Err(fault.clone()),
            None => durable().map_err(|fault| faults.raise(fault)),
        }
        .map_err(|fault| Arc::new(StorageError::Faulted(fault)));
        fsync_seconds.observe(started.elapsed().as_secs_f64());
        tracing::debug!(
            jobs = jobs.len(),
            sync_ms = crate::telemetry::millis(started.elapsed()),
            "WAL synced"
        );
        for job in jobs {
            job.finish(outcome.clone());
        }
    }
}

/// The fsync a batch's answer waits for, then the check that the file synced is still the
/// database's WAL (and the database and `-shm` still the ones SQLite uses).
pub(super) fn sync(files: &DatabaseFiles) -> Result<(), StorageFault> {
    files
        .sync_wal()
        .map_err(|err| StorageFault::SyncFailed(err.to_string()))?;
    files.verify()
}
