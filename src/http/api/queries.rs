//! Each read route's query parameters as one typed struct, parsed and checked before the
//! handler runs: a bad value is a 400 naming its parameter, a parameter given twice a 400 too
//! (see [`Params`]). The structs say, route by route, what a route accepts.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use super::params::{Params, ShownRange};
use crate::domain::{Echo, LeadSearch, UtcTimestamp, DAY_MILLIS, HOUR_MILLIS};
use crate::http::ApiError;
use crate::storage::records::{Bucket, EventFilter, HourRange, Keyset, LeadFilter};

/// A route's parameters, built from the checked query string.
pub trait FromParams: Sized {
    fn from_params(params: &Params) -> Result<Self, ApiError>;
}

/// The extractor: `Query(search): Query<EventSearchParams>`.
pub struct Query<T>(pub T);

impl<T: FromParams> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Params::parse(req.query_string()).and_then(|p| T::from_params(&p).map(Query)))
    }
}

fn invalid(name: &str, reason: String) -> ApiError {
    ApiError::InvalidQuery {
        name: name.into(),
        reason,
    }
}

/// `GET /api/campaigns?limit=&cursor=`.
pub struct CampaignListParams {
    pub limit: usize,
    pub after: Option<String>,
}

impl FromParams for CampaignListParams {
    fn from_params(params: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            limit: params.limit(50)?,
            after: params.campaign_cursor()?,
        })
    }
}

/// `GET /api/stats` and `/api/campaigns/{id}/stats`: `from=&to=`, as whole hours.
pub struct StatsParams {
    /// The hours queried, and the range as the answer shows it.
    pub range: Option<(HourRange, ShownRange)>,
}

impl FromParams for StatsParams {
    fn from_params(params: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            range: params.hour_range()?,
        })
    }
}

/// `GET /api/campaigns/{id}/timeseries?bucket=hour|day&from=&to=`.
pub struct TimeSeriesParams {
    pub bucket: Bucket,
    /// The bucket's length, and the span shown without `from`.
    pub unit: i64,
    pub default_span: i64,
    pub from: Option<UtcTimestamp>,
    pub to: Option<UtcTimestamp>,
}

impl FromParams for TimeSeriesParams {
    fn from_params(params: &Params) -> Result<Self, ApiError> {
        let (bucket, unit, default_span) = match params.text("bucket").unwrap_or("day") {
            "hour" => (Bucket::Hour, HOUR_MILLIS, 48 * HOUR_MILLIS),
            "day" => (Bucket::Day, DAY_MILLIS, 30 * DAY_MILLIS),
            other => {
                return Err(invalid(
                    "bucket",
                    format!("`{}` is not one of `hour`, `day`", Echo(other)),
                ))
            }
        };
        let (from, to) = params.time_range()?;
        Ok(Self {
            bucket,
            unit,
            default_span,
            from,
            to,
        })
    }
}

/// `GET /api/leads?campaign_id=&last_event=&last_kind=&q=&order=recent&limit=&cursor=`.
pub struct LeadListParams {
    pub filter: LeadFilter,
    pub limit: usize,
    pub after: Option<Keyset>,
}

impl FromParams for LeadListParams {
    fn from_params(params: &Params) -> Result<Self, ApiError> {
        if let Some(order) = params.text("order").filter(|o| *o != "recent") {
            return Err(invalid(
                "order",
                format!("`{}` is not `recent`", Echo(order)),
            ));
        }
        Ok(Self {
            filter: lead_filter(params)?,
            limit: params.limit(50)?,
            after: params.keyset_cursor()?,
        })
    }
}

/// The lead list's filters, as `/api/leads` and its export take them.
fn lead_filter(params: &Params) -> Result<LeadFilter, ApiError> {
    Ok(LeadFilter {
        campaign_id: params.campaign_id()?,
        last_event: params.event_type("last_event")?,
        last_kind: params.headline("last_kind")?,
        search: params
            .text("q")
            .map(|raw| LeadSearch::parse(raw).map_err(|e| invalid("q", e.0)))
            .transpose()?,
    })
}

/// `GET /api/leads/export?campaign_id=&last_event=&last_kind=&q=`: the list's filters; every page.
pub struct LeadExportParams {
    pub filter: LeadFilter,
}

impl FromParams for LeadExportParams {
    fn from_params(params: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            filter: lead_filter(params)?,
        })
    }
}

/// `GET /api/leads/{id}/events?limit=&cursor=`.
pub struct TimelineParams {
    pub limit: usize,
    pub after: Option<Keyset>,
}

impl FromParams for TimelineParams {
    fn from_params(params: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            limit: params.limit(10)?,
            after: params.keyset_cursor()?,
        })
    }
}

/// `GET /api/kept-events?campaign_id=&limit=&cursor=`.
pub struct KeptEventParams {
    pub campaign: Option<crate::domain::CampaignId>,
    pub limit: usize,
    pub after: Option<Keyset>,
}

impl FromParams for KeptEventParams {
    fn from_params(params: &Params) -> Result<Self, ApiError> {
        let campaign = params
            .campaign_id()?
            .map(|id| {
                crate::domain::CampaignId::parse(&id).map_err(|e| invalid("campaign_id", e.0))
            })
            .transpose()?;
        Ok(Self {
            campaign,
            limit: params.limit(50)?,
            after: params.keyset_cursor()?,
        })
    }
}

/// `GET /api/events?email=&event_type=&kind=&campaign_id=&from=&to=&limit=&cursor=`.
pub struct EventSearchParams {
    pub filter: EventFilter,
    pub limit: usize,
    pub after: Option<Keyset>,
}

impl FromParams for EventSearchParams {
    fn from_params(params: &Params) -> Result<Self, ApiError> {
        let email = params
            .text("email")
            .map(|raw| crate::domain::EmailAddress::parse(raw).map_err(|e| invalid("email", e.0)))
            .transpose()?;
        let (from, to) = params.time_range()?;
        Ok(Self {
            filter: EventFilter {
                email: email.map(|e| e.as_str().to_owned()),
                event_type: params.event_type("event_type")?,
                kind: params.headline("kind")?,
                campaign_id: params.campaign_id()?,
                from: from.map(|t| t.to_string()),
                to: to.map(|t| t.to_string()),
            },
            limit: params.limit(50)?,
            after: params.keyset_cursor()?,
        })
    }
}
