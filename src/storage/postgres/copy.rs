//! The PostgreSQL side of `migrate-data`: batches of text rows cast to each column's type and
//! inserted with one statement (`unnest` of text arrays), each batch in one transaction with
//! the position it reached, so an interrupted copy resumes exactly where it stopped.

use super::session::Sql;
use super::values::{clean, json};
use super::StorageError;
use crate::storage::records::{copied_table, CopyPosition, RowBatch};

/// Where the copy's positions are kept until it is verified.
const POSITIONS: &str = "smartlead_hub_data_copy";

fn known(table: &str) -> Result<&'static str, StorageError> {
    copied_table(table)
        .ok_or_else(|| StorageError::Conflict(format!("{table} is not a copied table")))
}

/// The copy's position in `table`, if a copy into this database has started.
pub fn position(client: &mut impl Sql, table: &str) -> Result<Option<CopyPosition>, StorageError> {
    let exists: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&POSITIONS])?
        .get(0);
    if !exists {
        return Ok(None);
    }
    Ok(client
        .query_opt(
            &format!("SELECT next, done, rows FROM {POSITIONS} WHERE table_name = $1"),
            &[&table],
        )?
        .map(|row| CopyPosition {
            next: row.get(0),
            done: row.get(1),
            rows: row.get(2),
        }))
}

/// Inserts `batch` (rows already there are skipped) and records where the copy of its table
/// goes on, in one transaction.
pub fn write_rows(client: &mut postgres::Client, batch: &RowBatch) -> Result<(), StorageError> {
    let table = known(&batch.table)?;
    let mut tx = client.transaction()?;
    tx.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {POSITIONS} (
             table_name text PRIMARY KEY, next text, done boolean NOT NULL, rows bigint NOT NULL)"
    ))?;
    if !batch.rows.is_empty() {
        // The target's column types, read once per batch: what each text value is cast to.
        let target: std::collections::HashMap<String, String> = tx
            .query(
                "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute
                 WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped",
                &[&table],
            )?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        let types: Vec<String> = batch
            .columns
            .iter()
            .map(|column| {
                target.get(column).cloned().ok_or_else(|| {
                    StorageError::Conflict(format!("{table}.{column} is not in the target schema"))
                })
            })
            .collect::<Result<_, _>>()?;
        let mut arrays: Vec<Vec<Option<String>>> =
            vec![Vec::with_capacity(batch.rows.len()); types.len()];
        for row in &batch.rows {
            for (i, value) in row.iter().enumerate() {
                arrays[i].push(match (value, types[i].as_str()) {
                    (None, _) => None,
                    (Some(v), "jsonb") => Some(json(v)?.into_owned()),
                    (Some(v), _) => Some(clean(v).into_owned()),
                });
            }
        }
        let names: Vec<String> = batch.columns.iter().map(|c| format!("\"{c}\"")).collect();
        let casts: Vec<String> = types
            .iter()
            .enumerate()
            .map(|(i, t)| format!("c{i}::{t}"))
            .collect();
        let sources: Vec<String> = (1..=types.len()).map(|i| format!("${i}::text[]")).collect();
        let aliases: Vec<String> = (0..types.len()).map(|i| format!("c{i}")).collect();
        let sql = format!(
            "INSERT INTO {table} ({}) SELECT {} FROM unnest({}) AS u ({}) ON CONFLICT DO NOTHING",
            names.join(", "),
            casts.join(", "),
            sources.join(", "),
            aliases.join(", ")
        );
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = arrays
            .iter()
            .map(|a| a as &(dyn postgres::types::ToSql + Sync))
            .collect();
        tx.execute(&sql, &params)?;
    }
    tx.execute(
        &format!(
            "INSERT INTO {POSITIONS} (table_name, next, done, rows) VALUES ($1, $2, $3, $4)
             ON CONFLICT (table_name) DO UPDATE SET
                 next = excluded.next, done = excluded.done, rows = {POSITIONS}.rows + excluded.rows"
        ),
        &[&table, &batch.next, &batch.next.is_none(), &(batch.rows.len() as i64)],
    )?;
    tx.commit()?;
    Ok(())
}

/// Forgets the copy's positions (it is complete and verified).
pub fn finish(client: &mut impl Sql) -> Result<(), StorageError> {
    client.batch(&format!("DROP TABLE IF EXISTS {POSITIONS}"))?;
    Ok(())
}

pub fn count_rows(client: &mut impl Sql, table: &str) -> Result<i64, StorageError> {
    let table = known(table)?;
    Ok(client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])?
        .get(0))
}
