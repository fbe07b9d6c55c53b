use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::CliResult;
use crate::config::DbArgs;
use crate::domain::{EmailAddress, OrgId, UserId, UtcTimestamp};
use crate::storage::records::{NewUser, User, USER_REMOVAL_BATCH};
use crate::storage::Admin;

#[derive(Debug, Args)]
pub struct UsersArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    action: UsersAction,
}

#[derive(Debug, Subcommand)]
enum UsersAction {
    /// Create a user mapped to a Smartlead org.
    Add {
        /// The user's email (unique).
        #[arg(long)]
        email: String,
        /// The Smartlead org id the webhook URL will carry as `?org_id=`.
        #[arg(long)]
        org_id: String,
        /// Human-readable org name.
        #[arg(long)]
        org_name: Option<String>,
        /// The user's name.
        #[arg(long)]
        name: Option<String>,
    },
    /// List users with their org.
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one user (as JSON with `--json`).
    Show {
        /// The user's id (see `users list`).
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// Move a user to another Smartlead org: its webhook URL changes with it.
    SetOrg {
        /// The user's id.
        user: String,
        /// The new Smartlead org id (no other user may have it).
        #[arg(long)]
        org_id: String,
        /// A new org name (kept if not given).
        #[arg(long)]
        org_name: Option<String>,
    },
    /// Delete a user and everything that belongs to it (events, leads, rollups, tokens,
    /// credentials, held deliveries), as the schema cascades; prints what went. Safe beside the
    /// running service: the org's deliveries are refused from the start, and on SQLite the
    /// rows go a batch per transaction, so other tenants' deliveries wait for one batch at
    /// most. If it is interrupted, run it again to finish.
    Remove {
        /// The user's id.
        user: String,
        /// Required: this cannot be undone.
        #[arg(long)]
        yes: bool,
        /// Rows per transaction on SQLite (PostgreSQL removes in one transaction, which
        /// locks only this user's rows, 2 s after releasing the org).
        #[arg(long, default_value_t = USER_REMOVAL_BATCH)]
        batch: usize,
    },
}

pub fn run(args: UsersArgs) -> CliResult {
    let mut admin = Admin::open(&args.db.db)?;
    match args.action {
        UsersAction::Add {
            email,
            org_id,
            org_name,
            name,
        } => {
            let email = EmailAddress::parse(&email)?;
            let org = OrgId::parse(&org_id)?;
            let user = admin.add_user(&NewUser {
                email: email.as_str(),
                name: name.as_deref(),
                org_id: Some(&org),
                org_name: org_name.as_deref(),
            })?;
            outln!(
                "created user {} <{}> for Smartlead org {}",
                user.id,
                user.email,
                org
            );
            outln!("webhook URL: /api/webhooks/smartlead?org_id={org}");
            outln!(
                "next: smartlead-hub credentials set-smartlead --user {} --webhook-secret S \
                 (until its secret is stored, or the service has --default-webhook-secret, its \
                 deliveries are refused with 401, which Smartlead never retries); \
                 smartlead-hub tokens issue --user {} signs in to the dashboard",
                user.id,
                user.id
            );
        }
        UsersAction::List { json } => {
            let all = admin
                .users()?
                .into_iter()
                .map(|user| status(&admin, user))
                .collect::<Result<Vec<_>, _>>()?;
            if json {
                outln!("{}", serde_json::to_string(&all)?);
                return Ok(());
            }
            outln!(
                "{:<36}  {:<32}  {:<20}  {:<8}  {:<24}  org name",
                "id",
                "email",
                "org id",
                "secret",
                "newest event"
            );
            for shown in all {
                let user = shown.user;
                outln!(
                    "{:<36}  {:<32}  {:<20}  {:<8}  {:<24}  {}",
                    user.id,
                    user.email,
                    user.smartlead_org_id.unwrap_or_default(),
                    match (
                        shown.webhook_secret_stored,
                        &shown.previous_webhook_secret_until
                    ) {
                        (true, Some(_)) => "rotating",
                        (true, None) => "yes",
                        (false, _) => "no",
                    },
                    shown.newest_event_at.as_deref().unwrap_or("none"),
                    user.smartlead_org_name.unwrap_or_default()
                );
            }
        }
        UsersAction::Show { user, json } => {
            let shown = status(&admin, find(&admin, &user)?)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&shown)?);
            } else {
                let user = shown.user;
                outln!("id:       {}", user.id);
                outln!("email:    {}", user.email);
                outln!("name:     {}", user.name.unwrap_or_default());
                outln!("org id:   {}", user.smartlead_org_id.unwrap_or_default());
                outln!("org name: {}", user.smartlead_org_name.unwrap_or_default());
                outln!("created:  {}", user.created_at);
                match (
                    shown.webhook_secret_stored,
                    &shown.previous_webhook_secret_until,
                ) {
                    (true, Some(until)) => outln!(
                        "webhook:  secret stored; the one it replaced is accepted too until {until}"
                    ),
                    (true, None) => outln!("webhook:  secret stored"),
                    (false, _) => outln!(
                        "webhook:  no secret stored: its deliveries are refused (401, never \
                         retried by Smartlead) unless the service runs with \
                         --default-webhook-secret"
                    ),
                }
                outln!(
                    "newest event: {}",
                    shown.newest_event_at.as_deref().unwrap_or("none yet")
                );
            }
        }
        UsersAction::SetOrg {
            user,
            org_id,
            org_name,
        } => {
            let id: UserId = user.parse()?;
            let org = OrgId::parse(&org_id)?;
            let user = admin.set_org(id, &org, org_name.as_deref())?;
            outln!("user {} is now Smartlead org {org}", user.id);
            outln!("webhook URL: /api/webhooks/smartlead?org_id={org}");
        }
        UsersAction::Remove { user, yes, batch } => {
            let user = find(&admin, &user)?;
            if !yes {
                let rows = admin.user_rows(user.id.parse()?)?;
                let mut what: String = rows
                    .iter()
                    .filter(|(_, rows)| *rows > 0)
                    .map(|(table, rows)| format!("\n  {table}: {rows} rows"))
                    .collect();
                if what.is_empty() {
                    // A user without data, or a removal interrupted after its last batch.
                    what = "\n  no rows besides the user itself".to_owned();
                }
                return Err(format!(
                    "this deletes user {} <{}> and all of its data:{what}\nadd --yes to do it",
                    user.id, user.email
                )
                .into());
            }
            let bar = ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            let removed = admin.remove_user(user.id.parse()?, batch, &mut |table, rows| {
                bar.set_message(format!("{table}: {rows} rows removed"));
                bar.tick();
            })?;
            bar.finish_and_clear();
            outln!(
                "removed user {} <{}> in {} transaction{}",
                user.id,
                user.email,
                removed.transactions,
                if removed.transactions == 1 { "" } else { "s" }
            );
            for (table, rows) in removed.tables {
                outln!("  {table}: {rows} rows");
            }
        }
    }
    Ok(())
}

