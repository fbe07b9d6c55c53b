//! The schema as the migrations promise it: versions up and down, constraints, indexes, the
//! validation script, and index use by the seed's usage queries.

use rusqlite::{params, Connection};
use smartlead_hub::domain::EventType;
use smartlead_hub::storage::sqlite::{migrations, open_read_write, DEFAULT_BUSY_TIMEOUT};

const USER: &str = "00000000-0000-4000-8000-0000000000a1";
const LEAD: &str = "00000000-0000-4000-8000-0000000000b1";

fn fresh_db() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let conn = open_read_write(&dir.path().join("schema.db"), DEFAULT_BUSY_TIMEOUT).unwrap();
    (dir, conn)
}

fn migrated_db() -> (tempfile::TempDir, Connection) {
    let (dir, mut conn) = fresh_db();
    migrations::to_latest(&mut conn).unwrap();
    (dir, conn)
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |row| row.get(0)).unwrap()
}

fn table_exists(conn: &Connection, table: &str) -> bool {
    count(
        conn,
        &format!("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"),
    ) == 1
}

/// `email_events` is a view over `email_event_rows` since migration 015.
fn view_exists(conn: &Connection, view: &str) -> bool {
    count(
        conn,
        &format!("SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name = '{view}'"),
    ) == 1
}

fn column_exists(conn: &Connection, table: &str, column: &str) -> bool {
    count(
        conn,
        &format!("SELECT count(*) FROM pragma_table_info('{table}') WHERE name = '{column}'"),
    ) == 1
}

fn insert_event(
    conn: &Connection,
    id: &str,
    event_type: &str,
    event_data: &str,
) -> rusqlite::Result<usize> {
    conn.execute(
        "INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email, lead_id, event_data, timestamp)
         VALUES (?1, ?2, 'c-1', 'm-1', ?3, 'lead@example.com', ?4, ?5, '2025-01-08T10:00:00.000Z')",
        params![id, USER, event_type, LEAD, event_data],
    )
}

/// A user, a lead, two credentials (one of them 'smartlead') and an event.
fn seed_rows(conn: &Connection) {
    conn.execute_batch(&format!(
        "INSERT INTO users (id, email, name, smartlead_org_id, smartlead_org_name)
             VALUES ('{USER}', 'owner@example.com', 'Owner', 'org-1', 'Org One');
         INSERT INTO leads (id, user_id, email, first_name, smartlead_campaign_id, last_email_event, last_event_timestamp)
             VALUES ('{LEAD}', '{USER}', 'lead@example.com', 'Lea', 'c-1', 'email_opened', '2025-01-08T10:00:00.000Z');
         INSERT INTO integration_credentials (id, user_id, provider, credentials)
             VALUES ('00000000-0000-4000-8000-0000000000c1', '{USER}', 'gmail', '{{\"token\":\"g\"}}'),
                    ('00000000-0000-4000-8000-0000000000c2', '{USER}', 'smartlead', '{{\"webhook_secret\":\"s\"}}');"
    ))
    .unwrap();
    insert_event(
        conn,
        "00000000-0000-4000-8000-0000000000d1",
        "email_opened",
        "{}",
    )
    .unwrap();
}

#[test]
fn up_down_to_1_down_to_0_and_up_again_on_an_empty_database() {
    let (_dir, mut conn) = fresh_db();
    assert_eq!(migrations::current_version(&conn).unwrap(), 0);
    migrations::to_latest(&mut conn).unwrap();
    assert_eq!(
        migrations::current_version(&conn).unwrap(),
        migrations::latest_version()
    );
    assert!(table_exists(&conn, "email_event_rows") && view_exists(&conn, "email_events"));

    migrations::to_version(&mut conn, 1).unwrap();
    assert!(!table_exists(&conn, "email_events") && !view_exists(&conn, "email_events"));
    assert!(!table_exists(&conn, "email_event_rows"));
    assert!(!column_exists(&conn, "users", "smartlead_org_id"));
    assert!(!column_exists(&conn, "leads", "last_email_event"));
    assert!(
        table_exists(&conn, "users")
            && table_exists(&conn, "leads")
            && table_exists(&conn, "integration_credentials")
    );

    migrations::to_version(&mut conn, 0).unwrap();
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        ),
        0
    );

    migrations::to_latest(&mut conn).unwrap();
    assert!(table_exists(&conn, "email_event_rows") && view_exists(&conn, "email_events"));
}

