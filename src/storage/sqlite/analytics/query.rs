//! The keyset-paginated list queries, built from only the filters that are present.

use rusqlite::types::Value as SqlValue;

use crate::storage::records::Keyset;

/// SQL with its positional parameters, built from only the filters that are present, so the
/// planner can pick the index that matches them.
pub(super) struct Query {
    pub(super) sql: String,
    pub(super) params: Vec<SqlValue>,
}

impl Query {
    /// `select` with `?1` bound to `first`.
    pub(super) fn new(select: &str, first: String) -> Self {
        Self {
            sql: select.to_owned(),
            params: vec![SqlValue::Text(first)],
        }
    }

    /// Appends `condition`, whose first bare `?` stands for `value`; numbered parameters in it
    /// (`?1`, the user) keep their numbers.
    pub(super) fn and(&mut self, condition: &str, value: impl Into<SqlValue>) {
        self.params.push(value.into());
        self.sql
            .push_str(&condition.replacen('?', &format!("?{}", self.params.len()), 1));
    }

    /// Appends ` AND {column} IN (…)`, one parameter per value (at least one).
    pub(super) fn and_in(&mut self, column: &str, values: impl IntoIterator<Item = String>) {
        let placeholders: Vec<String> = values
            .into_iter()
            .map(|value| {
                self.params.push(value.into());
                format!("?{}", self.params.len())
            })
            .collect();
        assert!(!placeholders.is_empty(), "IN () matches nothing");
        self.sql
            .push_str(&format!(" AND {column} IN ({})", placeholders.join(", ")));
    }

    pub(super) fn keyset(&mut self, time_column: &str, after: Option<&Keyset>) {
        if let Some(after) = after {
            self.params.push(after.at.clone().into());
            self.params.push(after.id.clone().into());
            let (t, i) = (self.params.len() - 1, self.params.len());
            self.sql.push_str(&format!(
                " AND ({time_column} < ?{t} OR ({time_column} = ?{t} AND id < ?{i}))"
            ));
        }
    }

    pub(super) fn finish(mut self, time_column: &str, limit: usize) -> Self {
        self.params.push((limit as i64).into());
        self.sql.push_str(&format!(
            " ORDER BY {time_column} DESC, id DESC LIMIT ?{}",
            self.params.len()
        ));
        self
    }
}
