//! The projector's thread on PostgreSQL: its own connection, one projection transaction every
//! interval (or at once when a reader waits for it), as many as it takes while a backlog lasts.
//! Another process's projector holding the turn makes this one skip it. At shutdown, after the
//! writers have stopped, it projects what is left.

use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::time::Instant;

use postgres::Client;
use tokio::sync::watch;

use super::connection::connect;
use super::projection::{self, Projected};
use super::session::{Session, StatementCache};
use super::StorageError;
use crate::domain::UtcTimestamp;
use crate::storage::location::PostgresUrl;
use crate::storage::projection::INTERVAL;
use crate::storage::thread_slot::ThreadSlot;
use crate::storage::StorageMetrics;

enum Wake {
    Now,
    Stop,
}

#[derive(Clone)]
pub struct Projector {
    wake: SyncSender<Wake>,
    watermark: watch::Receiver<i64>,
    thread: ThreadSlot,
}

impl Projector {
    pub fn start(
        url: &PostgresUrl,
        batch: usize,
        metrics: StorageMetrics,
    ) -> Result<Self, StorageError> {
        let mut client = connect(url)?;
        let (watermark, receiver) = watch::channel(projection::watermark(&mut client)?);
        let (wake, woken) = mpsc::sync_channel(1);
        let mut turn = Turn {
            url: url.clone(),
            client: Some(client),
            cache: StatementCache::default(),
            batch: batch.max(1),
            watermark,
            metrics,
        };
        let thread = std::thread::Builder::new()
            .name("postgres-projector".into())
            .spawn(move || loop {
                match woken.recv_timeout(INTERVAL) {
                    Ok(Wake::Now) | Err(RecvTimeoutError::Timeout) => turn.run_while_full(),
                    Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => {
                        turn.run_while_full();
                        return;
                    }
                }
            })
            .map_err(StorageError::File)?;
        Ok(Self {
            wake,
            watermark: receiver,
            thread: ThreadSlot::new(thread),
        })
    }

    /// A projection now rather than at the next tick; one already asked for is enough.
    pub fn request(&self) {
        let _ = self.wake.try_send(Wake::Now);
    }

    pub fn watermark(&self) -> watch::Receiver<i64> {
        self.watermark.clone()
    }

    /// Projects what is left, then stops the thread.
    pub async fn stop(&self) {
        let wake = self.wake.clone();
        self.thread
            .join(move || {
                let _ = wake.send(Wake::Stop);
            })
            .await;
    }
}

/// What the thread owns.
struct Turn {
    url: PostgresUrl,
    client: Option<Client>,
    cache: StatementCache,
    /// The most events one projection applies.
    batch: usize,
    watermark: watch::Sender<i64>,
    metrics: StorageMetrics,
}

impl Turn {
    /// Projections until one is not full (a backlog is worked off at once).
    fn run_while_full(&mut self) {
        loop {
            let started = Instant::now();
            match self.run() {
                Ok(done) if done.events >= self.batch => continue,
                Ok(done) => {
                    if done.events > 0 {
                        tracing::debug!(
                            events = done.events,
                            ms = crate::telemetry::millis(started.elapsed()),
                            "projected"
                        );
                    }
                    return;
                }
                Err(err) => {
                    // Retried at the next tick, from the queue; a broken connection is replaced.
                    tracing::warn!(error = %err, "projection not committed; it is retried from the queue");
                    if self.client.as_ref().is_none_or(Client::is_closed) {
                        self.client = None;
                        self.cache = StatementCache::default();
                    }
                    return;
                }
            }
        }
    }

    fn run(&mut self) -> Result<Projected, StorageError> {
        if self.client.is_none() {
            self.client = Some(connect(&self.url)?);
        }
        let client = self.client.as_mut().expect("connected above");
        let mut tx = client.transaction()?;
        let done = {
            let mut db = Session::new(&mut tx, &mut self.cache);
            projection::project(&mut db, self.batch, false)?
        };
        tx.commit()?;
        if let Some(oldest) = done.oldest_received {
            let lag = (UtcTimestamp::now().millis() - oldest.millis()).max(0) as f64 / 1000.0;
            self.metrics.projection_lag_seconds.observe(lag);
        }
        let (through, pending) = projection::progress(client)?;
        self.metrics.projection_pending.set(pending);
        self.watermark.send_replace(through);
        Ok(done)
    }
}
