//! Read queries behind the API. Every function takes the tenant first; none can return another
//! user's rows. Rollup reads touch a handful of rows; lists are keyset-paginated range scans.

mod events;
mod kept;
mod lead_export;
mod lead_search;
mod leads;
pub mod plans;
mod query;
mod search_reach;
mod stats;

pub use events::{lead_events, search_events};
pub use kept::kept_events;
pub use lead_export::export as export_leads;
pub use leads::{lead, leads, names as lead_names};
pub use stats::{campaign_exists, campaign_steps, campaigns, scope_metrics, timeseries};
