//! The promise everything rests on — a write is answered only once the fsync that covers its
//! commit has returned — with the fsync replaced by a gate the test opens, a failure, or a count.
//! `kill -9` cannot tell a skipped fsync (the kernel still holds the pages); these can.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use rusqlite::Connection;

use super::fault::StorageFault;
use super::writer::{Writer, WriterSettings};
use super::StorageError;
use crate::storage::StorageMetrics;

/// The fsync stand-in: blocks while closed, counts the calls that returned.
#[derive(Clone, Default)]
struct Gate {
    open: Arc<(Mutex<bool>, Condvar)>,
    synced: Arc<AtomicUsize>,
}

impl Gate {
    fn set(&self, open: bool) {
        *self.open.0.lock().unwrap() = open;
        self.open.1.notify_all();
    }

    fn pass(&self) {
        let (lock, wake) = &*self.open;
        let _open = wake
            .wait_while(lock.lock().unwrap(), |open| !*open)
            .unwrap();
        self.synced.fetch_add(1, Ordering::SeqCst);
    }
}

fn writer_with(
    durable: impl FnMut() -> Result<(), StorageFault> + Send + 'static,
) -> (tempfile::TempDir, std::path::PathBuf, Writer) {
    writer_with_settings(WriterSettings::default(), durable)
}

fn writer_with_settings(
    settings: WriterSettings,
    durable: impl FnMut() -> Result<(), StorageFault> + Send + 'static,
) -> (tempfile::TempDir, std::path::PathBuf, Writer) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let mut setup = super::open_read_write(&db, super::DEFAULT_BUSY_TIMEOUT).unwrap();
    // The writer projects between batches: the schema's watermark must be there.
    crate::storage::sqlite::migrations::to_latest(&mut setup).unwrap();
    setup
        .execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)")
        .unwrap();
    drop(setup);
    let mut durable = durable;
    let writer =
        Writer::start_with(&db, settings, StorageMetrics::default(), move |_| durable()).unwrap();
    (dir, db, writer)
}

fn insert(
    writer: &Writer,
    n: i64,
) -> impl std::future::Future<Output = Result<(), StorageError>> + '_ {
    writer.write(move |conn: &Connection| {
        conn.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
        Ok(())
    })
}

fn stored(db: &std::path::Path) -> Vec<i64> {
    let conn = Connection::open(db).unwrap();
    let mut statement = conn.prepare("SELECT n FROM t ORDER BY n").unwrap();
    let rows = statement.query_map([], |r| r.get(0)).unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

const NOT_YET: Duration = Duration::from_millis(300);

#[tokio::test]
async fn nothing_is_answered_before_the_fsync_returns() {
    let gate = Gate::default();
    let held = gate.clone();
    let (_dir, db, writer) = writer_with(move || {
        held.pass();
        Ok(())
    });

    let mut first = Box::pin(insert(&writer, 1));
    assert!(
        tokio::time::timeout(NOT_YET, &mut first).await.is_err(),
        "answered before its fsync"
    );
    assert_eq!(
        stored(&db),
        vec![1],
        "committed meanwhile: only the answer waits"
    );
    gate.set(true);
    first.await.unwrap();
    assert_eq!(gate.synced.load(Ordering::SeqCst), 1);

    // A write that changes nothing (a duplicate) waits for the same fsync as one that does.
    gate.set(false);
    let mut duplicate = Box::pin(writer.write(|conn: &Connection| {
        let seen: i64 = conn.query_row("SELECT count(*) FROM t WHERE n = 1", [], |r| r.get(0))?;
        Ok(seen)
    }));
    assert!(
        tokio::time::timeout(NOT_YET, &mut duplicate).await.is_err(),
        "a duplicate answered before the fsync"
    );
    gate.set(true);
    assert_eq!(duplicate.await.unwrap(), 1);
    writer.shutdown().await;
}

#[tokio::test]
async fn after_a_failed_fsync_every_later_write_is_refused_unwritten() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let (_dir, db, writer) = writer_with(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        Err(StorageFault::SyncFailed("EIO".into()))
    });
    let failed = insert(&writer, 1).await.unwrap_err();
    assert!(
        matches!(failed.fault(), Some(StorageFault::SyncFailed(_))),
        "{failed:?}"
    );
    for n in 2..5 {
        let refused = insert(&writer, n).await.unwrap_err();
        assert!(refused.fault().is_some(), "{refused:?}");
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "no fsync is trusted after a failed one"
    );
    assert_eq!(
        stored(&db),
        vec![1],
        "nothing after the failure was committed"
    );
    assert!(writer.fault().is_some());
    writer.shutdown().await;
}

#[tokio::test]
async fn a_failing_write_rolls_back_alone_while_its_batch_commits() {
    let (_dir, db, writer) = writer_with(|| Ok(()));
    // The first job holds the writer until the next three are queued: they form one batch.
    let (queued, wait) = std::sync::mpsc::channel::<()>();
    let holder = writer.clone();
    let first = tokio::spawn(async move {
        holder
            .write(move |conn: &Connection| {
                wait.recv_timeout(Duration::from_secs(10)).ok();
                conn.execute("INSERT INTO t (n) VALUES (1)", [])?;
                Ok(())
            })
            .await
    });
    let neighbours = writer.clone();
    let batch = tokio::spawn(async move {
        let failing = neighbours.write(|conn: &Connection| {
            conn.execute("INSERT INTO t (n) VALUES (3)", [])?;
            Err::<(), _>(StorageError::Conflict(
                "this one fails after writing".into(),
            ))
        });
        tokio::join!(insert(&neighbours, 2), failing, insert(&neighbours, 4))
    });
    // Let the three reach the queue (they cannot be answered before the first is released).
    tokio::time::sleep(Duration::from_millis(100)).await;
    queued.send(()).unwrap();
    first.await.unwrap().unwrap();
    let (second, failing, third) = batch.await.unwrap();
    assert!(second.is_ok() && third.is_ok(), "{second:?} {third:?}");
    assert!(matches!(failing, Err(StorageError::Conflict(_))));
    assert_eq!(
        stored(&db),
        vec![1, 2, 4],
        "the failing write's row is rolled back, alone"
    );
    writer.shutdown().await;
}

/// Writes 50 ms apart: each is a commit (and an fsync) of its own, unless a commit delay holds
/// the first batch open long enough for the others to join it.
#[tokio::test]
async fn writes_arriving_within_the_commit_delay_share_one_commit() {
    async fn fsyncs_for_three_writes_50_ms_apart(commit_delay: Duration) -> (usize, Vec<i64>) {
        let synced = Arc::new(AtomicUsize::new(0));
        let counted = synced.clone();
        let settings = WriterSettings {
            commit_delay,
            ..WriterSettings::default()
        };
        let (_dir, db, writer) = writer_with_settings(settings, move || {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
        let writes: Vec<_> = (0..3)
            .map(|n| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(50 * n as u64)).await;
                    insert(&writer, n).await
                })
            })
            .collect();
        for write in writes {
            write.await.unwrap().unwrap();
        }
        let fsyncs = synced.load(Ordering::SeqCst);
        writer.shutdown().await;
        (fsyncs, stored(&db))
    }

    assert_eq!(
        fsyncs_for_three_writes_50_ms_apart(Duration::ZERO).await,
        (3, vec![0, 1, 2]),
        "without a delay each write commits on its own"
    );
    assert_eq!(
        fsyncs_for_three_writes_50_ms_apart(Duration::from_millis(400)).await,
        (1, vec![0, 1, 2]),
        "within the delay the three share one commit"
    );
}
