//! A transaction with prepared statements kept per connection. The `postgres` crate prepares a
//! statement given as text on every call, one extra round trip each; the write path runs a
//! dozen statements per event, so the writer keeps them prepared for as long as its
//! connection lives (a named prepared statement outlives the transaction that made it).

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Row, Statement, Transaction};

use super::StorageError;

/// The statements prepared on one connection, by their SQL.
#[derive(Default)]
pub struct StatementCache(HashMap<String, Statement>);

pub struct Session<'t, 'c> {
    tx: &'t mut Transaction<'c>,
    cache: &'t mut StatementCache,
}

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

impl<'t, 'c> Session<'t, 'c> {
    pub fn new(tx: &'t mut Transaction<'c>, cache: &'t mut StatementCache) -> Self {
        Self { tx, cache }
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, StorageError> {
        if let Some(statement) = self.cache.0.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.tx.prepare(sql)?;
        self.cache.0.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    pub fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, StorageError> {
        let statement = self.statement(sql)?;
        Ok(self.tx.query(&statement, params)?)
    }

    pub fn query_opt(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Option<Row>, StorageError> {
        let statement = self.statement(sql)?;
        Ok(self.tx.query_opt(&statement, params)?)
    }

    pub fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, StorageError> {
        let statement = self.statement(sql)?;
        Ok(self.tx.query_one(&statement, params)?)
    }

    pub fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, StorageError> {
        let statement = self.statement(sql)?;
        Ok(self.tx.execute(&statement, params)?)
    }

    /// Statements without parameters or results (savepoints, DDL), unprepared.
    pub fn batch(&mut self, sql: &str) -> Result<(), StorageError> {
        Ok(self.tx.batch_execute(sql)?)
    }

    /// The transaction itself, for the functions shared with the read side.
    pub fn tx(&mut self) -> &mut Transaction<'c> {
        self.tx
    }
}
