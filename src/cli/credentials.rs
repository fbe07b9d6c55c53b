use clap::{Args, Subcommand};

use super::CliResult;
use crate::config::DbArgs;
use crate::domain::{Period, UserId, UtcTimestamp, DAY_MILLIS};
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
    /// Set a user's Smartlead webhook secret and/or API key; what is not given is kept.
    SetSmartlead {
        /// The user's id (see `users list`).
        #[arg(long)]
        user: String,
        /// The secret Smartlead sends as `secret_key` or signs with. It replaces the stored one
        /// at once (within `--tenant-cache-ms` for a running service), unless
        /// `--keep-previous-for` keeps that one accepted as well for a while.
        #[arg(
            long,
            env = "SMARTLEAD_HUB_NEW_WEBHOOK_SECRET",
            hide_env_values = true,
            required_unless_present_any = ["api_key", "remove_api_key"]
        )]
        webhook_secret: Option<String>,
        /// Keep accepting the secret being replaced for this long (`24h`, at most `30d`): set the
        /// new secret here first, then in Smartlead, and no delivery in between is refused
        /// (Smartlead never retries a 401). Without it, any previous secret stops at once.
        #[arg(long, value_name = "PERIOD", requires = "webhook_secret")]
        keep_previous_for: Option<Period>,
        /// The Smartlead API key (reconciliation, `smartlead sync`).
        #[arg(
            long,
            env = "SMARTLEAD_HUB_NEW_API_KEY",
            hide_env_values = true,
            conflicts_with = "remove_api_key"
        )]
        api_key: Option<String>,
        /// Forget the stored API key.
        #[arg(long)]
        remove_api_key: bool,
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

/// The longest `--keep-previous-for`: a grace period, not a second secret.
const MAX_GRACE_DAYS: i64 = 30;

/// What `set-smartlead` was asked to change.
struct Changes {
    webhook_secret: Option<String>,
    keep_previous_for: Option<Period>,
    api_key: Option<String>,
    remove_api_key: bool,
}

/// The credentials after `changes`, and a line for each thing the operator should know.
fn apply(
    user: UserId,
    stored: &SmartleadCredentials,
    changes: Changes,
    now: UtcTimestamp,
) -> Result<(SmartleadCredentials, Vec<String>), Box<dyn std::error::Error>> {
    let mut next = stored.clone();
    let mut notes = Vec::new();
    if let Some(secret) = changes.webhook_secret {
        if secret.trim().is_empty() {
            return Err("--webhook-secret must not be empty".into());
        }
        let stored_secret = stored.webhook_secret.clone().filter(|s| !s.is_empty());
        let previous = match changes.keep_previous_for {
            None => {
                if stored
                    .previous_webhook_secret()
                    .is_some_and(|previous| now < previous.until)
                {
                    notes.push("the previous webhook secret is no longer accepted".to_owned());
                }
                None
            }
            Some(period) if period.millis() > MAX_GRACE_DAYS * DAY_MILLIS => {
                return Err(format!("--keep-previous-for is at most {MAX_GRACE_DAYS}d").into())
            }
            Some(period) => {
                let Some(replaced) = stored_secret.filter(|stored| *stored != secret) else {
                    return Err(format!(
                        "--keep-previous-for: user {user} has no other webhook secret stored to keep accepting"
                    )
                    .into());
                };
                let until = now.plus_millis(period.millis());
                notes.push(format!(
                    "the previous webhook secret is accepted too until {until}: set the new one in Smartlead before then"
                ));
                Some((replaced, until.to_string()))
            }
        };
        next.webhook_secret = Some(secret);
        next.previous_webhook_secret = previous.as_ref().map(|(secret, _)| secret.clone());
        next.previous_webhook_secret_until = previous.map(|(_, until)| until);
    } else if next.webhook_secret.is_some() {
        notes.push("kept the stored webhook secret".to_owned());
    }
    match changes.api_key {
        Some(key) if key.trim().is_empty() => {
            return Err(
                "--api-key must not be empty (--remove-api-key forgets the stored one)".into(),
            )
        }
        Some(key) => next.api_key = Some(key),
        None if next.api_key.is_none() => {}
        None if changes.remove_api_key => {
            next.api_key = None;
            notes.push("removed the stored API key".to_owned());
        }
        None => notes.push("kept the stored API key".to_owned()),
    }
    Ok((next, notes))
}

