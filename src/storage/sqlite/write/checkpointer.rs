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
use super::{frames_of, open_read_write, page_size, StorageError};

/// How often the files are checked, and a pass runs while the WAL grows fast.
const INTERVAL: Duration = Duration::from_millis(200);

/// While the WAL grows slower than this (4 KiB units per second: ~270 commits of one event on
/// 4 KiB pages), a pass runs only every [`QUIET_INTERVAL`]. A pass writes each page changed
/// since the last one once, and at low rates nearly every commit changes the same pages (the
/// tails of the table and its appending indexes, the rollups' current rows), so fewer passes
/// write fewer bytes: at 20 events/s, a third less per event (BENCHMARKS.md, "Issue 19, third
/// step"). Faster, passes stay small and frequent: one of a second's frames at saturation
/// doubled the p99.
const QUIET_UNITS_PER_SECOND: i64 = 4096;
const QUIET_INTERVAL: Duration = Duration::from_secs(1);

/// Catching up stops once a pass finds fewer new 4 KiB units than this (or after
/// [`MAX_CATCH_UP_PASSES`]); the writer copies the rest.
const CAUGHT_UP_UNITS: i64 = 1_024;
const MAX_CATCH_UP_PASSES: usize = 4;

pub struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    rewind: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread; the writer is asked to rewind the WAL once it is `rewind_pages` 4 KiB
    /// units long.
    pub(super) fn start(
        path: &Path,
        busy_timeout: Duration,
        rewind_pages: u32,
        files: DatabaseFiles,
        faults: Faults,
        seconds: Histogram,
    ) -> Result<Self, StorageError> {
        let conn = open_read_write(path, busy_timeout)?;
        let page_size = page_size(&conn)?;
        let thresholds = Thresholds {
            rewind: frames_of(i64::from(rewind_pages), page_size),
            caught_up: frames_of(CAUGHT_UP_UNITS, page_size),
        };
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let rewind = Arc::new(AtomicBool::new(false));
        let (signal, request) = (stop.clone(), rewind.clone());
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                let (lock, wake) = &*signal;
                let mut stopped = lock.lock().unwrap_or_else(|e| e.into_inner());
                let mut pace = Pace::new(Instant::now(), page_size);
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
                    let started = Instant::now();
                    if !pace.due(started) {
                        continue;
                    }
                    let passes = run_passes(&conn, &files, thresholds);
                    seconds.observe(started.elapsed().as_secs_f64());
                    match passes {
                        Ok(round) => {
                            pace.passed(started, &round);
                            request.store(round.wants_rewind, Ordering::Relaxed);
                        }
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

/// When the next background pass is due: every [`INTERVAL`] while the WAL grows fast, every
/// [`QUIET_INTERVAL`] while it grows slowly.
struct Pace {
    last: Instant,
    /// The WAL's length (frames) the next pass counts new frames from: its length at the last
    /// pass, or none when that pass copied all of it (the next write then starts it over).
    wal: i64,
    quiet: bool,
    /// [`QUIET_UNITS_PER_SECOND`] in the file's frames.
    quiet_frames_per_second: f64,
}

impl Pace {
    fn new(now: Instant, page_size: u32) -> Self {
        Self {
            last: now,
            wal: 0,
            quiet: false,
            quiet_frames_per_second: frames_of(QUIET_UNITS_PER_SECOND, page_size) as f64,
        }
    }

    fn due(&self, now: Instant) -> bool {
        let interval = if self.quiet { QUIET_INTERVAL } else { INTERVAL };
        now.duration_since(self.last) >= interval
    }

    /// Records a round begun at `now`.
    fn passed(&mut self, now: Instant, round: &Round) {
        // Shorter than at the last pass: it was started over meanwhile, from empty. (Started
        // over without a full copy first, or not started over after one, the count errs
        // towards a busy WAL: passes every 200 ms, as without a pace.)
        let appended = if round.wal >= self.wal {
            round.wal - self.wal
        } else {
            round.wal
        };
        let seconds = now.duration_since(self.last).as_secs_f64().max(0.001);
        self.quiet = (appended as f64 / seconds) < self.quiet_frames_per_second;
        self.last = now;
        self.wal = if round.copied_all { 0 } else { round.wal };
    }
}

/// The WAL lengths, in the file's frames, at which a round asks for a rewind and stops
/// catching up.
#[derive(Clone, Copy)]
struct Thresholds {
    rewind: i64,
    caught_up: i64,
}

/// What one background round found and asks of the writer.
struct Round {
    /// Frames in the WAL at its last pass.
    wal: i64,
    /// That pass copied every frame.
    copied_all: bool,
    /// The WAL is long and copied but for its last frames: the writer should finish the
    /// checkpoint so that the WAL starts over.
    wants_rewind: bool,
}

/// One background round: a pass, and when the WAL is long, quick catch-up passes and an fsync
/// of the database file, so that the writer's part is left with little to copy and little to
/// sync.
fn run_passes(
    conn: &Connection,
    files: &DatabaseFiles,
    thresholds: Thresholds,
) -> Result<Round, StorageError> {
    let started = Instant::now();
    let mut pass = checkpoint(conn)?;
    if pass.wal == 0 {
        return Ok(Round {
            wal: 0,
            copied_all: true,
            wants_rewind: false,
        });
    }
    let mut passes = 1;
    let wants_rewind = pass.wal >= thresholds.rewind;
    if wants_rewind {
        while passes <= MAX_CATCH_UP_PASSES {
            let copied_before = pass.copied;
            pass = checkpoint(conn)?;
            passes += 1;
            if pass.wal - copied_before < thresholds.caught_up {
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
    Ok(Round {
        wal: pass.wal,
        copied_all: pass.copied >= pass.wal,
        wants_rewind,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A round that found `wal` frames and left `left` of them uncopied.
    fn round(wal: i64, left: i64) -> Round {
        Round {
            wal,
            copied_all: left == 0,
            wants_rewind: false,
        }
    }

    /// Passes `every` apart, each finding `frames` more in the WAL (growing, or started over
    /// after each full copy): whether the next is quiet.
    fn quiet_after(every: Duration, frames: i64) -> [bool; 2] {
        let start = Instant::now();
        let (mut growing, mut restarting) = (Pace::new(start, 4096), Pace::new(start, 4096));
        for n in 1..=5 {
            growing.passed(start + every * n, &round(frames * i64::from(n), 10));
            restarting.passed(start + every * n, &round(frames, 0));
        }
        [growing.quiet, restarting.quiet]
    }

    #[test]
    fn passes_slow_down_only_while_the_wal_grows_slowly() {
        // 20 single-event commits a second, ~15 frames each.
        assert_eq!(quiet_after(INTERVAL, 60), [true, true]);
        assert_eq!(quiet_after(QUIET_INTERVAL, 300), [true, true]);
        // 1,000 a second.
        assert_eq!(quiet_after(INTERVAL, 3_000), [false, false]);
        assert_eq!(quiet_after(QUIET_INTERVAL, 15_000), [false, false]);
    }

    #[test]
    fn the_thresholds_count_the_same_bytes_whatever_the_page_size() {
        assert_eq!(frames_of(QUIET_UNITS_PER_SECOND, 4096), 4096);
        assert_eq!(frames_of(QUIET_UNITS_PER_SECOND, 1024), 16_384);
        assert_eq!(frames_of(32_768, 65_536), 2_048);
        // 1 KiB pages: 20 single-event commits a second, ~17-21 frames each, are still quiet;
        // 1,000 a second are not.
        let start = Instant::now();
        let mut pace = Pace::new(start, 1024);
        pace.passed(start + QUIET_INTERVAL, &round(340, 0));
        assert!(pace.quiet);
        pace.passed(start + QUIET_INTERVAL + INTERVAL, &round(3_400, 0));
        assert!(!pace.quiet);
    }

    #[test]
    fn a_quiet_pace_still_passes_every_second_and_a_busy_one_every_200_ms() {
        let start = Instant::now();
        let mut pace = Pace::new(start, 4096);
        assert!(!pace.due(start + INTERVAL / 2));
        assert!(pace.due(start + INTERVAL));
        let first = start + INTERVAL;
        pace.passed(first, &round(10, 0));
        assert!(pace.quiet);
        assert!(!pace.due(first + INTERVAL));
        assert!(pace.due(first + QUIET_INTERVAL));
        let second = first + QUIET_INTERVAL;
        pace.passed(second, &round(20_000, 5));
        assert!(!pace.quiet);
        assert!(pace.due(second + INTERVAL));
    }

    #[test]
    fn a_wal_started_over_counts_from_empty() {
        let start = Instant::now();
        let mut pace = Pace::new(start, 4096);
        pace.passed(start + INTERVAL, &round(30_000, 500));
        assert!(!pace.quiet);
        // Rewound meanwhile: 5,000 frames appended since, in 200 ms.
        pace.passed(start + INTERVAL * 2, &round(5_000, 500));
        assert!(!pace.quiet);
        pace.passed(start + INTERVAL * 3, &round(5_010, 0));
        assert!(pace.quiet);
        // Copied in full, then started over by the next write: 6,000 new frames in 200 ms.
        pace.passed(start + INTERVAL * 4, &round(6_000, 100));
        assert!(!pace.quiet);
    }
}
