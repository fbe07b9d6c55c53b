use clap::{Args, Subcommand};

use super::CliResult;
use crate::config::DbArgs;
use crate::domain::{EmailAddress, OrgId};
use crate::storage::records::NewUser;
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
    List,
}

pub fn run(args: UsersArgs) -> CliResult {
    let admin = Admin::open(&args.db.db)?;
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
        }
        UsersAction::List => {
            let all = admin.users()?;
            outln!("{:<36}  {:<32}  {:<20}  org name", "id", "email", "org id");
            for user in all {
                outln!(
                    "{:<36}  {:<32}  {:<20}  {}",
                    user.id,
                    user.email,
                    user.smartlead_org_id.unwrap_or_default(),
                    user.smartlead_org_name.unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}
