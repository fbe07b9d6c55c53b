//! What only the PostgreSQL backend has: a Citus-ready schema, its own validation script, its
//! own migrations, several services on one database, its commands (faults are in
//! `postgres_faults`). Each test runs when a server is reachable (see `backends`).

use smartlead_hub::storage::Database;

use crate::backends::{postgres_available, rows, Backend, TestDb};
use crate::helpers::{admin, run_hub_on, spawn_app_on};
use crate::process::{assert_invariants_on, prepared, HubProcess, Load};

/// Tables keyed globally, meant to be Citus reference tables (README, "PostgreSQL").
const REFERENCE_TABLES: &[&str] = &[
    "users",
    "api_tokens",
    "smartlead_hub_schema_versions",
    "projection_watermark",
    "legacy_dedupe_keys",
];

/// Every way a table breaks Citus' rule that a distributed table's keys carry the
/// distribution column: (table, what).
fn citus_violations(db: &Database) -> Vec<(String, String)> {
    let reference = REFERENCE_TABLES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    rows(
        db,
        &format!(
            "WITH tenant AS (
                 SELECT c.oid, c.relname::text AS name FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname NOT IN ({reference}))
             SELECT name, 'no user_id column' FROM tenant t
             WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a
                               WHERE a.attrelid = t.oid AND a.attname = 'user_id' AND NOT a.attisdropped)
             UNION ALL
             SELECT name, 'no primary key' FROM tenant t
             WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = t.oid AND k.contype = 'p')
             UNION ALL
             SELECT t.name, k.conname::text FROM tenant t
             JOIN pg_constraint k ON k.conrelid = t.oid AND k.contype IN ('p', 'u', 'f')
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.conkey[1]
             WHERE a.attname <> 'user_id'
             UNION ALL
             SELECT t.name, k.conname::text FROM tenant t
             JOIN pg_constraint k ON k.conrelid = t.oid AND k.contype = 'f'
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = k.confkey[1]
             WHERE k.confrelid::regclass::text NOT IN ({reference}) AND a.attname <> 'user_id'
             UNION ALL
             SELECT t.name, x.relname::text FROM tenant t
             JOIN pg_index i ON i.indrelid = t.oid AND i.indisunique
             JOIN pg_class x ON x.oid = i.indexrelid
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
             WHERE a.attname <> 'user_id'
             ORDER BY 1, 2"
        ),
        &[],
    )
    .into_iter()
    .map(|row| (row[0].clone().unwrap(), row[1].clone().unwrap()))
    .collect()
}

#[test]
fn every_tenant_table_is_keyed_by_user_id_first() {
    if !postgres_available("postgres::every_tenant_table_is_keyed_by_user_id_first") {
        return;
    }
    let test_db = TestDb::new(Backend::Postgres);
    admin(&test_db.db);
    let tables = rows(
        &test_db.db,
        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
        &[],
    );
    assert_eq!(
        tables[0][0].as_deref(),
        Some("17"),
        "every table is looked at"
    );
    assert_eq!(citus_violations(&test_db.db), vec![]);

    // The check can fail: a table keyed by its own id alone, and one unique on an address.
    rows(
        &test_db.db,
        "CREATE TABLE bad_notes (id uuid PRIMARY KEY, user_id uuid NOT NULL, email text UNIQUE);
         SELECT 1",
        &[],
    );
    assert_eq!(
        citus_violations(&test_db.db),
        vec![
            ("bad_notes".to_owned(), "bad_notes_email_key".to_owned()),
            ("bad_notes".to_owned(), "bad_notes_email_key".to_owned()),
            ("bad_notes".to_owned(), "bad_notes_pkey".to_owned()),
            ("bad_notes".to_owned(), "bad_notes_pkey".to_owned()),
        ]
    );
}

/// `psql -v ON_ERROR_STOP=1 -f migrations/postgres/test_smartlead_schema.sql` on a migrated
/// database passes, leaves nothing behind, and fails on a schema missing a promised index.
#[test]
fn the_validation_script_passes_on_the_schema_and_fails_without_an_index() {
    if !postgres_available(
        "postgres::the_validation_script_passes_on_the_schema_and_fails_without_an_index",
    ) {
        return;
    }
    let test_db = TestDb::new(Backend::Postgres);
    admin(&test_db.db);
    let Database::Postgres(url) = &test_db.db else {
        unreachable!()
    };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations/postgres/test_smartlead_schema.sql"
    );
    let psql = |url: &str| {
        std::process::Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", script, url])
            .output()
            .expect("psql runs (Debian's postgresql-client)")
    };
    let passed = psql(url.expose());
    let out = String::from_utf8_lossy(&passed.stdout);
    assert!(
        passed.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&passed.stderr)
    );
    assert!(
        out.contains("Schema validation completed successfully"),
        "{out}"
    );
    assert_eq!(
        rows(&test_db.db, "SELECT count(*) FROM users", &[])[0][0].as_deref(),
        Some("0")
    );

    rows(
        &test_db.db,
        "DROP INDEX idx_email_events_user_time; SELECT 1",
        &[],
    );
    let failed = psql(url.expose());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(!failed.status.success());
    assert!(err.contains("violates check constraint"), "{err}");
}

