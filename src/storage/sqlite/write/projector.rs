//! The projector's turn on the writer thread: between batches, every interval (or at once when a
//! reader waits for it), one transaction applies the events committed since the watermark
//! (`sqlite/projection.rs`). On the writer's own connection it never contends with the batches
//! for SQLite's write lock, and its COMMIT needs no fsync of its own: the syncer's next fsync
//! covers it, and a projection lost to a crash is replayed from the watermark on disk.

use std::time::Instant;

use rusqlite::Connection;
use tokio::sync::watch;

use super::fault::Faults;
use super::{projection, StorageError};
use crate::domain::UtcTimestamp;
use crate::storage::projection::INTERVAL;
use crate::storage::StorageMetrics;

/// How a projection turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Turn {
    /// Nothing more pending (as far as it saw).
    Done,
    /// It was full: more is pending.
    More,
    /// Not committed; retried from the watermark.
    Failed,
}

pub(super) struct Projector {
    last: Instant,
    batch: usize,
    watermark: watch::Sender<i64>,
    metrics: StorageMetrics,
}

impl Projector {
    pub(super) fn new(
        conn: &Connection,
        batch: usize,
        metrics: StorageMetrics,
    ) -> Result<Self, StorageError> {
        let (watermark, _) = watch::channel(projection::watermark(conn)?);
        Ok(Self {
            last: Instant::now(),
            batch,
            watermark,
            metrics,
        })
    }

    pub(super) fn watermark(&self) -> watch::Receiver<i64> {
        self.watermark.subscribe()
    }

    /// Whether the interval has passed since the last projection.
    pub(super) fn due(&self) -> bool {
        self.last.elapsed() >= INTERVAL
    }

    /// One projection transaction of at most `batch` events. It runs between the writer's
    /// batches and holds them up while it runs, so `batch` bounds the pause it adds to an
    /// acknowledgement: a backlog is worked off in several, the batches queued meanwhile going
    /// in between (the caller asks for the next one at the back of its queue).
    pub(super) fn run(&mut self, conn: &Connection, faults: &Faults) -> Turn {
        let started = Instant::now();
        self.last = started;
        match self.project(conn) {
            Ok(done) => {
                if done.events > 0 {
                    tracing::debug!(
                        events = done.events,
                        through = done.through,
                        ms = crate::telemetry::millis(started.elapsed()),
                        "projected"
                    );
                }
                if done.events >= self.batch {
                    // Due again after the next batch, whether or not the queue had room for
                    // the request to come back.
                    self.last = started.checked_sub(INTERVAL).unwrap_or(started);
                    Turn::More
                } else {
                    Turn::Done
                }
            }
            Err(err) => {
                tracing::error!(error = %err, "projection not committed; it is retried from the watermark");
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                if let Some(fault) = err.fault() {
                    faults.raise(fault);
                }
                Turn::Failed
            }
        }
    }

    /// Projects everything pending (at shutdown).
    pub(super) fn catch_up(&mut self, conn: &Connection, faults: &Faults) {
        while self.run(conn, faults) != Turn::Failed {
            let behind =
                projection::latest_seq(conn).map(|latest| latest > *self.watermark.borrow());
            if !matches!(behind, Ok(true)) {
                return;
            }
        }
    }

    fn project(&mut self, conn: &Connection) -> Result<projection::Projected, StorageError> {
        // Idle, nothing is pending: no write transaction (outside tools meet no write lock).
        let through = *self.watermark.borrow();
        if projection::latest_seq(conn)? <= through && projection::watermark(conn)? == through {
            return Ok(projection::Projected {
                through,
                ..projection::Projected::default()
            });
        }
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let done = projection::project(conn, self.batch)?;
        conn.execute_batch("COMMIT")?;
        if let Some(oldest) = done.oldest_received {
            let lag = (UtcTimestamp::now().millis() - oldest.millis()).max(0) as f64 / 1000.0;
            self.metrics.projection_lag_seconds.observe(lag);
        }
        let pending = projection::latest_seq(conn)? - done.through;
        self.metrics.projection_pending.set(pending.max(0));
        self.watermark.send_replace(done.through);
        Ok(done)
    }
}

/// The projector's clock: calls `tick` every interval until it answers false (the writer has
/// stopped).
pub(super) fn start_clock(tick: impl Fn() -> bool + Send + 'static) -> Result<(), StorageError> {
    std::thread::Builder::new()
        .name("projector-clock".into())
        .spawn(move || loop {
            std::thread::sleep(INTERVAL);
            if !tick() {
                return;
            }
        })
        .map(drop)
        .map_err(StorageError::File)
}
