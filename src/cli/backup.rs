use std::path::PathBuf;

use clap::Args;

use super::CliResult;
use crate::config::DbArgs;
use crate::storage::{parse_page_size, Admin};

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Where to write the copy (must not exist yet).
    #[arg(long)]
    to: PathBuf,
    /// Rebuild the copy with pages of this many bytes (a power of two, 512 to 65536), e.g. to
    /// give a file created before 1 KiB pages were the default those pages: stop the service,
    /// copy, and put the copy in the original's place. Slower than a plain copy.
    #[arg(long, value_parser = parse_page_size)]
    page_size: Option<u32>,
}

/// Copies the live database with SQLite's online backup API (or, with `--page-size`, `VACUUM
/// INTO`) while the service keeps serving.
pub fn run(args: BackupArgs) -> CliResult {
    if args.to.exists() {
        return Err(format!("{} already exists; choose a new file", args.to.display()).into());
    }
    let copied = Admin::backup(&args.db.db, &args.to, args.page_size)?;
    outln!(
        "backed up {} to {}: {} email events, {}-byte pages, integrity ok",
        args.db.db,
        args.to.display(),
        copied.email_events,
        copied.page_size
    );
    Ok(())
}