/// Down to every version and back up, with data in the tables: the same answers after.
#[actix_web::test]
async fn every_migration_goes_down_and_up_again_on_postgres() {
    if !postgres_available("postgres::every_migration_goes_down_and_up_again_on_postgres") {
        return;
    }
    let app = spawn_app_on(Backend::Postgres).await;
    for name in [
        "01_email_sent_new_and_deprecated_fields.json",
        "05_email_open_seq1.json",
    ] {
        assert_eq!(app.deliver(name).await.body["status"], "stored");
    }
    let latest = admin(&app.db).migration_names().len();
    for version in (0..latest).rev() {
        let (ok, out, err) = run_hub_on(
            &["migrate", "down", "--to", &version.to_string()],
            Some(&app.db),
        );
        assert!(ok, "down to {version}: {out}{err}");
        let (_, status, _) = run_hub_on(&["migrate", "status"], Some(&app.db));
        assert!(
            status.contains(&format!("schema version: {version} ")),
            "{status}"
        );
        let (ok, out, err) = run_hub_on(&["migrate", "up"], Some(&app.db));
        assert!(ok, "up from {version}: {out}{err}");
    }
    assert_eq!(admin(&app.db).schema_version().unwrap(), latest);
}

/// Two services on one database, each under load from its own senders, the same deliveries
/// sent to both: every acknowledged event is stored once, rollups equal a recount.
#[actix_web::test]
async fn two_services_on_one_database_lose_and_double_nothing() {
    if !postgres_available("postgres::two_services_on_one_database_lose_and_double_nothing") {
        return;
    }
    let (test_db, logs) = prepared(Backend::Postgres);
    let one = HubProcess::start_on(&test_db.db, logs.path(), &[], "warn");
    let two = HubProcess::start_on(&test_db.db, logs.path(), &[], "warn");
    let (load_one, load_two) = (Load::default(), Load::default());
    // Both number their deliveries from 0: the same events reach both services at once.
    let senders_one = load_one.start(one.webhook_url(), 8, 0);
    let senders_two = load_two.start(two.webhook_url(), 8, 0);
    load_one.wait_for_acks(150).await;
    load_two.wait_for_acks(150).await;
    load_one.stop(senders_one).await;
    load_two.stop(senders_two).await;
    assert_eq!(load_one.answered(500) + load_two.answered(500), 0);
    // The services logged where they write; a password in the URL is not in their logs.
    let Database::Postgres(url) = &test_db.db else {
        unreachable!()
    };
    if let Some(password) = url.config().get_password() {
        let password = String::from_utf8_lossy(password).into_owned();
        assert!(!one.log().contains(&password) && !two.log().contains(&password));
    }
    assert!(one.terminate().success());
    assert!(two.terminate().success());
    let mut acked = load_one.acked();
    acked.extend(load_two.acked());
    assert_invariants_on(&test_db.db, &acked);
}

#[test]
fn backup_is_sqlite_only_and_says_what_to_use_instead() {
    if !postgres_available("postgres::backup_is_sqlite_only_and_says_what_to_use_instead") {
        return;
    }
    let test_db = TestDb::new(Backend::Postgres);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("copy.db");
    let (ok, _, err) = run_hub_on(
        &["backup", "--to", target.to_str().unwrap()],
        Some(&test_db.db),
    );
    assert!(!ok);
    assert!(err.contains("pg_dump"), "{err}");
    assert!(!target.exists());
}

/// `demo`, `rollups check` and `rollups rebuild` through the binary on PostgreSQL: the demo's
/// history stored once (a second run stores nothing), a tampered rollup found and repaired.
#[test]
fn demo_and_the_rollup_commands_work_on_postgres() {
    if !postgres_available("postgres::demo_and_the_rollup_commands_work_on_postgres") {
        return;
    }
    let test_db = TestDb::new(Backend::Postgres);
    let db = Some(&test_db.db);
    let (ok, out, err) = run_hub_on(&["demo", "--events", "1500", "--seed", "3"], db);
    assert!(ok, "{out}{err}");
    let events = || rows(&test_db.db, "SELECT count(*) FROM email_events", &[]);
    let first = events();
    let (ok, out, _) = run_hub_on(&["demo", "--events", "1500", "--seed", "3"], db);
    assert!(ok && out.contains(" 0 stored"), "{out}");
    assert_eq!(events(), first, "a second demo run stored nothing new");

    let (ok, out, _) = run_hub_on(&["rollups", "check"], db);
    assert!(ok, "{out}");
    rows(
        &test_db.db,
        "UPDATE rollup_totals SET events = events + 1 WHERE campaign_id = '' AND metric = 'sent';
         SELECT 1",
        &[],
    );
    let (ok, out, err) = run_hub_on(&["rollups", "check"], db);
    assert!(
        !ok && out.contains("rollup_totals: 2 rows differ"),
        "{out}{err}"
    );
    let (ok, _, err) = run_hub_on(&["rollups", "rebuild"], db);
    assert!(ok, "{err}");
    let (ok, out, _) = run_hub_on(&["rollups", "check"], db);
    assert!(ok, "{out}");
}
