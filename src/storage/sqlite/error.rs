//! SQLite's and its crates' errors as [`StorageError`]s: which are a busy lock, an unwritable
//! file, a malformed file, or a bug.

use rusqlite::ErrorCode;

use super::StorageError;

impl From<rusqlite::Error> for StorageError {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                StorageError::Busy(err.into())
            }
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                StorageError::Corrupt(err.into())
            }
            Some(
                ErrorCode::ReadOnly
                | ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure
                | ErrorCode::CannotOpen
                | ErrorCode::PermissionDenied
                | ErrorCode::OutOfMemory,
            ) => StorageError::Unwritable(err.into()),
            _ => StorageError::Database(err.into()),
        }
    }
}

fn is_corrupt(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
    )
}

impl From<r2d2::Error> for StorageError {
    fn from(err: r2d2::Error) -> Self {
        StorageError::Pool(err.into())
    }
}

impl From<rusqlite_migration::Error> for StorageError {
    fn from(err: rusqlite_migration::Error) -> Self {
        match err {
            // A malformed file is that, whoever read it first.
            rusqlite_migration::Error::RusqliteError { err, .. } if is_corrupt(&err) => {
                StorageError::Corrupt(err.into())
            }
            err => StorageError::Migration(err.into()),
        }
    }
}
