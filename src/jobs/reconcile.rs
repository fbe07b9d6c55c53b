//! `serve --reconcile-every 6h`: `smartlead check` in the background, off the ingest path. For
//! every user with a Smartlead API key, each campaign's counters on Smartlead beside the local
//! ones; the drift of each compared metric goes to `/metrics` and, where it is not zero, to the
//! log. The REST calls run on a blocking thread; the local numbers come through the store.

use std::sync::Arc;
use std::time::Duration;

use crate::domain::{CampaignId, Period, UserId};
use crate::http::Metrics;
use crate::reconcile::check::compare;
use crate::reconcile::client::{ClientError, SmartleadClient};
use crate::smartlead::rest::{Campaign, CampaignAnalytics};
use crate::storage::Store;

/// Runs until the process stops.
pub async fn run(store: Store, metrics: Arc<Metrics>, every: Period, api_base: String) {
    loop {
        match store.smartlead_accounts().await {
            Ok(accounts) => {
                for (user, key) in accounts {
                    check_user(&store, &metrics, user, key, &api_base).await;
                }
            }
            Err(err) => tracing::warn!(error = %err, "reconciliation skipped: accounts unreadable"),
        }
        tokio::time::sleep(Duration::from_millis(every.millis() as u64)).await;
    }
}

async fn check_user(store: &Store, metrics: &Metrics, user: UserId, key: String, base: &str) {
    let base = base.to_owned();
    let remote = tokio::task::spawn_blocking(move || remote_counters(&base, key)).await;
    let remote = match remote {
        Ok(Ok(remote)) => remote,
        Ok(Err(err)) => {
            metrics.reconcile_failed(user);
            tracing::warn!(%user, error = %err, "reconciliation with Smartlead failed");
            return;
        }
        Err(_) => return,
    };
    for (campaign, analytics) in remote {
        let local = match store.metrics(user, Some(campaign.clone()), None).await {
            Ok(rows) => rows.unwrap_or_default(),
            Err(err) => {
                tracing::warn!(%user, error = %err, "reconciliation skipped: local numbers unreadable");
                return;
            }
        };
        for check in compare(&analytics, &local)
            .into_iter()
            .filter(|c| c.compared)
        {
            let drift = check.smartlead as i64 - check.local as i64;
            metrics.drift(user, campaign.as_str(), check.metric, drift);
            if drift != 0 {
                tracing::warn!(
                    %user,
                    campaign = campaign.as_str(),
                    metric = check.metric,
                    smartlead = check.smartlead,
                    local = check.local,
                    "the hub differs from Smartlead (smartlead-hub smartlead check says more)"
                );
            }
        }
    }
}

/// Every campaign of the account with its analytics.
fn remote_counters(
    base: &str,
    key: String,
) -> Result<Vec<(CampaignId, CampaignAnalytics)>, ClientError> {
    let mut client = SmartleadClient::new(base, key);
    let campaigns: Vec<Campaign> = client.get("/campaigns/")?;
    let mut out = Vec::new();
    for campaign in campaigns {
        let Ok(id) = CampaignId::parse(&campaign.id.to_string()) else {
            continue;
        };
        let analytics = client.get(&format!("/campaigns/{}/analytics", id.as_str()))?;
        out.push((id, analytics));
    }
    Ok(out)
}
