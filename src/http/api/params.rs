//! Query-string parameters of the read API: parsed once, every failure a 400 naming the
//! parameter. The routes take them as typed structs (`queries`), built from these.

use actix_web::web;
use serde::Serialize;
use std::collections::HashMap;

use crate::domain::{CampaignId, EventType, Headline, UtcTimestamp, HOUR_MILLIS};
use crate::http::ApiError;
use crate::storage::records::{HourRange, Keyset};

pub const MAX_LIMIT: usize = 500;

/// The times a query may name.
pub const EARLIEST: &str = "1970-01-01T00:00:00Z";
pub const LATEST: &str = "2100-01-01T00:00:00Z";

/// The bounds of an open-ended range: before and after every time a query may name.
const OPEN_START: &str = "0001-01-01T00:00:00.000Z";
const OPEN_END: &str = "9999-12-31T23:59:59.999Z";

fn parse_bound(bound: &str) -> UtcTimestamp {
    UtcTimestamp::parse(bound).expect("the bounds are timestamps")
}

/// A stats range as the answer shows it: the whole hours used, `null` for an open end.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShownRange {
    pub from: Option<String>,
    pub to: Option<String>,
}

pub struct Params(HashMap<String, String>);

fn invalid(name: &str, reason: impl Into<String>) -> ApiError {
    ApiError::InvalidQuery {
        name: name.to_owned(),
        reason: reason.into(),
    }
}

impl Params {
    /// A parameter given twice is refused: which one would count? (`limit=1&limit=500`)
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
            .map_err(|err| invalid("query", err.to_string()))?;
        let mut params = HashMap::new();
        for (name, value) in pairs.into_inner() {
            if params.contains_key(&name) {
                return Err(invalid(&name, "is given more than once"));
            }
            params.insert(name, value);
        }
        Ok(Self(params))
    }

    /// A present, non-empty value.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    pub fn limit(&self, default: usize) -> Result<usize, ApiError> {
        match self.text("limit") {
            None => Ok(default),
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    invalid(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    )
                }),
        }
    }

    /// `min_event`: a `seq` from a webhook answer, which the answer must include.
    pub fn min_event(&self) -> Result<Option<i64>, ApiError> {
        self.text("min_event")
            .map(|raw| {
                raw.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| invalid("min_event", "must be a whole number, 0 or more"))
            })
            .transpose()
    }

    /// A time within [`EARLIEST`, `LATEST`]: beyond them no event can be, and a range reaching
    /// year 9999 would only answer zeros.
    pub fn time(&self, name: &str) -> Result<Option<UtcTimestamp>, ApiError> {
        let Some(raw) = self.text(name) else {
            return Ok(None);
        };
        let time = UtcTimestamp::parse(raw).map_err(|e| invalid(name, e.0))?;
        let (earliest, latest) = (parse_bound(EARLIEST), parse_bound(LATEST));
        if time < earliest || time > latest {
            return Err(invalid(
                name,
                format!("must be between {EARLIEST} and {LATEST}"),
            ));
        }
        Ok(Some(time))
    }

    /// The `campaign_id` filter, as the text stored (checked like a campaign id in a path).
    pub fn campaign_id(&self) -> Result<Option<String>, ApiError> {
        self.text("campaign_id")
            .map(|raw| {
                CampaignId::parse(raw)
                    .map(|id| id.as_str().to_owned())
                    .map_err(|e| invalid("campaign_id", e.0))
            })
            .transpose()
    }

    pub fn event_type(&self, name: &str) -> Result<Option<EventType>, ApiError> {
        self.text(name)
            .map(|raw| {
                raw.parse()
                    .map_err(|e: crate::domain::InvalidValue| invalid(name, e.0))
            })
            .transpose()
    }

    /// A headline kind (`sent`, `opened`, `clicked`, `replied`, `bounced`, `unsubscribed`).
    pub fn headline(&self, name: &str) -> Result<Option<Headline>, ApiError> {
        self.text(name)
            .map(|raw| {
                raw.parse()
                    .map_err(|e: crate::domain::InvalidValue| invalid(name, e.0))
            })
            .transpose()
    }

    /// `from` and `to` as an exact half-open range, checked for order.
    pub fn time_range(&self) -> Result<(Option<UtcTimestamp>, Option<UtcTimestamp>), ApiError> {
        let (from, to) = (self.time("from")?, self.time("to")?);
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(invalid("from", "must not be after `to`"));
            }
        }
        Ok((from, to))
    }

    /// `from`/`to` widened to whole hours (analytics are hourly rollups), and the range as the
    /// answer shows it (`null` for an open end); `None` without either.
    pub fn hour_range(&self) -> Result<Option<(HourRange, ShownRange)>, ApiError> {
        Ok(match self.time_range()? {
            (None, None) => None,
            (from, to) => {
                let from = from.map(|t| t.hour_start().to_string());
                let to = to.map(|t| t.ceil_to(HOUR_MILLIS).to_string());
                let query = HourRange {
                    // Open ends as times before and after every stored hour (real times, so
                    // that every backend can compare them); they stay inside the query, never
                    // in an answer.
                    from: from.clone().unwrap_or_else(|| OPEN_START.to_owned()),
                    to: to.clone().unwrap_or_else(|| OPEN_END.to_owned()),
                };
                Some((query, ShownRange { from, to }))
            }
        })
    }

    /// The text behind an opaque `cursor`, if one was given.
    fn cursor(&self) -> Result<Option<String>, ApiError> {
        let Some(raw) = self.text("cursor") else {
            return Ok(None);
        };
        hex::decode(raw)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(Some)
            .ok_or_else(malformed_cursor)
    }

    /// The `cursor` of a (time, id) keyset list.
    pub fn keyset_cursor(&self) -> Result<Option<Keyset>, ApiError> {
        let Some(decoded) = self.cursor()? else {
            return Ok(None);
        };
        let (at, id) = decoded.split_once('|').ok_or_else(malformed_cursor)?;
        UtcTimestamp::parse(at).map_err(|_| malformed_cursor())?;
        uuid::Uuid::parse_str(id).map_err(|_| malformed_cursor())?;
        Ok(Some(Keyset {
            at: at.to_owned(),
            id: id.to_owned(),
        }))
    }

    /// The `cursor` of the campaign list (the last campaign id seen).
    pub fn campaign_cursor(&self) -> Result<Option<String>, ApiError> {
        let Some(decoded) = self.cursor()? else {
            return Ok(None);
        };
        decoded
            .strip_prefix("c|")
            .map(str::to_owned)
            .map(Some)
            .ok_or_else(malformed_cursor)
    }
}

fn malformed_cursor() -> ApiError {
    invalid("cursor", "is not a cursor this API returned")
}

pub fn encode_keyset(at: &str, id: &str) -> String {
    hex::encode(format!("{at}|{id}"))
}

pub fn encode_campaign_cursor(campaign: &str) -> String {
    hex::encode(format!("c|{campaign}"))
}

/// Splits an over-fetched page (limit + 1 rows) into the page and whether more follow.
pub fn page<T>(mut rows: Vec<T>, limit: usize) -> (Vec<T>, bool) {
    let more = rows.len() > limit;
    rows.truncate(limit);
    (rows, more)
}
