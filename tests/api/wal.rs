//! The WAL file stays bounded while writes never pause. SQLite only starts the WAL over when a
//! write transaction begins with every frame already checkpointed, which a background
//! checkpoint racing a busy writer never achieves on its own; the writer's rewind does.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use smartlead_hub::storage::{StorageError, Writer, WriterSettings};

const SENDERS: usize = 32;
const ROW_BYTES: usize = 8 * 1024;

/// Keeps the writer's queue full for `duration`; returns the rows written.
async fn write_without_pause(writer: &Writer, duration: Duration) -> usize {
    let until = Instant::now() + duration;
    let senders = (0..SENDERS).map(|_| async move {
        let mut rows = 0;
        while Instant::now() < until {
            writer
                .write(|conn, _| {
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
    join_all(senders).await.into_iter().sum()
}

#[actix_web::test]
async fn the_wal_is_started_over_instead_of_growing_under_continuous_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let settings = WriterSettings {
        wal_rewind_pages: 256,
        ..WriterSettings::default()
    };
    let writer = Writer::start(&db, settings).unwrap();
    writer
        .write(|conn, _| {
            conn.execute_batch("CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)")?;
            Ok::<_, StorageError>(())
        })
        .await
        .unwrap();

    let rows = write_without_pause(&writer, Duration::from_secs(3)).await;
    let wal = std::fs::metadata(dir.path().join("hub.db-wal"))
        .unwrap()
        .len();
    writer.shutdown().await;

    // Every row passed through the WAL at least once, so without rewinds the file would be at
    // least this long (or, past 200 MB, rewound by the writer's slow backstop checkpoint). With
    // them it holds about two checkpoint rounds of writes (~1/6 of this here).
    let appended = (rows * ROW_BYTES) as u64;
    assert!(
        wal * 3 < appended,
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
