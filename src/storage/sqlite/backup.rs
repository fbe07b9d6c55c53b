//! Online backup: a consistent copy of the live database, taken without stopping the writer.

use std::fs::File;
use std::path::Path;
use std::time::Duration;

use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};

use super::files::new_private_file;
use super::StorageError;
use crate::storage::records::BackupSummary;

/// Copies `source` to `target` in one read transaction, hence one snapshot that holds every
/// commit made before it began; in WAL mode that read never blocks the writer.
/// - As it is: one step of SQLite's backup API, page by page (a single step cannot be restarted
///   by the writer's commits as a stepwise copy would be).
/// - With `page_size`: `VACUUM INTO` a file of that page size, rebuilt table by table, which is
///   the only way to change an existing file's page size (`NEW_FILE_PAGE_SIZE` says why one
///   would); slower, and the copy has no free pages.
pub fn backup(
    source: &Path,
    target: &Path,
    page_size: Option<u32>,
    busy_timeout: Duration,
) -> Result<BackupSummary, StorageError> {
    if let Some(size) = page_size {
        super::parse_page_size(&size.to_string()).map_err(StorageError::Conflict)?;
    }
    // Claims the path first: owner-only, and an existing file or a symlink is refused, never
    // overwritten or followed (nor removed below: it is not this copy's).
    drop(new_private_file(target).map_err(StorageError::File)?);
    let copied = copy(source, target, page_size, busy_timeout);
    if copied.is_err() {
        // A failed copy leaves no half-written file to be mistaken for a backup.
        let _ = std::fs::remove_file(target);
    }
    copied
}

/// The copy into the claimed, empty `target`, checked.
fn copy(
    source: &Path,
    target: &Path,
    page_size: Option<u32>,
    busy_timeout: Duration,
) -> Result<BackupSummary, StorageError> {
    let from = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    from.busy_timeout(busy_timeout)?;
    let to = match page_size {
        None => {
            let mut to = Connection::open(target)?;
            Backup::new(&from, &mut to)?.step(-1)?;
            to
        }
        Some(size) => vacuum_into(&from, target, size)?,
    };
    // The copy is a rollback-journal file like any fresh SQLite file; check it before saying so.
    let integrity: String = to.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if integrity != "ok" {
        return Err(StorageError::Conflict(format!(
            "the backup failed its integrity check: {integrity}"
        )));
    }
    let email_events = to.query_row("SELECT count(*) FROM email_event_rows", [], |r| r.get(0))?;
    Ok(BackupSummary {
        email_events,
        page_size: super::connection::page_size(&to)?,
    })
}

/// `VACUUM INTO` the claimed, empty `target` with pages of `page_size`, synced: SQLite does not
/// fsync it.
fn vacuum_into(
    from: &Connection,
    target: &Path,
    page_size: u32,
) -> Result<Connection, StorageError> {
    let Some(into) = target.to_str() else {
        return Err(StorageError::Conflict(format!(
            "{} is not a UTF-8 path, which VACUUM INTO needs",
            target.display()
        )));
    };
    // Sets the page size of the next database this connection builds, the copy.
    from.pragma_update(None, "page_size", page_size)?;
    from.execute("VACUUM INTO ?1", [into])?;
    File::open(target)
        .and_then(|file| file.sync_all())
        .map_err(StorageError::File)?;
    Ok(Connection::open(target)?)
}
