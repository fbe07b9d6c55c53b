//! `smartlead check`: this hub's numbers beside Smartlead's own, campaign by campaign, through
//! Smartlead's REST API with the user's stored API key. Exit code 1 when a compared metric
//! differs: events are missing here (a webhook never registered, an outage longer than
//! Smartlead's retries, a 4xx Smartlead did not retry).

use clap::{Args, Subcommand};
use serde::Serialize;

use super::CliResult;
use crate::config::DbArgs;
use crate::domain::{CampaignId, CampaignLabels, UserId};
use crate::reconcile::check::{compare, MetricCheck};
use crate::reconcile::client::{SmartleadClient, DEFAULT_BASE};
use crate::reconcile::webhooks;
use crate::smartlead::rest::{Campaign, CampaignAnalytics};
use crate::storage::Admin;

#[derive(Debug, Args)]
pub struct SmartleadArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Smartlead's API base URL.
    #[arg(long, global = true, env = "SMARTLEAD_HUB_SMARTLEAD_API_BASE", default_value = DEFAULT_BASE)]
    smartlead_api_base: String,
    #[command(subcommand)]
    action: SmartleadAction,
}

#[derive(Debug, Subcommand)]
enum SmartleadAction {
    /// Compare each campaign's counters on Smartlead with this hub's (exit code 1 on a
    /// difference in a metric both sides count the same way).
    Check {
        /// The user whose Smartlead account (API key) and data to compare.
        #[arg(long)]
        user: String,
        /// Only these campaigns (default: every campaign of the account).
        #[arg(long = "campaign")]
        campaigns: Vec<String>,
        /// The result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Backfill what webhooks missed: page Smartlead's per-email statistics and store every event
    /// missing here through the webhook's path (leads, rollups, dedupe). A later webhook delivery
    /// of a backfilled event is recognised, never counted twice. Safe to repeat and to resume.
    /// Without `--campaign`, also takes each campaign's name and status from Smartlead's list.
    Sync {
        #[arg(long)]
        user: String,
        /// Only these campaigns (default: every campaign of the account).
        #[arg(long = "campaign")]
        campaigns: Vec<String>,
        /// Only emails sent since this date (`2026-10-01`); their opens, clicks and replies
        /// may come later and are included.
        #[arg(long)]
        since: Option<String>,
        /// Report what would be backfilled; store nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// This hub's webhook on Smartlead campaigns.
    Webhooks {
        #[command(subcommand)]
        action: WebhooksAction,
    },
}

#[derive(Debug, Subcommand)]
enum WebhooksAction {
    /// Create or update this hub's webhook on campaigns (event types it handles), verify it by
    /// reading it back; other webhooks are never touched.
    Ensure {
        #[arg(long)]
        user: String,
        /// This service's webhook URL for the user's org:
        /// `https://<host>/api/webhooks/smartlead?org_id=<org>`.
        #[arg(long)]
        url: String,
        /// These campaigns.
        #[arg(
            long = "campaign",
            required_unless_present = "all_active",
            conflicts_with = "all_active"
        )]
        campaigns: Vec<String>,
        /// Every ACTIVE campaign of the account.
        #[arg(long)]
        all_active: bool,
        #[arg(long)]
        json: bool,
    },
    /// List the webhooks of campaigns (every campaign of the account by default).
    List {
        #[arg(long)]
        user: String,
        #[arg(long = "campaign")]
        campaigns: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct CampaignCheck {
    campaign_id: String,
    name: Option<String>,
    agrees: bool,
    metrics: Vec<MetricCheck>,
}

pub fn run(args: SmartleadArgs) -> CliResult {
    let admin = Admin::open(&args.db.db)?;
    let api_base = args.smartlead_api_base;
    match args.action {
        SmartleadAction::Webhooks { action } => webhooks(&admin, &api_base, action),
        SmartleadAction::Sync {
            user,
            campaigns,
            since,
            dry_run,
            json,
        } => super::smartlead_sync::run(admin, &api_base, &user, &campaigns, since, dry_run, json),
        SmartleadAction::Check {
            user,
            campaigns,
            json,
        } => {
            let user: UserId = user.parse()?;
            // The hub's side is read from the rollups: every stored event goes into them first,
            // so that events the projector has not reached yet are not reported as missing.
            admin.catch_up_projection()?;
            let chosen = campaigns
                .iter()
                .map(|id| CampaignId::parse(id))
                .collect::<Result<Vec<_>, _>>()?;
            let mut client = client_for(&admin, user, &api_base)?;
            let targets: Vec<(CampaignId, Option<String>)> = if chosen.is_empty() {
                let all: Vec<Campaign> = client.get("/campaigns/")?;
                all.into_iter()
                    .map(|c| Ok((CampaignId::parse(&c.id.to_string())?, c.name)))
                    .collect::<Result<_, crate::domain::InvalidValue>>()?
            } else {
                chosen.into_iter().map(|id| (id, None)).collect()
            };
            let mut checks = Vec::new();
            for (campaign, name) in targets {
                let analytics: CampaignAnalytics =
                    client.get(&format!("/campaigns/{}/analytics", campaign.as_str()))?;
                let metrics = compare(&analytics, &admin.campaign_metrics(user, &campaign)?);
                checks.push(CampaignCheck {
                    campaign_id: campaign.as_str().to_owned(),
                    name,
                    agrees: metrics.iter().all(MetricCheck::agrees),
                    metrics,
                });
            }
            print(&checks, json)?;
            let disagree = checks.iter().filter(|c| !c.agrees).count();
            if disagree > 0 {
                return Err(format!(
                    "{disagree} of {} campaigns differ from Smartlead",
                    checks.len()
                )
                .into());
            }
            Ok(())
        }
    }
}

/// A client with `user`'s stored API key.
pub(super) fn client_for(
    admin: &Admin,
    user: UserId,
    base: &str,
) -> Result<SmartleadClient, String> {
    admin
        .user(user)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no user {user}"))?;
    let key = admin
        .smartlead_credentials(user)
        .map_err(|e| e.to_string())?
        .and_then(|c| c.api_key)
        .ok_or_else(|| {
            format!("user {user} has no Smartlead API key: set one with `smartlead-hub credentials set-smartlead --user {user} --api-key …`")
        })?;
    Ok(SmartleadClient::new(base, key))
}

/// The campaigns named, checked; or those of the account (`active`: only ACTIVE ones), each with
/// the name and status Smartlead lists for it (none for a campaign named on the command line).
pub(super) fn campaigns_of(
    client: &mut SmartleadClient,
    named: &[String],
    active: bool,
) -> Result<Vec<(CampaignId, CampaignLabels)>, Box<dyn std::error::Error>> {
    if !named.is_empty() {
        return Ok(named
            .iter()
            .map(|id| Ok((CampaignId::parse(id)?, CampaignLabels::default())))
            .collect::<Result<_, crate::domain::InvalidValue>>()?);
    }
    let all: Vec<Campaign> = client.get("/campaigns/")?;
    Ok(all
        .into_iter()
        .filter(|c| !active || c.status.as_deref() == Some("ACTIVE"))
        .map(|c| (c.campaign_id(), c.labels()))
        .collect())
}

/// `url` is this service's webhook URL for the user's org.
fn check_url(url: &str, org: Option<&str>) -> Result<(), String> {
    let Some(org) = org else {
        return Err("the user has no Smartlead org (users set-org)".into());
    };
    let (address, query) = url.split_once('?').unwrap_or((url, ""));
    let secure = address.starts_with("https://") || address.starts_with("http://");
    let given = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("org_id="))
        .unwrap_or_default();
    if !secure || !address.ends_with("/api/webhooks/smartlead") || given != org {
        return Err(format!(
            "--url must be this service's webhook URL for the user's org: https://<host>/api/webhooks/smartlead?org_id={org}"
        ));
    }
    Ok(())
}

fn webhooks(admin: &Admin, base: &str, action: WebhooksAction) -> CliResult {
    match action {
        WebhooksAction::Ensure {
            user,
            url,
            campaigns,
            all_active,
            json,
        } => {
            let user: UserId = user.parse()?;
            let org = admin.user(user)?.and_then(|u| u.smartlead_org_id);
            check_url(&url, org.as_deref())?;
            let mut client = client_for(admin, user, base)?;
            let mut done = Vec::new();
            for (campaign, _) in campaigns_of(&mut client, &campaigns, all_active)? {
                let outcome = webhooks::ensure(&mut client, campaign.as_str(), &url)?;
                done.push(
                    serde_json::json!({"campaign_id": campaign.as_str(), "webhook": outcome}),
                );
                if !json {
                    outln!(
                        "campaign {}: {}",
                        campaign.as_str(),
                        serde_json::to_string(&outcome)?.trim_matches('"')
                    );
                }
            }
            if json {
                outln!("{}", serde_json::to_string(&done)?);
            }
            Ok(())
        }
        WebhooksAction::List {
            user,
            campaigns,
            json,
        } => {
            let user: UserId = user.parse()?;
            let mut client = client_for(admin, user, base)?;
            let mut all = Vec::new();
            for (campaign, _) in campaigns_of(&mut client, &campaigns, false)? {
                let hooks = webhooks::list(&mut client, campaign.as_str())?;
                if !json {
                    outln!("campaign {}: {} webhooks", campaign.as_str(), hooks.len());
                    for hook in &hooks {
                        outln!(
                            "  {} {} [{}]",
                            hook.id,
                            hook.webhook_url,
                            hook.event_types.join(", ")
                        );
                    }
                }
                all.push(serde_json::json!({"campaign_id": campaign.as_str(), "webhooks": hooks}));
            }
            if json {
                outln!("{}", serde_json::to_string(&all)?);
            }
            Ok(())
        }
    }
}

fn print(checks: &[CampaignCheck], json: bool) -> CliResult {
    if json {
        outln!("{}", serde_json::to_string(checks)?);
        return Ok(());
    }
    for check in checks {
        let name = check
            .name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        let verdict = if check.agrees { "agrees" } else { "DIFFERS" };
        outln!("campaign {}{name}: {verdict}", check.campaign_id);
        outln!(
            "  {:<22} {:>10} {:>10} {:>8}",
            "metric",
            "smartlead",
            "hub",
            "diff"
        );
        for m in &check.metrics {
            let diff = m.local as i64 - m.smartlead as i64;
            let mark = match (m.agrees(), m.local < m.smartlead) {
                (true, _) => "",
                (false, true) => "  ← missing here",
                (false, false) => "  ← more here than on Smartlead",
            };
            let shown = if m.compared {
                format!("{diff:+}")
            } else {
                "(info)".into()
            };
            outln!(
                "  {:<22} {:>10} {:>10} {:>8}{mark}",
                m.metric,
                m.smartlead,
                m.local,
                shown
            );
        }
        if !check.agrees && check.metrics.iter().all(|m| m.local == 0) {
            outln!("  no events here at all: is the webhook registered for this campaign?");
        }
    }
    outln!();
    outln!(
        "Compared: emails sent, unique leads sent/opened/clicked, replies, bounces, unsubscribes."
    );
    outln!("Opens and clicks are shown, not compared: Smartlead counts them per email, the hub per delivery.");
    Ok(())
}
