//! Limits and policies of a peer.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use mcpwire_jsonrpc::ParseOptions;

use crate::Cancellation;

/// The limits and policies of a [`Peer`](crate::Peer). Every bound has a default; the setters
/// change one at a time.
#[derive(Clone)]
pub struct Config {
    pub(crate) max_in_flight: usize,
    pub(crate) max_queued: usize,
    pub(crate) max_pending: usize,
    pub(crate) outbound_queue: usize,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) cancellation: Option<Arc<dyn Cancellation>>,
    pub(crate) peer_limits: ParseOptions,
    pub(crate) first_request_id: i64,
}

impl Config {
    /// Inbound requests whose handlers run at the same time. Default: 64.
    pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;
    /// Inbound requests that wait for a handler slot; beyond running and waiting requests, a
    /// request is answered at once with [`BUSY`](crate::BUSY). Default: 256.
    pub const DEFAULT_MAX_QUEUED: usize = 256;
    /// Outbound requests awaiting their response; a further request waits for one to finish.
    /// Default: 1024.
    pub const DEFAULT_MAX_PENDING: usize = 1024;
    /// Messages waiting to be written to the transport; senders wait when it is full.
    /// Default: 256.
    pub const DEFAULT_OUTBOUND_QUEUE: usize = 256;
    /// How long an outbound request waits for its response. Default: 60 seconds.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

    /// The defaults, with no cancellation protocol.
    pub fn new() -> Self {
        Config {
            max_in_flight: Self::DEFAULT_MAX_IN_FLIGHT,
            max_queued: Self::DEFAULT_MAX_QUEUED,
            max_pending: Self::DEFAULT_MAX_PENDING,
            outbound_queue: Self::DEFAULT_OUTBOUND_QUEUE,
            request_timeout: Some(Self::DEFAULT_REQUEST_TIMEOUT),
            cancellation: None,
            peer_limits: ParseOptions::default(),
            first_request_id: 1,
        }
    }

    /// Sets how many inbound requests run at once (at least 1).
    pub fn max_in_flight(mut self, limit: usize) -> Self {
        self.max_in_flight = limit.max(1);
        self
    }

    /// Sets how many inbound requests may wait for a handler slot.
    pub fn max_queued(mut self, limit: usize) -> Self {
        self.max_queued = limit;
        self
    }

    /// Sets how many outbound requests may await responses at once (at least 1).
    pub fn max_pending(mut self, limit: usize) -> Self {
        self.max_pending = limit.max(1);
        self
    }

    /// Sets the capacity of the outbound message queue (at least 1).
    pub fn outbound_queue(mut self, capacity: usize) -> Self {
        self.outbound_queue = capacity.max(1);
        self
    }

    /// Sets the default timeout of outbound requests; `None` waits without limit.
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the limits the peer reads messages with: the size and nesting of a message its
    /// parser accepts (the other members of `limits` are not used). A response of a handler
    /// that breaks them is not sent; the request is answered instead with `-32603` (internal
    /// error) naming the limit, because the peer would refuse the response without being able
    /// to tell which request it answered, and that request would wait for its timeout.
    /// Default: [`ParseOptions::default`], the limits every mcpwire transport reads with
    /// (4 MiB, 64 levels).
    pub fn peer_limits(mut self, limits: ParseOptions) -> Self {
        self.peer_limits = limits;
        self
    }

    /// Sets the id of the first request this peer sends; the next ones count up from it.
    /// Default: 1. Peers that send on one session from several processes (instances of a
    /// server sharing a session) each start from their own range, so that no two requests
    /// in flight on the session share an id.
    pub fn first_request_id(mut self, id: i64) -> Self {
        self.first_request_id = id;
        self
    }

    /// Sets the protocol's cancellation notification, which the engine sends when an outbound
    /// request is dropped or times out, and honours when the peer sends it.
    pub fn cancellation(mut self, cancellation: impl Cancellation) -> Self {
        self.cancellation = Some(Arc::new(cancellation));
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Config")
            .field("max_in_flight", &self.max_in_flight)
            .field("max_queued", &self.max_queued)
            .field("max_pending", &self.max_pending)
            .field("outbound_queue", &self.outbound_queue)
            .field("request_timeout", &self.request_timeout)
            .field("cancellation", &self.cancellation.is_some())
            .field("peer_limits", &self.peer_limits)
            .field("first_request_id", &self.first_request_id)
            .finish()
    }
}
