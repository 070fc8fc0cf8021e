//! The guard that cancels a modern request when its client goes away before the answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio_util::sync::CancellationToken;

/// Cancels an exchange when what carries its answer (the POST future, then the SSE body) is
/// dropped before the final message went.
pub(crate) struct DisconnectGuard {
    cancellation: Option<CancellationToken>,
    finished: Arc<AtomicBool>,
}

impl DisconnectGuard {
    pub(crate) fn new(cancellation: CancellationToken, finished: Arc<AtomicBool>) -> Self {
        DisconnectGuard {
            cancellation: Some(cancellation),
            finished,
        }
    }

    /// Hands the watch over to another guard: this one cancels nothing.
    pub(crate) fn disarm(mut self) {
        self.cancellation = None;
    }
}

impl Drop for DisconnectGuard {
    fn drop(&mut self) {
        if let Some(cancellation) = self.cancellation.take()
            && !self.finished.load(Ordering::SeqCst)
        {
            cancellation.cancel();
        }
    }
}
