//! PostgreSQL going wrong under the service: a server that refuses connections or cannot
//! write, a row locked by a stuck session, and TLS as the URL asks for it. Each test runs when a
//! server is reachable (see `backends`).

use std::time::Duration;

use actix_web::http::StatusCode;
use smartlead_hub::storage::Database;

use crate::backends::{postgres_available, rows, Backend, TestDb};
use crate::helpers::{admin, run_hub_on, spawn_app_on};

/// The database refusing connections, then read-only: every delivery is a 503 with
/// Retry-After, never a 2xx, and the service carries on once the server is back.
#[actix_web::test]
async fn a_server_that_refuses_or_cannot_write_is_503_never_a_false_2xx() {
    if !postgres_available(
        "postgres::a_server_that_refuses_or_cannot_write_is_503_never_a_false_2xx",
    ) {
        return;
    }
    let app = spawn_app_on(Backend::Postgres).await;
    let Database::Postgres(url) = &app.db else {
        unreachable!()
    };
    let name = url.config().get_dbname().unwrap().to_owned();
    let on_server = |sql: String| {
        let server = crate::backends::server().unwrap();
        crate::backends::off_executor(move || {
            let mut client = postgres::Client::connect(server, postgres::NoTls).unwrap();
            client.batch_execute(&sql).unwrap();
        })
    };
    let kick = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    );
    let refuse = |sql: &str| {
        on_server(sql.to_owned());
        on_server(kick.clone());
    };
    let delivery = |n: u64| crate::process::unique_open(n);

    assert_eq!(
        app.post_webhook(crate::helpers::ORG, delivery(1), None)
            .await
            .status,
        StatusCode::OK
    );
    for (n, change, undo) in [
        (
            2,
            format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"),
            format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"),
        ),
        (
            3,
            format!("ALTER DATABASE {name} SET default_transaction_read_only = on"),
            format!("ALTER DATABASE {name} RESET default_transaction_read_only"),
        ),
    ] {
        refuse(&change);
        for _ in 0..3 {
            let answer = app
                .post_webhook(crate::helpers::ORG, delivery(n), None)
                .await;
            assert_eq!(
                answer.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{change}: {}",
                answer.body
            );
            assert!(answer.headers.contains_key("retry-after"), "{change}");
        }
        refuse(&undo);
        let mut answer = app
            .post_webhook(crate::helpers::ORG, delivery(n), None)
            .await;
        for _ in 0..50 {
            if answer.status == StatusCode::OK {
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
            answer = app
                .post_webhook(crate::helpers::ORG, delivery(n), None)
                .await;
        }
        assert_eq!(
            answer.body["status"], "stored",
            "after {undo}: {}",
            answer.body
        );
    }
    assert_eq!(app.count("SELECT count(*) FROM email_events"), 3);
}

/// A lead locked by a stuck session elsewhere: its delivery is a 503 with Retry-After once
/// `--busy-timeout-ms` has passed (not a stall, not a 2xx), another lead's delivery is stored
/// meanwhile, and once the lock goes the retry is stored.
#[actix_web::test]
async fn a_lead_locked_elsewhere_is_a_503_after_the_busy_timeout() {
    if !postgres_available("postgres::a_lead_locked_elsewhere_is_a_503_after_the_busy_timeout") {
        return;
    }
    let app =
        crate::helpers::spawn_app_on_with(Backend::Postgres, |s| s.busy_timeout_ms = 300).await;
    let first = app.deliver("05_email_open_seq1.json").await;
    assert_eq!(first.body["status"], "stored");
    let Database::Postgres(url) = &app.db else {
        unreachable!()
    };
    let url = url.expose().to_owned();
    let (locked, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
    let (locked_tx, locked_rx) = locked;
    let (release_tx, release_rx) = release;
    let holder = std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut tx = client.transaction().unwrap();
        tx.batch_execute(
            "SELECT id FROM leads WHERE email = 'zoe.lefevre@mueller-soehne.example' FOR UPDATE",
        )
        .unwrap();
        locked_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        tx.rollback().unwrap();
    });
    locked_rx.recv().unwrap();

    let started = std::time::Instant::now();
    let click = app.deliver("08_email_link_click_arrays.json").await;
    assert_eq!(
        click.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        click.body
    );
    assert!(click.headers.contains_key("retry-after"));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    let other = app.deliver("12_email_reply_legacy_fields_only.json").await;
    assert_eq!(
        other.body["status"], "stored",
        "another lead is not held up"
    );

    release_tx.send(()).unwrap();
    holder.join().unwrap();
    let again = app.deliver("08_email_link_click_arrays.json").await;
    assert_eq!(again.body["status"], "stored", "{}", again.body);
    assert_eq!(admin(&app.db).check_rollups().unwrap(), vec![]);
}

