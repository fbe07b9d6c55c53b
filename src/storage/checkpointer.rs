//! WAL checkpoints in the background. Left to SQLite, a checkpoint runs inside the COMMIT that
//! crosses the threshold: the writer copies pages into the main file and fsyncs it while every
//! request of that batch waits for its answer. Here a second connection checkpoints PASSIVE
//! (never blocking the writer or readers) on a timer, off the acknowledgement path.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{open_read_write, StorageError};

/// How often the background checkpoint runs.
const INTERVAL: Duration = Duration::from_millis(200);

pub struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub fn start(path: &Path, busy_timeout: Duration) -> Result<Self, StorageError> {
        let conn = open_read_write(path, busy_timeout)?;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = stop.clone();
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
                    let pages = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                        Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
                    });
                    match pages {
                        Ok((wal, copied)) if wal > 0 => tracing::debug!(wal, copied, "checkpoint"),
                        Ok(_) => {}
                        Err(err) => tracing::warn!(error = %err, "background checkpoint failed"),
                    }
                }
            })
            .map_err(StorageError::File)?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
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