#[test]
fn rolling_back_deletes_smartlead_data_and_nothing_else() {
    let (_dir, mut conn) = migrated_db();
    seed_rows(&conn);

    migrations::to_version(&mut conn, 1).unwrap();
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM users WHERE email = 'owner@example.com' AND name = 'Owner'"
        ),
        1
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM leads WHERE email = 'lead@example.com' AND first_name = 'Lea'"
        ),
        1
    );
    // The gmail row survives the CHECK rebuild; the smartlead row, which the old CHECK refuses, is gone.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM integration_credentials WHERE provider = 'gmail'"
        ),
        1
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM integration_credentials"),
        1
    );
    assert!(!table_exists(&conn, "email_events"));
    // The old CHECK is back: 'smartlead' is refused.
    let refused = conn.execute(
        &format!("INSERT INTO integration_credentials (id, user_id, provider) VALUES ('x', '{USER}', 'smartlead')"),
        [],
    );
    assert!(refused.is_err());
    assert_eq!(
        count(&conn, "SELECT count(*) FROM pragma_foreign_key_check"),
        0
    );

    // And forward again, rows intact, columns back (empty).
    migrations::to_latest(&mut conn).unwrap();
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM users WHERE smartlead_org_id IS NULL"
        ),
        1
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM integration_credentials WHERE provider = 'gmail'"
        ),
        1
    );
    assert_eq!(count(&conn, "SELECT count(*) FROM email_events"), 0);
}

#[test]
fn credentials_survive_the_forward_check_rebuild() {
    let (_dir, mut conn) = fresh_db();
    migrations::to_version(&mut conn, 1).unwrap();
    conn.execute_batch(&format!(
        "INSERT INTO users (id, email) VALUES ('{USER}', 'owner@example.com');
         INSERT INTO integration_credentials (id, user_id, provider, credentials, created_at, updated_at)
             VALUES ('00000000-0000-4000-8000-0000000000c1', '{USER}', 'apollo', '{{\"k\":1}}',
                     '2024-12-01T00:00:00.000Z', '2024-12-02T00:00:00.000Z');"
    ))
    .unwrap();
    migrations::to_latest(&mut conn).unwrap();
    let row: (String, String, String, String) = conn
        .query_row(
            "SELECT provider, credentials, created_at, updated_at FROM integration_credentials",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        row,
        (
            "apollo".into(),
            "{\"k\":1}".into(),
            "2024-12-01T00:00:00.000Z".into(),
            "2024-12-02T00:00:00.000Z".into()
        )
    );
}

#[test]
fn event_type_check_matches_the_domain_list_exactly() {
    let (_dir, conn) = migrated_db();
    seed_rows(&conn);
    for (i, event_type) in EventType::ALL.iter().enumerate() {
        insert_event(
            &conn,
            &format!("00000000-0000-4000-8000-1000000000{i:02}"),
            event_type.as_str(),
            "{}",
        )
        .unwrap_or_else(|e| panic!("{event_type} refused: {e}"));
    }
    for bad in ["invalid_event_type", "EMAIL_OPENED", "email_opened ", ""] {
        let err =
            insert_event(&conn, "00000000-0000-4000-8000-0000000000e1", bad, "{}").unwrap_err();
        assert!(
            err.to_string().contains("CHECK constraint failed"),
            "{bad:?}: {err}"
        );
    }
}

#[test]
fn invalid_json_in_event_data_is_rejected() {
    let (_dir, conn) = migrated_db();
    seed_rows(&conn);
    for bad in ["{not json", "", "{\"a\":}"] {
        let err = insert_event(
            &conn,
            "00000000-0000-4000-8000-0000000000e2",
            "email_opened",
            bad,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("CHECK constraint failed"),
            "{bad:?}: {err}"
        );
    }
}

#[test]
fn foreign_keys_cascade_from_users_and_set_null_from_leads() {
    let (_dir, conn) = migrated_db();
    seed_rows(&conn);
    // An event for a user that does not exist is refused.
    let orphan = conn.execute(
        "INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email)
         VALUES ('x', '00000000-0000-4000-8000-00000000ffff', 'c', 'm', 'email_sent', 'a@b.c')",
        [],
    );
    assert!(orphan.unwrap_err().to_string().contains("FOREIGN KEY"));

    conn.execute("DELETE FROM leads WHERE id = ?1", [LEAD])
        .unwrap();
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM email_events WHERE lead_id IS NULL"
        ),
        1
    );
    conn.execute("DELETE FROM users WHERE id = ?1", [USER])
        .unwrap();
    assert_eq!(count(&conn, "SELECT count(*) FROM email_events"), 0);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM integration_credentials"),
        0
    );
}

