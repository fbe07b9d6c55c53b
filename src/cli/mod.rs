//! Command-line interface: `serve` (the default) and the admin commands beside it.

/// `println!` for command output, returning the write's error instead of panicking: with
/// `smartlead-hub users list | head -1`, a closed stdout ends the command (quietly, in `main`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

mod backup;
mod credentials;
mod deliveries;
mod demo;
mod import;
mod leads;
mod migrate;
mod migrate_data;
mod payloads;
mod prune;
mod rollups;
pub mod serve;
mod smartlead;
mod smartlead_sync;
mod tokens;
mod users;

use clap::{Parser, Subcommand};

use crate::config::Settings;

/// Receives Smartlead webhooks into SQLite (or PostgreSQL) and answers campaign analytics.
#[derive(Debug, Parser)]
#[command(
    name = "smartlead-hub",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no subcommand, the service runs with these settings.
    #[command(flatten)]
    serve: Settings,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (the default).
    Serve(Settings),
    /// Inspect or change the database schema version.
    Migrate(migrate::MigrateArgs),
    /// Copy a SQLite install into PostgreSQL (resumable, then verified).
    MigrateData(migrate_data::MigrateDataArgs),
    /// Manage users (tenants) and their Smartlead org.
    Users(users::UsersArgs),
    /// Manage integration credentials.
    Credentials(credentials::CredentialsArgs),
    /// Issue, list and revoke API tokens for the read API.
    Tokens(tokens::TokensArgs),
    /// Rebuild or check the analytics rollups against email_events.
    Rollups(rollups::RollupsArgs),
    /// Name leads from their stored events, or forget one person (an erasure request).
    Leads(leads::LeadsArgs),
    /// Copy the live database to a new file while the service keeps running.
    Backup(backup::BackupArgs),
    /// Clear the payloads of old events (counts, leads, dedupe keys and rollups stay).
    Prune(prune::PruneArgs),
    /// Compress stored payloads (SQLite): status, train a dictionary, compress, decompress.
    Payloads(payloads::PayloadsArgs),
    /// Create a demo user and push a realistic synthetic history through the webhook's path.
    Demo(demo::DemoArgs),
    /// Import captured webhook bodies (JSON lines or .json files) through the webhook's path.
    Import(import::ImportArgs),
    /// Print the OpenAPI 3.1 document (the one `GET /api/openapi.json` serves).
    Openapi,
    /// Check this hub's numbers against Smartlead's own (REST API, the user's API key).
    Smartlead(smartlead::SmartleadArgs),
    /// List, show and replay held deliveries (authentic, but not mappable when received).
    Deliveries(deliveries::DeliveriesArgs),
}

/// A CLI failure: printed to stderr, exit code 1.
pub type CliResult = Result<(), Box<dyn std::error::Error>>;

/// True when the command failed only because whoever read its output went away (`| head`):
/// not worth an error message.
pub fn is_closed_output(err: &(dyn std::error::Error + 'static)) -> bool {
    err.downcast_ref::<std::io::Error>()
        .is_some_and(|err| err.kind() == std::io::ErrorKind::BrokenPipe)
}

impl Cli {
    pub fn run(self) -> CliResult {
        match self.command {
            None => serve::run(self.serve),
            Some(Command::Serve(settings)) => serve::run(settings),
            Some(Command::Migrate(args)) => migrate::run(args),
            Some(Command::MigrateData(args)) => migrate_data::run(args),
            Some(Command::Users(args)) => users::run(args),
            Some(Command::Credentials(args)) => credentials::run(args),
            Some(Command::Tokens(args)) => tokens::run(args),
            Some(Command::Rollups(args)) => rollups::run(args),
            Some(Command::Leads(args)) => leads::run(args),
            Some(Command::Backup(args)) => backup::run(args),
            Some(Command::Deliveries(args)) => deliveries::run(args),
            Some(Command::Import(args)) => import::run(args),
            Some(Command::Smartlead(args)) => smartlead::run(args),
            Some(Command::Demo(args)) => demo::run(args),
            Some(Command::Prune(args)) => prune::run(args),
            Some(Command::Payloads(args)) => payloads::run(args),
            Some(Command::Openapi) => {
                outln!("{}", crate::http::openapi::document().trim_end());
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn db_is_accepted_before_and_after_subcommands() {
        for args in [
            &["smartlead-hub", "--db", "x.db"][..],
            &["smartlead-hub", "serve", "--db", "x.db"],
            &["smartlead-hub", "migrate", "--db", "x.db", "status"],
            &["smartlead-hub", "migrate", "status", "--db", "x.db"],
            &["smartlead-hub", "users", "list", "--db", "x.db"],
        ] {
            Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        }
    }
}
