//! The rule both roles apply before sending `notifications/progress`: the progress of a
//! request increases with every notification.

use std::sync::Mutex;

/// The last progress reported for one request, to keep the values it sends increasing.
///
/// # Examples
///
/// ```
/// use mcpwire_schema::progress::ProgressTracker;
///
/// let tracker = ProgressTracker::default();
/// assert!(tracker.advance(1.0));
/// assert!(!tracker.advance(1.0), "not above the last value");
/// assert!(!tracker.advance(f64::NAN), "not finite");
/// assert!(tracker.advance(2.5));
/// ```
#[derive(Debug, Default)]
pub struct ProgressTracker {
    last: Mutex<Option<f64>>,
}

impl ProgressTracker {
    /// Records `progress` and returns `true` when it may be sent: it is finite and above every
    /// value recorded before. Otherwise returns `false` and records nothing.
    pub fn advance(&self, progress: f64) -> bool {
        // The critical section is one comparison and one store: a poisoned lock is consistent.
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !progress.is_finite() || last.is_some_and(|last| progress <= last) {
            return false;
        }
        *last = Some(progress);
        true
    }
}
