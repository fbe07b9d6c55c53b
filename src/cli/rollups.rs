use clap::{Args, Subcommand};

use super::{open_database, CliResult};
use crate::config::DbArgs;
use crate::storage::rollups;

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
    let mut conn = open_database(&args.db)?;
    match args.action {
        RollupsAction::Rebuild => {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            rollups::rebuild(&tx)?;
            tx.commit()?;
            outln!("rollups rebuilt from email_events");
        }
        RollupsAction::Check => {
            // One read transaction, so the comparison sees one consistent snapshot.
            let tx = conn.transaction()?;
            let differences = rollups::check(&tx)?;
            tx.rollback()?;
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
