//! SQLite's integer keys (migration 015, issue 19): event rows name their user and lead by a
//! small integer, `email_events` stays readable and writable as the seed's table through a view,
//! and the upgrade keeps every event as it was, both ways.

use rusqlite::{params, Connection};
use smartlead_hub::storage::sqlite::{migrations, open_read_write, DEFAULT_BUSY_TIMEOUT};

use crate::helpers::{spawn_app, TestApp};

const USER: &str = "00000000-0000-4000-8000-0000000000a1";
const OTHER_USER: &str = "00000000-0000-4000-8000-0000000000a2";
const LEAD: &str = "00000000-0000-4000-8000-0000000000b1";
const OTHER_LEAD: &str = "00000000-0000-4000-8000-0000000000b2";
/// No user's or lead's id.
const NOBODY: &str = "00000000-0000-4000-8000-00000000ffff";

/// The version just before the integer keys.
fn before_keys() -> usize {
    migrations::names()
        .position(|name| name.ends_with("_015_integer_keys"))
        .expect("migration 015")
}

fn file_at(version: usize) -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open_read_write(&dir.path().join("keys.db"), DEFAULT_BUSY_TIMEOUT).unwrap();
    migrations::to_version(&mut conn, version).unwrap();
    (dir, conn)
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |row| row.get(0)).unwrap()
}

/// Two users, two leads, and events of both, one without a lead, one backfilled from REST.
fn seed(conn: &Connection) {
    conn.execute_batch(&format!(
        "INSERT INTO users (id, email) VALUES ('{USER}', 'one@example.com'), ('{OTHER_USER}', 'two@example.com');
         INSERT INTO leads (id, user_id, email) VALUES ('{LEAD}', '{USER}', 'lead@example.com'),
                                                      ('{OTHER_LEAD}', '{OTHER_USER}', 'lead@example.com');"
    ))
    .unwrap();
    let events = [
        (
            "e1",
            USER,
            Some(LEAD),
            "email_sent",
            "2025-01-08T10:00:00.000Z",
        ),
        (
            "e2",
            USER,
            Some(LEAD),
            "email_opened",
            "2025-01-08T11:00:00.000Z",
        ),
        (
            "e3",
            OTHER_USER,
            Some(OTHER_LEAD),
            "email_sent",
            "2025-01-07T09:00:00.000Z",
        ),
        (
            "e4",
            USER,
            None,
            "email_bounced",
            "2025-01-09T08:00:00.000Z",
        ),
    ];
    for (n, (id, user, lead, event_type, at)) in events.into_iter().enumerate() {
        conn.execute(
            "INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email, lead_id,
                                       smartlead_org_id, event_data, timestamp, created_at, updated_at,
                                       dedupe_key, sequence_step, seq)
             VALUES (?1, ?2, 'c-1', 'm-1', ?3, 'lead@example.com', ?4, 'org-1', ?5, ?6, ?6, ?6, ?7, 1, ?8)",
            params![
                id,
                user,
                event_type,
                lead,
                format!("{{\"n\":{n}}}"),
                at,
                format!("key-{id}"),
                n as i64 + 1
            ],
        )
        .unwrap();
    }
    conn.execute(
        &format!(
            "INSERT INTO rest_backfills (user_id, campaign_id, email, step, kind, event_id)
             VALUES ('{USER}', 'c-1', 'lead@example.com', 1, 'sent', 'e1')"
        ),
        [],
    )
    .unwrap();
}

