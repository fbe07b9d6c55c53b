//! Every foreign key's columns lead an index of its table, on both backends. Deleting a parent
//! row (a user, and by cascade its leads and events: `users remove`) makes the database find
//! each one's child rows; without such an index it reads the whole child table once per
//! deleted row, and removing a user with thousands of leads holds the writer for hours.

use crate::backends::{on_both_backends, Backend};
use crate::helpers::spawn_app_on;

/// Each foreign key (table, first column) with no index whose leading columns are its columns.
const SQLITE_UNINDEXED: &str = r#"
    SELECT m.name, f."from"
    FROM sqlite_schema m, pragma_foreign_key_list(m.name) f
    WHERE m.type = 'table' AND f.seq = 0 AND NOT EXISTS (
        SELECT 1 FROM pragma_index_list(m.name) il
        WHERE (SELECT count(*) FROM pragma_index_info(il.name) ii
               WHERE ii.seqno < (SELECT count(*) FROM pragma_foreign_key_list(m.name) k
                                 WHERE k.id = f.id)
                 AND ii.name IN (SELECT k."from" FROM pragma_foreign_key_list(m.name) k
                                 WHERE k.id = f.id))
            = (SELECT count(*) FROM pragma_foreign_key_list(m.name) k WHERE k.id = f.id))
    ORDER BY 1, 2"#;

const POSTGRES_UNINDEXED: &str = "
    SELECT c.conrelid::regclass::text, pg_get_constraintdef(c.oid)
    FROM pg_constraint c
    WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace
      AND NOT EXISTS (
        SELECT 1 FROM pg_index i
        WHERE i.indrelid = c.conrelid
          AND (i.indkey::int2[])[0:array_length(c.conkey, 1) - 1] @> c.conkey
          AND (i.indkey::int2[])[0:array_length(c.conkey, 1) - 1] <@ c.conkey)
    ORDER BY 1, 2";

on_both_backends! {
    async fn every_foreign_key_leads_an_index(backend: Backend) {
        let app = spawn_app_on(backend).await;
        let (sql, keys) = match backend {
            Backend::Sqlite => (SQLITE_UNINDEXED, "SELECT count(*) FROM sqlite_schema m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'"),
            Backend::Postgres => (POSTGRES_UNINDEXED, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"),
        };
        // The schema has foreign keys to check (the query would find nothing in an empty one).
        assert!(app.count(keys) >= 10, "{}", app.count(keys));
        assert_eq!(app.rows(sql, &[]), Vec::<Vec<Option<String>>>::new());
    }
}
