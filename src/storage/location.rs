//! Where the data lives: a SQLite file (the default) or a PostgreSQL server, told apart by the
//! `--db` value itself (a `postgres://` or `postgresql://` URL, or anything else as a path), the
//! way vaultwarden picks its backend from the URL's scheme.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A `--db` value.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(PostgresUrl),
}

/// A PostgreSQL connection URL. Its password never appears in `Display` or `Debug`: the value
/// is logged at start-up and quoted in errors.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl(String);

impl PostgresUrl {
    /// The whole URL, password included: for connecting only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn config(&self) -> postgres::Config {
        self.0.parse().expect("checked when the URL was parsed")
    }
}

impl Database {
    /// The SQLite file, when this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(path) => Some(path),
            Database::Postgres(_) => None,
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }
}

impl From<PathBuf> for Database {
    fn from(path: PathBuf) -> Self {
        Database::Sqlite(path)
    }
}

impl From<&Path> for Database {
    fn from(path: &Path) -> Self {
        Database::Sqlite(path.to_owned())
    }
}

impl From<&PathBuf> for Database {
    fn from(path: &PathBuf) -> Self {
        Database::Sqlite(path.clone())
    }
}

impl From<&str> for Database {
    fn from(value: &str) -> Self {
        value
            .parse()
            .unwrap_or_else(|_| Database::Sqlite(value.into()))
    }
}

impl From<&Database> for Database {
    fn from(value: &Database) -> Self {
        value.clone()
    }
}

impl FromStr for Database {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            // Parsed now so that a typo is refused before anything starts; the parser's own
            // message may quote the URL, password and all, so it is not repeated.
            return match value.parse::<postgres::Config>() {
                Ok(_) => Ok(Database::Postgres(PostgresUrl(value.to_owned()))),
                Err(_) => Err("not a valid PostgreSQL connection URL \
                     (postgres://user:password@host:port/database?sslmode=…)"
                    .to_owned()),
            };
        }
        if value.is_empty() {
            return Err("empty: give a SQLite file path or a postgres:// URL".to_owned());
        }
        Ok(Database::Sqlite(PathBuf::from(value)))
    }
}

/// `--db`'s parser for clap: clap's own error would quote the value, a password included; this
/// one says only what is wrong.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseParser;

impl clap::builder::TypedValueParser for DatabaseParser {
    type Value = Database;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Database, clap::Error> {
        let flag = arg.map_or("--db".to_owned(), |a| format!("--{}", a.get_id()));
        let invalid = |why: &str| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value for {flag}: {why}\n"),
            )
        };
        let text = value.to_str().ok_or_else(|| invalid("not valid UTF-8"))?;
        text.parse().map_err(|why: String| invalid(&why))
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => url.fmt(f),
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Database::Postgres(url) => f.debug_tuple("Postgres").field(url).finish(),
        }
    }
}

impl fmt::Display for PostgresUrl {
    /// The URL with its password (in the userinfo or a `password=` parameter) replaced.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (scheme, rest) = self.0.split_once("://").unwrap_or(("postgres", &self.0));
        let (authority, tail) = match rest.find(['/', '?']) {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        let authority = match authority.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _password)) => format!("{user}:***@{host}"),
                None => format!("{userinfo}@{host}"),
            },
            None => authority.to_owned(),
        };
        let tail: String = match tail.split_once('?') {
            Some((path, query)) => {
                let query: Vec<String> = query
                    .split('&')
                    .map(|pair| match pair.split_once('=') {
                        Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                            format!("{key}=***")
                        }
                        _ => pair.to_owned(),
                    })
                    .collect();
                format!("{path}?{}", query.join("&"))
            }
            None => tail.to_owned(),
        };
        write!(f, "{scheme}://{authority}{tail}")
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_selects_postgres_and_anything_else_is_a_file() {
        assert!(matches!(
            "postgres://hub@localhost/hub".parse(),
            Ok(Database::Postgres(_))
        ));
        assert!(matches!(
            "postgresql://localhost:5433/hub".parse(),
            Ok(Database::Postgres(_))
        ));
        assert_eq!(
            "data/hub.db".parse::<Database>().unwrap(),
            Database::Sqlite("data/hub.db".into())
        );
        assert!("postgres://hub@localhost:notaport/x"
            .parse::<Database>()
            .is_err());
    }

    #[test]
    fn the_password_never_shows() {
        for (url, shown) in [
            (
                "postgres://hub:s3cret@db.example:5432/hub",
                "postgres://hub:***@db.example:5432/hub",
            ),
            (
                "postgresql://db.example/hub?user=hub&password=s3cret&sslmode=require",
                "postgresql://db.example/hub?user=hub&password=***&sslmode=require",
            ),
            (
                "postgres://hub@db.example/hub",
                "postgres://hub@db.example/hub",
            ),
        ] {
            let db: Database = url.parse().unwrap();
            assert_eq!(db.to_string(), shown);
            assert!(!format!("{db:?}").contains("s3cret"));
        }
    }
}