/// A user with what an operator checks first: can its deliveries authenticate, and when did
/// its newest event happen (its own time, as the analytics have it).
#[derive(Serialize)]
struct UserStatus {
    #[serde(flatten)]
    user: User,
    webhook_secret_stored: bool,
    /// While a rotation's previous secret is still accepted (`--keep-previous-for`): until when.
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_webhook_secret_until: Option<String>,
    newest_event_at: Option<String>,
}

fn status(admin: &Admin, user: User) -> Result<UserStatus, Box<dyn std::error::Error>> {
    let id: UserId = user.id.parse()?;
    let credentials = admin.smartlead_credentials(id)?.unwrap_or_default();
    let webhook_secret_stored = credentials
        .webhook_secret
        .as_ref()
        .is_some_and(|s| !s.is_empty());
    let previous_webhook_secret_until = credentials
        .previous_webhook_secret()
        .filter(|previous| UtcTimestamp::now() < previous.until)
        .map(|previous| previous.until.to_string());
    let newest_event_at = admin
        .user_metrics(id)?
        .into_iter()
        .map(|row| row.last_at)
        .max();
    Ok(UserStatus {
        user,
        webhook_secret_stored,
        previous_webhook_secret_until,
        newest_event_at,
    })
}

/// The user with this id, or a clear error.
fn find(admin: &Admin, id: &str) -> Result<User, Box<dyn std::error::Error>> {
    let id: UserId = id.parse()?;
    Ok(admin.user(id)?.ok_or_else(|| format!("no user {id}"))?)
}
