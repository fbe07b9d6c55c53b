use clap::{Args, Subcommand};

use super::CliResult;
use crate::config::DbArgs;
use crate::domain::{Period, TokenId, UserId, UtcTimestamp};
use crate::storage::Admin;

#[derive(Debug, Args)]
pub struct TokensArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    action: TokensAction,
}

#[derive(Debug, Subcommand)]
enum TokensAction {
    /// Issue an API token for a user. The token is printed once and cannot be shown again.
    Issue {
        /// The user's id (see `users list`).
        #[arg(long)]
        user: String,
        /// A label to tell tokens apart.
        #[arg(long)]
        name: Option<String>,
        /// Refuse the token after this long (`12h`, `7d`, `2w`): a contractor's dashboard
        /// access, a script's key that should not outlive its job. Without it, it lasts until
        /// revoked.
        #[arg(long, value_name = "PERIOD")]
        expires_in: Option<Period>,
    },
    /// List a user's tokens (never the secrets).
    List {
        #[arg(long)]
        user: String,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id: every request with it is refused from then on.
    Revoke {
        /// The token's id (see `tokens list`).
        token_id: String,
    },
}

pub fn run(args: TokensArgs) -> CliResult {
    let admin = Admin::open(&args.db.db)?;
    match args.action {
        TokensAction::Issue {
            user,
            name,
            expires_in,
        } => {
            let user: UserId = user.parse()?;
            let expires_at =
                expires_in.map(|period| UtcTimestamp::now().plus_millis(period.millis()));
            let (id, token) = admin.issue_token(user, name.as_deref(), expires_at)?;
            match expires_at {
                Some(at) => outln!("issued token {id} for user {user}, expiring {at}"),
                None => outln!("issued token {id} for user {user}"),
            }
            outln!("{}", token.expose());
            eprintln!("store it now: only its hash is kept, it cannot be shown again");
        }
        TokensAction::List { user, json } => {
            let user: UserId = user.parse()?;
            if json {
                outln!("{}", serde_json::to_string(&admin.tokens(user)?)?);
                return Ok(());
            }
            outln!(
                "{:<36}  {:<16}  {:<24}  {:<24}  {:<24}  revoked",
                "id",
                "name",
                "created",
                "last used",
                "expires"
            );
            for t in admin.tokens(user)? {
                outln!(
                    "{:<36}  {:<16}  {:<24}  {:<24}  {:<24}  {}",
                    t.id,
                    t.name.unwrap_or_default(),
                    t.created_at,
                    t.last_used_at.unwrap_or_else(|| "never".into()),
                    t.expires_at.unwrap_or_else(|| "never".into()),
                    t.revoked_at.unwrap_or_else(|| "-".into())
                );
            }
        }
        TokensAction::Revoke { token_id } => {
            let id: TokenId = token_id.parse()?;
            admin.revoke_token(id)?;
            outln!("revoked token {id}");
        }
    }
    Ok(())
}
