//! Campaign and user analytics, all answered from rollups (never a scan of raw events).

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};

use super::as_of::AsOf;
use super::bodies::{
    CampaignList, CampaignStats, CampaignSteps, CampaignSummary, SeriesBucket, StepStats,
    TimeSeries, UserStats, UserTimeSeries,
};
use super::params::{encode_campaign_cursor, page};
use super::queries::{CampaignListParams, Query, StatsParams, TimeSeriesParams};
use super::stats_view::StatsView;

use crate::domain::{CampaignId, UserId, UtcTimestamp};
use crate::http::auth::AuthenticatedUser;
use crate::http::error::ErrorBody;
use crate::http::openapi::query::{Page, Projected, Range, Series};
use crate::http::{get_only, ApiError, AppState};
use crate::storage::records::{Bucket, HourRange};

/// The most buckets one time-series answer may hold.
const MAX_BUCKETS: i64 = 10_000;

fn campaign_id(raw: &str) -> Result<CampaignId, ApiError> {
    CampaignId::parse(raw).map_err(|e| ApiError::InvalidPath {
        name: "campaign_id".into(),
        reason: e.0,
    })
}

/// The user's campaigns that have events, each with its numbers.
#[utoipa::path(
    get,
    path = "/api/campaigns",
    operation_id = "list_campaigns",
    tag = "read",
    security(("bearer" = [])),
    params(Page, Projected),
    responses(
        (status = 200, description = "A page of campaigns", body = CampaignList),
        (status = 400, description = "A parameter does not parse (the message names it)", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown or revoked token", body = ErrorBody),
        (status = 503, description = "The database cannot answer now, or the analytics have not reached `min_event` yet; retry", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    AuthenticatedUser(user): AuthenticatedUser,
    AsOf(as_of): AsOf,
    Query(list): Query<CampaignListParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let limit = list.limit;
    let rows = state.store.campaigns(user, list.after, limit + 1).await?;
    let (rows, more) = page(rows, limit);
    let next_cursor = more
        .then(|| rows.last().map(|(c, _)| encode_campaign_cursor(c)))
        .flatten();
    let ids = rows.iter().map(|(campaign, _)| campaign.clone()).collect();
    let mut labels = state.store.campaign_labels(user, ids).await?;
    let campaigns = rows
        .iter()
        .map(|(campaign, metrics)| {
            let labels = labels.remove(campaign).unwrap_or_default();
            CampaignSummary {
                campaign_id: campaign.clone(),
                name: labels.name,
                status: labels.status,
                stats: StatsView::from_rows(metrics),
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(CampaignList {
        as_of,
        campaigns,
        next_cursor,
    }))
}

/// One campaign's numbers, all-time or in a range of whole hours.
#[utoipa::path(
    get,
    path = "/api/campaigns/{campaign_id}/stats",
    operation_id = "get_campaign_stats",
    tag = "read",
    security(("bearer" = [])),
    params(("campaign_id" = String, Path, description = "Smartlead's campaign id"), Range, Projected),
    responses(
        (status = 200, description = "The campaign's numbers", body = CampaignStats),
        (status = 400, description = "A parameter does not parse (the message names it)", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown or revoked token", body = ErrorBody),
        (status = 404, description = "The user has no events in this campaign", body = ErrorBody),
        (status = 503, description = "The database cannot answer now, or the analytics have not reached `min_event` yet; retry", body = ErrorBody),
    )
)]
pub(crate) async fn stats(
    AuthenticatedUser(user): AuthenticatedUser,
    AsOf(as_of): AsOf,
    path: web::Path<String>,
    Query(range): Query<StatsParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let campaign = campaign_id(&path)?;
    let (query, shown) = range.range.unzip();
    let rows = state
        .store
        .metrics(user, Some(campaign.clone()), query)
        .await?
        .ok_or(ApiError::NotFound("campaign"))?;
    let id = campaign.as_str().to_owned();
    let labels = state
        .store
        .campaign_labels(user, vec![id.clone()])
        .await?
        .remove(&id)
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(CampaignStats {
        as_of,
        campaign_id: id,
        name: labels.name,
        status: labels.status,
        range: shown,
        stats: StatsView::from_rows(&rows),
    }))
}

/// The user's numbers across all campaigns, all-time or in a range of whole hours.
#[utoipa::path(
    get,
    path = "/api/stats",
    operation_id = "get_user_stats",
    tag = "read",
    security(("bearer" = [])),
    params(Range, Projected),
    responses(
        (status = 200, description = "The user's numbers", body = UserStats),
        (status = 400, description = "A parameter does not parse (the message names it)", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown or revoked token", body = ErrorBody),
        (status = 503, description = "The database cannot answer now, or the analytics have not reached `min_event` yet; retry", body = ErrorBody),
    )
)]
pub(crate) async fn user_stats(
    AuthenticatedUser(user): AuthenticatedUser,
    AsOf(as_of): AsOf,
    Query(range): Query<StatsParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (query, shown) = range.range.unzip();
    let rows = state
        .store
        .metrics(user, None, query)
        .await?
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(UserStats {
        as_of,
        range: shown,
        stats: StatsView::from_rows(&rows),
        user_id: user.to_string(),
    }))
}

