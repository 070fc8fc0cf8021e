//! The progress a handler reports, coalesced: a burst of [`BURST`] updates goes out at once,
//! then at most one `notifications/progress` per request in each interval, the latest value
//! winning; the last value held back is sent before the request's response.
//!
//! A handler that reports progress in a tight loop would otherwise put every update on the
//! wire; the client then reads a backlog of stale values (megabytes of them in the sockets'
//! buffers) before it reaches the result. The spec only asks that progress increase, so
//! skipping the values that a later one superseded before it was sent loses nothing.

use std::time::Duration;

use mcpwire_jsonrpc::RequestId;
use mcpwire_protocol::progress::ProgressReporter;
use mcpwire_schema::v2025_11_25::ProgressNotificationParams;
use tokio::sync::{Mutex, MutexGuard};
use tokio::time::Instant;

/// How many updates go out back to back before the interval applies: a handler that reports
/// a few steps quickly has each one sent, a storm is coalesced.
pub(crate) const BURST: f64 = 10.0;

/// The progress of one request that carried a progress token.
#[derive(Debug)]
pub(crate) struct Progress {
    reporter: ProgressReporter,
    /// The shortest time between two updates sent; zero sends every update.
    interval: Duration,
    /// Held while an update is decided and sent, so that updates reach the wire in the order
    /// their values increase, whoever sends them (the handler, or the flush of a held one).
    state: Mutex<State>,
}

#[derive(Debug)]
pub(crate) struct State {
    /// Updates that may go out now (a token bucket of [`BURST`], one more per interval).
    allowance: f64,
    /// When `allowance` was last brought up to date.
    counted_at: Instant,
    /// The latest update not yet sent, which a flush sends at the end of the interval.
    held: Option<ProgressNotificationParams>,
    /// Whether a flush of `held` is scheduled.
    flush_scheduled: bool,
    /// The handler has returned: nothing more is sent.
    finished: bool,
}

/// What to do with an update.
pub(crate) enum Decision {
    /// Send these params now, holding the state's lock until they are queued.
    Send(ProgressNotificationParams),
    /// The update is held; schedule a flush at this instant.
    ScheduleFlush(Instant),
    /// Nothing to do: the update was held behind an already scheduled flush, or may not be
    /// sent at all (not increasing, or after the handler returned).
    Nothing,
}

impl Progress {
    pub(crate) fn new(token: RequestId, interval: Duration) -> Self {
        Progress {
            reporter: ProgressReporter::new(token),
            interval,
            state: Mutex::new(State {
                allowance: BURST,
                counted_at: Instant::now(),
                held: None,
                flush_scheduled: false,
                finished: false,
            }),
        }
    }