fn index_exists(conn: &Connection, index: &str) -> bool {
    count(
        conn,
        &format!("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '{index}'"),
    ) == 1
}

#[test]
fn the_smartlead_migration_creates_the_seed_indexes_by_their_seed_names() {
    let (_dir, mut conn) = fresh_db();
    migrations::to_version(&mut conn, 2).unwrap();
    for index in [
        "idx_users_smartlead_org_id",
        "idx_leads_smartlead_campaign_id",
        "idx_leads_last_event_timestamp",
        "idx_email_events_user_campaign",
        "idx_email_events_campaign_id",
        "idx_email_events_message_id",
        "idx_email_events_event_type",
        "idx_email_events_email_event_type",
        "idx_email_events_lead_timestamp",
        "idx_email_events_smartlead_org_id",
        "idx_email_events_timestamp",
    ] {
        assert!(index_exists(&conn, index), "{index} missing");
    }
}

/// The final schema keeps exactly the indexes some query uses (migration 004 says which and why).
#[test]
fn the_latest_schema_has_the_lean_index_set() {
    let (_dir, conn) = migrated_db();
    let mut stmt = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'email_event_rows'
             AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name",
        )
        .unwrap();
    let indexes: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        indexes,
        [
            "idx_email_events_lead_timestamp",
            "idx_email_events_seq",
            "idx_email_events_user_campaign_time",
            "idx_email_events_user_dedupe",
            "idx_email_events_user_time",
        ]
    );
    for index in [
        "idx_users_smartlead_org_id",
        "idx_leads_user_last_event",
        "idx_leads_user_campaign_last_event",
    ] {
        assert!(index_exists(&conn, index), "{index} missing");
    }
}

/// The plan's detail lines, e.g. "SEARCH email_events USING INDEX idx_… (lead_id=?)".
fn query_plan(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let rows = stmt
        .query_map(params![USER, "c-1"], |row| row.get::<_, String>(3))
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

#[test]
fn the_seed_usage_queries_are_index_served() {
    let (_dir, conn) = migrated_db();
    seed_rows(&conn);

    let org = query_plan(
        &conn,
        "SELECT smartlead_org_id, smartlead_org_name FROM users WHERE id = ?1 AND ?2 IS NOT NULL",
    );
    assert!(
        org.iter().any(
            |l| l.contains("USING INDEX sqlite_autoindex_users_1") || l.contains("PRIMARY KEY")
        ),
        "{org:?}"
    );

    let timeline = query_plan(
        &conn,
        "SELECT ee.event_type, ee.timestamp, ee.event_data FROM email_events ee
         WHERE ee.lead_id = ?1 AND ?2 IS NOT NULL ORDER BY ee.timestamp DESC LIMIT 10",
    );
    assert!(
        timeline
            .iter()
            .any(|l| l.contains("idx_email_events_lead_timestamp")),
        "{timeline:?}"
    );
    assert!(
        !timeline.iter().any(|l| l.contains("TEMP B-TREE")),
        "timeline needs a sort: {timeline:?}"
    );

    let performance = query_plan(
        &conn,
        "SELECT campaign_id,
                COUNT(*) FILTER (WHERE event_type = 'email_sent') AS sent,
                COUNT(*) FILTER (WHERE event_type = 'email_opened') AS opened,
                COUNT(*) FILTER (WHERE event_type = 'email_clicked') AS clicked,
                COUNT(*) FILTER (WHERE event_type = 'email_replied') AS replied
         FROM email_events WHERE user_id = ?1 AND campaign_id = ?2 GROUP BY campaign_id",
    );
    assert!(
        performance
            .iter()
            .any(|l| l.contains("idx_email_events_user_campaign_time")),
        "{performance:?}"
    );

    for plan in [&timeline, &performance] {
        assert!(
            !plan
                .iter()
                .any(|l| l.starts_with("SCAN email_events") || l.starts_with("SCAN ee")),
            "full scan: {plan:?}"
        );
    }
}

fn validation_script() -> String {
    let script = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations/test_smartlead_schema.sql"
    ))
    .unwrap();
    // `.bail on` is for the sqlite3 shell; execute_batch stops at the first error by itself.
    script
        .lines()
        .filter(|line| !line.starts_with('.'))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_validation_script_passes_on_the_latest_schema_and_leaves_no_rows() {
    let (_dir, conn) = migrated_db();
    conn.execute_batch(&validation_script()).unwrap();
    assert_eq!(count(&conn, "SELECT count(*) FROM users"), 0);
    assert_eq!(count(&conn, "SELECT count(*) FROM email_events"), 0);
}

