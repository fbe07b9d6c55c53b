//! The writer on PostgreSQL: one thread owns a connection and commits whatever is queued as
//! one transaction (group commit: one WAL flush for the batch, under `synchronous_commit=on`),
//! each job in its own savepoint so that one failing job never aborts its neighbours. No job
//! is answered before its batch's COMMIT has returned.
//!
//! Several processes may write to one database. Their batches can meet on the same leads in
//! different orders, which PostgreSQL breaks as a deadlock; a deadlock, a serialization failure
//! or a unique key taken meanwhile ([`StorageError::Busy`]) rolls the batch back and runs it
//! again, so those deliveries are still answered with the truth, not a 503.
//! A lost connection fails the batch (503: Smartlead retries) and is opened again for the next.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use postgres::{Client, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::connection::connect;
use super::session::{Session, StatementCache};
use super::{rollups, StorageError};
use crate::storage::location::PostgresUrl;
use crate::storage::rollup_counts::PendingCounts;
use crate::storage::{StorageMetrics, WriterSettings};

/// Runs of one batch before its jobs are answered with the last failure.
const BATCH_ATTEMPTS: usize = 5;

/// A unit of work for the writer thread; it may run more than once (a batch run again).
trait Job: Send {
    fn run(
        &mut self,
        db: &mut Session<'_, '_>,
        counts: &mut PendingCounts,
    ) -> Result<(), StorageError>;
    fn finish(self: Box<Self>, committed: Result<(), Arc<StorageError>>);
}

struct PendingWrite<T, F> {
    work: F,
    result: Option<Result<T, StorageError>>,
    reply: oneshot::Sender<Result<T, StorageError>>,
}

/// What a job does on the connection.
pub trait Work<T>:
    Fn(&mut Session<'_, '_>, &mut PendingCounts) -> Result<T, StorageError> + Send
{
}
impl<T, F> Work<T> for F where
    F: Fn(&mut Session<'_, '_>, &mut PendingCounts) -> Result<T, StorageError> + Send
{
}

impl<T: Send, F: Work<T>> Job for PendingWrite<T, F> {
    /// Runs the work in a savepoint. A retryable failure is returned (the whole batch runs
    /// again); any other is the job's own answer, its savepoint rolled back.
    fn run(
        &mut self,
        db: &mut Session<'_, '_>,
        counts: &mut PendingCounts,
    ) -> Result<(), StorageError> {
        db.batch("SAVEPOINT job")?;
        let mut job_counts = PendingCounts::default();
        let result = catch_unwind(AssertUnwindSafe(|| (self.work)(db, &mut job_counts)))
            .unwrap_or(Err(StorageError::Panicked));
        match result {
            Ok(value) => {
                db.batch("RELEASE SAVEPOINT job")?;
                counts.merge(job_counts);
                self.result = Some(Ok(value));
                Ok(())
            }
            Err(err @ StorageError::Busy(_)) => Err(err),
            Err(err) => {
                // A connection that failed under the job fails the rollback too: the batch.
                db.batch("ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job")?;
                self.result = Some(Err(err));
                Ok(())
            }
        }
    }

    fn finish(self: Box<Self>, committed: Result<(), Arc<StorageError>>) {
        let answer = match (committed, self.result) {
            (Err(batch_error), _) => Err(StorageError::BatchFailed(batch_error)),
            (Ok(()), Some(result)) => result,
            (Ok(()), None) => Err(StorageError::WriterStopped),
        };
        let _ = self.reply.send(answer);
    }
}

enum Message {
    Job(Box<dyn Job>),
    Shutdown,
}

#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Message>,
    thread: Arc<std::sync::Mutex<Option<JoinHandle<()>>>>,
}

impl Writer {
    pub fn start(
        url: &PostgresUrl,
        settings: WriterSettings,
        metrics: StorageMetrics,
    ) -> Result<Self, StorageError> {
        let client = connect(url)?;
        let (queue, receiver) = mpsc::channel(settings.queue_depth.max(1));
        let thread = Thread {
            url: url.clone(),
            client: Some(client),
            cache: StatementCache::default(),
            max_batch: settings.max_batch.max(1),
            metrics,
        };
        let thread = std::thread::Builder::new()
            .name("postgres-writer".into())
            .spawn(move || thread.run(receiver))
            .map_err(StorageError::File)?;
        Ok(Self {
            queue,
            thread: Arc::new(std::sync::Mutex::new(Some(thread))),
        })
    }

