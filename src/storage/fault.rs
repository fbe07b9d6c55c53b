//! Storage faults after which this process must not write again until it is restarted. The
//! first one raised is kept: the writer refuses every batch after it, the checkpointer stops
//! copying, and `/health` answers 503 with its reason.

use std::sync::{Arc, OnceLock};

/// What happened to one of the database's files while this process used it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileChange {
    Deleted,
    Replaced,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageFault {
    /// After a failed fsync the kernel may have dropped the unwritten pages, and a later fsync
    /// can still report success: only a restart, which recovers the WAL from what is really on
    /// disk, makes acknowledging safe again.
    #[error("an fsync of the WAL failed ({0}); restart the service once the disk is healthy")]
    SyncFailed(String),
    /// SQLite's files were deleted or replaced by something else under the running service.
    #[error("the database's {file} file was {change} while the service ran; restart the service")]
    FileChanged {
        file: &'static str,
        change: FileChange,
    },
    /// SQLite found the file malformed: writing on can only make it worse.
    #[error("SQLite reports the database file malformed ({0}); restore it from a backup")]
    Malformed(String),
}

impl StorageFault {
    /// Whether starting the process again repairs this fault: after a failed fsync SQLite
    /// recovers the WAL from what is on disk, and a deleted WAL has been written back by then.
    /// A restart would not repair the others: a replaced file would be served as if it were the
    /// database (a deleted one recreated empty, losing the copy this process still holds open),
    /// and a malformed file is refused at start.
    pub fn cleared_by_restart(&self) -> bool {
        match self {
            StorageFault::SyncFailed(_) => true,
            StorageFault::FileChanged { file, change } => {
                *file == "-wal" && *change == FileChange::Deleted
            }
            StorageFault::Malformed(_) => false,
        }
    }
}

impl std::fmt::Display for FileChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FileChange::Deleted => "deleted",
            FileChange::Replaced => "replaced",
        })
    }
}

/// The process's fault, once there is one. Cheap to clone; every clone sees the same fault.
#[derive(Clone)]
pub struct Faults(Arc<Inner>);

struct Inner {
    fault: OnceLock<StorageFault>,
    /// Set by the writer once it has dealt with the fault (a deleted WAL written back or not):
    /// whether a restart now repairs it.
    restart_repairs: OnceLock<bool>,
    /// Tells the writer, so that it acts on the fault even when no more work arrives.
    wake: Box<dyn Fn() + Send + Sync>,
}

impl Faults {
    pub(super) fn new(wake: impl Fn() + Send + Sync + 'static) -> Self {
        Self(Arc::new(Inner {
            fault: OnceLock::new(),
            restart_repairs: OnceLock::new(),
            wake: Box::new(wake),
        }))
    }

    pub fn current(&self) -> Option<&StorageFault> {
        self.0.fault.get()
    }

    /// Whether starting the process again repairs the fault in force: `None` while there is
    /// none, or while the writer has not yet dealt with it.
    pub fn restart_repairs(&self) -> Option<bool> {
        self.0.restart_repairs.get().copied()
    }

    /// The writer's word, once, on the fault it has dealt with.
    pub(super) fn settle(&self, restart_repairs: bool) {
        let _ = self.0.restart_repairs.set(restart_repairs);
    }

    /// Records `fault` unless one is already recorded, logs it once, and returns the one in force.
    pub fn raise(&self, fault: StorageFault) -> StorageFault {
        let mut first = false;
        let kept = self.0.fault.get_or_init(|| {
            first = true;
            fault
        });
        if first {
            tracing::error!(fault = %kept, "storage fault: refusing every write until restart");
            (self.0.wake)();
        }
        kept.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_failed_fsync_and_a_deleted_wal_are_repaired_by_a_restart() {
        let changed = |file, change| StorageFault::FileChanged { file, change };
        let repaired: Vec<bool> = [
            StorageFault::SyncFailed("EIO".into()),
            changed("-wal", FileChange::Deleted),
            changed("-wal", FileChange::Replaced),
            changed("database", FileChange::Deleted),
            changed("database", FileChange::Replaced),
            changed("-shm", FileChange::Deleted),
            StorageFault::Malformed("database disk image is malformed".into()),
        ]
        .iter()
        .map(StorageFault::cleared_by_restart)
        .collect();
        assert_eq!(repaired, [true, true, false, false, false, false, false]);
    }

    #[test]
    fn the_writer_s_word_is_kept_once() {
        let faults = Faults::new(|| {});
        assert_eq!(faults.restart_repairs(), None);
        faults.raise(StorageFault::SyncFailed("EIO".into()));
        assert_eq!(
            faults.restart_repairs(),
            None,
            "not before the writer has dealt with it"
        );
        faults.settle(false);
        faults.settle(true);
        assert_eq!(faults.restart_repairs(), Some(false));
    }
}
