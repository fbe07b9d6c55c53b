use clap::{Args, Subcommand};

use super::CliResult;
use crate::config::DbArgs;
use crate::storage::Admin;

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
    let mut admin = Admin::open_as_is(&args.db.db)?;
    match args.action {
        MigrateAction::Status => {}
        MigrateAction::Up => admin.migrate_to_latest()?,
        MigrateAction::Down { to } => {
            let current = admin.schema_version()?;
            if to > current {
                return Err(format!(
                    "cannot roll back to {to}: the database is at version {current}"
                )
                .into());
            }
            admin.migrate_to(to)?;
        }
    }
    print_status(&admin)
}

fn print_status(admin: &Admin) -> CliResult {
    let current = admin.schema_version()?;
    let names = admin.migration_names();
    outln!("schema version: {current} (latest: {})", names.len());
    for (index, name) in names.iter().enumerate() {
        let state = if index < current {
            "applied"
        } else {
            "pending"
        };
        outln!("  {:>2} {name}  {state}", index + 1);
    }
    Ok(())
}
