//! The two storage backends under one set of tests. `on_both_backends!` turns each test into
//! `name::sqlite` and `name::postgres`; the PostgreSQL run gets a fresh database of its own on
//! the server `SMARTLEAD_HUB_TEST_POSTGRES` names (a URL to any database there), or the one the
//! `PG*` variables describe (`pg_virtualenv` sets them), or a local server on the default port.
//! With none reachable the PostgreSQL runs say so on stderr and pass, unless
//! `SMARTLEAD_HUB_REQUIRE_POSTGRES=1` (CI) makes that a failure.

use std::io::Write;
use std::sync::OnceLock;

use smartlead_hub::storage::Database;
use tempfile::TempDir;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Each `async fn name(backend: Backend) { … }` becomes the tests `name::sqlite` and
/// `name::postgres`.
macro_rules! on_both_backends {
    ($( $(#[$meta:meta])* async fn $name:ident($backend:ident: Backend) $body:block )*) => {$(
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($backend: crate::backends::Backend) $body

            #[actix_web::test]
            async fn sqlite() {
                run(crate::backends::Backend::Sqlite).await
            }

            #[actix_web::test]
            async fn postgres() {
                if crate::backends::postgres_available(concat!(module_path!(), "::postgres")) {
                    run(crate::backends::Backend::Postgres).await
                }
            }
        }
    )*};
}
pub(crate) use on_both_backends;

/// A database for one test, removed afterwards.
pub struct TestDb {
    pub db: Database,
    /// The SQLite file (an unused path on PostgreSQL).
    pub path: std::path::PathBuf,
    holder: Holder,
}

enum Holder {
    Dir(#[allow(dead_code)] TempDir),
    Postgres { name: String },
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("hub.db");
                TestDb {
                    db: Database::Sqlite(path.clone()),
                    path,
                    holder: Holder::Dir(dir),
                }
            }
            Backend::Postgres => {
                let name = format!("hub_test_{}", uuid::Uuid::new_v4().simple());
                let server = server().expect("postgres_available was asked first");
                admin_sql(&format!("CREATE DATABASE {name}"));
                TestDb {
                    db: with_database(server, &name)
                        .parse()
                        .expect("a postgres URL"),
                    path: std::path::PathBuf::new(),
                    holder: Holder::Postgres { name },
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Holder::Postgres { name } = &self.holder {
            admin_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// Whether PostgreSQL tests can run; with no server, says so (past the test harness's capture,
/// so a skip is never silent) or fails when `SMARTLEAD_HUB_REQUIRE_POSTGRES` is set.
pub fn postgres_available(test: &str) -> bool {
    if server().is_some() {
        return true;
    }
    if std::env::var_os("SMARTLEAD_HUB_REQUIRE_POSTGRES").is_some() {
        panic!("SMARTLEAD_HUB_REQUIRE_POSTGRES is set and no PostgreSQL server is reachable");
    }
    let _ = writeln!(
        std::io::stderr(),
        "{test}: SKIPPED, no PostgreSQL server (set SMARTLEAD_HUB_TEST_POSTGRES=postgres://…)"
    );
    false
}

/// The server's URL (to its maintenance database), found once per test run.
pub fn server() -> Option<&'static str> {
    static SERVER: OnceLock<Option<String>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let candidate = std::env::var("SMARTLEAD_HUB_TEST_POSTGRES")
                .ok()
                .or_else(from_pg_variables)
                .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
            let reachable = off_executor(|| {
                let mut config: postgres::Config = candidate.parse().ok()?;
                config.connect_timeout(std::time::Duration::from_secs(2));
                config.connect(postgres::NoTls).ok().map(drop)
            });
            reachable.map(|()| candidate)
        })
        .as_deref()
}

/// A URL from libpq's variables, as `pg_virtualenv` exports them.
fn from_pg_variables() -> Option<String> {
    let host = std::env::var("PGHOST").ok()?;
    let port = std::env::var("PGPORT").unwrap_or_else(|_| "5432".into());
    let user = std::env::var("PGUSER").unwrap_or_else(|_| "postgres".into());
    let database = std::env::var("PGDATABASE").unwrap_or_else(|_| "postgres".into());
    let password = std::env::var("PGPASSWORD")
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    Some(format!(
        "postgres://{user}{password}@{host}:{port}/{database}"
    ))
}

/// `url` pointed at the database `name` (same server, user, options).
fn with_database(url: &str, name: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, format!("?{query}")),
        None => (url, String::new()),
    };
    let (scheme, rest) = head.split_once("://").expect("a URL");
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{authority}/{name}{query}")
}

/// Runs a statement on the server's maintenance database.
fn admin_sql(sql: &str) {
    let server = server().expect("a server");
    off_executor(|| {
        let mut client = postgres::Client::connect(server, postgres::NoTls).expect("connects");
        client.batch_execute(sql).expect(sql);
    });
}

/// Runs `work` off the test's executor (the `postgres` client may not block on it).
pub fn off_executor<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(work).join().expect("no panic"))
}

/// A cell as the tests compare it: text, times in the records' form, NULL as `None`.
pub type Cell = Option<String>;