/// `sslmode` as libpq means it: `require` encrypts (the service's connections show as TLS in
/// `pg_stat_ssl`); `verify-ca` refuses a certificate no trusted root signed and accepts it
/// with the server's own certificate as `sslrootcert`; `disable` stays plain.
#[actix_web::test]
async fn sslmode_encrypts_and_verifies_as_libpq_says() {
    if !postgres_available("postgres::sslmode_encrypts_and_verifies_as_libpq_says") {
        return;
    }
    let test_db = TestDb::new(Backend::Postgres);
    crate::helpers::add_user(
        &test_db.db,
        "owner@northpeak.example",
        crate::helpers::ORG,
        Some(crate::helpers::SECRET),
    );
    let Database::Postgres(url) = &test_db.db else {
        unreachable!()
    };
    let with = |params: &str| -> Database {
        let separator = if url.expose().contains('?') { '&' } else { '?' };
        format!("{}{separator}{params}", url.expose())
            .parse()
            .unwrap()
    };
    let setting = |name: &str| {
        rows(&test_db.db, &format!("SHOW {name}"), &[])[0][0]
            .clone()
            .unwrap()
    };
    let status = |db: &Database| run_hub_on(&["migrate", "status"], Some(db));
    if setting("ssl") != "on" {
        // A server without TLS: `require` is refused, never silently plain.
        let (ok, _, err) = status(&with("sslmode=require"));
        assert!(!ok, "require connected to a server without TLS");
        assert!(err.contains("no database connection"), "{err}");
        return;
    }

    let served = crate::helpers::serve_file(with("sslmode=require"), |_| {});
    let answer = crate::helpers::client()
        .post(format!(
            "{}/api/webhooks/smartlead?org_id={}",
            served.base,
            crate::helpers::ORG
        ))
        .send_body(crate::helpers::fixture("05_email_open_seq1.json"))
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(answer["status"], "stored", "{answer}");
    let encrypted = rows(
        &test_db.db,
        "SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
         WHERE a.application_name = 'smartlead-hub' AND a.datname = current_database()",
        &[],
    );
    served.stop().await;
    let (tls, all) = (
        encrypted[0][0].clone().unwrap(),
        encrypted[0][1].clone().unwrap(),
    );
    assert!(
        all != "0" && tls == all,
        "{tls} of {all} connections encrypted"
    );

    let (ok, _, err) = status(&with("sslmode=verify-ca"));
    assert!(
        !ok && err.contains("TLS"),
        "an untrusted certificate was accepted: {err}"
    );
    let mut certificate = std::path::PathBuf::from(setting("ssl_cert_file"));
    if certificate.is_relative() {
        certificate = std::path::Path::new(&setting("data_directory")).join(certificate);
    }
    let (ok, out, err) = status(&with(&format!(
        "sslmode=verify-ca&sslrootcert={}",
        certificate.display()
    )));
    assert!(ok, "{out}{err}");
    let (ok, out, err) = status(&with("sslmode=disable"));
    assert!(ok, "{out}{err}");
}

/// The migrations' advisory lock (`storage/postgres/migrations.rs`).
const MIGRATIONS_LOCK: i64 = 0x5348_4d49_4752_4154;

/// A migration the server aborts to break a deadlock (a running service's sessions lock the same
/// tables in their own order) runs again, whole, instead of failing the upgrade. The deadlock is
/// made on purpose: a session of the test's holds a table migration 020 alters, and once the
/// migration waits for it, asks for the lock the migration holds.
#[test]
fn a_migration_aborted_to_break_a_deadlock_runs_again() {
    if !postgres_available("postgres::a_migration_aborted_to_break_a_deadlock_runs_again") {
        return;
    }
    let test_db = TestDb::new(Backend::Postgres);
    let Database::Postgres(url) = &test_db.db else {
        unreachable!()
    };
    let names = admin(&test_db.db).migration_names();
    let latest = names.len();
    // Down to below 020 (and whatever came after it): `migrate up` runs 020 first.
    let below = names
        .iter()
        .position(|name| name.contains("_020_"))
        .unwrap()
        .to_string();
    let (ok, out, err) = run_hub_on(&["migrate", "down", "--to", &below], Some(&test_db.db));
    assert!(ok, "{out}{err}");
    // Each waiting session looks for a deadlock once, after this long; the migration waits
    // first, so it is the one the server aborts (the test's session waits well within it).
    let name = url.config().get_dbname().unwrap().to_owned();
    let mut server =
        postgres::Client::connect(crate::backends::server().unwrap(), postgres::NoTls).unwrap();
    server
        .batch_execute(&format!(
            "ALTER DATABASE {name} SET deadlock_timeout = '4s'"
        ))
        .unwrap();

    let mut holder = postgres::Client::connect(url.expose(), postgres::NoTls).unwrap();
    let mut held = holder.transaction().unwrap();
    held.batch_execute("LOCK TABLE api_tokens IN ACCESS SHARE MODE")
        .unwrap();
    let db = test_db.db.clone();
    let migration = std::thread::spawn(move || run_hub_on(&["migrate", "up"], Some(&db)));
    let mut watcher = postgres::Client::connect(url.expose(), postgres::NoTls).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while watcher
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE relation = 'api_tokens'::regclass AND NOT granted",
            &[],
        )
        .unwrap()
        .get::<_, i64>(0)
        == 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the migration never waited for api_tokens"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    held.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATIONS_LOCK])
        .expect("the server aborts the migration's transaction, not this one");
    held.rollback().unwrap();

    let (ok, out, err) = migration.join().unwrap();
    assert!(ok, "{out}{err}");
    assert!(err.contains("running it again"), "no retry logged: {err}");
    assert_eq!(admin(&test_db.db).schema_version().unwrap(), latest);
}
