//! Checking the hub against Smartlead's REST API: the client, and the comparison of Smartlead's
//! campaign counters with the local rollups.

pub mod check;
pub mod client;
pub mod statistics;
pub mod webhooks;