pub fn run(args: CredentialsArgs) -> CliResult {
    let admin = Admin::open(&args.db.db)?;
    match args.action {
        CredentialsAction::SetSmartlead {
            user,
            webhook_secret,
            keep_previous_for,
            api_key,
            remove_api_key,
        } => {
            let user: UserId = user.parse()?;
            let set = match (&webhook_secret, &api_key) {
                (Some(_), Some(_)) => "webhook secret and API key",
                (Some(_), None) => "webhook secret",
                (None, Some(_)) => "API key",
                (None, None) => "credentials",
            };
            let changes = Changes {
                webhook_secret,
                keep_previous_for,
                api_key,
                remove_api_key,
            };
            let stored = admin.smartlead_credentials(user)?.unwrap_or_default();
            let (credentials, notes) = apply(user, &stored, changes, UtcTimestamp::now())?;
            admin.set_smartlead_credentials(user, &credentials)?;
            outln!("set Smartlead {set} for user {user}");
            for note in notes {
                outln!("  {note}");
            }
        }
        CredentialsAction::Show { user, json } => {
            let user: UserId = user.parse()?;
            if admin.user(user)?.is_none() {
                return Err(format!("no user {user}").into());
            }
            let credentials = admin.smartlead_credentials(user)?.unwrap_or_default();
            let webhook_secret = credentials.webhook_secret.as_deref().map(mask);
            let api_key = credentials.api_key.as_deref().map(mask);
            let previous = credentials.previous_webhook_secret();
            let now = UtcTimestamp::now();
            if json {
                let shown = serde_json::json!({
                    "user_id": user.to_string(),
                    "webhook_secret": webhook_secret,
                    "api_key": api_key,
                    "previous_webhook_secret": previous.as_ref().map(|p| mask(&p.secret)),
                    "previous_webhook_secret_until": previous.as_ref().map(|p| p.until.to_string()),
                });
                outln!("{shown}");
            } else {
                let none = || "not set".to_owned();
                outln!("webhook secret: {}", webhook_secret.unwrap_or_else(none));
                if let Some(previous) = previous {
                    let state = if now < previous.until {
                        "accepted until"
                    } else {
                        "no longer accepted, since"
                    };
                    outln!(
                        "  previous:     {}, {state} {}",
                        mask(&previous.secret),
                        previous.until
                    );
                }
                outln!("API key:        {}", api_key.unwrap_or_else(none));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserId {
        "0190b8a0-0000-7000-8000-000000000001".parse().unwrap()
    }

    fn stored(secret: &str, key: Option<&str>) -> SmartleadCredentials {
        SmartleadCredentials {
            webhook_secret: Some(secret.into()),
            api_key: key.map(Into::into),
            ..Default::default()
        }
    }

    fn changes(secret: Option<&str>, keep: Option<&str>) -> Changes {
        Changes {
            webhook_secret: secret.map(Into::into),
            keep_previous_for: keep.map(|p| p.parse().unwrap()),
            api_key: None,
            remove_api_key: false,
        }
    }

    fn now() -> UtcTimestamp {
        UtcTimestamp::parse("2026-11-26T12:00:00.000Z").unwrap()
    }

    #[test]
    fn a_kept_previous_secret_is_the_replaced_one_until_the_period_ends() {
        let (next, notes) = apply(
            user(),
            &stored("old", Some("key")),
            changes(Some("new"), Some("24h")),
            now(),
        )
        .unwrap();
        assert_eq!(next.webhook_secret.as_deref(), Some("new"));
        assert_eq!(next.api_key.as_deref(), Some("key"), "the API key is kept");
        let previous = next.previous_webhook_secret().unwrap();
        assert_eq!(previous.secret, "old");
        assert_eq!(previous.until.to_string(), "2026-11-27T12:00:00.000Z");
        assert!(notes.iter().any(|n| n.contains("2026-11-27T12:00:00.000Z")));
        assert!(notes.iter().any(|n| n == "kept the stored API key"));
    }

    #[test]
    fn a_new_secret_without_a_period_ends_any_grace_at_once() {
        let (during, _) = apply(
            user(),
            &stored("old", None),
            changes(Some("new"), Some("1h")),
            now(),
        )
        .unwrap();
        let (next, notes) = apply(user(), &during, changes(Some("newer"), None), now()).unwrap();
        assert!(next.previous_webhook_secret().is_none());
        assert_eq!(notes, ["the previous webhook secret is no longer accepted"]);
        // Setting only the API key leaves the grace period alone.
        let only_key = Changes {
            api_key: Some("key".into()),
            ..changes(None, None)
        };
        let (next, notes) = apply(user(), &during, only_key, now()).unwrap();
        assert_eq!(
            next.previous_webhook_secret(),
            during.previous_webhook_secret()
        );
        assert_eq!(next.webhook_secret.as_deref(), Some("new"));
        assert_eq!(notes, ["kept the stored webhook secret"]);
    }

    #[test]
    fn a_period_needs_another_stored_secret_and_at_most_thirty_days() {
        let refused = |stored: &SmartleadCredentials, keep: &str| {
            apply(user(), stored, changes(Some("new"), Some(keep)), now())
                .unwrap_err()
                .to_string()
        };
        assert!(refused(&SmartleadCredentials::default(), "1h").contains("no other webhook secret"));
        assert!(refused(&stored("new", None), "1h").contains("no other webhook secret"));
        assert!(refused(&stored("old", None), "31d").contains("at most 30d"));
        assert!(apply(
            user(),
            &stored("old", None),
            changes(Some("new"), Some("30d")),
            now()
        )
        .is_ok());
    }

    #[test]
    fn the_api_key_is_replaced_removed_or_kept_and_never_emptied() {
        let with = |api_key: Option<&str>, remove_api_key| Changes {
            api_key: api_key.map(Into::into),
            remove_api_key,
            ..changes(None, None)
        };
        let key = stored("s", Some("key"));
        let (next, _) = apply(user(), &key, with(Some("key2"), false), now()).unwrap();
        assert_eq!(next.api_key.as_deref(), Some("key2"));
        let (next, notes) = apply(user(), &key, with(None, true), now()).unwrap();
        assert_eq!(next.api_key, None);
        assert!(notes.contains(&"removed the stored API key".to_owned()));
        assert_eq!(next.webhook_secret.as_deref(), Some("s"));
        assert!(apply(user(), &key, with(Some(" "), false), now()).is_err());
        assert!(apply(user(), &key, changes(Some(""), None), now()).is_err());
    }
}
