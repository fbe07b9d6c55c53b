//! `prune --payloads-older-than 90d`: clears the bulky `event_data` of old events, keeping every
//! count, lead, dedupe key and rollup. Safe while the service runs: each step is one short
//! transaction.

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::CliResult;
use crate::config::DbArgs;
use crate::domain::{Period, UtcTimestamp};
use crate::storage::records::PruneCursor;
use crate::storage::Admin;

/// Rows a step reads; each step is one transaction.
const STEP_ROWS: usize = 1_000;

#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Clear the payloads of events older than this (`90d`, `12h`, `2w`): email events by
    /// their own time, kept events by when they were received.
    #[arg(long)]
    payloads_older_than: Period,
    /// The summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Summary {
    before: String,
    pruned: u64,
    freed_bytes: u64,
}

pub fn run(args: PruneArgs) -> CliResult {
    let mut admin = Admin::open(&args.db.db)?;
    let before = UtcTimestamp::now().plus_millis(-args.payloads_older_than.millis());
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} pruned {pos} payloads {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let mut summary = Summary {
        before: before.to_string(),
        pruned: 0,
        freed_bytes: 0,
    };
    let mut cursor = PruneCursor::default();
    loop {
        let step = admin.prune_step(before, &cursor, STEP_ROWS)?;
        summary.pruned += step.pruned;
        summary.freed_bytes += step.freed_bytes;
        bar.set_position(summary.pruned);
        match step.next {
            Some(next) => cursor = next,
            None => break,
        }
    }
    bar.finish_and_clear();
    if args.json {
        outln!("{}", serde_json::to_string(&summary)?);
    } else {
        outln!(
            "pruned the payloads of {} events older than {} ({}): {} bytes freed for reuse",
            summary.pruned,
            args.payloads_older_than,
            summary.before,
            summary.freed_bytes
        );
    }
    Ok(())
}