    /// Locks the state for one decision and, if it says so, the send that follows.
    pub(crate) async fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().await
    }

    /// Decides what to do with an update the handler reports.
    pub(crate) fn offer(
        &self,
        state: &mut State,
        progress: f64,
        total: Option<f64>,
        message: Option<&str>,
    ) -> Decision {
        if state.finished {
            tracing::debug!(
                progress,
                "dropping progress reported after the handler returned"
            );
            return Decision::Nothing;
        }
        let Some(params) = self.reporter.update(progress, total, message) else {
            tracing::debug!(progress, "dropping progress that does not increase");
            return Decision::Nothing;
        };
        if self.take_allowance(state) {
            state.held = None;
            return Decision::Send(params);
        }
        state.held = Some(params);
        if state.flush_scheduled {
            return Decision::Nothing;
        }
        state.flush_scheduled = true;
        // When the allowance reaches one update again.
        let missing = (1.0 - state.allowance).max(0.0);
        Decision::ScheduleFlush(state.counted_at + self.interval.mul_f64(missing))
    }

    /// Brings the allowance up to date and takes one update from it, if it has one.
    fn take_allowance(&self, state: &mut State) -> bool {
        if self.interval.is_zero() {
            return true;
        }
        let now = Instant::now();
        let earned =
            now.duration_since(state.counted_at).as_secs_f64() / self.interval.as_secs_f64();
        state.allowance = (state.allowance + earned).min(BURST);
        state.counted_at = now;
        if state.allowance >= 1.0 {
            state.allowance -= 1.0;
            true
        } else {
            false
        }
    }

    /// The held update a scheduled flush sends, if the handler is still running.
    pub(crate) fn take_for_flush(&self, state: &mut State) -> Option<ProgressNotificationParams> {
        state.flush_scheduled = false;
        if state.finished || state.held.is_none() {
            return None;
        }
        // The flush runs when the allowance has one update again; it spends it.
        self.take_allowance(state);
        state.held.take()
    }

    /// Marks the handler returned, and gives the held update, which goes out before the
    /// response.
    pub(crate) fn finish(state: &mut State) -> Option<ProgressNotificationParams> {
        state.finished = true;
        state.held.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(decision: &Decision) -> Option<f64> {
        match decision {
            Decision::Send(params) => Some(params.progress),
            _ => None,
        }
    }

    /// Offers `BURST` updates from `first` on, each sent at once.
    fn spend_the_burst(progress: &Progress, state: &mut State, first: f64) {
        for step in 0..10 {
            let value = first + f64::from(step);
            assert_eq!(sent(&progress.offer(state, value, None, None)), Some(value));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_out_then_the_latest_update_of_each_interval() {
        let progress = Progress::new(RequestId::from(1), Duration::from_millis(50));
        let mut state = progress.lock().await;
        spend_the_burst(&progress, &mut state, 1.0);
        let flush_at = match progress.offer(&mut state, 11.0, None, None) {
            Decision::ScheduleFlush(at) => at,
            _ => panic!("an update past the burst is held"),
        };
        assert!(matches!(
            progress.offer(&mut state, 12.0, None, None),
            Decision::Nothing
        ));
        assert!(matches!(
            progress.offer(&mut state, 11.5, None, None),
            Decision::Nothing
        ));
        tokio::time::sleep_until(flush_at).await;
        let flushed = progress
            .take_for_flush(&mut state)
            .expect("the held update");
        assert_eq!(
            flushed.progress, 12.0,
            "the latest value, not a decreasing one"
        );
        assert!(progress.take_for_flush(&mut state).is_none());
        // The flush spent the allowance: the next update waits for the next interval.
        assert!(matches!(
            progress.offer(&mut state, 13.0, None, None),
            Decision::ScheduleFlush(_)
        ));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            sent(&progress.offer(&mut state, 14.0, None, None)),
            Some(14.0)
        );
        assert!(
            state.held.is_none(),
            "a sent update supersedes the held one"
        );
        assert!(
            progress.take_for_flush(&mut state).is_none(),
            "the flush scheduled for 13 finds nothing to send"
        );
        // A quiet second earns the whole burst back, and no more.
        tokio::time::sleep(Duration::from_secs(1)).await;
        spend_the_burst(&progress, &mut state, 20.0);
        assert!(matches!(
            progress.offer(&mut state, 30.0, None, None),
            Decision::ScheduleFlush(_)
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn the_held_update_goes_out_at_the_end_and_nothing_after() {
        let progress = Progress::new(RequestId::from(1), Duration::from_secs(1));
        let mut state = progress.lock().await;
        spend_the_burst(&progress, &mut state, 1.0);
        assert!(matches!(
            progress.offer(&mut state, 11.0, Some(11.0), Some("done")),
            Decision::ScheduleFlush(_)
        ));
        let last = Progress::finish(&mut state).expect("the held update");
        assert_eq!((last.progress, last.total), (11.0, Some(11.0)));
        assert_eq!(last.message.as_deref(), Some("done"));
        assert!(progress.take_for_flush(&mut state).is_none());
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(matches!(
            progress.offer(&mut state, 12.0, None, None),
            Decision::Nothing
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_interval_sends_every_update() {
        let progress = Progress::new(RequestId::from(1), Duration::ZERO);
        let mut state = progress.lock().await;
        for value in 1..=100 {
            let value = f64::from(value);
            assert_eq!(
                sent(&progress.offer(&mut state, value, None, None)),
                Some(value)
            );
        }
    }
}
