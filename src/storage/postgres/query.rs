//! The keyset-paginated list queries, built from only the filters that are present.

use postgres::types::ToSql;
use postgres::Row;

use super::session::Sql;
use super::values::{id, time};
use super::StorageError;
use crate::domain::UserId;
use crate::storage::records::Keyset;

/// SQL with its parameters, built from only the filters present, so the planner can pick the
/// index that matches them.
pub(super) struct Query {
    pub(super) sql: String,
    pub(super) params: Vec<Box<dyn ToSql + Sync>>,
}

impl Query {
    pub(super) fn new(select: &str, user: UserId) -> Self {
        Self {
            sql: select.to_owned(),
            params: vec![Box::new(user.as_uuid())],
        }
    }

    /// Appends `condition`, whose `$?` stands for `value`.
    pub(super) fn and(&mut self, condition: &str, value: impl ToSql + Sync + 'static) {
        self.params.push(Box::new(value));
        let n = self.params.len();
        self.sql
            .push_str(&condition.replace("$?", &format!("${n}")));
    }

    pub(super) fn keyset(
        &mut self,
        column: &str,
        after: Option<&Keyset>,
    ) -> Result<(), StorageError> {
        if let Some(after) = after {
            self.params.push(Box::new(time(&after.at)?));
            self.params.push(Box::new(id(&after.id)?));
            let (t, i) = (self.params.len() - 1, self.params.len());
            self.sql
                .push_str(&format!(" AND ({column}, id) < (${t}, ${i})"));
        }
        Ok(())
    }

    pub(super) fn finish(mut self, column: &str, limit: usize) -> Self {
        self.params.push(Box::new(limit as i64));
        self.sql.push_str(&format!(
            " ORDER BY {column} DESC, id DESC LIMIT ${}",
            self.params.len()
        ));
        self
    }

    pub(super) fn run(&self, client: &mut impl Sql) -> Result<Vec<Row>, StorageError> {
        let params: Vec<&(dyn ToSql + Sync)> = self.params.iter().map(|p| p.as_ref()).collect();
        client.query(&self.sql, &params)
    }
}
