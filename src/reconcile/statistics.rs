//! Paging a campaign's per-email statistics (`/campaigns/{id}/statistics`), 1,000 rows at a
//! time, with the guards a broken or hostile answer needs: more rows than asked, the same page
//! twice, pages without end.

use super::client::{ClientError, SmartleadClient};
use crate::domain::CampaignId;
use crate::smartlead::rest::{StatisticsPage, StatisticsRow};

/// Smartlead's largest page of statistics.
pub const PAGE: u64 = 1000;
/// Past this many pages a listing is taken to be endless.
const MAX_PAGES: u64 = 10_000;

pub struct Pager {
    path: String,
    since: Option<String>,
    page: u64,
    rows: u64,
    previous_first: Option<(Option<String>, String)>,
    done: bool,
}

impl Pager {
    /// The statistics of `campaign`, of emails sent since `since` if given.
    pub fn new(campaign: &CampaignId, since: Option<String>) -> Self {
        Self {
            path: format!("/campaigns/{}/statistics", campaign.as_str()),
            since,
            page: 0,
            rows: 0,
            previous_first: None,
            done: false,
        }
    }

    /// The next page's rows; `None` once every row was read.
    pub fn next(
        &mut self,
        client: &mut SmartleadClient,
    ) -> Result<Option<Vec<StatisticsRow>>, ClientError> {
        if self.done {
            return Ok(None);
        }
        let broken = |reason: String| ClientError::Shape {
            method: "GET",
            path: self.path.clone(),
            reason,
        };
        if self.page >= MAX_PAGES {
            return Err(broken(format!("more than {MAX_PAGES} pages: stopping")));
        }
        let mut query = vec![
            ("offset", (self.page * PAGE).to_string()),
            ("limit", PAGE.to_string()),
        ];
        if let Some(since) = &self.since {
            query.push(("sent_time_start_date", since.clone()));
        }
        let page: StatisticsPage = client.get_with(&self.path, &query)?;
        let count = page.data.len() as u64;
        if count > PAGE {
            return Err(broken(format!("{count} rows for a page of {PAGE}")));
        }
        let first = page
            .data
            .first()
            .map(|row| (row.stats_id.clone(), row.lead_email.clone()));
        if count > 0 && first == self.previous_first {
            return Err(broken("the same page twice: stopping".into()));
        }
        self.previous_first = first;
        self.page += 1;
        self.rows += count;
        self.done = count < PAGE || self.rows >= page.total_stats;
        Ok(Some(page.data))
    }
}
