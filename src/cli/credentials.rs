use clap::{Args, Subcommand};

use super::CliResult;
use crate::config::DbArgs;
use crate::domain::UserId;
use crate::storage::records::SmartleadCredentials;
use crate::storage::Admin;

#[derive(Debug, Args)]
pub struct CredentialsArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    action: CredentialsAction,
}

#[derive(Debug, Subcommand)]
enum CredentialsAction {
    /// Set a user's Smartlead webhook secret (and API key), replacing any previous ones.
    SetSmartlead {
        /// The user's id (see `users list`).
        #[arg(long)]
        user: String,
        /// The secret Smartlead sends as `secret_key` or signs with.
        #[arg(long, env = "SMARTLEAD_HUB_NEW_WEBHOOK_SECRET", hide_env_values = true)]
        webhook_secret: String,
        /// The Smartlead API key.
        #[arg(long, env = "SMARTLEAD_HUB_NEW_API_KEY", hide_env_values = true)]
        api_key: Option<String>,
    },
}

pub fn run(args: CredentialsArgs) -> CliResult {
    let admin = Admin::open(&args.db.db)?;
    match args.action {
        CredentialsAction::SetSmartlead {
            user,
            webhook_secret,
            api_key,
        } => {
            let user: UserId = user.parse()?;
            if webhook_secret.trim().is_empty() {
                return Err("--webhook-secret must not be empty".into());
            }
            let credentials = SmartleadCredentials {
                webhook_secret: Some(webhook_secret),
                api_key,
            };
            admin.set_smartlead_credentials(user, &credentials)?;
            let api_key_note = if credentials.api_key.is_some() {
                " and API key"
            } else {
                ""
            };
            outln!("set Smartlead webhook secret{api_key_note} for user {user}");
        }
    }
    Ok(())
}
