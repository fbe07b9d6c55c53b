//! `payloads status|train|compress|decompress`: the SQLite file's compressed payloads.
//!
//! New events are compressed as they are stored, with the file's newest dictionary. These
//! commands upgrade what was stored before (a file from before compression), adopt a dictionary
//! trained on the install's own traffic, or turn every payload back into JSON text. Each step
//! is one short transaction, so they run beside the service; a pass stopped anywhere (Ctrl-C,
//! a crash) resumes where it was.

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use super::CliResult;
use crate::config::DbArgs;
use crate::storage::records::{PayloadForm, RecompressStep};
use crate::storage::Admin;

#[derive(Debug, Args)]
pub struct PayloadsArgs {
    #[command(subcommand)]
    command: PayloadsCommand,
}

#[derive(Debug, Subcommand)]
enum PayloadsCommand {
    /// Events and bytes per stored form (text, or the dictionary they were compressed with).
    /// Reads every event.
    Status {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        json: bool,
    },
    /// Train a dictionary on this file's own payloads and make it the newest. New events are
    /// compressed with it from then on (a running service too); `compress` rewrites the stored
    /// payloads with it.
    Train {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        json: bool,
    },
    /// Rewrite every stored payload with the newest dictionary (resumable; safe while the
    /// service runs).
    Compress(PassArgs),
    /// Rewrite every stored payload as JSON text again (resumable; safe while the service runs,
    /// though the service keeps compressing new events).
    Decompress(PassArgs),
}

#[derive(Debug, Args)]
struct PassArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Events a step reads; each step is one transaction.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    step_events: u32,
    /// The summary as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: PayloadsArgs) -> CliResult {
    match args.command {
        PayloadsCommand::Status { db, json } => {
            let usage = Admin::open(&db.db)?.payload_usage()?;
            if json {
                outln!("{}", serde_json::to_string(&usage)?);
                return Ok(());
            }
            match usage.newest_dictionary {
                Some(version) => outln!("new payloads are compressed with dictionary {version}"),
                None => outln!("new payloads are stored as JSON text"),
            }
            for form in &usage.forms {
                outln!(
                    "{:>20}: {} events, {} bytes ({:.0} per event)",
                    form.form,
                    form.events,
                    form.bytes,
                    form.bytes as f64 / form.events.max(1) as f64
                );
            }
            Ok(())
        }
        PayloadsCommand::Train { db, json } => {
            let trained = Admin::open(&db.db)?.train_payload_dictionary()?;
            if json {
                outln!("{}", serde_json::to_string(&trained)?);
            } else {
                outln!(
                    "dictionary {} ({} bytes, zstd id {}) trained on {} payloads: new events are \
                     compressed with it from now on; `payloads compress` rewrites the stored ones",
                    trained.version,
                    trained.bytes,
                    trained.zstd_id,
                    trained.samples
                );
            }
            Ok(())
        }
        PayloadsCommand::Compress(pass) => run_pass(pass, PayloadForm::Newest),
        PayloadsCommand::Decompress(pass) => run_pass(pass, PayloadForm::Text),
    }
}

fn run_pass(args: PassArgs, form: PayloadForm) -> CliResult {
    let mut admin = Admin::open(&args.db.db)?;
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{bar:40} {percent:>3}% of the events ({eta} left) {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut total = RecompressStep::default();
    loop {
        let step = admin.recompress_step(form, args.step_events as usize)?;
        total.target = step.target;
        total.read += step.read;
        total.rewritten += step.rewritten;
        total.bytes_before += step.bytes_before;
        total.bytes_after += step.bytes_after;
        total.position = step.position;
        total.end = step.end;
        total.done = step.done;
        // Rowids, not events: a resumed pass shows where it resumed from.
        bar.set_length(step.end.max(1) as u64);
        bar.set_position(step.position.max(0) as u64);
        bar.set_message(format!("{} rewritten", total.rewritten));
        if step.done {
            break;
        }
    }
    bar.finish_and_clear();
    if args.json {
        outln!("{}", serde_json::to_string(&total)?);
    } else {
        let into = match total.target {
            0 => "JSON text".to_owned(),
            version => format!("dictionary {version}"),
        };
        outln!(
            "rewrote {} of {} payloads read into {into}: {} bytes became {} (the pages freed are \
             reused by later writes)",
            total.rewritten,
            total.read,
            total.bytes_before,
            total.bytes_after
        );
    }
    Ok(())
}
