//! smartlead-hub: receives Smartlead webhooks, stores every email event in SQLite, keeps each
//! lead's latest activity current and answers campaign analytics.

pub mod cli;
pub mod config;
pub mod domain;
pub mod http;
pub mod jobs;
pub mod reconcile;
pub mod smartlead;
pub mod startup;
pub mod storage;
pub mod telemetry;
