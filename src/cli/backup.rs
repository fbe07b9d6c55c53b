use std::path::PathBuf;

use clap::Args;

use super::CliResult;
use crate::config::DbArgs;
use crate::storage::Admin;

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Where to write the copy (must not exist yet).
    #[arg(long)]
    to: PathBuf,
}

/// Copies the live database with SQLite's online backup API while the service keeps serving.
pub fn run(args: BackupArgs) -> CliResult {
    if args.to.exists() {
        return Err(format!("{} already exists; choose a new file", args.to.display()).into());
    }
    let copied = Admin::backup(&args.db.db, &args.to)?;
    outln!(
        "backed up {} to {}: {} email events, integrity ok",
        args.db.db,
        args.to.display(),
        copied.email_events
    );
    Ok(())
}
