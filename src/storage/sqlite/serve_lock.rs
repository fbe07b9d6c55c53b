//! One `serve` per database file. Two services on one file would each run a writer thread,
//! a checkpointer and a tenant cache that assume they are alone: the second start is refused
//! with a message naming the first, rather than left to compete for the write lock. Management
//! commands, backups and outside readers are not affected: they never take this lock.
//!
//! The lock is an advisory `flock` on `<db>-serve.lock`, a file of its own: it is released
//! when the process exits, however it exits, and it cannot interfere with SQLite's `fcntl`
//! locks on the database (closing it closes no descriptor of the database's files).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::files::companion;
use super::StorageError;

/// Held for as long as the service runs; dropping it lets another `serve` start.
#[derive(Debug)]
pub struct ServeLock {
    _file: File,
}

impl ServeLock {
    /// Takes the lock of `db`'s service, or says which process holds it.
    pub fn acquire(db: &Path) -> Result<Self, StorageError> {
        let path = Self::path_of(db);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(StorageError::File)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(StorageError::File)?;
        match file.try_lock() {
            Ok(()) => {
                // The holder's pid, for the message a second start prints.
                file.set_len(0)
                    .and_then(|()| write!(file, "{}", std::process::id()))
                    .map_err(StorageError::File)?;
                Ok(Self { _file: file })
            }
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.seek(SeekFrom::Start(0));
                let _ = file.read_to_string(&mut holder);
                Err(StorageError::AlreadyServed {
                    db: db.to_owned(),
                    pid: holder.trim().to_owned(),
                })
            }
            Err(TryLockError::Error(err)) => Err(StorageError::File(err)),
        }
    }

    pub fn path_of(db: &Path) -> PathBuf {
        companion(db, "-serve.lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_database_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hub.db");
        let first = ServeLock::acquire(&db).unwrap();
        let refused = ServeLock::acquire(&db).unwrap_err();
        let message = refused.to_string();
        assert!(
            message.contains(&std::process::id().to_string()) && message.contains("hub.db"),
            "{message}"
        );
        drop(first);
        ServeLock::acquire(&db).expect("free again");
    }
}
