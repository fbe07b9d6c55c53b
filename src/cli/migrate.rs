use clap::{Args, Subcommand};

use super::CliResult;
use crate::config::DbArgs;
use crate::storage::{migrations, open_read_write, DEFAULT_BUSY_TIMEOUT};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    action: MigrateAction,
}

#[derive(Debug, Subcommand)]
enum MigrateAction {
    /// Print the applied version and the pending migrations.
    Status,
    /// Migrate to the latest version.
    Up,
    /// Roll back to version N (0 = empty). Rolling back past the Smartlead migration deletes
    /// all Smartlead data (events, columns, credentials).
    Down {
        /// The version to roll back to.
        #[arg(long)]
        to: usize,
    },
}

pub fn run(args: MigrateArgs) -> CliResult {
    let mut conn = open_read_write(&args.db.db, DEFAULT_BUSY_TIMEOUT)?;
    match args.action {
        MigrateAction::Status => {}
        MigrateAction::Up => migrations::to_latest(&mut conn)?,
        MigrateAction::Down { to } => {
            let current = migrations::current_version(&conn)?;
            if to > current {
                return Err(format!(
                    "cannot roll back to {to}: the database is at version {current}"
                )
                .into());
            }
            migrations::to_version(&mut conn, to)?;
        }
    }
    print_status(&conn)
}

fn print_status(conn: &rusqlite::Connection) -> CliResult {
    let current = migrations::current_version(conn)?;
    outln!(
        "schema version: {current} (latest: {})",
        migrations::latest_version()
    );
    for (index, name) in migrations::names().enumerate() {
        let state = if index < current {
            "applied"
        } else {
            "pending"
        };
        outln!("  {:>2} {name}  {state}", index + 1);
    }
    Ok(())
}
