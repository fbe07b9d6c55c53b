//! `serve --reconcile-every 6h`: `smartlead check` in the background, off the ingest path, and
//! with `--reconcile-backfill`, `smartlead sync` for the campaigns where Smartlead has more. For
//! every user with a Smartlead API key: the drift of each compared metric goes to `/metrics`
//! and, where it is not zero, to the log. The REST calls run on blocking threads; the local
//! numbers and the backfill go through the store (the backfill as writer jobs).

use std::sync::Arc;
use std::time::Duration;

use crate::domain::{CampaignId, CampaignLabels, OrgId, Period, UserId, UtcTimestamp};
use crate::http::Metrics;
use crate::reconcile::check::compare;
use crate::reconcile::client::{ClientError, SmartleadClient};
use crate::reconcile::statistics::Pager;
use crate::smartlead::rest::{Campaign, CampaignAnalytics, StatisticsRow};
use crate::storage::records::{AwaitedWatermark, BackfillOutcome};
use crate::storage::Store;

/// What the background reconciliation does.
pub struct Reconcile {
    pub every: Period,
    pub api_base: String,
    pub backfill: bool,
}

/// Runs until the process stops.
pub async fn run(store: Store, metrics: Arc<Metrics>, plan: Reconcile) {
    loop {
        match store.smartlead_accounts().await {
            Ok(accounts) => {
                for (user, key) in accounts {
                    let client = SmartleadClient::new(&plan.api_base, key);
                    if let Err(err) =
                        check_user(&store, &metrics, user, client, plan.backfill).await
                    {
                        metrics.reconcile_failed(user);
                        tracing::warn!(%user, error = %err, "reconciliation with Smartlead failed");
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "reconciliation skipped: accounts unreadable"),
        }
        tokio::time::sleep(Duration::from_millis(every_millis(&plan))).await;
    }
}

fn every_millis(plan: &Reconcile) -> u64 {
    plan.every.millis().max(1) as u64
}

/// Runs `work` with the client on a blocking thread and hands the client back.
async fn blocking<T: Send + 'static>(
    mut client: SmartleadClient,
    work: impl FnOnce(&mut SmartleadClient) -> Result<T, ClientError> + Send + 'static,
) -> Result<(SmartleadClient, T), String> {
    tokio::task::spawn_blocking(move || work(&mut client).map(|value| (client, value)))
        .await
        .map_err(|_| "the REST call panicked".to_owned())?
        .map_err(|err| err.to_string())
}

async fn check_user(
    store: &Store,
    metrics: &Metrics,
    user: UserId,
    client: SmartleadClient,
    backfill: bool,
) -> Result<(), String> {
    let (mut client, (listed_at, remote)) = blocking(client, remote_counters).await?;
    // The list is Smartlead's word on each campaign when it was asked (see `smartlead sync`).
    let labelled = remote
        .iter()
        .filter(|(_, labels, _)| !labels.is_empty())
        .map(|(campaign, labels, _)| (campaign.clone(), labels.clone()))
        .collect();
    store
        .label_campaigns(user, labelled, listed_at)
        .await
        .map_err(|e| e.to_string())?;
    // The local side is read from the rollups: the projector first reaches every event stored
    // so far, so that an event it has not applied yet is not taken for one Smartlead lost.
    let latest = store.latest_seq().await.map_err(|e| e.to_string())?;
    match store
        .await_watermark(latest, crate::storage::projection::WAIT_LIMIT)
        .await
        .map_err(|e| e.to_string())?
    {
        AwaitedWatermark::Reached(_) | AwaitedWatermark::Unissued(_) => {}
        AwaitedWatermark::Behind(as_of) => {
            return Err(format!("the analytics are behind the events (at seq {as_of} of {latest}); compared next time"));
        }
    }
    for (campaign, _, analytics) in remote {
        let local = store
            .metrics(user, Some(campaign.clone()), None)
            .await
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        let mut missing = false;
        for check in compare(&analytics, &local)
            .into_iter()
            .filter(|c| c.compared)
        {
            let drift = check.smartlead as i64 - check.local as i64;
            metrics.drift(user, campaign.as_str(), check.metric, drift);
            missing |= drift > 0;
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
        if backfill && missing {
            client = backfill_campaign(store, user, client, &campaign).await?;
        }
    }
    Ok(())
}

/// `smartlead sync` for one campaign, page by page, each page one writer job.
async fn backfill_campaign(
    store: &Store,
    user: UserId,
    mut client: SmartleadClient,
    campaign: &CampaignId,
) -> Result<SmartleadClient, String> {
    let org = store
        .user(user)
        .await
        .map_err(|e| e.to_string())?
        .and_then(|u| u.smartlead_org_id)
        .ok_or("the user has no Smartlead org")?;
    let org = OrgId::parse(&org).map_err(|e| e.0)?;
    let mut pager = Pager::new(campaign, None);
    let mut backfilled = 0;
    loop {
        let (back, rows) = blocking(client, move |client| pager_next(client, pager)).await?;
        client = back;
        let Some((rows, rest)) = rows else { break };
        pager = rest;
        let events: Vec<_> = rows
            .iter()
            .filter_map(|row: &StatisticsRow| row.events(campaign).ok())
            .flatten()
            .collect();
        let outcomes = store
            .backfill(user, org.clone(), events)
            .await
            .map_err(|e| e.to_string())?;
        backfilled += outcomes
            .iter()
            .filter(|o| matches!(o, BackfillOutcome::Backfilled { .. }))
            .count();
    }
    if backfilled > 0 {
        tracing::info!(%user, campaign = campaign.as_str(), backfilled, "backfilled events the webhooks missed");
    }
    Ok(client)
}

/// One page and the pager to go on with (`None` at the end).
#[allow(clippy::type_complexity)]
fn pager_next(
    client: &mut SmartleadClient,
    mut pager: Pager,
) -> Result<Option<(Vec<StatisticsRow>, Pager)>, ClientError> {
    Ok(pager.next(client)?.map(|rows| (rows, pager)))
}

/// Every campaign of the account with its labels and analytics, and when the list was asked for.
#[allow(clippy::type_complexity)]
fn remote_counters(
    client: &mut SmartleadClient,
) -> Result<
    (
        UtcTimestamp,
        Vec<(CampaignId, CampaignLabels, CampaignAnalytics)>,
    ),
    ClientError,
> {
    let listed_at = UtcTimestamp::now();
    let campaigns: Vec<Campaign> = client.get("/campaigns/")?;
    let mut out = Vec::new();
    for campaign in campaigns {
        let id = campaign.campaign_id();
        let analytics = client.get(&format!("/campaigns/{}/analytics", id.as_str()))?;
        out.push((id, campaign.labels(), analytics));
    }
    Ok((listed_at, out))
}
