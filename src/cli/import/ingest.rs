//! The webhook's path for bodies that arrive other than by HTTP (an import, the demo): parse,
//! check the secret, map, dedupe, then store or hold, a batch per transaction.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::sources::{Body, Captured};
use crate::domain::{Mapped, OrgId, SmartleadEvent, UserId, UtcTimestamp};
use crate::smartlead::{self, dedupe, WebhookSecret};
use crate::storage::records::{HeldLimits, IngestOutcome, WebhookTenant};
use crate::storage::Admin;

/// Deliveries per transaction: large enough to amortize the commit, small enough that the
/// service's own writes wait only milliseconds for the lock.
const BATCH: usize = 500;

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub bodies: usize,
    pub stored: usize,
    pub duplicate: usize,
    pub kept: usize,
    /// By reason.
    pub held: BTreeMap<&'static str, usize>,
    /// By error code.
    pub rejected: BTreeMap<&'static str, usize>,
    /// The first few rejections: where, and why.
    pub examples: Vec<String>,
    pub dry_run: bool,
}

pub struct Importer<'a> {
    admin: &'a mut Admin,
    user: UserId,
    org: OrgId,
    secret: Option<WebhookSecret>,
    batch: Vec<Mapped>,
    /// In a dry run, the dedupe keys (and held payloads' hashes) met so far: a body repeated
    /// within the import is a duplicate even though every batch is rolled back.
    seen: HashSet<String>,
    /// Kept events without their own time, by payload: how many were met so far.
    untimed: HashMap<String, usize>,
    summary: Summary,
}

impl<'a> Importer<'a> {
    /// Feeds `tenant`'s deliveries to `admin`; a dry run rolls every batch back.
    pub fn new(admin: &'a mut Admin, org: OrgId, tenant: WebhookTenant, dry_run: bool) -> Self {
        Self {
            admin,
            user: tenant.user_id,
            org,
            secret: tenant.webhook_secret.map(WebhookSecret::new),
            batch: Vec::with_capacity(BATCH),
            seen: HashSet::new(),
            untimed: HashMap::new(),
            summary: Summary {
                dry_run,
                ..Summary::default()
            },
        }
    }

    /// Stores what is still batched and says what happened to every body.
    pub fn finish(mut self) -> Result<Summary, Box<dyn std::error::Error>> {
        self.flush()?;
        Ok(self.summary)
    }

    pub fn take(&mut self, captured: Captured) -> Result<(), Box<dyn std::error::Error>> {
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
        // A real run finds repeats in the database; a dry run rolls its batches back, so it
        // remembers what it met (memory grows with the import; a real run's does not).
        if let Some(key) = run_key(&mapped).filter(|_| self.summary.dry_run) {
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