#[test]
fn the_validation_script_fails_on_a_database_at_version_1() {
    let (_dir, mut conn) = fresh_db();
    migrations::to_version(&mut conn, 1).unwrap();
    let err = conn.execute_batch(&validation_script()).unwrap_err();
    assert!(err.to_string().contains("CHECK constraint failed"), "{err}");
}

#[test]
fn the_database_file_is_private_to_its_owner() {
    let (dir, _conn) = fresh_db();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("schema.db"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }
}

mod read_paths {
    use smartlead_hub::domain::{EventType, LeadId, LeadSearch, UserId};
    use smartlead_hub::storage::records::{EventFilter, Keyset, LeadFilter};
    use smartlead_hub::storage::sqlite::analytics::plans;

    use super::*;

    fn uses_an_index_without_scanning(plan: &[String], index: &str) {
        assert!(
            plan.iter().any(|l| l.contains(index)),
            "{index} unused: {plan:?}"
        );
        assert!(
            !plan.iter().any(|l| l.starts_with("SCAN")),
            "full scan: {plan:?}"
        );
        assert!(
            !plan
                .iter()
                .any(|l| l.contains("USE TEMP B-TREE FOR ORDER BY")),
            "sorts every row: {plan:?}"
        );
    }

    /// Whether a lead is new to a metric is read from its events on every ingest: that must
    /// stay a walk over one lead's index entries, never touching the table's rows.
    #[test]
    fn the_first_seen_walk_reads_only_the_leads_index_entries() {
        let (_dir, conn) = migrated_db();
        seed_rows(&conn);
        let plan = smartlead_hub::storage::sqlite::projection::first_seen_plan(&conn).unwrap();
        uses_an_index_without_scanning(&plan, "COVERING INDEX idx_email_events_lead_timestamp");
    }

    /// Whether a lead already has an event of a kind at a step is read for every projected
    /// event too: one lead's index entries (the row only for its step), never a scan.
    #[test]
    fn the_step_look_up_reads_one_leads_entries() {
        let (_dir, conn) = migrated_db();
        seed_rows(&conn);
        let plan = smartlead_hub::storage::sqlite::projection::step_seen_plan(&conn).unwrap();
        uses_an_index_without_scanning(&plan, "INDEX idx_email_events_lead_timestamp");
    }

