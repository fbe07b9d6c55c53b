//! The writer on PostgreSQL: one thread owns a connection and commits whatever is queued as
//! one transaction (group commit: one WAL flush for the batch, under `synchronous_commit=on`).
//! No job is answered before its batch's COMMIT has returned.
//!
//! A job that fails aborts a PostgreSQL transaction, so one bad job must not take its
//! neighbours down: a batch first runs without savepoints (two round trips per job saved, and
//! jobs rarely fail), and a batch in which a job failed runs again with a savepoint per job,
//! where a failure is that job's own answer.
//!
//! Several processes may write to one database. Their batches can meet on the same leads in
//! different orders, which PostgreSQL breaks as a deadlock; a deadlock, a serialization failure
//! or a unique key taken meanwhile ([`StorageError::Busy`]) rolls the batch back and runs it
//! again, so those deliveries are still answered with the truth, not a 503.
//! A lost connection fails the batch (503: Smartlead retries) and is opened again for the next.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use postgres::{Client, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::connection::connect;
use super::error::run_again;
use super::session::Sql;
use super::session::{Session, StatementCache};
use super::StorageError;
use crate::storage::location::PostgresUrl;
use crate::storage::thread_slot::ThreadSlot;
use crate::storage::{StorageMetrics, WriterSettings};

/// Runs of one batch before its jobs are answered with the last failure.
const BATCH_ATTEMPTS: usize = 5;

/// A unit of work for the writer thread; it may run more than once (a batch run again).
trait Job: Send {
    /// Runs the work. `isolated`: in its own savepoint, its failure its own answer; otherwise
    /// any failure fails the batch.
    fn run(&mut self, db: &mut Session<'_, '_>, isolated: bool) -> Result<(), StorageError>;
    fn finish(self: Box<Self>, committed: Result<(), Arc<StorageError>>);
}

struct PendingWrite<T, F> {
    work: F,
    result: Option<Result<T, StorageError>>,
    reply: oneshot::Sender<Result<T, StorageError>>,
}

/// What a job does on the connection.
pub trait Work<T>: Fn(&mut Session<'_, '_>) -> Result<T, StorageError> + Send {}
impl<T, F> Work<T> for F where F: Fn(&mut Session<'_, '_>) -> Result<T, StorageError> + Send {}

