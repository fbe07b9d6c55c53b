//! The single writer: one thread owns the only read-write connection and commits whatever is
//! queued as one transaction (group commit). Batches form on their own while the previous one
//! runs, with no wait window unless one is set (`commit_delay`: fewer pages written per event at
//! low rates, for that much added to every acknowledgement). The fsync that makes a batch
//! durable runs on the [`Syncer`]'s thread while this one already runs the next batch.
//!
//! Every job runs in its own savepoint, so one failing job never aborts its neighbours, and no
//! job is answered before its batch has committed and the WAL holding that commit is synced.
//!
//! After a storage fault ([`Faults`]) no batch is committed any more: every job is answered 503
//! until the process restarts. When the fault is the WAL deleted under the service, the writer
//! copies the deleted file (still open here) back, so that the next start recovers every commit.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot, watch};

use super::batch::commit_batch;
use super::checkpointer::{finish_for_rewind, Checkpointer};
use super::fault::{Faults, FileChange, StorageFault};
use super::files::DatabaseFiles;
use super::job::{Job, PendingWrite};
use super::projector::{start_clock, Projector, Turn};
use super::syncer::Syncer;
use super::{open_read_write, StorageError};
use crate::storage::thread_slot::ThreadSlot;
use crate::storage::StorageMetrics;

/// WAL size (4 KiB units) at which the writer checkpoints itself, should the background
/// checkpointer fall behind (SQLite's default is 1000 pages).
const WAL_BACKSTOP_UNITS: i64 = 50_000;

/// The writer's page cache, in pages (64 MiB of 4 KiB pages, 16 MiB of 1 KiB ones), not in
/// bytes as the other connections'. A b-tree rebalance that reorders pages renumbers one through
/// the number of the page at 1 GiB, which leaves the cache's highest key past the end of a file
/// smaller than that; the commit then walks the cache's whole hash table to drop pages past the
/// end. That walk grows with the pages cached: in bytes, 1 KiB pages made it four times longer,
/// 12% of the writer's time at 1,000 events/s and a tenth fewer events at saturation
/// (BENCHMARKS.md, "Issue 19, fifth step"). A cache of 2,000 pages did no better (sixth step):
/// the walk stays, at this cost.
const WRITER_CACHE_PAGES: i64 = 16_384;

/// Tuning for the writer.
#[derive(Debug, Clone, Copy)]
pub struct WriterSettings {
    /// Requests that may wait for the writer; past this a write is refused at once (503).
    pub queue_depth: usize,
    /// The most jobs committed in one transaction.
    pub max_batch: usize,
    /// How long a commit waits for another process's lock before the batch fails with `Busy`.
    pub busy_timeout: Duration,
    /// WAL length (4 KiB units, whatever the file's page size) past which the background
    /// checkpointer has the writer rewind it; this bounds the `-wal` file to roughly this many
    /// units plus one checkpoint round's.
    pub wal_rewind_pages: u32,
    /// The most events one projection applies.
    pub projection_batch: usize,
    /// How long a batch that is not full waits for more jobs before it commits (zero: at once).
    /// Each commit rewrites the pages its events share (the table's last page, the appending
    /// index pages), so at low rates a delay writes fewer pages per event, and adds itself to
    /// every acknowledgement.
    pub commit_delay: Duration,
}

impl Default for WriterSettings {
    fn default() -> Self {
        Self {
            queue_depth: 4096,
            max_batch: 512,
            busy_timeout: super::DEFAULT_BUSY_TIMEOUT,
            wal_rewind_pages: 32_768,
            projection_batch: crate::storage::projection::DEFAULT_BATCH,
            commit_delay: Duration::ZERO,
        }
    }
}

enum Message {
    Job(Box<dyn Job>),
    /// A fault was raised elsewhere: act on it now rather than with the next job.
    Fault,
    /// The projector's clock: project if its interval has passed.
    Tick,
    /// A reader waits for the watermark: project now.
    Project,
    /// Everything queued before this is committed; then the thread checkpoints and exits.
    Shutdown,
}