    /// A new lead's key is the key index's last entry plus one: read off that index, never a
    /// walk of the leads.
    #[test]
    fn a_new_leads_key_is_read_off_the_key_index() {
        let (_dir, conn) = migrated_db();
        seed_rows(&conn);
        let plan = smartlead_hub::storage::sqlite::events::next_lead_key_plan(&conn).unwrap();
        assert!(
            plan.iter()
                .any(|l| l == "SEARCH leads USING COVERING INDEX idx_leads_lead_key"),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|l| l.starts_with("SCAN leads")),
            "{plan:?}"
        );
    }

    /// A delivery reads its campaign's stored name, and migration 016 walks the campaigns one
    /// by one: each a probe of an index, never a walk of a table (the step would otherwise
    /// read the 10M events once per campaign).
    #[test]
    fn the_campaign_name_lookups_are_index_probes() {
        let (_dir, conn) = migrated_db();
        seed_rows(&conn);
        let plans = smartlead_hub::storage::sqlite::campaigns::plans(&conn).unwrap();
        // The first campaign: the index's first entry (its order, LIMIT 1).
        assert_eq!(
            plans[0],
            ["SCAN email_event_rows USING COVERING INDEX idx_email_events_user_campaign_time"]
        );
        for (plan, index) in plans[1..].iter().zip([
            "idx_email_events_user_campaign_time",
            "idx_email_events_user_campaign_time",
            "PRIMARY KEY",
        ]) {
            uses_an_index_without_scanning(plan, index);
        }
        assert!(
            plans[1]
                .iter()
                .any(|l| l.contains("((user_key,campaign_id)>(?,?))")),
            "{:?}",
            plans[1]
        );
    }

    /// The next seq is read for every stored event and the projector scans from its watermark:
    /// both off the partial seq index, never a walk of the table.
    #[test]
    fn the_seq_lookups_read_only_the_seq_index() {
        let (_dir, conn) = migrated_db();
        seed_rows(&conn);
        for plan in smartlead_hub::storage::sqlite::projection::seq_plans(&conn).unwrap() {
            assert!(
                plan.iter().any(|l| l.contains("idx_email_events_seq")),
                "{plan:?}"
            );
            assert!(
                !plan.iter().any(|l| l.starts_with("SCAN email_events")),
                "{plan:?}"
            );
        }
    }

    #[test]
    fn lead_timelines_event_search_and_lead_lists_are_index_range_scans() {
        let (_dir, conn) = migrated_db();
        seed_rows(&conn);
        let user: UserId = USER.parse().unwrap();
        let lead: LeadId = LEAD.parse().unwrap();
        let after = Keyset {
            at: "2025-01-08T10:00:00.000Z".into(),
            id: "00000000-0000-4000-8000-0000000000d1".into(),
        };

        uses_an_index_without_scanning(
            &plans::lead_events(&conn, lead, None).unwrap(),
            "idx_email_events_lead_timestamp",
        );
        uses_an_index_without_scanning(
            &plans::lead_events(&conn, lead, Some(&after)).unwrap(),
            "idx_email_events_lead_timestamp",
        );

        let everything = EventFilter::default();
        uses_an_index_without_scanning(
            &plans::search_events(&conn, user, &everything, Some(&after)).unwrap(),
            "idx_email_events_user_time",
        );
        let by_campaign = EventFilter {
            campaign_id: Some("c-1".into()),
            from: Some("2025-01-01T00:00:00.000Z".into()),
            ..EventFilter::default()
        };
        uses_an_index_without_scanning(
            &plans::search_events(&conn, user, &by_campaign, None).unwrap(),
            "idx_email_events_user_campaign_time",
        );
        let by_email = EventFilter {
            email: Some("lead@example.com".into()),
            event_type: Some(EventType::Opened),
            ..EventFilter::default()
        };
        let plan = plans::search_events(&conn, user, &by_email, None).unwrap();
        uses_an_index_without_scanning(&plan, "idx_email_events_lead_timestamp");
        assert!(
            plan.iter()
                .any(|l| l.contains("SEARCH leads USING INDEX sqlite_autoindex_leads")),
            "the address is looked up by the leads' (user_id, email) key: {plan:?}"
        );

        uses_an_index_without_scanning(
            &plans::leads(&conn, user, &LeadFilter::default()).unwrap(),
            "idx_leads_user_last_event",
        );
        let by_campaign = LeadFilter {
            campaign_id: Some("c-1".into()),
            ..LeadFilter::default()
        };
        uses_an_index_without_scanning(
            &plans::leads(&conn, user, &by_campaign).unwrap(),
            "idx_leads_user_campaign_last_event",
        );
        // A search reads the newest leads through the list's index first, then, when those
        // do not answer it, the whole table in its own order (quicker than a look-up per
        // lead), or a campaign's leads through the campaign's index.
        let search = LeadSearch::parse("Kowalska").unwrap();
        for (campaign, index) in [
            (None, "idx_leads_user_last_event"),
            (Some("c-1"), "idx_leads_user_campaign_last_event"),
        ] {
            let filter = LeadFilter {
                campaign_id: campaign.map(Into::into),
                ..LeadFilter::default()
            };
            let (window, table) = plans::lead_search(&conn, user, &filter, &search).unwrap();
            assert!(
                window
                    .iter()
                    .any(|l| l.starts_with("SEARCH leads USING INDEX") && l.contains(index)),
                "{window:?}"
            );
            assert!(
                !window.iter().any(|l| l.starts_with("SCAN leads")),
                "{window:?}"
            );
            match campaign {
                None => assert!(table.iter().any(|l| l == "SCAN leads"), "{table:?}"),
                Some(_) => uses_an_index_without_scanning(&table, index),
            }
        }
        // One lead: its id's unique key.
        uses_an_index_without_scanning(
            &plans::lead(&conn, user, lead).unwrap(),
            "sqlite_autoindex_leads_1",
        );
        // Kept events: a campaign's by its own index (filter and order), all by the user's.
        for cursor in [None, Some(&after)] {
            let plan = plans::kept_events(&conn, user, Some("c-1"), cursor).unwrap();
            uses_an_index_without_scanning(&plan, "idx_smartlead_events_user_campaign_received");
            assert!(!plan.iter().any(|l| l.contains("TEMP B-TREE")), "{plan:?}");
        }
        uses_an_index_without_scanning(
            &plans::kept_events(&conn, user, None, None).unwrap(),
            "idx_smartlead_events_user_received",
        );
    }
}
