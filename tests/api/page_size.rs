//! Page size (issue 19): a new SQLite file gets 1 KiB pages, which roughly halve the bytes each
//! commit writes; a file created before keeps its 4 KiB pages and works as it did, and
//! `backup --page-size` copies it into a file with the new size.

use std::path::Path;

use rusqlite::Connection;
use smartlead_hub::storage::sqlite::migrations;

use crate::helpers::{add_user, post_fixture, run_hub, serve_file, spawn_app, ORG, SECRET};

fn page_size(db: &Path) -> i64 {
    let conn = Connection::open(db).unwrap();
    conn.query_row("PRAGMA page_size", [], |row| row.get(0))
        .unwrap()
}

/// Every event as the read side sees it, in one order: what a copy must hold unchanged.
fn events(db: &Path) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let mut statement = conn
        .prepare(
            "SELECT id || '|' || user_id || '|' || coalesce(lead_id, '') || '|' || event_type
                    || '|' || timestamp || '|' || dedupe_key || '|' || seq
             FROM email_events ORDER BY id",
        )
        .unwrap();
    let rows = statement.query_map([], |row| row.get(0)).unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

#[actix_web::test]
async fn a_new_file_gets_one_kib_pages_in_wal_mode() {
    let app = spawn_app().await;
    assert_eq!(app.deliver("05_email_open_seq1.json").await.status, 200);
    let conn = app.sqlite();
    let (size, mode): (i64, String) = conn
        .query_row(
            "SELECT * FROM pragma_page_size, pragma_journal_mode",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!((size, mode.as_str()), (1024, "wal"));
    let events: i64 = conn
        .query_row("SELECT count(*) FROM email_events", [], |row| row.get(0))
        .unwrap();
    assert_eq!(events, 1);
}

/// An install from before: its file was created with SQLite's default 4 KiB pages.
#[actix_web::test]
async fn a_file_with_four_kib_pages_keeps_them_and_backup_converts_it() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.db");
    {
        let mut conn = Connection::open(&old).unwrap();
        conn.pragma_update(None, "page_size", 4096).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        migrations::to_latest(&mut conn).unwrap();
    }
    add_user(&old, "owner@northpeak.example", ORG, Some(SECRET));
    let served = serve_file(&old, |_| {});
    for name in ["04_first_email_sent.json", "05_email_open_seq1.json"] {
        assert_eq!(post_fixture(&served.base, name).await, "stored", "{name}");
    }
    served.stop().await;
    assert_eq!(
        page_size(&old),
        4096,
        "an existing file keeps its page size"
    );
    let before = events(&old);
    assert_eq!(before.len(), 2);

    let new = dir.path().join("new.db");
    let (ok, out, err) = run_hub(
        &[
            "backup",
            "--to",
            new.to_str().unwrap(),
            "--page-size",
            "1024",
        ],
        Some(&old),
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("2 email events, 1024-byte pages, integrity ok"),
        "{out}"
    );
    assert_eq!(page_size(&new), 1024);
    assert_eq!(events(&new), before, "the copy holds every event unchanged");
    assert_eq!(page_size(&old), 4096, "the original is left as it was");

    // The copy is the install now: it serves, dedupes against what it holds, and stores more.
    let served = serve_file(&new, |_| {});
    assert_eq!(
        post_fixture(
            &served.base,
            "28_email_open_seq1_retry_duplicate_of_05.json"
        )
        .await,
        "duplicate"
    );
    assert_eq!(
        post_fixture(&served.base, "08_email_link_click_arrays.json").await,
        "stored"
    );
    served.stop().await;
    assert_eq!(events(&new).len(), 3);
    assert_eq!(page_size(&new), 1024);
}

#[test]
fn backup_refuses_a_page_size_sqlite_does_not_have() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let to = dir.path().join("copy.db");
    for size in ["3000", "256", "131072", "many"] {
        let (ok, _, err) = run_hub(
            &["backup", "--to", to.to_str().unwrap(), "--page-size", size],
            Some(&db),
        );
        assert!(!ok, "{size}");
        assert!(
            err.contains(&format!("`{size}` is not a SQLite page size")),
            "{size}: {err}"
        );
        assert!(!to.exists(), "{size}: nothing is written");
    }
}
