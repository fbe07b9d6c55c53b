//! WAL checkpoints in the background. Left to SQLite, a checkpoint runs inside the COMMIT that
//! crosses the threshold: the writer copies pages into the main file and fsyncs it while every
//! request of that batch waits for its answer. Here a second connection checkpoints PASSIVE
//! (never blocking the writer or readers) on a timer, off the acknowledgement path.
//!
//! A passive checkpoint alone never lets the WAL start over under steady writes either: SQLite
//! only rewinds it when a write transaction begins with every frame already copied, and the
//! writer appends frames while each pass runs. So once the WAL passes the configured length the
//! checkpointer catches up with a few quick passes and fsyncs the database file (SQLite only
//! does so after a pass that copied the whole WAL, which under steady writes is never), then
//! asks the writer to copy the last few
//! frames between two batches ([`finish_for_rewind`]); its next transaction rewinds the WAL.
//! That pause of a few ms replaces the writer's backstop checkpoint of the whole WAL, which
//! stalled every request for tens of ms.
//!
//! After a storage fault no pass runs: the WAL this process sees may no longer be the
//! database's, and copying from it could overwrite what another process wrote.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use prometheus_client::metrics::histogram::Histogram;

use super::fault::Faults;
use super::files::DatabaseFiles;
use super::{open_read_write, StorageError};

/// How often the background checkpoint runs.
const INTERVAL: Duration = Duration::from_millis(200);

/// Catching up stops once a pass finds fewer new frames than this (or after
/// [`MAX_CATCH_UP_PASSES`]); the writer copies the rest.
const CAUGHT_UP_FRAMES: i64 = 1_024;
const MAX_CATCH_UP_PASSES: usize = 4;

pub struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    rewind: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread; the writer is asked to rewind the WAL once it is `rewind_pages` long.
    pub(super) fn start(
        path: &Path,
        busy_timeout: Duration,
        rewind_pages: u32,
        files: DatabaseFiles,
        faults: Faults,
        seconds: Histogram,
    ) -> Result<Self, StorageError> {
        let conn = open_read_write(path, busy_timeout)?;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let rewind = Arc::new(AtomicBool::new(false));
        let (signal, request) = (stop.clone(), rewind.clone());
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                let (lock, wake) = &*signal;
                let mut stopped = lock.lock().unwrap_or_else(|e| e.into_inner());
                while !*stopped {
                    stopped = wake
                        .wait_timeout(stopped, INTERVAL)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                    if faults.current().is_some() {
                        continue;
                    }
                    if let Err(fault) = files.verify() {
                        faults.raise(fault);
                        continue;
                    }
                    let started = std::time::Instant::now();
                    let passes = run_passes(&conn, &files, i64::from(rewind_pages));
                    seconds.observe(started.elapsed().as_secs_f64());
                    match passes {
                        Ok(wants_rewind) => request.store(wants_rewind, Ordering::Relaxed),
                        Err(err) => tracing::warn!(error = %err, "background checkpoint failed"),
                    }
                }
                if faults.current().is_some() {
                    super::writer::skip_checkpoint_on_close(&conn);
                }
            })
            .map_err(StorageError::File)?;
        Ok(Self {
            stop,
            rewind,
            thread: Some(thread),
        })
    }

    /// True (once per request) when the WAL has grown past the rewind length and the
    /// background passes have caught up: the writer should call [`finish_for_rewind`] now.
    pub fn rewind_wanted(&self) -> bool {
        self.rewind.swap(false, Ordering::Relaxed)
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        let (lock, wake) = &*self.stop;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One background round: a pass, and when the WAL is long, quick catch-up passes and an fsync
/// of the database file, so that the writer's part is left with little to copy and little to
/// sync. Returns whether the writer should finish the checkpoint so that the WAL rewinds.
fn run_passes(
    conn: &Connection,
    files: &DatabaseFiles,
    rewind_frames: i64,
) -> Result<bool, StorageError> {
    let started = Instant::now();
    let mut pass = checkpoint(conn)?;
    if pass.wal == 0 {
        return Ok(false);
    }
    let mut passes = 1;
    let wants_rewind = pass.wal >= rewind_frames;
    if wants_rewind {
        while passes <= MAX_CATCH_UP_PASSES {
            let copied_before = pass.copied;
            pass = checkpoint(conn)?;
            passes += 1;
            if pass.wal - copied_before < CAUGHT_UP_FRAMES {
                break;
            }
        }
        files.sync_db().map_err(StorageError::File)?;
        // The fsync took a while; copy what was appended meanwhile, so the writer finds less.
        pass = checkpoint(conn)?;
        passes += 1;
    }
    tracing::debug!(
        wal = pass.wal,
        copied = pass.copied,
        passes,
        ms = crate::telemetry::millis(started.elapsed()),
        "checkpoint"
    );
    Ok(wants_rewind)
}

/// Run by the writer between batches, so that nothing is appended meanwhile: copies the frames
/// written since the last background pass and syncs the database file. With every frame copied,
/// the writer's next transaction starts the WAL over instead of growing it.
pub fn finish_for_rewind(writer: &Connection) {
    let started = Instant::now();
    match checkpoint(writer) {
        Ok(pass) => tracing::debug!(
            wal = pass.wal,
            copied = pass.copied,
            pause_ms = crate::telemetry::millis(started.elapsed()),
            "checkpoint finished by the writer"
        ),
        Err(err) => tracing::warn!(error = %err, "writer's checkpoint failed"),
    }
}

/// The outcome of one checkpoint pass, in WAL frames.
struct Pass {
    /// Frames in the WAL when the pass began.
    wal: i64,
    /// Frames now copied into the database file (from the start of the WAL).
    copied: i64,
}

/// A PASSIVE checkpoint. SQLite fsyncs the database file only when the pass has copied the
/// whole WAL; otherwise the copied pages wait in the page cache.
fn checkpoint(conn: &Connection) -> rusqlite::Result<Pass> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok(Pass {
            wal: row.get(1)?,
            copied: row.get(2)?,
        })
    })
}
