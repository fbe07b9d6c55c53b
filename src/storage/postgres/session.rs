//! Statements kept prepared per connection. The `postgres` crate prepares a statement given as
//! text on every call, one extra round trip each; the write path runs several statements per
//! event and every API request a couple, so each connection keeps its statements prepared for
//! as long as it lives (a named prepared statement outlives the transaction that made it).
//! [`Sql`] is what the backend's queries run on: a writer's [`Session`], a pooled
//! [`ReadConnection`], or a plain client or transaction (the CLI's, uncached).

use std::collections::HashMap;
use std::ops::ControlFlow;

use postgres::types::ToSql;
use postgres::{Client, GenericClient, Row, Statement, Transaction};
use r2d2_postgres::PostgresConnectionManager;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::StorageError;

/// The statements prepared on one connection, by their SQL.
#[derive(Default)]
pub struct StatementCache(HashMap<String, Statement>);

impl StatementCache {
    /// Runs `sql` prepared on `client`. A statement the server refuses is forgotten, so that a
    /// schema changed under it (a `migrate` while serving) costs one failure, not every later
    /// call on this connection.
    fn run<C: GenericClient, T>(
        &mut self,
        client: &mut C,
        sql: &str,
        run: impl FnOnce(&mut C, &Statement) -> Result<T, postgres::Error>,
    ) -> Result<T, StorageError> {
        let statement = self.prepared(client, sql)?;
        run(client, &statement).map_err(|err| {
            if err.code().is_some() {
                self.0.remove(sql);
            }
            err.into()
        })
    }

    fn prepared(
        &mut self,
        client: &mut impl GenericClient,
        sql: &str,
    ) -> Result<Statement, StorageError> {
        if let Some(statement) = self.0.get(sql) {
            return Ok(statement.clone());
        }
        let statement = client.prepare(sql)?;
        self.0.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

pub type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

/// Running SQL: the one interface the backend's queries are written against.
pub trait Sql {
    fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, StorageError>;
    fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, StorageError>;
    /// Statements without parameters or results (savepoints, DDL), unprepared.
    fn batch(&mut self, sql: &str) -> Result<(), StorageError>;

    fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, StorageError> {
        let mut rows = self.query(sql, params)?;
        match rows.len() {
            0 | 1 => Ok(rows.pop()),
            n => Err(StorageError::Database(
                format!("{n} rows where at most one was expected").into(),
            )),
        }
    }

    fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, StorageError> {
        self.query_opt(sql, params)?
            .ok_or_else(|| StorageError::Database("no row where one was expected".into()))
    }
}

/// A writer's transaction, with its connection's prepared statements.
pub struct Session<'t, 'c> {
    tx: &'t mut Transaction<'c>,
    cache: &'t mut StatementCache,
}

impl<'t, 'c> Session<'t, 'c> {
    pub fn new(tx: &'t mut Transaction<'c>, cache: &'t mut StatementCache) -> Self {
        Self { tx, cache }
    }
}

impl Sql for Session<'_, '_> {
    fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, StorageError> {
        self.cache.run(self.tx, sql, |tx, s| tx.query(s, params))
    }

    fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, StorageError> {
        self.cache.run(self.tx, sql, |tx, s| tx.execute(s, params))
    }

    fn batch(&mut self, sql: &str) -> Result<(), StorageError> {
        Ok(self.tx.batch_execute(sql)?)
    }
}

/// A pooled reader: its client and its prepared statements.
pub struct ReadConnection {
    client: Client,
    cache: StatementCache,
}

impl Sql for ReadConnection {
    fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, StorageError> {
        self.cache
            .run(&mut self.client, sql, |c, s| c.query(s, params))
    }

    fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, StorageError> {
        self.cache
            .run(&mut self.client, sql, |c, s| c.execute(s, params))
    }

    fn batch(&mut self, sql: &str) -> Result<(), StorageError> {
        Ok(self.client.batch_execute(sql)?)
    }
}

impl ReadConnection {
    /// Runs `sql` in a read-only transaction through a portal, handing its rows to `each`
    /// `fetch` at a time as the server gives them (one statement, one snapshot, bounded memory),
    /// until `each` breaks or the rows end.
    pub fn for_each_row(
        &mut self,
        sql: &str,
        params: &[Box<dyn ToSql + Sync>],
        fetch: i32,
        mut each: impl FnMut(&Row) -> ControlFlow<()>,
    ) -> Result<(), StorageError> {
        let statement = self.cache.prepared(&mut self.client, sql)?;
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
        let mut transaction = self.client.build_transaction().read_only(true).start()?;
        let portal = transaction.bind(&statement, &params)?;
        loop {
            let rows = transaction.query_portal(&portal, fetch)?;
            for row in &rows {
                if each(row).is_break() {
                    return Ok(transaction.commit()?);
                }
            }
            if rows.len() < fetch as usize {
                return Ok(transaction.commit()?);
            }
        }
    }
}

/// r2d2's manager for [`ReadConnection`]s: `r2d2_postgres`' own, with a cache per connection.
pub struct ReadManager(pub PostgresConnectionManager<MakeRustlsConnect>);

impl r2d2::ManageConnection for ReadManager {
    type Connection = ReadConnection;
    type Error = postgres::Error;

    fn connect(&self) -> Result<ReadConnection, postgres::Error> {
        Ok(ReadConnection {
            client: self.0.connect()?,
            cache: StatementCache::default(),
        })
    }

    fn is_valid(&self, conn: &mut ReadConnection) -> Result<(), postgres::Error> {
        self.0.is_valid(&mut conn.client)
    }

    fn has_broken(&self, conn: &mut ReadConnection) -> bool {
        self.0.has_broken(&mut conn.client)
    }
}

/// The CLI's connection and transactions: no cache (a command runs each statement a few
/// times at most, except the batches, which run in a [`Session`]).
macro_rules! uncached {
    ($($client:ty),*) => {$(
        impl Sql for $client {
            fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, StorageError> {
                Ok(GenericClient::query(self, sql, params)?)
            }

            fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, StorageError> {
                Ok(GenericClient::execute(self, sql, params)?)
            }

            fn batch(&mut self, sql: &str) -> Result<(), StorageError> {
                Ok(GenericClient::batch_execute(self, sql)?)
            }
        }
    )*};
}
uncached!(Client, Transaction<'_>);
