//! The WAL file stays bounded while writes never pause. SQLite only starts the WAL over when a
//! write transaction begins with every frame already checkpointed, which a background
//! checkpoint racing a busy writer never achieves on its own; the writer's rewind does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use smartlead_hub::storage::sqlite::{Writer, WriterSettings};
use smartlead_hub::storage::{StorageError, StorageMetrics};

const SENDERS: usize = 32;
const ROW_BYTES: usize = 8 * 1024;

/// The WAL header's salt-1: SQLite changes it each time it starts the WAL over.
fn wal_salt(wal: &std::path::Path) -> Option<[u8; 4]> {
    let header = std::fs::read(wal).ok()?;
    header.get(16..20)?.try_into().ok()
}

/// Keeps the writer's queue full until the WAL has been started over `restarts` times (seen
/// in its header), within a generous budget; returns the rows written.
async fn write_until_restarts(writer: &Writer, wal: &std::path::Path, restarts: usize) -> usize {
    let stop = AtomicBool::new(false);
    let senders = (0..SENDERS).map(|_| async {
        let mut rows = 0;
        while !stop.load(Ordering::Relaxed) {
            writer
                .write(|conn| {
                    conn.execute(
                        "INSERT INTO filler (body) VALUES (zeroblob(?1))",
                        [ROW_BYTES as i64],
                    )?;
                    Ok::<_, StorageError>(())
                })
                .await
                .expect("the write is committed");
            rows += 1;
        }
        rows
    });
    let watch = async {
        let deadline = Instant::now() + Duration::from_secs(120);
        let (mut salt, mut seen) = (wal_salt(wal), 0);
        while seen < restarts && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let now = wal_salt(wal);
            if now != salt {
                (salt, seen) = (now, seen + 1);
            }
        }
        stop.store(true, Ordering::Relaxed);
        seen
    };
    let (rows, seen) = tokio::join!(join_all(senders), watch);
    assert!(
        seen >= restarts,
        "the WAL was started over {seen} times in two minutes of writes"
    );
    rows.into_iter().sum()
}

#[actix_web::test]
async fn the_wal_is_started_over_instead_of_growing_under_continuous_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let settings = WriterSettings {
        wal_rewind_pages: 256,
        ..WriterSettings::default()
    };
    // The writer projects between batches: it starts on a migrated file, as in the service.
    let mut setup =
        smartlead_hub::storage::sqlite::open_read_write(&db, Duration::from_secs(5)).unwrap();
    smartlead_hub::storage::sqlite::migrations::to_latest(&mut setup).unwrap();
    drop(setup);
    let writer = Writer::start(&db, settings, StorageMetrics::default()).unwrap();
    writer
        .write(|conn| {
            conn.execute_batch("CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)")?;
            Ok::<_, StorageError>(())
        })
        .await
        .unwrap();

    let wal_path = dir.path().join("hub.db-wal");
    // Eight restarts: on a loaded machine the checkpointer lags at first and the file grows
    // before the rewinds catch up; a longer run keeps that growth small next to the rows.
    let rows = write_until_restarts(&writer, &wal_path, 8).await;
    let wal = std::fs::metadata(&wal_path).unwrap().len();
    writer.shutdown().await;

    // Every row passed through the WAL at least once, so without rewinds the file would be at
    // least this long. With them it holds about two checkpoint rounds of writes.
    let appended = (rows * ROW_BYTES) as u64;
    assert!(
        wal * 2 < appended,
        "the WAL is {wal} bytes after {appended} bytes of rows: it was never started over"
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let stored: i64 = conn
        .query_row("SELECT count(*) FROM filler", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        stored, rows as i64,
        "every committed row is in the database"
    );
}