/// Handle to the writer thread. Cheap to clone; all clones feed the same queue.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Message>,
    thread: ThreadSlot,
    faults: Faults,
    /// The projector's watermark, as of its last commit.
    watermark: watch::Receiver<i64>,
}

impl Writer {
    /// Opens the read-write connection and starts the writer thread.
    pub fn start(
        path: &Path,
        settings: WriterSettings,
        metrics: StorageMetrics,
    ) -> Result<Self, StorageError> {
        Self::start_with(path, settings, metrics, super::syncer::sync)
    }

    /// [`Writer::start`] with the step that makes a committed batch durable given: the real
    /// fsync in the service, a step the tests hold, fail or count in theirs.
    pub(super) fn start_with(
        path: &Path,
        settings: WriterSettings,
        metrics: StorageMetrics,
        mut durable: impl FnMut(&DatabaseFiles) -> Result<(), StorageFault> + Send + 'static,
    ) -> Result<Self, StorageError> {
        let conn = open_read_write(path, settings.busy_timeout)?;
        // The background checkpointer does the regular work; this only bounds the WAL should
        // it fall behind.
        let backstop = super::frames_of(WAL_BACKSTOP_UNITS, super::page_size(&conn)?);
        conn.pragma_update(None, "wal_autocheckpoint", backstop)?;
        conn.pragma_update(None, "cache_size", WRITER_CACHE_PAGES)?;
        // Each job's savepoint copies every page it first touches into a sub-journal. On a
        // temp file (the default once it passes 64 KiB) that was a third of the writer's
        // time in write(2) calls; in memory it is a memcpy. The sub-journal only matters
        // until the transaction ends, so nothing durable depends on it.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // An ingest runs ~20 distinct statements; rusqlite keeps 16 by default, so the oldest
        // were evicted and prepared again for every event.
        conn.set_prepared_statement_cache_capacity(64);
        // The Syncer fsyncs each commit instead (see its module); NORMAL still syncs the WAL
        // before checkpoints and on restart, so the file stays consistent.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // A read opens the WAL (creating `-wal` and `-shm`): the files held below are then the
        // ones this connection writes for as long as it lives.
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
        let files = DatabaseFiles::hold(path).map_err(StorageError::File)?;

        let (queue, receiver) = mpsc::channel(settings.queue_depth.max(1));
        // Weak: the writer thread holds `faults` too, and must still see its queue close.
        let wake = queue.downgrade();
        let faults = Faults::new(move || {
            // A full queue needs no wake-up (the writer is about to take a batch and sees the
            // fault then); never block here, the writer may be waiting on the raising thread.
            if let Some(queue) = wake.upgrade() {
                let _ = queue.try_send(Message::Fault);
            }
        });
        let checkpointer = Checkpointer::start(
            path,
            settings.busy_timeout,
            settings.wal_rewind_pages,
            files.clone(),
            faults.clone(),
            metrics.checkpoint_seconds.clone(),
        )?;
        let synced = files.clone();
        let fsync_seconds = metrics.fsync_seconds.clone();
        let syncer = Syncer::start(move || durable(&synced), faults.clone(), fsync_seconds)?;
        let projector = Projector::new(&conn, settings.projection_batch.max(1), metrics.clone())?;
        let watermark = projector.watermark();
        // Weak, so that the clock stops once the writer's queue closes. A full queue needs no
        // tick: the writer looks after every batch.
        let clock = queue.downgrade();
        start_clock(move || {
            clock.upgrade().is_some_and(|queue| {
                !matches!(
                    queue.try_send(Message::Tick),
                    Err(mpsc::error::TrySendError::Closed(_))
                )
            })
        })?;
        let writer = Thread {
            conn,
            max_batch: settings.max_batch.max(1),
            commit_delay: settings.commit_delay,
            checkpointer,
            syncer,
            projector,
            queue: queue.downgrade(),
            files,
            faults: faults.clone(),
            metrics,
        };
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer.run(receiver))
            .map_err(StorageError::File)?;
        Ok(Self {
            queue,
            thread: ThreadSlot::new(thread),
            faults,
            watermark,
        })
    }

    /// The projector's watermark, changing with each of its commits.
    pub fn watermark(&self) -> watch::Receiver<i64> {
        self.watermark.clone()
    }

    /// Asks for a projection now rather than at the next tick (a reader is waiting for it).
    /// A full queue needs no request: the writer projects between batches when one is due.
    pub fn request_projection(&self) {
        let _ = self.queue.try_send(Message::Project);
    }

    /// The storage fault that stopped this writer, if there is one. It does no I/O (it is asked
    /// from the async executor): the files are checked by the syncer before every answer and by
    /// the checkpointer every 200 ms, which record what they find.
    pub fn fault(&self) -> Option<StorageFault> {
        self.faults.current().cloned()
    }

    /// Whether a restart repairs the fault in force, once this writer has dealt with it.
    pub fn restart_repairs_fault(&self) -> Option<bool> {
        self.faults.restart_repairs()
    }

    /// Records a fault seen outside the writer (a read that found the file malformed).
    pub fn raise(&self, fault: StorageFault) {
        self.faults.raise(fault);
    }

    /// Runs `work` in the writer's next transaction and returns its result once committed and
    /// synced. A full queue is refused at once with [`StorageError::QueueFull`].
    pub async fn write<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = PendingWrite {
            work: Some(work),
            result: None,
            reply,
        };
        self.queue
            .try_send(Message::Job(Box::new(job)))
            .map_err(|err| match err {
                mpsc::error::TrySendError::Full(_) => StorageError::QueueFull,
                mpsc::error::TrySendError::Closed(_) => StorageError::WriterStopped,
            })?;
        // A dropped reply means the writer stopped before reaching this job: nothing was written.
        let answer = answer.await.unwrap_or(Err(StorageError::WriterStopped));
        if let Some(fault) = answer.as_ref().err().and_then(StorageError::fault) {
            self.raise(fault);
        }
        answer
    }

    /// Commits everything already queued, then stops the thread and checkpoints the WAL.
    /// Writes queued after this are refused with [`StorageError::WriterStopped`].
    pub async fn shutdown(&self) {
        let _ = self.queue.send(Message::Shutdown).await;
        self.thread.join(|| ()).await;
    }
}

