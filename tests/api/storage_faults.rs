//! Storage faults against the real binary: a full disk, a file that cannot be written, a lock
//! held by another process. Each is a 503 with Retry-After (never 2xx, never 500); once the
//! fault clears, the redelivery is stored exactly once.
//!
//! These tests need root (tmpfs mounts, `chattr`), as the project's CI runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::{add_user, inspect, ORG, SECRET};
use crate::process::{assert_invariants, prepared_db, unique_open, HubProcess};

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        status.success(),
        "{program} {args:?} failed (these tests need root)"
    );
}

/// Unmounts on drop, so a failing test leaves no mount behind.
struct Tmpfs<'a>(&'a Path);

impl<'a> Tmpfs<'a> {
    fn mount(dir: &'a Path, size: &str) -> Self {
        run(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tmpfs",
                dir.to_str().unwrap(),
            ],
        );
        Tmpfs(dir)
    }

    fn resize(&self, size: &str) {
        run(
            "mount",
            &[
                "-o",
                &format!("remount,size={size}"),
                self.0.to_str().unwrap(),
            ],
        );
    }
}

impl Drop for Tmpfs<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0).status();
    }
}

/// `chattr +i` on files, undone on drop, so that a failing test never leaves files behind that
/// nothing can delete.
struct Immutable(Vec<PathBuf>);

impl Immutable {
    fn set(files: &[&Path]) -> Self {
        let files: Vec<PathBuf> = files.iter().map(|f| f.to_path_buf()).collect();
        let status = Command::new("chattr")
            .arg("+i")
            .args(&files)
            .status()
            .unwrap();
        assert!(status.success(), "chattr +i failed (these tests need root)");
        Immutable(files)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").args(&self.0).status();
    }
}

async fn post(client: &awc::Client, hub: &HubProcess, n: u64) -> (u16, bool, String) {
    let mut response = client
        .post(hub.webhook_url())
        .send_body(unique_open(n))
        .await
        .expect("answered");
    let body = String::from_utf8_lossy(&response.body().await.unwrap()).into_owned();
    (
        response.status().as_u16(),
        response.headers().contains_key("retry-after"),
        body,
    )
}

#[actix_web::test]
async fn a_full_disk_is_503_and_the_redelivery_is_stored_once_it_clears() {
    let dir = tempfile::tempdir().unwrap();
    let mount = Tmpfs::mount(dir.path(), "1m");
    let db = dir.path().join("hub.db");
    add_user(&db, "owner@northpeak.example", ORG, Some(SECRET));
    let hub = HubProcess::start(&db, &[]);
    let client = crate::helpers::client();

    let mut acked = Vec::new();
    let mut refused = None;
    for n in 0..5_000 {
        let (status, retry_after, body) = post(&client, &hub, n).await;
        match status {
            200 => acked.push(n),
            503 => {
                assert!(retry_after, "503 carries Retry-After");
                assert!(body.contains("database_unavailable"), "{body}");
                refused = Some(n);
                break;
            }
            other => panic!("status {other} on a full disk: {body}"),
        }
    }
    let refused = refused.expect("a 1 MiB disk fills up");
    assert!(!acked.is_empty());
    // Still refused while full; the server stays up.
    assert_eq!(post(&client, &hub, refused).await.0, 503);

    mount.resize("64m");
    let (status, _, body) = post(&client, &hub, refused).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"stored\""), "{body}");
    assert!(post(&client, &hub, refused)
        .await
        .2
        .contains("\"duplicate\""));
    assert!(hub.terminate().success());
    acked.push(refused);
    assert_invariants(&db, &acked);
}

#[actix_web::test]
async fn a_file_that_cannot_be_written_is_503_until_it_can() {
    let (_dir, db) = prepared_db();
    let hub = HubProcess::start(&db, &[]);
    let client = crate::helpers::client();
    assert_eq!(post(&client, &hub, 0).await.0, 200);

    let wal = db.with_extension("db-wal");
    let immutable = Immutable::set(&[&db, &wal]);
    let (status, retry_after, body) = post(&client, &hub, 1).await;
    drop(immutable);
    assert_eq!((status, retry_after), (503, true), "{body}");
    assert!(body.contains("database_unavailable"), "{body}");

    let (status, _, body) = post(&client, &hub, 1).await;
    assert_eq!(status, 200, "{body}");
    assert!(post(&client, &hub, 1).await.2.contains("\"duplicate\""));
    assert!(hub.terminate().success());
    assert_invariants(&db, &[0, 1]);
}

#[actix_web::test]
async fn a_lock_held_by_another_process_past_the_timeout_is_503() {
    let (_dir, db) = prepared_db();
    let hub = HubProcess::start(&db, &["--busy-timeout-ms", "300"]);
    let client = crate::helpers::client();

    // This test process is the other process: it holds the write lock.
    let locker = inspect(&db);
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (status, retry_after, body) = post(&client, &hub, 7).await;
    locker.execute_batch("ROLLBACK").unwrap();
    assert_eq!((status, retry_after), (503, true), "{body}");
    assert!(body.contains("database_unavailable"), "{body}");
    // The refused delivery left nothing behind: no event, no lead.
    let written: i64 = locker
        .query_row(
            "SELECT (SELECT count(*) FROM email_events) + (SELECT count(*) FROM leads)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(written, 0);
    drop(locker);

    assert!(post(&client, &hub, 7).await.2.contains("\"stored\""));
    assert!(post(&client, &hub, 7).await.2.contains("\"duplicate\""));
    assert!(hub.terminate().success());
    assert_invariants(&db, &[7]);
}
