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

/// The time stored in the NOT NULL column `index`: a NULL there is as damaged as an unparsable
/// time.
pub fn required_time(row: &Row, index: usize) -> rusqlite::Result<UtcTimestamp> {
    stored_time(row, index)?.ok_or(rusqlite::Error::InvalidColumnType(
        index,
        row.as_ref().column_name(index)?.to_owned(),
        rusqlite::types::Type::Null,
    ))
}
