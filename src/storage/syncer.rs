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

use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use super::synced_file::SyncedFile;
use super::writer::Job;
use super::StorageError;

/// Committed batches that may wait for an fsync before the writer itself waits. Bounds the
/// memory held by answered-but-not-yet-durable work, and passes back-pressure to the queue.
const MAX_PENDING_BATCHES: usize = 8;

pub(super) struct Syncer {
    batches: Option<SyncSender<Vec<Box<dyn Job>>>>,
    thread: Option<JoinHandle<()>>,
}

impl Syncer {
    pub(super) fn start(db_path: &Path) -> Result<Self, StorageError> {
        let wal = SyncedFile::wal_of(db_path);
        let (batches, receiver) = sync_channel(MAX_PENDING_BATCHES);
        let thread = std::thread::Builder::new()
            .name("sqlite-wal-sync".into())
            .spawn(move || run(wal, receiver))
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

fn run(mut wal: SyncedFile, receiver: Receiver<Vec<Box<dyn Job>>>) {
    let mut failed: Option<Arc<StorageError>> = None;
    while let Ok(first) = receiver.recv() {
        let mut jobs = first;
        while let Ok(more) = receiver.try_recv() {
            jobs.extend(more);
        }
        let started = Instant::now();
        let outcome = match &failed {
            Some(failure) => Err(failure.clone()),
            None => wal.sync().map_err(|err| {
                tracing::error!(error = %err, "fsync of the WAL failed; refusing every write until restart");
                let failure = Arc::new(StorageError::Unsynced(err));
                failed = Some(failure.clone());
                failure
            }),
        };
        tracing::debug!(
            jobs = jobs.len(),
            sync_ms = started.elapsed().as_secs_f64() * 1e3,
            "WAL synced"
        );
        for job in jobs {
            job.finish(outcome.clone());
        }
    }
}
