//! The guard that keeps a session from expiring while one of its requests is served or one of
//! its SSE streams is open.

use std::sync::Arc;

/// What an [`ActivityGuard`] marks busy: a session, which counts its activities.
pub(crate) trait Busy: Send + Sync {
    /// Records the end of one activity, begun before its guard was made.
    fn end_activity(&self);
}

/// Marks a session busy while it lives, and records the end of the activity when dropped.
pub(crate) struct ActivityGuard {
    session: Arc<dyn Busy>,
}

impl ActivityGuard {
    /// The guard of an activity of `session` that has just begun.
    pub(crate) fn new(session: Arc<dyn Busy>) -> Self {
        ActivityGuard { session }
    }
}

impl Drop for ActivityGuard {
    fn drop(&mut self) {
        self.session.end_activity();
    }
}