    /// Runs `work` in the writer's next transaction; answered once that has committed.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: Work<T> + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = PendingWrite {
            work,
            result: None,
            reply,
        };
        self.queue
            .try_send(Message::Job(Box::new(job)))
            .map_err(|err| match err {
                mpsc::error::TrySendError::Full(_) => StorageError::QueueFull,
                mpsc::error::TrySendError::Closed(_) => StorageError::WriterStopped,
            })?;
        answer.await.unwrap_or(Err(StorageError::WriterStopped))
    }

    pub async fn shutdown(&self) {
        let _ = self.queue.send(Message::Shutdown).await;
        let handle = self
            .thread
            .lock()
            .map(|mut slot| slot.take())
            .unwrap_or(None);
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }
}

struct Thread {
    url: PostgresUrl,
    client: Option<Client>,
    cache: StatementCache,
    max_batch: usize,
    metrics: StorageMetrics,
}

impl Thread {
    fn run(mut self, mut receiver: mpsc::Receiver<Message>) {
        let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(self.max_batch);
        let mut stopping = false;
        while !stopping {
            match receiver.blocking_recv() {
                Some(Message::Job(job)) => batch.push(job),
                Some(Message::Shutdown) | None => break,
            }
            while batch.len() < self.max_batch {
                match receiver.try_recv() {
                    Ok(Message::Job(job)) => batch.push(job),
                    Ok(Message::Shutdown) => {
                        stopping = true;
                        break;
                    }
                    Err(_) => break,
                }
            }
            self.metrics.batch_size.observe(batch.len() as f64);
            self.metrics.queue_depth.set(receiver.len() as i64);
            let started = Instant::now();
            let size = batch.len();
            let outcome = self.commit(&mut batch);
            if let Err(err) = &outcome {
                tracing::error!(error = %err, source = ?std::error::Error::source(err), batch = size, "batch not committed");
            }
            let outcome = outcome.map_err(Arc::new);
            for job in batch.drain(..) {
                job.finish(outcome.clone());
            }
            tracing::debug!(
                batch = size,
                total_ms = crate::telemetry::millis(started.elapsed()),
                "batch committed"
            );
        }
        receiver.close();
        tracing::debug!("writer stopped");
    }

    /// Runs and commits the batch, again after a retryable failure.
    fn commit(&mut self, batch: &mut [Box<dyn Job>]) -> Result<(), StorageError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let client = match &mut self.client {
                Some(client) if !client.is_closed() => client,
                _ => {
                    // A new connection has none of the old one's prepared statements.
                    self.cache = StatementCache::default();
                    self.client = None;
                    self.client.insert(connect(&self.url)?)
                }
            };
            let tx = client.transaction().map_err(StorageError::from);
            let result = tx.and_then(|tx| run_transaction(tx, &mut self.cache, batch));
            match result {
                Ok(()) => return Ok(()),
                Err(StorageError::Busy(reason)) if attempt < BATCH_ATTEMPTS => {
                    tracing::debug!(attempt, reason = %reason, "batch met a concurrent writer; running it again");
                }
                Err(err) => {
                    if matches!(err, StorageError::Pool(_)) {
                        self.client = None;
                    }
                    return Err(err);
                }
            }
        }
    }
}

fn run_transaction(
    mut tx: Transaction<'_>,
    cache: &mut StatementCache,
    batch: &mut [Box<dyn Job>],
) -> Result<(), StorageError> {
    let mut counts = PendingCounts::default();
    {
        let mut db = Session::new(&mut tx, cache);
        for job in batch.iter_mut() {
            job.run(&mut db, &mut counts)?;
        }
        rollups::flush(&mut counts, &mut db)?;
    }
    tx.commit()?;
    Ok(())
}
