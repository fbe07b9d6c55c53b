//! `smartlead check`: this hub's numbers beside Smartlead's own, campaign by campaign, through
//! Smartlead's REST API with the user's stored API key. Exit code 1 when a compared metric
//! differs: events are missing here (a webhook never registered, an outage longer than
//! Smartlead's retries, a 4xx Smartlead did not retry).

use clap::{Args, Subcommand};
use serde::Serialize;

use super::CliResult;
use crate::config::DbArgs;
use crate::domain::{CampaignId, UserId};
use crate::reconcile::check::{compare, MetricCheck};
use crate::reconcile::client::{SmartleadClient, DEFAULT_BASE};
use crate::smartlead::rest::{Campaign, CampaignAnalytics};
use crate::storage::Admin;

#[derive(Debug, Args)]
pub struct SmartleadArgs {
    #[command(flatten)]
    db: DbArgs,
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
        /// Smartlead's API base URL.
        #[arg(long, env = "SMARTLEAD_HUB_SMARTLEAD_API", default_value = DEFAULT_BASE)]
        api_base: String,
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
    match args.action {
        SmartleadAction::Check {
            user,
            campaigns,
            json,
            api_base,
        } => {
            let user: UserId = user.parse()?;
            let chosen = campaigns
                .iter()
                .map(|id| CampaignId::parse(id))
                .collect::<Result<Vec<_>, _>>()?;
            let key = admin
                .user(user)?
                .ok_or_else(|| format!("no user {user}"))
                .and_then(|_| {
                    admin
                        .smartlead_credentials(user)
                        .map_err(|e| e.to_string())?
                        .and_then(|c| c.api_key)
                        .ok_or_else(|| format!("user {user} has no Smartlead API key: set one with `smartlead-hub credentials set-smartlead --user {user} --api-key …`"))
                })?;
            let mut client = SmartleadClient::new(&api_base, key);
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
