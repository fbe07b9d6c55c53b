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
    /// Show which Smartlead credentials a user has, masked (never the secrets themselves).
    Show {
        /// The user's id.
        #[arg(long)]
        user: String,
        #[arg(long)]
        json: bool,
    },
}

/// A secret as it may be shown: its length and last four characters, only when it is long
/// enough that four characters give nothing useful away.
fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() >= 16 {
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("****{tail} ({} characters)", chars.len())
    } else {
        format!("**** ({} characters)", chars.len())
    }
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
        CredentialsAction::Show { user, json } => {
            let user: UserId = user.parse()?;
            if admin.user(user)?.is_none() {
                return Err(format!("no user {user}").into());
            }
            let credentials = admin.smartlead_credentials(user)?.unwrap_or_default();
            let webhook_secret = credentials.webhook_secret.as_deref().map(mask);
            let api_key = credentials.api_key.as_deref().map(mask);
            if json {
                let shown = serde_json::json!({
                    "user_id": user.to_string(),
                    "webhook_secret": webhook_secret,
                    "api_key": api_key,
                });
                outln!("{shown}");
            } else {
                let none = || "not set".to_owned();
                outln!("webhook secret: {}", webhook_secret.unwrap_or_else(none));
                outln!("API key:        {}", api_key.unwrap_or_else(none));
            }
        }
    }
    Ok(())
}
