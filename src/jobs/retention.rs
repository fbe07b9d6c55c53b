//! `serve --payload-retention 90d`: payload pruning in the background, in small writer jobs
//! (never part of a delivery's acknowledgement), once an hour.

use std::time::Duration;

use crate::domain::{Period, UtcTimestamp};
use crate::storage::records::PruneCursor;
use crate::storage::{StorageError, Store};

/// Rows a job reads: a few ms of writer time, so deliveries queued behind it barely notice.
const STEP_ROWS: usize = 200;
/// Between two jobs of one pass, room for the deliveries.
const PAUSE: Duration = Duration::from_millis(20);
const EVERY: Duration = Duration::from_secs(3600);

/// Runs until the store stops taking writes.
pub async fn run(store: Store, retention: Period) {
    loop {
        let before = UtcTimestamp::now().plus_millis(-retention.millis());
        let (mut pruned, mut freed) = (0u64, 0u64);
        let mut cursor = PruneCursor::default();
        loop {
            match store.prune_step(before, cursor, STEP_ROWS).await {
                Ok(step) => {
                    pruned += step.pruned;
                    freed += step.freed_bytes;
                    match step.next {
                        Some(next) => cursor = next,
                        None => break,
                    }
                }
                Err(StorageError::WriterStopped) => return,
                Err(_) if store.fault().is_some() => return,
                Err(err) => {
                    tracing::warn!(error = %err, "payload pruning paused until the next pass");
                    break;
                }
            }
            tokio::time::sleep(PAUSE).await;
        }
        if pruned > 0 {
            tracing::info!(pruned, freed_bytes = freed, before = %before, "pruned old payloads");
        }
        tokio::time::sleep(EVERY).await;
    }
}
