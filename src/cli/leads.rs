//! `leads forget` (below) replaces one person's data for an erasure request.
//!
//! `leads name`: names the leads stored before lead profiles (migration 017) from their own
//! stored events, each read as the webhook reads a delivery. Otherwise such a lead is named by
//! its next delivery, and a lead with none to come stays an address. Two passes: each unnamed
//! lead's newest email events (names), then every kept event of a lead (a category update's
//! `lead_data` is the only source of a company most leads have), each noted by the delivery's
//! rule, so the newest event's parts win and any event fills a missing one whatever the order.
//! Safe to stop and to repeat: each batch is one transaction, a named lead is not read again,
//! and a kept event already noted changes nothing.

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use super::CliResult;
use crate::config::DbArgs;
use crate::domain::{EmailAddress, LeadProfile, SmartleadEvent, UserId, UtcTimestamp};
use crate::smartlead::parse_delivery;
use crate::storage::records::{KeptPayload, UnnamedLead};
use crate::storage::Admin;

/// How many of a lead's newest events are read for a name: the newest that names the lead wins
/// (most shapes carry `to_name`; a lead whose newest few do not is left to its next delivery).
const EVENTS_PER_LEAD: usize = 5;

#[derive(Debug, Args)]
pub struct LeadsArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    action: LeadsAction,
}

#[derive(Debug, Subcommand)]
enum LeadsAction {
    /// Name the leads that have no name yet (stored before migration 017) from their newest
    /// stored events: first and last name, company.
    Name {
        /// Leads per transaction.
        #[arg(long, default_value_t = 500)]
        batch: usize,
        /// Report how many would be named; store nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// Forget one person (an erasure request): their address becomes a pseudonym, their name and
    /// company go, the payloads of their events and kept events are cleared, and held deliveries
    /// naming them are deleted. Every count and rate stays: an anonymous lead still opened what it
    /// opened, and a redelivery of a forgotten event is still recognised as a duplicate. Remove
    /// the lead in Smartlead too, or its next event stores the address again.
    Forget {
        /// The user (tenant) whose lead it is.
        #[arg(long)]
        user: String,
        /// The person's address.
        #[arg(long)]
        email: String,
        /// Do it; without it nothing changes.
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: LeadsArgs) -> CliResult {
    let mut admin = Admin::open(&args.db.db)?;
    match args.action {
        LeadsAction::Name {
            batch,
            dry_run,
            json,
        } => name(&mut admin, batch.max(1), dry_run, json),
        LeadsAction::Forget {
            user,
            email,
            yes,
            json,
        } => forget(&mut admin, &user, &email, yes, json),
    }
}

fn forget(admin: &mut Admin, user: &str, email: &str, yes: bool, json: bool) -> CliResult {
    let user: UserId = user.parse()?;
    let email = EmailAddress::parse(email)?;
    if admin.user(user)?.is_none() {
        return Err(format!("no user {user}").into());
    }
    if !yes {
        return Err(format!(
            "this replaces what user {user} has stored about that address (it cannot be undone); \
             add --yes to do it"
        )
        .into());
    }
    let forgotten = admin.forget_lead(user, &email)?;
    if json {
        let mut shown = serde_json::to_value(&forgotten)?;
        shown["user_id"] = user.to_string().into();
        outln!("{shown}");
        return Ok(());
    }
    let touched = forgotten.email_events
        + forgotten.kept_events
        + forgotten.backfill_records
        + forgotten.held_deliveries_deleted;
    match &forgotten.lead_id {
        None if touched == 0 => {
            outln!("nothing is stored about that address for user {user}");
            return Ok(());
        }
        Some(lead) => outln!(
            "forgot lead {lead} of user {user}: now {}",
            forgotten.pseudonym
        ),
        None => outln!("forgot that address for user {user} (no lead had it)"),
    }
    outln!(
        "  {} email events and {} kept events without their payloads, {} backfill records, {} held deliveries deleted",
        forgotten.email_events,
        forgotten.kept_events,
        forgotten.backfill_records,
        forgotten.held_deliveries_deleted
    );
    outln!("  counts and analytics are unchanged; backups taken before still hold the old data");
    Ok(())
}

fn name(admin: &mut Admin, batch: usize, dry_run: bool, json: bool) -> CliResult {
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let (mut read, mut kept, mut named) = (0usize, 0usize, 0usize);
    let mut after: Option<String> = None;
    loop {
        let leads = admin.unnamed_leads(after.as_deref(), batch, EVENTS_PER_LEAD)?;
        let Some(last) = leads.last() else { break };
        after = Some(last.lead_id.clone());
        read += leads.len();
        let profiles: Vec<_> = leads.iter().filter_map(newest_profile).collect();
        named += admin.name_leads(&profiles, !dry_run)?;
        bar.set_message(format!("{read} leads without a name read, {named} named"));
    }
    after = None;
    loop {
        let events = admin.kept_payloads(after.as_deref(), batch)?;
        let Some(last) = events.last() else { break };
        after = Some(last.id.clone());
        kept += events.len();
        let profiles: Vec<_> = events.iter().filter_map(kept_profile).collect();
        named += admin.name_leads(&profiles, !dry_run)?;
        bar.set_message(format!(
            "{kept} kept events read, {named} leads named or completed"
        ));
    }
    bar.finish_and_clear();
    if json {
        outln!(
            "{}",
            serde_json::json!({"read": read, "kept_events_read": kept, "named": named, "dry_run": dry_run})
        );
    } else {
        outln!(
            "{read} leads without a name read, {kept} kept events read; {named} names or companies written"
        );
        if dry_run {
            outln!("dry run: nothing was stored");
        }
    }
    Ok(())
}

/// The name and company a kept event gives its lead, and the event's time.
fn kept_profile(kept: &KeptPayload) -> Option<(String, LeadProfile, UtcTimestamp)> {
    let delivery = parse_delivery(kept.payload.as_bytes()).ok()?;
    let SmartleadEvent::Other(event) = delivery.event(kept.received_at).ok()? else {
        return None;
    };
    (!event.lead_profile.is_empty()).then(|| {
        let at = event.effective_time();
        (kept.lead_id.clone(), event.lead_profile, at)
    })
}

/// The profile of the newest of the lead's events that names the lead, and that event's time.
fn newest_profile(lead: &UnnamedLead) -> Option<(String, LeadProfile, UtcTimestamp)> {
    lead.payloads.iter().find_map(|(at, payload)| {
        let delivery = parse_delivery(payload.as_bytes()).ok()?;
        let SmartleadEvent::Email(event) = delivery.event(*at).ok()? else {
            return None;
        };
        (!event.lead_profile.is_empty()).then(|| {
            let at = event.occurred_at;
            (lead.lead_id.clone(), event.lead_profile, at)
        })
    })
}