/// `GET /api/campaigns/{campaign_id}/timeseries?bucket=hour|day&from=&to=`: counts per bucket per
/// metric, every bucket of the range present (empty ones with no counts). Without `from`/`to`
/// the last 30 days (daily) or 48 hours (hourly) up to now.
#[utoipa::path(
    get,
    path = "/api/campaigns/{campaign_id}/timeseries",
    operation_id = "get_campaign_timeseries",
    tag = "read",
    security(("bearer" = [])),
    params(("campaign_id" = String, Path, description = "Smartlead's campaign id"), Series, Range, Projected),
    responses(
        (status = 200, description = "Counts per bucket", body = TimeSeries),
        (status = 400, description = "A parameter does not parse (the message names it)", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown or revoked token", body = ErrorBody),
        (status = 404, description = "The user has no events in this campaign", body = ErrorBody),
        (status = 503, description = "The database cannot answer now, or the analytics have not reached `min_event` yet; retry", body = ErrorBody),
    )
)]
pub(crate) async fn timeseries(
    AuthenticatedUser(user): AuthenticatedUser,
    AsOf(as_of): AsOf,
    path: web::Path<String>,
    Query(params): Query<TimeSeriesParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let campaign = campaign_id(&path)?;
    let series = series(&state, user, Some(campaign.clone()), params)
        .await?
        .ok_or(ApiError::NotFound("campaign"))?;
    Ok(HttpResponse::Ok().json(TimeSeries {
        as_of,
        bucket: series.bucket,
        campaign_id: campaign.as_str().to_owned(),
        from: series.from,
        series: series.buckets,
        to: series.to,
    }))
}

/// `GET /api/timeseries?bucket=hour|day&from=&to=`: the user's counts per bucket per metric,
/// every campaign summed, every bucket of the range present. Without `from`/`to` the last 30
/// days (daily) or 48 hours (hourly) up to now.
#[utoipa::path(
    get,
    path = "/api/timeseries",
    operation_id = "get_user_timeseries",
    tag = "read",
    security(("bearer" = [])),
    params(Series, Range, Projected),
    responses(
        (status = 200, description = "Counts per bucket across the user's campaigns", body = UserTimeSeries),
        (status = 400, description = "A parameter does not parse (the message names it)", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown or revoked token", body = ErrorBody),
        (status = 503, description = "The database cannot answer now, or the analytics have not reached `min_event` yet; retry", body = ErrorBody),
    )
)]
pub(crate) async fn user_timeseries(
    AuthenticatedUser(user): AuthenticatedUser,
    AsOf(as_of): AsOf,
    Query(params): Query<TimeSeriesParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // The user-wide scope has no "not found": every user has one, empty or not.
    let series = series(&state, user, None, params)
        .await?
        .ok_or_else(|| ApiError::Internal("the user-wide series answered no scope".into()))?;
    Ok(HttpResponse::Ok().json(UserTimeSeries {
        as_of,
        bucket: series.bucket,
        from: series.from,
        series: series.buckets,
        to: series.to,
        user_id: user.to_string(),
    }))
}

/// A series as both answers show it.
struct SeriesAnswer {
    bucket: &'static str,
    from: String,
    to: String,
    buckets: Vec<SeriesBucket>,
}

