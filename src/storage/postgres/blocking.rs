//! The `postgres` client blocks on a runtime of its own, which panics on a thread that drives
//! another (the service's executor, an async test). Whatever may be called from such a thread
//! (the CLI's storage inside `serve --demo`, test set-up, dropping a pool) goes through here.

/// Runs `work` on this thread, unless it drives an async runtime: then on a thread of its own,
/// waited for.
pub fn off_executor<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return work();
    }
    std::thread::scope(|scope| match scope.spawn(work).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// Holds a value whose drop closes connections, and drops it off the executor.
pub struct DropOffExecutor<T: Send>(Option<T>);

impl<T: Send> DropOffExecutor<T> {
    pub fn new(value: T) -> Self {
        Self(Some(value))
    }
}

impl<T: Send> std::ops::Deref for DropOffExecutor<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0.as_ref().expect("present until dropped")
    }
}

impl<T: Send> std::ops::DerefMut for DropOffExecutor<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.as_mut().expect("present until dropped")
    }
}

impl<T: Send> Drop for DropOffExecutor<T> {
    fn drop(&mut self) {
        if let Some(value) = self.0.take() {
            off_executor(move || drop(value));
        }
    }
}