/// What the writer thread owns.
struct Thread {
    conn: Connection,
    max_batch: usize,
    commit_delay: Duration,
    checkpointer: Checkpointer,
    syncer: Syncer,
    projector: Projector,
    /// Its own queue, to come back to a backlog after the batches queued meanwhile.
    queue: mpsc::WeakSender<Message>,
    files: DatabaseFiles,
    faults: Faults,
    metrics: StorageMetrics,
}

/// What else [`Thread::take_queued`] found in the queue besides jobs.
#[derive(Default)]
struct Taken {
    /// A reader asked for a projection.
    wanted: bool,
    /// The shutdown marker: nothing after it is taken.
    stopping: bool,
}

impl Thread {
    /// Adds what is already queued to `batch`, up to the most one batch holds.
    fn take_queued(
        &self,
        receiver: &mut mpsc::Receiver<Message>,
        batch: &mut Vec<Box<dyn Job>>,
    ) -> Taken {
        let mut taken = Taken::default();
        while batch.len() < self.max_batch {
            match receiver.try_recv() {
                Ok(Message::Job(job)) => batch.push(job),
                Ok(Message::Fault) | Ok(Message::Tick) => {}
                Ok(Message::Project) => taken.wanted = true,
                Ok(Message::Shutdown) => {
                    taken.stopping = true;
                    break;
                }
                Err(_) => break,
            }
        }
        taken
    }

