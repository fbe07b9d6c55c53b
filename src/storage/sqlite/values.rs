//! Reading the hub's own stored values back out of SQLite rows.

use rusqlite::Row;

use crate::domain::UtcTimestamp;

/// The time stored in column `index` (text, as the hub writes it; `None` for NULL). A time that
/// does not parse means the file was changed by hand or damaged: a conversion error.
pub fn stored_time(row: &Row, index: usize) -> rusqlite::Result<Option<UtcTimestamp>> {
    row.get::<_, Option<String>>(index)?
        .map(|at| {
            UtcTimestamp::parse(&at).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    index,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })
        })
        .transpose()
}