impl<T: Send, F: Work<T>> Job for PendingWrite<T, F> {
    /// Runs the work. A retryable failure is returned (the whole batch runs again); so is any
    /// failure outside a savepoint; inside one, the failure is the job's own answer.
    fn run(&mut self, db: &mut Session<'_, '_>, isolated: bool) -> Result<(), StorageError> {
        if isolated {
            db.batch("SAVEPOINT job")?;
        }
        let result = catch_unwind(AssertUnwindSafe(|| (self.work)(db)))
            .unwrap_or(Err(StorageError::Panicked));
        match result {
            Ok(value) => {
                if isolated {
                    db.batch("RELEASE SAVEPOINT job")?;
                }
                self.result = Some(Ok(value));
                Ok(())
            }
            Err(err) if run_again(&err) => Err(err),
            Err(err) if !isolated => Err(StorageError::JobFailed(Box::new(err))),
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

/// The process's writers: one connection each, a tenant's writes always on the same one, so
/// that two writers of this process never race for one tenant's new leads or dedupe keys (the
/// rollups are the projector's).
#[derive(Clone)]
pub struct Writers(Vec<Writer>);

impl Writers {
    /// `count` writers, the queue shared out between them.
    pub fn start(
        url: &PostgresUrl,
        count: u32,
        settings: WriterSettings,
        metrics: StorageMetrics,
    ) -> Result<Self, StorageError> {
        let count = count.max(1) as usize;
        let settings = WriterSettings {
            queue_depth: (settings.queue_depth / count).max(1),
            ..settings
        };
        (0..count)
            .map(|n| Writer::start(url, n, settings, metrics.clone()))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// The writer of `user`'s writes.
    pub fn of(&self, user: crate::domain::UserId) -> &Writer {
        &self.0[(user.as_uuid().as_u128() % self.0.len() as u128) as usize]
    }

    /// The writer of writes that belong to no one tenant.
    pub fn shared(&self) -> &Writer {
        &self.0[0]
    }

    pub fn all(&self) -> &[Writer] {
        &self.0
    }

    pub async fn shutdown(&self) {
        for writer in &self.0 {
            writer.shutdown().await;
        }
    }
}

enum Message {
    Job(Box<dyn Job>),
    Shutdown,
}

#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Message>,
    thread: ThreadSlot,
}

impl Writer {
    fn start(
        url: &PostgresUrl,
        n: usize,
        settings: WriterSettings,
        metrics: StorageMetrics,
    ) -> Result<Self, StorageError> {
        let lock_timeout = settings.busy_timeout;
        let client = connect_writer(url, lock_timeout)?;
        let (queue, receiver) = mpsc::channel(settings.queue_depth.max(1));
        let thread = Thread {
            url: url.clone(),
            lock_timeout,
            client: Some(client),
            cache: StatementCache::default(),
            max_batch: settings.max_batch.max(1),
            metrics,
        };
        let thread = std::thread::Builder::new()
            .name(format!("postgres-writer-{n}"))
            .spawn(move || thread.run(receiver))
            .map_err(StorageError::File)?;
        Ok(Self {
            queue,
            thread: ThreadSlot::new(thread),
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
        self.thread.join(|| ()).await;
    }
}

struct Thread {
    url: PostgresUrl,
    /// How long a write waits for a row lock another session holds (`--busy-timeout-ms`).
    lock_timeout: std::time::Duration,
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

    /// Runs and commits the batch, again after a retryable failure, and with a savepoint per
    /// job once a job has failed.
    fn commit(&mut self, batch: &mut [Box<dyn Job>]) -> Result<(), StorageError> {
        let mut attempt = 0;
        let mut isolated = false;
        loop {
            attempt += 1;
            let client = match &mut self.client {
                Some(client) if !client.is_closed() => client,
                _ => {
                    // A new connection has none of the old one's prepared statements.
                    self.cache = StatementCache::default();
                    self.client = None;
                    self.client
                        .insert(connect_writer(&self.url, self.lock_timeout)?)
                }
            };
            let tx = client.transaction().map_err(StorageError::from);
            let result = tx.and_then(|tx| run_transaction(tx, &mut self.cache, batch, isolated));
            match result {
                Ok(()) => return Ok(()),
                Err(StorageError::JobFailed(_)) if !isolated => isolated = true,
                Err(err) if run_again(&err) && attempt < BATCH_ATTEMPTS => {
                    tracing::debug!(attempt, error = %err, "batch met a concurrent writer; running it again");
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

/// A writer's connection: a row locked by another session (a lead's category, a backfilled
/// event being claimed) past `lock_timeout` fails the batch (a 503: Smartlead retries) instead
/// of stalling every delivery behind it.
fn connect_writer(
    url: &PostgresUrl,
    lock_timeout: std::time::Duration,
) -> Result<Client, StorageError> {
    let mut client = connect(url)?;
    client.batch_execute(&format!(
        "SET lock_timeout = {}",
        lock_timeout.as_millis().max(1)
    ))?;
    Ok(client)
}

fn run_transaction(
    mut tx: Transaction<'_>,
    cache: &mut StatementCache,
    batch: &mut [Box<dyn Job>],
    isolated: bool,
) -> Result<(), StorageError> {
    let started = Instant::now();
    {
        let mut db = Session::new(&mut tx, cache);
        for job in batch.iter_mut() {
            job.run(&mut db, isolated)?;
        }
    }
    let work = started.elapsed();
    tx.commit()?;
    tracing::debug!(
        batch = batch.len(),
        isolated,
        work_ms = crate::telemetry::millis(work),
        commit_ms = crate::telemetry::millis(started.elapsed() - work),
        "batch transaction"
    );
    Ok(())
}