    fn run(mut self, mut receiver: mpsc::Receiver<Message>) {
        let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(self.max_batch);
        let mut fault_handled = false;
        let mut stopping = false;
        while !stopping {
            let mut wanted = false;
            match receiver.blocking_recv() {
                Some(Message::Job(job)) => batch.push(job),
                Some(Message::Fault) | Some(Message::Tick) => {}
                Some(Message::Project) => wanted = true,
                Some(Message::Shutdown) | None => break,
            }
            let mut taken = self.take_queued(&mut receiver, &mut batch);
            if !self.commit_delay.is_zero()
                && !taken.stopping
                && !batch.is_empty()
                && batch.len() < self.max_batch
                && self.faults.current().is_none()
            {
                std::thread::sleep(self.commit_delay);
                let later = self.take_queued(&mut receiver, &mut batch);
                taken.wanted |= later.wanted;
                taken.stopping = later.stopping;
            }
            wanted |= taken.wanted;
            stopping = taken.stopping;
            if let Some(fault) = self.faults.current() {
                let failure = Arc::new(StorageError::Faulted(fault.clone()));
                for job in batch.drain(..) {
                    job.finish(Err(failure.clone()));
                }
                if !fault_handled {
                    handle_fault(&self.files, &self.faults, fault);
                    fault_handled = true;
                }
                continue;
            }
            if !batch.is_empty() {
                let queued = receiver.len();
                self.metrics.batch_size.observe(batch.len() as f64);
                self.metrics.queue_depth.set(queued as i64);
                commit_batch(&self.conn, &mut batch, queued, &self.syncer, &self.faults);
            }
            if (wanted || self.projector.due())
                && self.projector.run(&self.conn, &self.faults) == Turn::More
            {
                // The rest of the backlog after whatever is queued now.
                if let Some(queue) = self.queue.upgrade() {
                    let _ = queue.try_send(Message::Project);
                }
            }
            if self.checkpointer.rewind_wanted() {
                finish_for_rewind(&self.conn);
            }
        }
        // Jobs still queued behind the shutdown marker are dropped here: their callers see
        // WriterStopped (a 503), never a false acknowledgement.
        receiver.close();
        self.syncer.stop();
        self.checkpointer.stop();
        match self.faults.current() {
            Some(fault) => {
                if !fault_handled {
                    handle_fault(&self.files, &self.faults, fault);
                }
                skip_checkpoint_on_close(&self.conn);
            }
            None => {
                // The file at rest is fully projected: the next start has no backlog.
                self.projector.catch_up(&self.conn, &self.faults);
                if let Err(err) = self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
                    tracing::warn!(error = %err, "WAL checkpoint at shutdown failed");
                }
            }
        }
        tracing::debug!("writer stopped");
    }
}

/// What the writer does once, when it first sees a fault: with nothing being written any more,
/// a WAL deleted or replaced under it is copied back from the file it still has open. Then it
/// records whether a restart repairs the fault (not if the deleted WAL could not be written back:
/// its commits are then only in this process's open file, for an operator to copy out).
fn handle_fault(files: &DatabaseFiles, faults: &Faults, fault: &StorageFault) {
    let mut restart_repairs = fault.cleared_by_restart();
    if let StorageFault::FileChanged {
        file: "-wal",
        change,
    } = fault
    {
        match files.restore_deleted_wal() {
            Ok(path) if *change == FileChange::Deleted => tracing::error!(
                path = %path.display(),
                "the deleted WAL was written back with every commit it held; restart the service to recover them"
            ),
            Ok(path) => tracing::error!(
                path = %path.display(),
                "another file took the WAL's name; this process's commits were saved beside it for an operator"
            ),
            Err(err) => {
                restart_repairs = false;
                tracing::error!(error = %err, "the deleted WAL could not be written back")
            }
        }
    }
    faults.settle(restart_repairs);
}

/// After a fault the WAL this connection sees may not be the database's: closing it must not
/// checkpoint (nor, as the last connection, delete the files at the WAL's path).
pub(super) fn skip_checkpoint_on_close(conn: &Connection) {
    if let Err(err) = conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true) {
        tracing::warn!(error = %err, "could not turn off the checkpoint on close");
    }
}
