//! The join handle of a storage thread (a writer, the projector), shared by the clones of its
//! front, so that whichever stops it first joins it, off the async executor.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

#[derive(Clone)]
pub struct ThreadSlot(Arc<Mutex<Option<JoinHandle<()>>>>);

impl ThreadSlot {
    pub fn new(handle: JoinHandle<()>) -> Self {
        Self(Arc::new(Mutex::new(Some(handle))))
    }

    /// Runs `stop` (what tells the thread to end; it may block) and waits for the thread, both
    /// on the blocking pool. Later calls find the slot empty and return at once.
    pub async fn join(&self, stop: impl FnOnce() + Send + 'static) {
        let handle = self.0.lock().map(|mut slot| slot.take()).unwrap_or(None);
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || {
                stop();
                handle.join()
            })
            .await;
        }
    }
}