/// Every event as the seed's table shows it, with its rowid, in rowid order.
fn events(conn: &Connection) -> Vec<Vec<Option<String>>> {
    let mut stmt = conn
        .prepare(
            "SELECT rowid, id, user_id, campaign_id, message_id, event_type, email, lead_id,
                    smartlead_org_id, event_data, timestamp, created_at, updated_at, dedupe_key,
                    sequence_step, seq
             FROM email_events ORDER BY rowid",
        )
        .unwrap();
    stmt.query_map([], |row| {
        (0..16)
            .map(|i| {
                row.get_ref(i).map(|v| match v {
                    rusqlite::types::ValueRef::Null => None,
                    rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
                    other => Some(String::from_utf8_lossy(other.as_bytes().unwrap()).into_owned()),
                })
            })
            .collect()
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn backfills(conn: &Connection) -> i64 {
    count(
        conn,
        "SELECT count(*) FROM rest_backfills WHERE event_id = 'e1'",
    )
}

#[test]
fn the_upgrade_keeps_every_event_as_it_was_and_so_does_the_way_back() {
    let (_dir, mut conn) = file_at(before_keys());
    seed(&conn);
    let before = events(&conn);
    assert_eq!(before.len(), 4);

    migrations::to_latest(&mut conn).unwrap();
    assert_eq!(events(&conn), before, "the view shows the same events");
    assert_eq!(
        backfills(&conn),
        1,
        "the REST backfill still names its event"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM email_event_rows
             WHERE typeof(user_key) = 'integer' AND (lead_key IS NULL OR typeof(lead_key) = 'integer')"
        ),
        4
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM pragma_foreign_key_check"),
        0
    );
    // Deleting an event still cascades to its backfill record: the foreign key moved with it.
    conn.execute("DELETE FROM email_events WHERE id = 'e1'", [])
        .unwrap();
    assert_eq!(backfills(&conn), 0);

    migrations::to_version(&mut conn, before_keys()).unwrap();
    assert_eq!(
        events(&conn),
        before[1..],
        "back to one table, rowids and all"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM sqlite_master WHERE name = 'email_events' AND type = 'table'"
        ),
        1
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM pragma_table_info('users') WHERE name = 'user_key'"
        ),
        0
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM pragma_foreign_key_check"),
        0
    );
}

