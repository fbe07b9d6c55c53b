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
    /// Tells the writer, so that it acts on the fault even when no more work arrives.
    wake: Box<dyn Fn() + Send + Sync>,
}

impl Faults {
    pub(super) fn new(wake: impl Fn() + Send + Sync + 'static) -> Self {
        Self(Arc::new(Inner {
            fault: OnceLock::new(),
            wake: Box::new(wake),
        }))
    }

    pub fn current(&self) -> Option<&StorageFault> {
        self.0.fault.get()
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