/// The buckets of a campaign's range (`None` when the user has no events in it), or of the
/// user's across campaigns: every bucket of the range, empty ones with no counts.
async fn series(
    state: &AppState,
    user: UserId,
    campaign: Option<CampaignId>,
    params: TimeSeriesParams,
) -> Result<Option<SeriesAnswer>, ApiError> {
    let (bucket, unit, default_span) = (params.bucket, params.unit, params.default_span);
    let to = params.to.unwrap_or_else(UtcTimestamp::now).ceil_to(unit);
    let from = params
        .from
        .unwrap_or_else(|| to.plus_millis(-default_span))
        .floor_to(unit);
    if (to.millis() - from.millis()) / unit > MAX_BUCKETS {
        return Err(ApiError::InvalidQuery {
            name: "from".into(),
            reason: format!(
                "the range holds more than {MAX_BUCKETS} buckets; narrow it or use a larger bucket"
            ),
        });
    }
    let range = HourRange {
        from: from.to_string(),
        to: to.to_string(),
    };
    let Some(rows) = state
        .store
        .timeseries(user, campaign, bucket, range.clone())
        .await?
    else {
        return Ok(None);
    };
    let mut by_bucket: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for (start, metric, events) in rows {
        by_bucket.entry(start).or_default().insert(metric, events);
    }
    let mut buckets = Vec::new();
    let mut start = from;
    while start < to {
        let key = start.to_string();
        let counts = by_bucket.remove(&key).unwrap_or_default();
        buckets.push(SeriesBucket { counts, start: key });
        start = start.plus_millis(unit);
    }
    Ok(Some(SeriesAnswer {
        bucket: match bucket {
            Bucket::Hour => "hour",
            Bucket::Day => "day",
        },
        from: range.from,
        to: range.to,
        buckets,
    }))
}

/// A campaign's events per sequence step: sends, opens, clicks, replies, bounces and
/// unsubscribes of each step's email, and the leads behind each count, from the step rollup.
#[utoipa::path(
    get,
    path = "/api/campaigns/{campaign_id}/steps",
    operation_id = "get_campaign_steps",
    tag = "read",
    security(("bearer" = [])),
    params(("campaign_id" = String, Path, description = "Smartlead's campaign id"), Projected),
    responses(
        (status = 200, description = "Events and leads per step", body = CampaignSteps),
        (status = 400, description = "A parameter does not parse (the message names it)", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown or revoked token", body = ErrorBody),
        (status = 404, description = "The user has no events in this campaign", body = ErrorBody),
        (status = 503, description = "The database cannot answer now, or the analytics have not reached `min_event` yet; retry", body = ErrorBody),
    )
)]
pub(crate) async fn steps(
    AuthenticatedUser(user): AuthenticatedUser,
    AsOf(as_of): AsOf,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let campaign = campaign_id(&path)?;
    let rows = state
        .store
        .campaign_steps(user, campaign.clone())
        .await?
        .ok_or(ApiError::NotFound("campaign"))?;
    let mut steps: Vec<StepStats> = Vec::new();
    for row in rows {
        if steps.last().is_none_or(|s| s.step != row.step) {
            steps.push(StepStats {
                step: row.step,
                ..StepStats::default()
            });
        }
        let step = steps.last_mut().expect("pushed above");
        let leads = &mut step.unique_leads;
        let (events, unique) = match row.metric.as_str() {
            "sent" => (&mut step.sent, &mut leads.sent),
            "opened" => (&mut step.opened, &mut leads.opened),
            "clicked" => (&mut step.clicked, &mut leads.clicked),
            "replied" => (&mut step.replied, &mut leads.replied),
            "bounced" => (&mut step.bounced, &mut leads.bounced),
            "unsubscribed" => (&mut step.unsubscribed, &mut leads.unsubscribed),
            _ => continue,
        };
        *events += row.events;
        *unique += row.leads;
    }
    Ok(HttpResponse::Ok().json(CampaignSteps {
        as_of,
        campaign_id: campaign.as_str().to_owned(),
        steps,
    }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_only("/api/campaigns", list))
        .service(get_only("/api/campaigns/{campaign_id}/stats", stats))
        .service(get_only(
            "/api/campaigns/{campaign_id}/timeseries",
            timeseries,
        ))
        .service(get_only("/api/campaigns/{campaign_id}/steps", steps))
        .service(get_only("/api/stats", user_stats))
        .service(get_only("/api/timeseries", user_timeseries));
}
