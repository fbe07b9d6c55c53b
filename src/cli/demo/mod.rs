//! `demo`: a demo user (org, webhook secret, API token) and a realistic Smartlead history pushed
//! through the webhook's own path, so that the API and the dashboard have something to show in
//! one command. `serve --demo` runs it before serving.

mod history;

use crate::storage::Database;
use std::net::SocketAddr;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::import::{Body, Captured, Importer, Summary};
use super::CliResult;
use crate::config::DbArgs;
use crate::domain::{OrgId, UserId, UtcTimestamp, HOUR_MILLIS};
use crate::storage::records::{NewUser, SmartleadCredentials};
use crate::storage::Admin;

pub const DEMO_ORG: &str = "demo-org";
const DEMO_EMAIL: &str = "demo@smartlead-hub.example";
pub const DEFAULT_EVENTS: usize = 30_000;
pub const DEFAULT_SEED: u64 = 1;

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    db: DbArgs,
    /// About how many events to generate (over ~6 weeks, 8 campaigns).
    #[arg(long, default_value_t = DEFAULT_EVENTS as u64, value_parser = clap::value_parser!(u64).range(1..=5_000_000))]
    events: u64,
    /// The seed: the same seed gives the same history (running it again stores nothing new).
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// The address the printed URLs point at (where `serve` will listen).
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
}

pub fn run(args: DemoArgs) -> CliResult {
    let outcome = seed(&args.db.db, args.events as usize, args.seed, true)?;
    print_welcome(&outcome, args.bind)
}

/// What a demo run did, and the token to try it with.
pub struct DemoOutcome {
    pub user: UserId,
    pub token: String,
    pub leads: usize,
    pub campaigns: usize,
    pub end: UtcTimestamp,
    pub summary: Summary,
}

/// Creates (or reuses) the demo user and pushes `events` events of history for `seed` through
/// the webhook's path. The history ends at the hour the demo user was created, so that a
/// second run (any day) regenerates the very same bodies and stores nothing new.
pub fn seed(
    db: &Database,
    events: usize,
    seed: u64,
    progress: bool,
) -> Result<DemoOutcome, Box<dyn std::error::Error>> {
    let mut admin = Admin::open(db)?;
    let org = OrgId::parse(DEMO_ORG)?;
    let user = demo_user(&admin, &org)?;
    let user_id: UserId = user.id.parse()?;
    let secret = match admin
        .smartlead_credentials(user_id)?
        .and_then(|c| c.webhook_secret)
    {
        Some(secret) => secret,
        None => {
            let secret = crate::domain::ApiToken::generate()?.expose().to_owned();
            let credentials = SmartleadCredentials {
                webhook_secret: Some(secret.clone()),
                api_key: None,
                ..Default::default()
            };
            admin.set_smartlead_credentials(user_id, &credentials)?;
            secret
        }
    };
    let end = UtcTimestamp::parse(&user.created_at)?.floor_to(HOUR_MILLIS);
    let plan = history::Plan {
        events,
        seed,
        end,
        secret,
    };
    let history = history::generate(&plan);
    let tenant = admin
        .webhook_tenant(&org)?
        .ok_or("the demo org has no user")?;
    let bar = if progress {
        ProgressBar::new(history.bodies.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} events {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut importer = Importer::new(&mut admin, org, tenant, false);
    for (n, body) in history.bodies.into_iter().enumerate() {
        importer.take(Captured {
            name: format!("demo event {n}"),
            body: Body::Bytes(body.into_bytes()),
        })?;
        bar.inc(1);
    }
    let summary = importer.finish()?;
    bar.finish_and_clear();
    let (_, token) = admin.issue_token(user_id, Some("demo"), None)?;
    Ok(DemoOutcome {
        user: user_id,
        token: token.expose().to_owned(),
        leads: history.leads,
        campaigns: history.campaigns,
        end,
        summary,
    })
}

fn demo_user(
    admin: &Admin,
    org: &OrgId,
) -> Result<crate::storage::records::User, Box<dyn std::error::Error>> {
    if let Some(user) = admin
        .users()?
        .into_iter()
        .find(|u| u.smartlead_org_id.as_deref() == Some(org.as_str()))
    {
        return Ok(user);
    }
    Ok(admin.add_user(&NewUser {
        email: DEMO_EMAIL,
        name: Some("Demo"),
        org_id: Some(org),
        org_name: Some("Demo org (synthetic data)"),
    })?)
}

/// The token, where to look and three requests to try.
pub fn print_welcome(outcome: &DemoOutcome, bind: SocketAddr) -> CliResult {
    let s = &outcome.summary;
    let held: usize = s.held.values().sum();
    let rejected: usize = s.rejected.values().sum();
    outln!(
        "demo history: {} events for {} leads in {} campaigns, six weeks to {}",
        s.bodies,
        outcome.leads,
        outcome.campaigns,
        outcome.end
    );
    outln!(
        "  {} stored, {} already stored, {} kept, {held} held, {rejected} rejected",
        s.stored,
        s.duplicate,
        s.kept
    );
    let base = format!("http://{bind}");
    outln!();
    outln!("demo user {} (org {DEMO_ORG})", outcome.user);
    outln!("API token (shown once): {}", outcome.token);
    outln!();
    outln!("Dashboard: {base}/#token={}", outcome.token);
    outln!("API:     {base}/api/campaigns");
    outln!("Health:  {base}/health");
    outln!();
    outln!("Try:");
    let token = &outcome.token;
    outln!("  curl -H 'Authorization: Bearer {token}' {base}/api/campaigns");
    outln!("  curl -H 'Authorization: Bearer {token}' {base}/api/stats");
    outln!("  curl -H 'Authorization: Bearer {token}' '{base}/api/leads?limit=5'");
    outln!("  curl -H 'Authorization: Bearer {token}' '{base}/api/leads/export?last_kind=replied' -o replied.csv");
    Ok(())
}
