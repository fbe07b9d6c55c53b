//! Where a run's WAL frames went (`bench_ingest --frames`). What a commit costs the disk is the
//! pages it changed, each written whole to the WAL as a frame, so this reads the frames still in
//! the WAL after the load (those since it last started over), groups them into their commits and
//! names each frame's page by the B-tree that owns it (`dbstat`). A projection's commits are the
//! ones that write `projection_watermark`; the others are the acknowledgements' batches.
//!
//! The WAL format: a 32-byte header (page size at 8, salts at 16), then frames of a 24-byte
//! header (page number at 0, the database's size after the commit at 4, non-zero only in a
//! commit's last frame, the salts at 8) and the page. Frames whose salts differ from the
//! header's were left by the WAL's previous round; frames after the last commit are not
//! committed. All big-endian.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

const WAL_HEADER: usize = 32;
const FRAME_HEADER: usize = 24;

/// Frames per commit of one kind, by B-tree.
pub struct CommitKind {
    pub commits: usize,
    pub frames_per_commit: f64,
    /// (B-tree, frames per commit), most first.
    pub by_tree: Vec<(String, f64)>,
}

pub struct Frames {
    pub page_size: u32,
    pub acknowledgements: CommitKind,
    pub projections: CommitKind,
}

/// Reads `db`'s WAL and names its frames' pages; `None` when the WAL holds no commit.
pub fn frames(db: &Path) -> Option<Frames> {
    let mut wal_path = db.as_os_str().to_owned();
    wal_path.push("-wal");
    let wal = std::fs::read(&wal_path).ok()?;
    let (page_size, commits) = commits(&wal)?;
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    let mut owners = HashMap::new();
    let mut stmt = conn.prepare("SELECT pageno, name FROM dbstat").ok()?;
    let rows = stmt
        .query_map([], |row| {
            Ok((row.get::<_, u32>(0)?, row.get::<_, String>(1)?))
        })
        .ok()?;
    for row in rows {
        let (page, name) = row.ok()?;
        owners.insert(page, name);
    }
    let watermark: HashSet<u32> = owners
        .iter()
        .filter(|(_, name)| name.as_str() == "projection_watermark")
        .map(|(page, _)| *page)
        .collect();
    let (projections, acknowledgements): (Vec<_>, Vec<_>) = commits
        .into_iter()
        .partition(|pages| pages.iter().any(|page| watermark.contains(page)));
    Some(Frames {
        page_size,
        acknowledgements: count(&acknowledgements, &owners),
        projections: count(&projections, &owners),
    })
}

/// The page size and each commit's pages, in WAL order.
fn commits(wal: &[u8]) -> Option<(u32, Vec<Vec<u32>>)> {
    let word = |at: usize| u32::from_be_bytes(wal[at..at + 4].try_into().unwrap());
    // The magic number's last bit says the checksums' byte order, which is not needed here.
    if wal.len() < WAL_HEADER || word(0) & !1 != 0x377f_0682 {
        return None;
    }
    let (page_size, salts) = (word(8), (word(16), word(20)));
    let frame = FRAME_HEADER + page_size as usize;
    let (mut commits, mut pages) = (Vec::new(), Vec::new());
    let mut at = WAL_HEADER;
    while at + frame <= wal.len() && (word(at + 8), word(at + 12)) == salts {
        pages.push(word(at));
        if word(at + 4) != 0 {
            commits.push(std::mem::take(&mut pages));
        }
        at += frame;
    }
    (!commits.is_empty()).then_some((page_size, commits))
}

fn count(commits: &[Vec<u32>], owners: &HashMap<u32, String>) -> CommitKind {
    let mut frames: HashMap<&str, usize> = HashMap::new();
    for page in commits.iter().flatten() {
        // A page the file no longer has (freed since) is counted as such.
        let owner = owners.get(page).map_or("(freed since)", String::as_str);
        *frames.entry(owner).or_default() += 1;
    }
    let per_commit = |n: usize| n as f64 / commits.len().max(1) as f64;
    let mut by_tree: Vec<(String, f64)> = frames
        .into_iter()
        .map(|(tree, n)| (tree.to_owned(), per_commit(n)))
        .collect();
    by_tree.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    CommitKind {
        commits: commits.len(),
        frames_per_commit: per_commit(commits.iter().map(Vec::len).sum()),
        by_tree,
    }
}
