//! `smartlead sync`: Smartlead's per-email statistics, paged, turned into the events they stand
//! for and stored where missing (storage::Admin::backfill_batch).

use std::collections::HashSet;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::smartlead::{campaigns_of, client_for};
use super::CliResult;
use crate::domain::{CampaignId, CampaignLabels, OrgId, UserId, UtcTimestamp};
use crate::reconcile::client::SmartleadClient;
use crate::reconcile::statistics::Pager;
use crate::storage::records::BackfillOutcome;
use crate::storage::Admin;

#[derive(Debug, Default, Serialize)]
struct CampaignSync {
    campaign_id: String,
    /// Whether Smartlead's list gave the campaign a name or status it did not have here.
    labels_updated: bool,
    /// Email rows Smartlead listed.
    rows: u64,
    /// Events those rows stand for.
    events: u64,
    already_present: u64,
    backfilled: u64,
    /// Rows that could not be read (a bad address or time), with the first reason.
    unreadable: u64,
    first_problem: Option<String>,
}

/// The campaigns to sync, each with the name and status Smartlead's list gives it: all of the
/// account's, or those named. The list is read either way, so that a named campaign is labelled
/// as well (one it does not hold is synced unlabelled).
fn campaigns_to_sync(
    client: &mut SmartleadClient,
    named: &[String],
) -> Result<Vec<(CampaignId, CampaignLabels)>, Box<dyn std::error::Error>> {
    // A malformed id fails before any request.
    let named = named
        .iter()
        .map(|id| CampaignId::parse(id))
        .collect::<Result<Vec<_>, _>>()?;
    let listed = campaigns_of(client, &[], false)?;
    if named.is_empty() {
        return Ok(listed);
    }
    let mut chosen = Vec::new();
    for id in named {
        let labels = listed
            .iter()
            .find(|(campaign, _)| *campaign == id)
            .map(|(_, labels)| labels.clone())
            .unwrap_or_default();
        chosen.push((id, labels));
    }
    Ok(chosen)
}

pub fn run(
    mut admin: Admin,
    base: &str,
    user: &str,
    campaigns: &[String],
    since: Option<String>,
    dry_run: bool,
    json: bool,
) -> CliResult {
    let user: UserId = user.parse()?;
    let org = admin
        .user(user)?
        .and_then(|u| u.smartlead_org_id)
        .ok_or_else(|| format!("user {user} has no Smartlead org (users set-org)"))?;
    let org = OrgId::parse(&org)?;
    if let Some(since) = &since {
        crate::domain::UtcTimestamp::parse(since)?;
    }
    let mut client = client_for(&admin, user, base)?;
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let listed_at = UtcTimestamp::now();
    let listed = campaigns_to_sync(&mut client, campaigns)?;
    // The list is Smartlead's word on each campaign when it was asked for: its labels count as
    // an event's of that moment, and a newer event's win over them as over any other.
    let labelled: Vec<_> = listed
        .iter()
        .filter(|(_, labels)| !labels.is_empty())
        .cloned()
        .collect();
    let relabelled: HashSet<_> = admin
        .label_campaigns(user, &labelled, listed_at, !dry_run)?
        .into_iter()
        .collect();
    let mut report = Vec::new();
    for (campaign, _) in listed {
        let mut done = CampaignSync {
            campaign_id: campaign.as_str().to_owned(),
            labels_updated: relabelled.contains(&campaign),
            ..CampaignSync::default()
        };
        let mut pager = Pager::new(&campaign, since.clone());
        while let Some(rows) = pager.next(&mut client)? {
            done.rows += rows.len() as u64;
            let mut events = Vec::new();
            for row in &rows {
                match row.events(&campaign) {
                    Ok(found) => events.extend(found),
                    Err(err) => {
                        done.unreadable += 1;
                        done.first_problem.get_or_insert_with(|| err.to_string());
                    }
                }
            }
            done.events += events.len() as u64;
            for outcome in admin.backfill_batch(user, &org, &events, !dry_run)? {
                match outcome {
                    BackfillOutcome::Backfilled { .. } => done.backfilled += 1,
                    BackfillOutcome::Present => done.already_present += 1,
                }
            }
            bar.set_message(format!(
                "campaign {}: {} emails read, {} events backfilled",
                campaign.as_str(),
                done.rows,
                done.backfilled
            ));
        }
        report.push(done);
    }
    bar.finish_and_clear();
    if json {
        outln!("{}", serde_json::to_string(&report)?);
    } else {
        for c in &report {
            outln!(
                "campaign {}: {} emails, {} events: {} already here, {} backfilled{}{}",
                c.campaign_id,
                c.rows,
                c.events,
                c.already_present,
                c.backfilled,
                if c.labels_updated {
                    "; name or status updated"
                } else {
                    ""
                },
                if c.unreadable > 0 {
                    format!(
                        "; {} rows unreadable ({})",
                        c.unreadable,
                        c.first_problem.as_deref().unwrap_or("")
                    )
                } else {
                    String::new()
                }
            );
        }
        if dry_run {
            outln!("dry run: nothing was stored");
        }
    }
    Ok(())
}
