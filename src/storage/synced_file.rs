//! A file fsynced by path rather than through SQLite's own handle, reopened should the file at
//! that path ever be replaced (SQLite deletes the `-wal` file when the last connection to the
//! database closes, and creates a new one with the next).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

pub(super) struct SyncedFile {
    path: PathBuf,
    file: Option<File>,
}

impl SyncedFile {
    pub(super) fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            file: None,
        }
    }

    /// The `-wal` file of the database at `db_path`.
    pub(super) fn wal_of(db_path: &Path) -> Self {
        let mut path = db_path.as_os_str().to_owned();
        path.push("-wal");
        Self::new(Path::new(&path))
    }

    /// `fdatasync`: every write made to the file before the call, through any handle, is on
    /// disk when this returns `Ok`.
    pub(super) fn sync(&mut self) -> io::Result<()> {
        if !self.is_current()? {
            self.file = Some(File::open(&self.path)?);
        }
        match &self.file {
            Some(file) => file.sync_data(),
            None => Err(io::Error::other("the file is not open")),
        }
    }

    /// True when the open handle is the file now at the path.
    #[cfg(unix)]
    fn is_current(&self) -> io::Result<bool> {
        use std::os::unix::fs::MetadataExt;
        let Some(file) = &self.file else {
            return Ok(false);
        };
        let (open, named) = (file.metadata()?, std::fs::metadata(&self.path)?);
        Ok(open.dev() == named.dev() && open.ino() == named.ino())
    }

    #[cfg(not(unix))]
    fn is_current(&self) -> io::Result<bool> {
        Ok(self.file.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_reopened_when_the_one_at_its_path_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hub.db");
        let mut wal = SyncedFile::wal_of(&db);
        assert!(wal.sync().is_err(), "no WAL file yet: the sync must fail");

        let wal_path = dir.path().join("hub.db-wal");
        std::fs::write(&wal_path, b"first").unwrap();
        wal.sync().unwrap();
        assert!(wal.is_current().unwrap());

        std::fs::remove_file(&wal_path).unwrap();
        std::fs::write(&wal_path, b"second").unwrap();
        assert!(!wal.is_current().unwrap());
        wal.sync().unwrap();
        assert!(wal.is_current().unwrap());
    }
}