/// Every row of `sql` on either backend, `$1…` replaced by the quoted `params` (test values
/// only), each column as text: what is stored, read as any outside reader would.
/// A blob as text: a compressed payload (a zstd frame, issue 19) decompressed with the
/// dictionary its header names, read from the file's `payload_dictionaries` with the zstd
/// crate alone, so that the stored format is checked independently of the hub's own codec.
pub fn blob_text(conn: &rusqlite::Connection, blob: &[u8]) -> String {
    if !blob.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return String::from_utf8_lossy(blob).into_owned();
    }
    let id = zstd::zstd_safe::get_dict_id_from_frame(blob).expect("a frame names its dictionary");
    let dictionary: Vec<u8> = conn
        .query_row(
            "SELECT dictionary FROM payload_dictionaries WHERE zstd_id = ?1",
            [id.get()],
            |row| row.get(0),
        )
        .expect("the frame's dictionary is in the file");
    let bytes = zstd::bulk::Decompressor::with_dictionary(&dictionary)
        .unwrap()
        .decompress(blob, 16 << 20)
        .expect("the frame decompresses");
    String::from_utf8(bytes).expect("a payload is UTF-8")
}

pub fn rows(db: &Database, sql: &str, params: &[&str]) -> Vec<Vec<Cell>> {
    let mut sql = sql.to_owned();
    for (i, param) in params.iter().enumerate().rev() {
        sql = sql.replace(
            &format!("${}", i + 1),
            &format!("'{}'", param.replace('\'', "''")),
        );
    }
    match db {
        Database::Sqlite(path) => {
            let conn = rusqlite::Connection::open(path).expect("database opens");
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .unwrap();
            let mut statement = conn.prepare(&sql).expect(&sql);
            let columns = statement.column_count();
            let rows = statement
                .query_map([], |row| {
                    (0..columns)
                        .map(|i| {
                            Ok(match row.get_ref(i)? {
                                rusqlite::types::ValueRef::Null => None,
                                rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
                                rusqlite::types::ValueRef::Real(x) => Some(x.to_string()),
                                rusqlite::types::ValueRef::Text(t) => {
                                    Some(String::from_utf8_lossy(t).into_owned())
                                }
                                rusqlite::types::ValueRef::Blob(b) => Some(blob_text(&conn, b)),
                            })
                        })
                        .collect()
                })
                .expect(&sql);
            rows.collect::<Result<_, _>>().expect(&sql)
        }
        Database::Postgres(url) => off_executor(|| {
            let mut client =
                postgres::Client::connect(url.expose(), postgres::NoTls).expect("connects");
            client
                .batch_execute("SET DateStyle = ISO; SET TimeZone = 'UTC'")
                .unwrap();
            let messages = client.simple_query(&sql).expect(&sql);
            messages
                .into_iter()
                .filter_map(|message| match message {
                    postgres::SimpleQueryMessage::Row(row) => Some(
                        (0..row.len())
                            .map(|i| row.get(i).map(as_record_time))
                            .collect(),
                    ),
                    _ => None,
                })
                .collect()
        }),
    }
}

/// The first column of the first row of `sql`, as a number.
pub fn count(db: &Database, sql: &str) -> i64 {
    rows(db, sql, &[])[0][0]
        .as_deref()
        .expect("not NULL")
        .parse()
        .expect("a number")
}

/// PostgreSQL's ISO text of a `timestamptz` in UTC (`2025-10-14 09:12:44.21+00`) in the
/// records' form (`2025-10-14T09:12:44.210Z`); any other text unchanged.
fn as_record_time(text: &str) -> String {
    let bytes = text.as_bytes();
    let looks_like_time = text.len() >= 22
        && text.ends_with("+00")
        && bytes[4] == b'-'
        && bytes[10] == b' '
        && bytes[13] == b':';
    if !looks_like_time {
        return text.to_owned();
    }
    let body = &text[..text.len() - 3];
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    let millis = format!("{fraction:0<3}");
    format!("{}T{}.{}Z", &whole[..10], &whole[11..], &millis[..3])
}

/// Runs statements that return nothing (an UPDATE arranging a test), on either backend.
pub fn execute(db: &Database, sql: &str) {
    match db {
        Database::Sqlite(path) => {
            let conn = rusqlite::Connection::open(path).expect("database opens");
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .unwrap();
            conn.execute_batch(sql).expect(sql);
        }
        Database::Postgres(url) => off_executor(|| {
            let mut client =
                postgres::Client::connect(url.expose(), postgres::NoTls).expect("connects");
            client.batch_execute(sql).expect(sql);
        }),
    }
}

/// The PostgreSQL projector's turn (its advisory lock, `storage/postgres/projection.rs`), held
/// by a session of the test's own on a thread of its own until released: nothing is projected
/// meanwhile, and deliveries go on.
pub struct ProjectorTurn {
    release: std::sync::mpsc::Sender<()>,
    holder: std::thread::JoinHandle<()>,
}

impl ProjectorTurn {
    pub fn take(url: &str) -> Self {
        let url = url.to_owned();
        let (held_tx, held_rx) = std::sync::mpsc::channel::<()>();
        let (release, release_rx) = std::sync::mpsc::channel::<()>();
        let holder = std::thread::spawn(move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            client
                .execute("SELECT pg_advisory_lock($1)", &[&0x5348_5052_4f4a_4543_i64])
                .unwrap();
            held_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        });
        held_rx.recv().unwrap();
        Self { release, holder }
    }

    pub fn release(self) {
        self.release.send(()).unwrap();
        self.holder.join().unwrap();
    }
}

/// SQLite's write lock on the file at `path`, taken from outside, if the projector has not
/// reached `seq` by then (so that nothing from `seq` on is projected while it is held); `None`
/// when it had, for the caller to deliver again.
pub fn write_lock_before_projection(
    path: &std::path::Path,
    seq: i64,
) -> Option<rusqlite::Connection> {
    let lock = rusqlite::Connection::open(path).unwrap();
    lock.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let through: i64 = lock
        .query_row("SELECT through FROM projection_watermark", [], |r| r.get(0))
        .unwrap();
    if through < seq {
        return Some(lock);
    }
    lock.execute_batch("ROLLBACK").unwrap();
    None
}
