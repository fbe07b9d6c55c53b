//! One integration-test binary (fast to link): the real server on a random port, a real SQLite
//! file per test, real Smartlead payload fixtures.

mod admin_cli;
mod body_memory;
mod cli;
mod dashboard;
mod dedupe;
mod deliveries_cli;
mod demo;
mod hardening;
mod health;
mod held;
mod helpers;
mod import;
mod ingestion;
mod kept_events;
mod metrics;
mod model;
mod openapi;
mod ordering;
mod outside_commands;
mod outside_tools;
mod process;
mod promises;
mod read_api;
mod read_api_access;
mod read_api_bounds;
mod readme;
mod reliability;
mod retention;
mod rollups;
mod schema;
mod steps;
mod storage_faults;
mod wal;
mod webhook_auth;
mod webhook_bad_input;
