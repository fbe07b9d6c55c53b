//! `deliveries list|show|replay`: the authentic deliveries the webhook held because it could not
//! map them, and their replay through this version's mapper (after an upgrade that learned a
//! new shape).

use std::io::Write as _;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::CliResult;
use crate::config::DbArgs;
use crate::domain::HeldId;
use crate::smartlead::{self, MappingError};
use crate::storage::records::{HeldDelivery, IngestOutcome};
use crate::storage::Admin;

#[derive(Debug, Args)]
pub struct DeliveriesArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    action: DeliveriesAction,
}

#[derive(Debug, Subcommand)]
enum DeliveriesAction {
    /// List held deliveries, oldest first (reason, org, size, when).
    List {
        /// Only those held for this reason (e.g. `missing_lead_email`).
        #[arg(long)]
        reason: Option<String>,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one held delivery with its payload, as JSON.
    Show {
        /// The held delivery's id (see `deliveries list`).
        id: String,
    },
    /// Run held deliveries through this version's mapper: those that map are stored (or found
    /// stored already) and no longer held; the others stay held. Safe to repeat.
    Replay {
        /// The held deliveries' ids. Every id is checked before anything changes.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        ids: Vec<String>,
        /// Every held delivery.
        #[arg(long)]
        all: bool,
        /// The summary as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: DeliveriesArgs) -> CliResult {
    let mut admin = Admin::open(&args.db.db)?;
    match args.action {
        DeliveriesAction::List { reason, json } => list(&admin, reason.as_deref(), json),
        DeliveriesAction::Show { id } => {
            let id: HeldId = id.parse()?;
            let held = admin
                .held_delivery(id)?
                .ok_or_else(|| format!("no held delivery {id}"))?;
            outln!("{}", serde_json::to_string_pretty(&held)?);
            Ok(())
        }
        DeliveriesAction::Replay { ids, all, json } => {
            let held = chosen(&admin, &ids, all)?;
            let summary = replay(&mut admin, held)?;
            if json {
                outln!("{}", serde_json::to_string(&summary)?);
            } else {
                outln!(
                    "replayed {}: {} stored, {} already stored, {} kept; {} still held",
                    summary.replayed,
                    summary.stored,
                    summary.duplicate,
                    summary.kept,
                    summary.still_held.len()
                );
                for still in &summary.still_held {
                    outln!("  {} still held: {}", still.id, still.reason);
                }
            }
            Ok(())
        }
    }
}

fn list(admin: &Admin, reason: Option<&str>, json: bool) -> CliResult {
    if let Some(reason) = reason {
        if !MappingError::CODES.contains(&reason) {
            return Err(format!(
                "unknown reason `{}`; one of: {}",
                crate::domain::Echo(reason),
                MappingError::CODES.join(", ")
            )
            .into());
        }
    }
    let held = admin.held_deliveries(reason)?;
    if json {
        outln!("{}", serde_json::to_string(&held)?);
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<36}  {:<20}  {:<24}  {:>9}  {:<24}",
        "id", "reason", "org", "bytes", "received"
    )?;
    for h in &held {
        writeln!(
            out,
            "{:<36}  {:<20}  {:<24}  {:>9}  {:<24}",
            h.id, h.reason, h.smartlead_org_id, h.bytes, h.received_at
        )?;
    }
    writeln!(out, "{} held", held.len())?;
    Ok(())
}

/// The held deliveries to replay: every one, or those named, each of which must exist.
fn chosen(admin: &Admin, ids: &[String], all: bool) -> Result<Vec<HeldDelivery>, String> {
    let ids: Vec<HeldId> = if all {
        let listed = admin.held_deliveries(None).map_err(|e| e.to_string())?;
        listed
            .iter()
            .map(|h| h.id.parse())
            .collect::<Result<_, _>>()
            .map_err(|e: crate::domain::InvalidValue| e.0)?
    } else {
        ids.iter()
            .map(|id| id.parse::<HeldId>().map_err(|e| e.0))
            .collect::<Result<_, _>>()?
    };
    ids.into_iter()
        .map(|id| {
            admin
                .held_delivery(id)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no held delivery {id}; nothing was replayed"))
        })
        .collect()
}

#[derive(Debug, Default, Serialize)]
struct ReplaySummary {
    replayed: usize,
    stored: usize,
    duplicate: usize,
    kept: usize,
    still_held: Vec<StillHeld>,
}

#[derive(Debug, Serialize)]
struct StillHeld {
    id: String,
    reason: &'static str,
}

fn replay(
    admin: &mut Admin,
    held: Vec<HeldDelivery>,
) -> Result<ReplaySummary, Box<dyn std::error::Error>> {
    let mut summary = ReplaySummary::default();
    for h in held {
        let payload = h.payload.as_ref().map_or("", |p| p.get());
        // Held payloads parsed once already; one that no longer does stays held as it was.
        let delivery = smartlead::parse_delivery(payload.as_bytes())?;
        let received_at = crate::domain::UtcTimestamp::parse(&h.received_at)?;
        match delivery.event(received_at) {
            Err(err) => summary.still_held.push(StillHeld {
                id: h.id.clone(),
                reason: err.code(),
            }),
            Ok(event) => match admin.replay_held(&h, event)? {
                // Replayed by another command meanwhile.
                None => {}
                Some(outcome) => {
                    summary.replayed += 1;
                    match outcome {
                        IngestOutcome::Stored { .. } => summary.stored += 1,
                        IngestOutcome::Duplicate { .. } => summary.duplicate += 1,
                        IngestOutcome::Kept { .. } => summary.kept += 1,
                        IngestOutcome::Held { .. } => {}
                    }
                }
            },
        }
    }
    Ok(summary)
}
