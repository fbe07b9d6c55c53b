//! `import --org-id ORG PATH…`: captured webhook bodies through the webhook's own path (parse,
//! check the secret, map, dedupe, store or hold), in batches of one transaction each, with a
//! progress bar and a summary. Importing the same bodies again stores nothing new.

mod ingest;
mod sources;

use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::CliResult;
use crate::config::DbArgs;
use crate::domain::OrgId;
use crate::storage::Admin;
pub use ingest::{Importer, Summary};
pub use sources::{Body, Captured};

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The Smartlead org the bodies were delivered for (its user must exist).
    #[arg(long)]
    org_id: String,
    /// Files of JSON lines (one body per line), `.json` files (one body each), or directories
    /// of `.json` files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Report what would be stored, held and rejected; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// The summary as JSON.
    #[arg(long)]
    json: bool,
    /// Largest body accepted, in bytes (as the webhook's `--max-body-bytes`).
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    max_body_bytes: usize,
}

pub fn run(args: ImportArgs) -> CliResult {
    let org = OrgId::parse(&args.org_id)?;
    // Every path is checked before the database is opened: a typo changes nothing.
    let files = sources::files(&args.paths)?;
    let mut admin = Admin::open(&args.db.db)?;
    let tenant = admin.webhook_tenant(&org)?.ok_or_else(|| {
        format!("no user has Smartlead org {org}; add one with `smartlead-hub users add`")
    })?;
    let mut importer = Importer::new(&mut admin, org, tenant, args.dry_run);
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    // Drawn on stderr, and only on a terminal: scripts and pipes see the summary alone.
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    for file in &files {
        bar.set_message(file.display().to_string());
        sources::read(file, args.max_body_bytes, |captured| {
            if let Body::Bytes(bytes) = &captured.body {
                bar.inc(bytes.len() as u64 + 1);
            }
            importer.take(captured)
        })?;
    }
    let summary = importer.finish()?;
    bar.finish_and_clear();
    print(&summary, args.json)
}

fn print(summary: &Summary, json: bool) -> CliResult {
    if json {
        outln!("{}", serde_json::to_string(summary)?);
        return Ok(());
    }
    let held: usize = summary.held.values().sum();
    let rejected: usize = summary.rejected.values().sum();
    outln!(
        "{} bodies: {} stored, {} duplicate, {} kept, {held} held, {rejected} rejected",
        summary.bodies,
        summary.stored,
        summary.duplicate,
        summary.kept
    );
    for (reason, n) in &summary.held {
        outln!("  held {reason}: {n}");
    }
    for (code, n) in &summary.rejected {
        outln!("  rejected {code}: {n}");
    }
    for example in &summary.examples {
        outln!("    {example}");
    }
    if summary.dry_run {
        outln!("dry run: nothing was written");
    }
    Ok(())
}
