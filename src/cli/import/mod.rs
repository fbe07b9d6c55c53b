//! `import --org-id ORG PATH…`: captured webhook bodies through the webhook's own path (parse,
//! check the secret, map, dedupe, store or hold), in batches of one transaction each, with a
//! progress bar and a summary. Importing the same bodies again stores nothing new.

mod sources;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::CliResult;
use crate::config::DbArgs;
use crate::domain::{Mapped, OrgId, SmartleadEvent, UserId, UtcTimestamp};
use crate::smartlead::{self, dedupe, WebhookSecret};
use crate::storage::records::{HeldLimits, IngestOutcome};
use crate::storage::Admin;
use sources::{Body, Captured};

/// Deliveries per transaction: large enough to amortize the commit, small enough that the
/// service's own writes wait only milliseconds for the lock.
const BATCH: usize = 500;

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

#[derive(Debug, Default, Serialize)]
struct Summary {
    bodies: usize,
    stored: usize,
    duplicate: usize,
    kept: usize,
    /// By reason.
    held: BTreeMap<&'static str, usize>,
    /// By error code.
    rejected: BTreeMap<&'static str, usize>,
    /// The first few rejections: where, and why.
    examples: Vec<String>,
    dry_run: bool,
}

pub fn run(args: ImportArgs) -> CliResult {
    let org = OrgId::parse(&args.org_id)?;
    // Every path is checked before the database is opened: a typo changes nothing.
    let files = sources::files(&args.paths)?;
    let mut admin = Admin::open(&args.db.db)?;
    let tenant = admin.webhook_tenant(&org)?.ok_or_else(|| {
        format!("no user has Smartlead org {org}; add one with `smartlead-hub users add`")
    })?;
    let mut importer = Importer {
        admin: &mut admin,
        user: tenant.user_id,
        org,
        secret: tenant.webhook_secret.map(WebhookSecret::new),
        batch: Vec::with_capacity(BATCH),
        seen: HashSet::new(),
        untimed: HashMap::new(),
        summary: Summary {
            dry_run: args.dry_run,
            ..Summary::default()
        },
    };
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
    importer.flush()?;
    bar.finish_and_clear();
    print(&importer.summary, args.json)
}

struct Importer<'a> {
    admin: &'a mut Admin,
    user: UserId,
    org: OrgId,
    secret: Option<WebhookSecret>,
    batch: Vec<Mapped>,
    /// Dedupe keys (and held payloads' hashes) met in this run: a body repeated within the
    /// import is a duplicate even in a dry run, whose transactions are rolled back.
    seen: HashSet<String>,
    /// Kept events without their own time, by payload: how many were met so far.
    untimed: HashMap<String, usize>,
    summary: Summary,
}

impl Importer<'_> {
    fn take(&mut self, captured: Captured) -> Result<(), Box<dyn std::error::Error>> {
        self.summary.bodies += 1;
        let bytes = match captured.body {
            Body::Bytes(bytes) => bytes,
            Body::TooLarge => {
                self.reject(
                    &captured.name,
                    "payload_too_large",
                    "longer than --max-body-bytes",
                );
                return Ok(());
            }
        };
        let delivery = match smartlead::parse_delivery(&bytes) {
            Ok(delivery) => delivery,
            Err(err) => {
                self.reject(&captured.name, err.code(), &err.to_string());
                return Ok(());
            }
        };
        // A captured body names no org; its secret, when it carries one, must be this org's:
        // a body captured for another org is refused, not filed under this one.
        if let Some(given) = &delivery.secret_key {
            if smartlead::authenticate(&bytes, None, Some(given), self.secret.as_ref()).is_err() {
                self.reject(
                    &captured.name,
                    "unauthorized",
                    "its secret_key is not this org's webhook secret",
                );
                return Ok(());
            }
        }
        let mut mapped = delivery.map(UtcTimestamp::now());
        if let Mapped::Event(SmartleadEvent::Other(event)) = &mut mapped {
            if event.dedupe_key.is_none() {
                let identical = self.untimed.entry(event.payload.clone()).or_default();
                event.dedupe_key = Some(dedupe::import_key(
                    &event.raw_type,
                    &event.payload,
                    *identical,
                ));
                *identical += 1;
            }
        }
        if let Some(key) = run_key(&mapped) {
            if !self.seen.insert(key) {
                self.summary.duplicate += 1;
                return Ok(());
            }
        }
        self.batch.push(mapped);
        if self.batch.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn reject(&mut self, name: &str, code: &'static str, why: &str) {
        *self.summary.rejected.entry(code).or_default() += 1;
        if self.summary.examples.len() < 5 {
            self.summary.examples.push(format!("{name}: {why}"));
        }
    }

    fn flush(&mut self) -> Result<(), Box<dyn std::error::Error>> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let outcomes = self.admin.import_batch(
            self.user,
            &self.org,
            &self.batch,
            HeldLimits::default(),
            !self.summary.dry_run,
        )?;
        for outcome in outcomes {
            match outcome {
                IngestOutcome::Stored { .. } => self.summary.stored += 1,
                IngestOutcome::Duplicate { .. } => self.summary.duplicate += 1,
                IngestOutcome::Kept { .. } => self.summary.kept += 1,
                IngestOutcome::Held { .. } => {}
            }
        }
        for mapped in self.batch.drain(..) {
            if let Mapped::Unmapped(unmapped) = mapped {
                *self.summary.held.entry(unmapped.reason).or_default() += 1;
            }
        }
        Ok(())
    }
}

/// What identifies a delivery within one run: its dedupe key, or its held payload.
fn run_key(mapped: &Mapped) -> Option<String> {
    match mapped {
        Mapped::Event(SmartleadEvent::Email(event)) => Some(event.dedupe_key.clone()),
        Mapped::Event(SmartleadEvent::Other(event)) => event.dedupe_key.clone(),
        Mapped::Unmapped(held) => Some(format!(
            "held:{}",
            hex::encode(Sha256::digest(held.payload.as_bytes()))
        )),
    }
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
