//! What the benchmarks ask a PostgreSQL server directly, below the storage boundary: its WAL
//! position and the bytes its processes wrote (the write volume a stored event costs), and the
//! planner statistics after seeding. The only benchmark code that speaks to PostgreSQL.

use smartlead_hub::storage::PostgresUrl;

/// Runs `work` with a connection to `url`, on a thread of its own (the `postgres` client may
/// not block an executor's thread).
fn with_client<T: Send>(
    url: &PostgresUrl,
    work: impl FnOnce(&mut postgres::Client) -> T + Send,
) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let mut client =
                    postgres::Client::connect(url.expose(), postgres::NoTls).expect("connects");
                work(&mut client)
            })
            .join()
            .expect("no panic")
    })
}

/// Refreshes the planner's statistics after seeding (and sets the visibility map, so that
/// index-only scans are possible, as they are after autovacuum on a live server).
pub fn analyze(url: &PostgresUrl) {
    with_client(url, |client| {
        client.batch_execute("VACUUM ANALYZE").expect("vacuum")
    });
}

/// The server's WAL position, in bytes.
pub fn wal_position(url: &PostgresUrl) -> u64 {
    with_client(url, |client| {
        let row = client
            .query_one(
                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint",
                &[],
            )
            .expect("wal position");
        row.get::<_, i64>(0) as u64
    })
}

/// Bytes written to storage by every `postgres` process on this machine so far (from
/// `/proc/PID/io`; needs the right to read the server's processes, e.g. root): WAL writes,
/// and whatever the background writer and checkpointer wrote meanwhile.
pub fn server_written_bytes() -> Option<u64> {
    let mut total = 0;
    let mut seen = false;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let dir = entry.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim() != "postgres" {
            continue;
        }
        let Ok(io) = std::fs::read_to_string(dir.join("io")) else {
            continue;
        };
        if let Some(bytes) = io
            .lines()
            .find_map(|l| l.strip_prefix("write_bytes: "))
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            total += bytes;
            seen = true;
        }
    }
    seen.then_some(total)
}

/// Forces the dirty pages the load left to disk, so that their writes are counted too.
pub fn checkpoint(url: &PostgresUrl) {
    with_client(url, |client| {
        client.batch_execute("CHECKPOINT").expect("checkpoint")
    });
}