/// A script written for the seed's table still inserts, updates and deletes through the view,
/// with the table's defaults, its updated_at trigger and its foreign keys.
#[test]
fn the_email_events_view_takes_writes_as_the_table_did() {
    let (_dir, conn) = file_at(migrations::latest_version());
    seed(&conn);
    conn.execute(
        &format!(
            "INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email, lead_id)
             VALUES ('e5', '{USER}', 'c-2', 'm-5', 'email_clicked', 'lead@example.com', '{LEAD}')"
        ),
        [],
    )
    .unwrap();
    let (data, timestamp, lead): (String, String, String) = conn
        .query_row(
            "SELECT event_data, timestamp, lead_id FROM email_events WHERE id = 'e5'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((data.as_str(), lead.as_str()), ("{}", LEAD));
    assert!(
        timestamp.ends_with('Z') && timestamp.len() == 24,
        "{timestamp}"
    );

    conn.execute(
        "UPDATE email_events SET lead_id = NULL, event_data = '{\"edited\":true}' WHERE id = 'e2'",
        [],
    )
    .unwrap();
    let (lead, data, updated): (Option<String>, String, String) = conn
        .query_row(
            "SELECT lead_id, event_data, updated_at FROM email_events WHERE id = 'e2'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((lead, data.as_str()), (None, "{\"edited\":true}"));
    assert!(
        updated.as_str() > "2025-01-08T11:00:00.000Z",
        "the trigger set updated_at"
    );

    for refused in [
        format!("INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email)
                 VALUES ('x1', '{NOBODY}', 'c', 'm', 'email_sent', 'a@b.c')"),
        format!("INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email, lead_id)
                 VALUES ('x2', '{USER}', 'c', 'm', 'email_sent', 'a@b.c', '{NOBODY}')"),
        format!("UPDATE email_events SET user_id = '{NOBODY}' WHERE id = 'e3'"),
    ] {
        let err = conn.execute(&refused, []).unwrap_err().to_string();
        assert!(err.contains("FOREIGN KEY"), "{refused}: {err}");
    }
    let invalid = conn.execute(
        &format!(
            "INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email)
             VALUES ('x3', '{USER}', 'c', 'm', 'email_teleported', 'a@b.c')"
        ),
        [],
    );
    assert!(invalid.unwrap_err().to_string().contains("CHECK"));

    conn.execute("DELETE FROM email_events WHERE id = 'e3'", [])
        .unwrap();
    assert_eq!(count(&conn, "SELECT count(*) FROM email_events"), 4);
    assert_eq!(count(&conn, "SELECT count(*) FROM email_event_rows"), 4);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM email_events WHERE id LIKE 'x%'"
        ),
        0
    );
}

/// Keys are given to every new user and lead, whoever inserts them, and VACUUM keeps them.
#[test]
fn new_users_and_leads_get_keys_that_vacuum_keeps() {
    let (_dir, conn) = file_at(migrations::latest_version());
    seed(&conn);
    let keys = |conn: &Connection| -> Vec<(String, i64)> {
        let mut stmt = conn
            .prepare(
                "SELECT id, user_key FROM users UNION ALL SELECT id, lead_key FROM leads ORDER BY 1",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let given = keys(&conn);
    assert_eq!(given.len(), 4);
    let mut lead_keys = vec![
        count(
            &conn,
            &format!("SELECT lead_key FROM leads WHERE id = '{LEAD}'"),
        ),
        count(
            &conn,
            &format!("SELECT lead_key FROM leads WHERE id = '{OTHER_LEAD}'"),
        ),
    ];
    lead_keys.sort();
    assert_eq!(lead_keys, [1, 2]);

    // Leads added and some deleted, then VACUUM, which may renumber a table's rowids.
    for n in 1..=50 {
        conn.execute(
            "INSERT INTO leads (id, user_id, email) VALUES (?1, ?2, ?3)",
            params![format!("tmp-{n}"), USER, format!("tmp{n}@example.com")],
        )
        .unwrap();
    }
    conn.execute_batch(
        "DELETE FROM leads WHERE id LIKE 'tmp-%' AND CAST(substr(id, 5) AS INTEGER) % 2 = 0;
         VACUUM;",
    )
    .unwrap();
    let after = keys(&conn);
    for key in &given {
        assert!(after.contains(key), "{key:?} kept");
    }
    assert_eq!(
        count(&conn, "SELECT count(DISTINCT lead_key) FROM leads"),
        count(&conn, "SELECT count(*) FROM leads"),
        "every lead has its own key"
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM leads WHERE lead_key IS NULL"),
        0
    );
    assert_eq!(
        events(&conn).len(),
        4,
        "the events still name their users and leads"
    );
}

/// Delivers each fixture, every one a new event.
async fn store_all(app: &TestApp, fixtures: &[&str]) {
    for fixture in fixtures {
        let answer = app.deliver(fixture).await;
        assert_eq!(answer.body["status"], "stored", "{}", answer.body);
    }
}

/// What the keys are for: an entry of the user's time index holds the key, the time and the
/// row's id, not the user's 36-character UUID (dbstat: bytes per entry of its leaf pages).
#[actix_web::test]
async fn an_events_index_entries_hold_the_users_key_not_its_id() {
    let app = spawn_app().await;
    store_all(
        &app,
        &[
            "01_email_sent_new_and_deprecated_fields.json",
            "05_email_open_seq1.json",
            "08_email_link_click_arrays.json",
            "11_email_reply_full_new_fields_html_quotes.json",
            "17_email_bounce_new_and_deprecated.json",
        ],
    )
    .await;
    let bytes_per_entry = |index: &str| -> f64 {
        app.rows(
            &format!(
                "SELECT sum(payload) * 1.0 / sum(ncell) FROM dbstat WHERE name = '{index}' AND pagetype = 'leaf'"
            ),
            &[],
        )[0][0]
            .as_deref()
            .unwrap()
            .parse()
            .unwrap()
    };
    // (key 1 byte, time 24, rowid ≤ 2, record header 4): under one UUID's 36 characters.
    let per_entry = bytes_per_entry("idx_email_events_user_time");
    assert!(per_entry < 36.0, "{per_entry} bytes per entry");
    // The lead's timeline also holds the campaign, type and seq: ~52 bytes, ~88 with the UUID.
    let per_entry = bytes_per_entry("idx_email_events_lead_timestamp");
    assert!(per_entry < 60.0, "{per_entry} bytes per entry");
}

/// The service gives a new lead its key in its own insert, so migration 015's trigger (which
/// would move the lead's index entry from among the NULLs to the end, a page more per new lead)
/// never has to: with the trigger gone, every lead still gets its own key and every event its
/// lead.
#[actix_web::test]
async fn the_service_gives_a_new_lead_its_key_without_the_trigger() {
    let app = spawn_app().await;
    app.sqlite()
        .execute_batch("DROP TRIGGER leads_lead_key")
        .unwrap();
    store_all(
        &app,
        &[
            "01_email_sent_new_and_deprecated_fields.json",
            "05_email_open_seq1.json",
            "11_email_reply_full_new_fields_html_quotes.json",
            "17_email_bounce_new_and_deprecated.json",
        ],
    )
    .await;
    let conn = app.sqlite();
    let leads = count(&conn, "SELECT count(*) FROM leads");
    assert!(leads >= 2, "{leads} leads");
    assert_eq!(
        count(&conn, "SELECT count(DISTINCT lead_key) FROM leads"),
        leads,
        "every lead has a key of its own"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM email_event_rows WHERE lead_key IS NULL"
        ),
        0,
        "every event names its lead"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM email_event_rows e JOIN leads l ON l.lead_key = e.lead_key
             WHERE l.email = e.email"
        ),
        4
    );
}
