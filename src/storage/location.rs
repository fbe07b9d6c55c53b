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

/// How the connection is encrypted and the server authenticated: libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Never encrypted.
    Disable,
    /// Encrypted when the server offers it (libpq's default), the certificate not checked.
    Prefer,
    /// Always encrypted, the certificate not checked (libpq's `require`).
    Require,
    /// Always encrypted, the certificate chain checked against the trusted roots.
    VerifyCa,
    /// As `VerifyCa`, and the certificate must name the host.
    VerifyFull,
}

impl PostgresUrl {
    /// The whole URL, password included: for connecting only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The connection settings, without the TLS ones ([`PostgresUrl::tls`]), which the
    /// driver's own parser does not all know.
    pub fn config(&self) -> postgres::Config {
        let (url, _, _) = split_tls(&self.0).expect("checked when the URL was parsed");
        let mut config: postgres::Config = url.parse().expect("checked when the URL was parsed");
        config.ssl_mode(match self.tls().0 {
            TlsMode::Disable => postgres::config::SslMode::Disable,
            TlsMode::Prefer => postgres::config::SslMode::Prefer,
            _ => postgres::config::SslMode::Require,
        });
        config
    }

    /// The URL's `sslmode` (default `prefer`) and `sslrootcert` (the roots `verify-ca` and
    /// `verify-full` trust; the web's roots when absent).
    pub fn tls(&self) -> (TlsMode, Option<PathBuf>) {
        let (_, mode, root) = split_tls(&self.0).expect("checked when the URL was parsed");
        (mode, root)
    }
}

/// The URL without `sslmode` and `sslrootcert`, and those two.
fn split_tls(url: &str) -> Result<(String, TlsMode, Option<PathBuf>), String> {
    let Some((head, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), TlsMode::Prefer, None));
    };
    let (mut mode, mut root, mut kept) = (TlsMode::Prefer, None, Vec::new());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", value)) => {
                mode = match value {
                    "disable" => TlsMode::Disable,
                    "allow" | "prefer" => TlsMode::Prefer,
                    "require" => TlsMode::Require,
                    "verify-ca" => TlsMode::VerifyCa,
                    "verify-full" => TlsMode::VerifyFull,
                    other => return Err(format!("sslmode `{other}` is not one of disable, allow, prefer, require, verify-ca, verify-full")),
                }
            }
            Some(("sslrootcert", value)) => root = Some(PathBuf::from(value)),
            _ => kept.push(pair),
        }
    }
    let url = match kept.is_empty() {
        true => head.to_owned(),
        false => format!("{head}?{}", kept.join("&")),
    };
    Ok((url, mode, root))
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
            let (url, _, _) = split_tls(value)?;
            return match url.parse::<postgres::Config>() {
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
    fn sslmode_and_sslrootcert_are_read_off_the_url() {
        let url = |text: &str| match text.parse::<Database>() {
            Ok(Database::Postgres(url)) => url,
            other => panic!("{other:?}"),
        };
        assert_eq!(url("postgres://h/db").tls(), (TlsMode::Prefer, None));
        assert_eq!(
            url("postgres://h/db?sslmode=verify-full&sslrootcert=/ca.pem&application_name=x").tls(),
            (TlsMode::VerifyFull, Some("/ca.pem".into()))
        );
        assert_eq!(
            url("postgres://h/db?sslmode=require").tls().0,
            TlsMode::Require
        );
        assert_eq!(
            url("postgres://h/db?sslmode=verify-ca&application_name=x")
                .config()
                .get_application_name(),
            Some("x")
        );
        assert!("postgres://h/db?sslmode=sometimes"
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
