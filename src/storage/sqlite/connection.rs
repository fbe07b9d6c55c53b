use std::path::Path;
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::config::DbConfig;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::files::create_if_missing;
use super::StorageError;

/// How long a statement waits for another connection's lock before failing with `Busy`
/// (the CLI's default; the service takes it from its settings).
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The page size a new database file gets (an existing file keeps its own; `backup
/// --page-size` copies one into another). A commit writes every page it changes whole, to the
/// WAL and again at the checkpoint, and an event changes one small entry on each of ~15 pages
/// (its row, its index entries, a new lead's): with 1 KiB pages instead of SQLite's default
/// 4 KiB the disk absorbs about half the bytes per event, for 4–6% more space, reads within
/// ~0.1 ms and a projection ~1 ms longer (BENCHMARKS.md, "Issue 19, fifth step").
pub const NEW_FILE_PAGE_SIZE: u32 = 1024;

/// A page size as given (`--page-size`), if SQLite has pages of that size (the powers of two
/// from 512 to 65,536), or why not: the one place that rule is written.
pub fn parse_page_size(value: &str) -> Result<u32, String> {
    value
        .parse::<u32>()
        .ok()
        .filter(|bytes| bytes.is_power_of_two() && (512..=65_536).contains(bytes))
        .ok_or_else(|| {
            format!("`{value}` is not a SQLite page size: a power of two from 512 to 65536")
        })
}

/// The file's page size: the size of each WAL frame it writes.
pub(crate) fn page_size(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA page_size", [], |row| row.get(0))
}

/// WAL frames that hold `units` × 4 KiB on a file of `page_size`. The WAL's bounds and paces
/// (`--wal-rewind-pages` among them) are counted in 4 KiB units, SQLite's default page size, so
/// that they bound the same bytes whatever the file's page size.
pub(crate) fn frames_of(units: i64, page_size: u32) -> i64 {
    (units * 4096 / i64::from(page_size.max(1))).max(1)
}

/// Pragmas every connection gets. `synchronous=FULL` because a 2xx promises the event is on disk:
/// in WAL mode NORMAL can lose the last commits on power loss.
fn configure(conn: &Connection, query_only: bool, busy_timeout: Duration) -> rusqlite::Result<()> {
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // 64 MiB of page cache per connection keeps the hot index pages in memory.
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.pragma_update(None, "query_only", query_only)?;
    register_fold_case(conn)?;
    Ok(())
}

/// `fold_case(text)`: the text lower-cased as Rust lower-cases it, every script's letters
/// (SQLite's own `lower()` and `LIKE` fold ASCII only, so "LEFÈVRE" would not find
/// "Lefèvre"). A lead search compares each lead's fields through it with the searched text,
/// which [`crate::domain::LeadSearch`] lower-cased the same way.
fn register_fold_case(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "fold_case",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(match ctx.get_raw(0) {
                ValueRef::Text(bytes) => Some(String::from_utf8_lossy(bytes).to_lowercase()),
                _ => None,
            })
        },
    )
}

/// Opens the read-write connection: the writer thread's, the migrator's and the CLI's.
pub fn open_read_write(path: &Path, busy_timeout: Duration) -> Result<Connection, StorageError> {
    create_if_missing(path).map_err(StorageError::File)?;
    let conn = Connection::open(path)?;
    configure(&conn, false, busy_timeout)?;
    // A file without pages is new (or was created empty): its page size can still be chosen,
    // and must be before anything, the switch to WAL included, writes its first page.
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |row| row.get(0))?;
    if pages == 0 {
        conn.pragma_update(None, "page_size", NEW_FILE_PAGE_SIZE)?;
    }
    // WAL lets readers proceed while the writer commits. It is persistent in the file, so
    // read-only connections opened later find it already set.
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(%mode, "could not switch the database to WAL mode");
    }
    Ok(conn)
}

/// A pool of read-only connections for the HTTP read paths and health checks. They can never
/// block the writer for longer than a read, and `query_only` makes a stray write fail loudly.
#[derive(Clone)]
pub struct ReadPool(r2d2::Pool<SqliteConnectionManager>);

impl ReadPool {
    pub fn open(path: &Path, size: u32, busy_timeout: Duration) -> Result<Self, StorageError> {
        let manager = SqliteConnectionManager::file(path)
            .with_flags(
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )
            .with_init(move |conn| {
                configure(conn, true, busy_timeout)?;
                // A reader closing last must not checkpoint: after a storage fault its view of
                // the WAL may no longer be the database's (see `fault`). The writer checkpoints.
                conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
                Ok(())
            });
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(1))
            // A request waits at most this long for a connection, then gets a coded 503.
            .connection_timeout(Duration::from_secs(5))
            .build(manager)?;
        Ok(Self(pool))
    }

    pub fn get(&self) -> Result<r2d2::PooledConnection<SqliteConnectionManager>, StorageError> {
        Ok(self.0.get()?)
    }
}
