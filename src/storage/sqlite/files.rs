//! The database's files as this process touches them outside SQLite.
//!
//! **The rule: never close a descriptor of the database, its `-wal` or its `-shm`.** POSIX
//! `fcntl` locks belong to the process, and closing *any* descriptor of a file drops *all* of the
//! process's locks on it, the ones SQLite's connections hold included. Another process's SQLite
//! that then finds the database unlocked believes it is the last user: it checkpoints and deletes
//! `-wal` and `-shm` under the running service, which goes on writing into the deleted WAL (an
//! older SQLite such as Debian's `sqlite3` shell does; the bundled one also checks a `-shm` byte).
//! So:
//! - the database file is created at most once, before any connection to it exists
//!   ([`create_if_missing`]): a file that already exists is never opened here;
//! - the descriptors this module opens for fsync and identity checks ([`DatabaseFiles`]) are
//!   opened once per file and process and deliberately never closed (they are leaked);
//! - SQLite's own descriptors are safe: its unix VFS defers closing one while another
//!   connection of the process still holds a lock on that file.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::fault::{FileChange, StorageFault};

/// Creates the database file (and its folder) with owner-only permissions if it is missing;
/// SQLite gives its `-wal` and `-shm` the main file's permissions. An existing file is not
/// opened at all (see the module's rule), and a new one has no connection that could lose locks.
pub(super) fn create_if_missing(path: &Path) -> io::Result<()> {
    if path.try_exists()? {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    match new_private_file(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}

/// A file that did not exist, created owner-only; a symlink at the path is refused, not followed.
pub(super) fn new_private_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// The path of one of SQLite's companion files: `<db>-wal`, `<db>-shm`.
pub(super) fn companion(db: &Path, suffix: &str) -> PathBuf {
    let mut path = db.as_os_str().to_owned();
    path.push(suffix);
    PathBuf::from(path)
}

/// A descriptor held until the process exits, and which file (device, inode) it is.
#[derive(Clone, Copy)]
struct Held {
    file: &'static File,
    id: (u64, u64),
}

/// Descriptors this process holds, by (device, inode): a file is opened here only once.
fn held() -> &'static Mutex<HashMap<(u64, u64), &'static File>> {
    static HELD: OnceLock<Mutex<HashMap<(u64, u64), &'static File>>> = OnceLock::new();
    HELD.get_or_init(Default::default)
}

/// The descriptor of the file now at `path`, opened (read-only, enough for `fdatasync`) the
/// first time and kept for the life of the process.
fn hold(path: &Path) -> io::Result<Held> {
    let mut held = held().lock().unwrap_or_else(|e| e.into_inner());
    let named = std::fs::metadata(path)?;
    let id = (named.dev(), named.ino());
    if let Some(&file) = held.get(&id) {
        return Ok(Held { file, id });
    }
    let file: &'static File = Box::leak(Box::new(File::open(path)?));
    let opened = file.metadata()?;
    // Replaced between the stat and the open: keep the descriptor anyway (closing it could drop
    // locks), under the identity it really has.
    let id = (opened.dev(), opened.ino());
    held.insert(id, file);
    Ok(Held { file, id })
}

/// The database, `-wal` and `-shm` files as SQLite had them open when the writer started.
#[derive(Clone)]
pub(super) struct DatabaseFiles(Arc<Files>);

struct Files {
    db: PathBuf,
    wal: PathBuf,
    db_file: Held,
    wal_file: Held,
    shm_file: Held,
}

impl DatabaseFiles {
    /// Call while a connection has the database open in WAL mode, so that `-wal` and `-shm`
    /// exist and are the files SQLite writes (a connection keeps its WAL descriptor until it
    /// closes; while the service holds its locks, no other SQLite deletes or replaces them).
    pub(super) fn hold(db: &Path) -> io::Result<Self> {
        let wal = companion(db, "-wal");
        let shm = companion(db, "-shm");
        Ok(Self(Arc::new(Files {
            db_file: hold(db)?,
            wal_file: hold(&wal)?,
            shm_file: hold(&shm)?,
            db: db.to_owned(),
            wal,
        })))
    }

    /// `fdatasync` of the WAL SQLite writes: every frame written to it before the call, through
    /// any descriptor, is on disk when this returns `Ok`. It is always the same file, never
    /// whatever has the name now (see [`Self::verify`] for that).
    pub(super) fn sync_wal(&self) -> io::Result<()> {
        self.0.wal_file.file.sync_data()
    }

    /// `fdatasync` of the database file, for checkpoints.
    pub(super) fn sync_db(&self) -> io::Result<()> {
        self.0.db_file.file.sync_data()
    }

    /// Checks that each of the three files is still the one at its path. A WAL that is no longer
    /// there means new commits land in a file nobody else can see, and a later SQLite would
    /// start the database over without them: nothing may be acknowledged after that.
    pub(super) fn verify(&self) -> Result<(), StorageFault> {
        let files = &*self.0;
        let shm = companion(&files.db, "-shm");
        for (name, path, held) in [
            ("database", files.db.as_path(), files.db_file),
            ("-wal", files.wal.as_path(), files.wal_file),
            ("-shm", shm.as_path(), files.shm_file),
        ] {
            if let Some(change) = change_of(path, held) {
                return Err(StorageFault::FileChanged { file: name, change });
            }
        }
        Ok(())
    }

    /// After the WAL was deleted under the service: writes a copy of the deleted file — still
    /// open here, holding every committed frame — back at its path, so that the next start
    /// recovers every commit from it exactly as after a crash. Call only once nothing writes to
    /// the WAL any more. When another file has taken the name meanwhile, the copy goes beside it
    /// instead, and the returned path says where.
    pub(super) fn restore_deleted_wal(&self) -> io::Result<PathBuf> {
        let files = &*self.0;
        let target = if files.wal.try_exists()? {
            companion(&files.db, &format!("-wal.orphaned-{}", std::process::id()))
        } else {
            files.wal.clone()
        };
        // Straight to the name, not via a temporary file and a rename: should the copy fail
        // half-way, SQLite's recovery still keeps the commits of its valid prefix, where no
        // file at all would keep none of those not yet checkpointed.
        let mut copy = new_private_file(&target)?;
        let mut source: &File = files.wal_file.file;
        source.seek(SeekFrom::Start(0))?;
        io::copy(&mut source, &mut copy)?;
        copy.sync_all()?;
        if let Some(folder) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            File::open(folder)?.sync_all()?;
        }
        Ok(target)
    }
}

/// Whether the file at `path` is still the held one: a different file there is "replaced"
/// (whatever became of the held one), no file at all "deleted".
fn change_of(path: &Path, held: Held) -> Option<FileChange> {
    let unlinked = held.file.metadata().map(|m| m.nlink() == 0).unwrap_or(true);
    match std::fs::metadata(path) {
        Err(_) => Some(FileChange::Deleted),
        Ok(named) if (named.dev(), named.ino()) != held.id => Some(FileChange::Replaced),
        Ok(_) if unlinked => Some(FileChange::Deleted),
        Ok(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_mode_db(dir: &Path) -> (PathBuf, rusqlite::Connection) {
        let db = dir.join("hub.db");
        create_if_missing(&db).unwrap();
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch("CREATE TABLE t (x)").unwrap();
        (db, conn)
    }

    #[test]
    fn a_deleted_or_replaced_wal_is_noticed_and_the_held_file_is_still_the_one_synced() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _conn) = wal_mode_db(dir.path());
        let files = DatabaseFiles::hold(&db).unwrap();
        assert_eq!(files.verify(), Ok(()));
        files.sync_wal().unwrap();

        let wal = companion(&db, "-wal");
        let frames = std::fs::read(&wal).unwrap();
        std::fs::remove_file(&wal).unwrap();
        assert_eq!(
            files.verify(),
            Err(StorageFault::FileChanged {
                file: "-wal",
                change: FileChange::Deleted
            })
        );
        files
            .sync_wal()
            .expect("the deleted file is still open and synced");

        std::fs::write(&wal, b"someone else's").unwrap();
        assert_eq!(
            files.verify(),
            Err(StorageFault::FileChanged {
                file: "-wal",
                change: FileChange::Replaced
            })
        );

        std::fs::remove_file(&wal).unwrap();
        assert_eq!(files.restore_deleted_wal().unwrap(), wal);
        assert_eq!(
            std::fs::read(&wal).unwrap(),
            frames,
            "restored byte for byte"
        );
    }

    #[test]
    fn a_file_is_held_once_however_often_it_is_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _conn) = wal_mode_db(dir.path());
        let first = hold(&db).unwrap();
        let second = hold(&db).unwrap();
        assert!(std::ptr::eq(first.file, second.file));
    }

    #[test]
    fn an_existing_database_file_is_left_unopened_and_a_new_one_is_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sub/hub.db");
        create_if_missing(&db).unwrap();
        let mode = std::fs::metadata(&db).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::write(&db, b"kept").unwrap();
        create_if_missing(&db).unwrap();
        assert_eq!(std::fs::read(&db).unwrap(), b"kept");
    }
}
