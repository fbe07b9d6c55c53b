use clap::{Args, Subcommand};

use super::CliResult;
use crate::config::DbArgs;
use crate::storage::Admin;

#[derive(Debug, Args)]
pub struct RollupsArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    action: RollupsAction,
}

#[derive(Debug, Subcommand)]
enum RollupsAction {
    /// Recompute every analytics rollup from email_events (one transaction).
    Rebuild,
    /// Compare the rollups with a recomputation; exit 1 if any row differs.
    Check,
}

pub fn run(args: RollupsArgs) -> CliResult {
    let mut admin = Admin::open(&args.db.db)?;
    match args.action {
        RollupsAction::Rebuild => {
            admin.rebuild_rollups()?;
            outln!("rollups rebuilt from email_events");
        }
        RollupsAction::Check => {
            let differences = admin.check_rollups()?;
            if differences.is_empty() {
                outln!("rollups match email_events");
            } else {
                for (table, rows) in &differences {
                    outln!("{table}: {rows} rows differ");
                }
                return Err(
                    "rollups differ from email_events; run `smartlead-hub rollups rebuild`".into(),
                );
            }
        }
    }
    Ok(())
}
