//! The settings every client transport reads at run time.
//!
//! `HttpClientBuilder` fills them in and hands them to the transport it builds; their
//! defaults are its `DEFAULT_*` constants.

use std::time::Duration;

use http::HeaderValue;

/// The longest `retry` honoured: a larger one from a broken or hostile server would stall
/// the stream for good.
const MAX_SERVER_RETRY: Duration = Duration::from_secs(600);

/// The settings the transports read at run time.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) inbound_capacity: usize,
    pub(crate) max_message_bytes: usize,
    pub(crate) reconnect_delay: Duration,
    pub(crate) max_reconnect_delay: Duration,
    pub(crate) max_reconnect_attempts: u32,
    pub(crate) standalone_stream: bool,
    pub(crate) protocol_version: Option<HeaderValue>,
    pub(crate) reinitialize_on_session_expiry: bool,
}

impl Options {
    /// The wait before reconnection attempt `attempt` (counted from 0): the server's `retry`
    /// (or the default delay) for the first, doubling for each further one, capped at the
    /// maximum. The server's `retry` is honoured exactly even above the cap, as the spec
    /// requires, up to ten minutes.
    pub(crate) fn reconnect_wait(&self, retry: Option<Duration>, attempt: u32) -> Duration {
        let base = retry
            .map(|retry| retry.min(MAX_SERVER_RETRY))
            .unwrap_or(self.reconnect_delay);
        if attempt == 0 {
            return base;
        }
        let backoff = base.saturating_mul(2u32.saturating_pow(attempt.min(16)));
        backoff.min(self.max_reconnect_delay.max(base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_honours_retry_then_doubles_up_to_the_cap() {
        let options = Options {
            max_reconnect_delay: Duration::from_secs(3),
            ..Options::default()
        };
        let retry = Some(Duration::from_millis(500));
        assert_eq!(options.reconnect_wait(retry, 0), Duration::from_millis(500));
        assert_eq!(options.reconnect_wait(retry, 1), Duration::from_secs(1));
        assert_eq!(options.reconnect_wait(retry, 3), Duration::from_secs(3));
        assert_eq!(options.reconnect_wait(None, 0), Duration::from_secs(1));
        let long = Some(Duration::from_secs(10));
        assert_eq!(options.reconnect_wait(long, 2), Duration::from_secs(10));
    }
}
