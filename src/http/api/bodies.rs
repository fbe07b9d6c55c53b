//! The read API's answers as typed structs, ready for an OpenAPI document to be derived from
//! them. Fields are declared in alphabetical order on purpose: the answers were first built as
//! `serde_json::Value`s, whose maps sort their keys, and clients may compare bytes.

use std::collections::BTreeMap;

use serde::Serialize;

use super::params::ShownRange;
use super::stats_view::StatsView;

/// `GET /api/me`.
#[derive(Serialize)]
pub struct Me {
    pub email: String,
    pub id: String,
    pub name: Option<String>,
    pub smartlead_org_id: Option<String>,
    pub smartlead_org_name: Option<String>,
}

/// `GET /api/campaigns/{id}/stats`.
#[derive(Serialize)]
pub struct CampaignStats {
    pub campaign_id: String,
    pub range: Option<ShownRange>,
    pub stats: StatsView,
}

/// `GET /api/stats`.
#[derive(Serialize)]
pub struct UserStats {
    pub range: Option<ShownRange>,
    pub stats: StatsView,
    pub user_id: String,
}

/// One campaign of `GET /api/campaigns`.
#[derive(Serialize)]
pub struct CampaignSummary {
    pub campaign_id: String,
    pub stats: StatsView,
}

/// `GET /api/campaigns`.
#[derive(Serialize)]
pub struct CampaignList {
    pub campaigns: Vec<CampaignSummary>,
    pub next_cursor: Option<String>,
}

/// One bucket of a time series: its start and its counts per metric (empty when none).
#[derive(Serialize)]
pub struct SeriesBucket {
    pub counts: BTreeMap<String, i64>,
    pub start: String,
}

/// `GET /api/campaigns/{id}/timeseries`.
#[derive(Serialize)]
pub struct TimeSeries {
    pub bucket: &'static str,
    pub campaign_id: String,
    pub from: String,
    pub series: Vec<SeriesBucket>,
    pub to: String,
}

/// `GET /health`.
#[derive(Serialize)]
pub struct Health {
    pub schema_version: usize,
    pub status: &'static str,
}
