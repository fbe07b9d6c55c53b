//! Online backup: a consistent copy of the live database, taken without stopping the writer.

use std::path::Path;
use std::time::Duration;

use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};

use super::StorageError;
use crate::storage::records::BackupSummary;

/// Copies `source` to `target` in one backup step: one read transaction, hence one snapshot that
/// holds every commit made before it began. In WAL mode that read never blocks the writer, and a
/// single step cannot be restarted by the writer's commits as a stepwise copy would be.
pub fn backup(
    source: &Path,
    target: &Path,
    busy_timeout: Duration,
) -> Result<BackupSummary, StorageError> {
    let from = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    from.busy_timeout(busy_timeout)?;
    let mut to = super::connection::open_private(target)?;
    {
        let backup = Backup::new(&from, &mut to)?;
        backup.step(-1)?;
    }
    // The copy is a rollback-journal file like any fresh SQLite file; check it before saying so.
    let integrity: String = to.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if integrity != "ok" {
        return Err(StorageError::Conflict(format!(
            "the backup failed its integrity check: {integrity}"
        )));
    }
    let email_events = to.query_row("SELECT count(*) FROM email_event_rows", [], |r| r.get(0))?;
    Ok(BackupSummary { email_events })
}
