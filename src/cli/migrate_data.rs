//! `migrate-data`: moves an install that outgrew its SQLite file into PostgreSQL. Every row of
//! every table, in batches (one transaction each, with the position it reached: an interrupted
//! copy resumes where it stopped), then verified: the same row count in every table, and the
//! target's rollups equal to a recount of its events.

use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::CliResult;
use crate::storage::records::COPIED_TABLES;
use crate::storage::{Admin, Database, DatabaseParser, ServeLock};

#[derive(Debug, Args)]
pub struct MigrateDataArgs {
    /// The SQLite file to copy from (no `serve` may run on it meanwhile).
    #[arg(long)]
    from: PathBuf,
    /// The PostgreSQL database to copy into (postgres://…); migrated to the latest schema.
    #[arg(long, value_parser = DatabaseParser)]
    to: Database,
    /// Rows per batch (one transaction on the target).
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=50_000))]
    batch: u32,
    /// Copy into a target that already holds data (rows already there are skipped).
    #[arg(long)]
    into_non_empty: bool,
}

pub fn run(args: MigrateDataArgs) -> CliResult {
    if !matches!(args.to, Database::Postgres(_)) {
        return Err("--to must be a PostgreSQL URL (postgres://…)".into());
    }
    if !args.from.exists() {
        return Err(format!("{} does not exist", args.from.display()).into());
    }
    // Held for the whole copy: a service writing to the file now would make it a moving target.
    let _lock = ServeLock::acquire(&args.from)?;
    let source = Admin::open(Database::Sqlite(args.from.clone()))?;
    // The rollups are copied as they are: everything stored is projected into them first.
    source.catch_up_projection()?;
    let target = Admin::open(&args.to)?;
    if source.schema_version()? != target.schema_version()? {
        return Err("the source and the target are at different schema versions".into());
    }
    let started = target.copy_position(COPIED_TABLES[0])?.is_some();
    if !started && !args.into_non_empty && !is_empty(&target)? {
        return Err(format!(
            "{} already holds data; give --into-non-empty to copy into it anyway \
             (rows already there are skipped)",
            args.to
        )
        .into());
    }
    let mut total = 0;
    for table in COPIED_TABLES {
        total += source.count_rows(table)?;
    }
    let bar = ProgressBar::new(total as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows {per_sec} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    if started {
        outln!("resuming a copy that was interrupted");
    }
    for table in COPIED_TABLES {
        bar.set_message(*table);
        let mut next = match target.copy_position(table)? {
            Some(position) if position.done => {
                bar.inc(position.rows as u64);
                continue;
            }
            Some(position) => {
                bar.inc(position.rows as u64);
                position.next
            }
            None => None,
        };
        loop {
            let batch = source.read_rows(table, next.as_deref(), args.batch as usize)?;
            target.write_rows(&batch)?;
            bar.inc(batch.rows.len() as u64);
            match batch.next {
                Some(position) => next = Some(position),
                None => break,
            }
        }
    }
    bar.finish_and_clear();

    outln!(
        "copied {total} rows from {} to {}",
        args.from.display(),
        args.to
    );
    let mut mismatched = Vec::new();
    for table in COPIED_TABLES {
        let (from, to) = (source.count_rows(table)?, target.count_rows(table)?);
        outln!("  {table:<24} {from:>10} → {to:>10}");
        if from != to {
            mismatched.push(*table);
        }
    }
    if !mismatched.is_empty() {
        return Err(format!("row counts differ in {}", mismatched.join(", ")).into());
    }
    let mut target = target;
    let differences = target.check_rollups()?;
    if !differences.is_empty() {
        return Err(format!("the target's rollups differ from a recount: {differences:?}").into());
    }
    target.finish_copy()?;
    outln!("verified: every table's row count matches, and the target's rollups equal a recount");
    Ok(())
}

/// No users and no events: nothing a copy could collide with.
fn is_empty(admin: &Admin) -> Result<bool, Box<dyn std::error::Error>> {
    Ok(admin.count_rows("users")? == 0 && admin.count_rows("email_events")? == 0)
}
