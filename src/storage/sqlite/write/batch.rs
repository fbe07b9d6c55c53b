//! One batch of jobs as one transaction: each job in its own savepoint, so that a failing job
//! never aborts its neighbours; the committed batch goes to the syncer, which answers its jobs
//! once the WAL holding the commit is durable.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::fault::Faults;
use super::job::Job;
use super::syncer::Syncer;
use super::StorageError;

pub(super) fn commit_batch(
    conn: &Connection,
    batch: &mut Vec<Box<dyn Job>>,
    queued: usize,
    syncer: &Syncer,
    faults: &Faults,
) {
    let started = Instant::now();
    let size = batch.len();
    let mut timing = BatchTiming::default();
    match run_transaction(conn, batch, &mut timing) {
        Ok(()) => syncer.submit(std::mem::replace(
            batch,
            Vec::with_capacity(batch.capacity()),
        )),
        Err(err) => {
            tracing::error!(error = %err, source = ?std::error::Error::source(&err), batch = size, "batch not committed");
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            if let Some(fault) = err.fault() {
                faults.raise(fault);
            }
            let failure = Arc::new(err);
            for job in batch.drain(..) {
                job.finish(Err(failure.clone()));
            }
        }
    }
    tracing::debug!(
        batch = size,
        queued,
        work_ms = crate::telemetry::millis(timing.work),
        commit_ms = crate::telemetry::millis(timing.commit),
        total_ms = crate::telemetry::millis(started.elapsed()),
        "batch committed"
    );
}

/// Where a batch's time went: running the jobs, and the COMMIT (writing the WAL frames).
#[derive(Default)]
struct BatchTiming {
    work: Duration,
    commit: Duration,
}

fn run_transaction(
    conn: &Connection,
    batch: &mut [Box<dyn Job>],
    timing: &mut BatchTiming,
) -> Result<(), StorageError> {
    let started = Instant::now();
    // IMMEDIATE takes the write lock up front, so a busy database fails here, before any work.
    conn.execute_batch("BEGIN IMMEDIATE")?;
    for job in batch.iter_mut() {
        conn.prepare_cached("SAVEPOINT job")?.execute([])?;
        if !job.run(conn) {
            conn.prepare_cached("ROLLBACK TO job")?.execute([])?;
        }
        conn.prepare_cached("RELEASE job")?.execute([])?;
    }
    timing.work = started.elapsed();
    conn.execute_batch("COMMIT")?;
    timing.commit = started.elapsed() - timing.work;
    Ok(())
}
