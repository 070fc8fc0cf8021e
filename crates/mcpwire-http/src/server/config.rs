//! The limits and policies of a Streamable HTTP server.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use mcpwire_jsonrpc::ParseOptions;
use mcpwire_schema::ProtocolVersion;

use crate::server::cluster::{MessageBus, SessionStore};
use crate::server::event_store::{EventStore, MemoryEventStore};
use crate::server::guard::HostGuard;

/// The limits and policies of a [`StreamableHttpService`](crate::server::StreamableHttpService).
///
/// Every bound has a documented default, chosen to be safe for a server reachable from a
/// network; each setter changes one of them.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use mcpwire_http::server::Config;
///
/// let config = Config::new()
///     .max_body_bytes(1024 * 1024)
///     .session_idle_timeout(Duration::from_secs(300))
///     .allowed_hosts(["mcp.example.com"])
///     .allowed_origins(["https://app.example.com"]);
/// assert_eq!(config.get_max_body_bytes(), 1024 * 1024);
/// ```
#[derive(Clone)]
pub struct Config {
    pub(crate) max_body_bytes: usize,
    pub(crate) body_read_timeout: Duration,
    pub(crate) max_sessions: usize,
    pub(crate) session_idle_timeout: Duration,
    pub(crate) initialization_timeout: Duration,
    pub(crate) max_pending_initializations: usize,
    pub(crate) max_standalone_streams: usize,
    pub(crate) stream_queue: usize,
    pub(crate) slow_consumer_timeout: Duration,
    pub(crate) inbound_queue: usize,
    pub(crate) keep_alive: Option<Duration>,
    pub(crate) sse_retry: Duration,
    pub(crate) standalone_get: bool,
    pub(crate) json_responses: bool,
    pub(crate) close_request_streams_after_priming: bool,
    pub(crate) guard: HostGuard,
    pub(crate) event_store: Arc<dyn EventStore>,
    pub(crate) shared_sessions: Option<(Arc<dyn SessionStore>, Arc<dyn MessageBus>)>,
    pub(crate) header_read_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) shutdown_grace: Duration,
    pub(crate) protocol_versions: Vec<ProtocolVersion>,
    pub(crate) modern_versions: Vec<ProtocolVersion>,
    pub(crate) max_stateless_in_flight: usize,
    pub(crate) peer_limits: ParseOptions,
    #[cfg(feature = "legacy-sse")]
    pub(crate) legacy_sse: Option<LegacySseEndpoints>,
}

/// The paths of the legacy HTTP+SSE endpoints, each starting with `/` and without a query.
#[cfg(feature = "legacy-sse")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LegacySseEndpoints {
    pub(crate) sse: String,
    pub(crate) messages: String,
}

impl Config {
    /// Default for [`Config::max_body_bytes`]: 4 MiB, the largest POST body read.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
    /// Default for [`Config::body_read_timeout`]: 30 seconds to receive a whole POST body.
    pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default for [`Config::max_sessions`]: 10 000 live sessions.
    pub const DEFAULT_MAX_SESSIONS: usize = 10_000;
    /// Default for [`Config::session_idle_timeout`]: 10 minutes.
    pub const DEFAULT_SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(600);
    /// Default for [`Config::initialization_timeout`]: 30 seconds from `initialize` to
    /// `notifications/initialized`.
    pub const DEFAULT_INITIALIZATION_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default for [`Config::max_pending_initializations`]: 16 sessions of one client address
    /// waiting for `notifications/initialized`.
    pub const DEFAULT_MAX_PENDING_INITIALIZATIONS: usize = 16;
    /// Default for [`Config::max_standalone_streams`]: 4 open GET streams per session.
    pub const DEFAULT_MAX_STANDALONE_STREAMS: usize = 4;
    /// Default for [`Config::stream_queue`]: 16 events waiting to be written on one SSE
    /// connection.
    pub const DEFAULT_STREAM_QUEUE: usize = 16;
    /// Default for [`Config::slow_consumer_timeout`]: 10 seconds without room on a
    /// connection's queue before the connection is closed.
    pub const DEFAULT_SLOW_CONSUMER_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default for [`Config::inbound_queue`]: 64 POSTed messages waiting for the engine.
    pub const DEFAULT_INBOUND_QUEUE: usize = 64;
    /// Default for [`Config::keep_alive`]: a comment every 15 seconds on an idle SSE stream.
    pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);
    /// Default for [`Config::sse_retry`]: clients wait 3 seconds before reconnecting.
    pub const DEFAULT_SSE_RETRY: Duration = Duration::from_secs(3);
    /// Default for [`Config::header_read_timeout`]: 10 seconds to receive request headers.
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default for [`Config::max_connections`]: 10 000 open connections in [`serve`](crate::server::serve).
    pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
    /// Default for [`Config::shutdown_grace`]: 10 seconds for requests to finish on shutdown.
    pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
    /// Default for [`Config::max_stateless_in_flight`]: 1024 modern requests served at once.
    pub const DEFAULT_MAX_STATELESS_IN_FLIGHT: usize = 1024;

    /// The defaults: every limit at its `DEFAULT_*` value, DNS-rebinding protection for a
    /// server bound to loopback, the standalone GET stream enabled, JSON responses when a
    /// request's handler sends nothing before its result, and a [`MemoryEventStore`] with its
    /// default bounds.
    pub fn new() -> Self {
        Config {
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            body_read_timeout: Self::DEFAULT_BODY_READ_TIMEOUT,
            max_sessions: Self::DEFAULT_MAX_SESSIONS,
            session_idle_timeout: Self::DEFAULT_SESSION_IDLE_TIMEOUT,
            initialization_timeout: Self::DEFAULT_INITIALIZATION_TIMEOUT,
            max_pending_initializations: Self::DEFAULT_MAX_PENDING_INITIALIZATIONS,
            max_standalone_streams: Self::DEFAULT_MAX_STANDALONE_STREAMS,
            stream_queue: Self::DEFAULT_STREAM_QUEUE,
            slow_consumer_timeout: Self::DEFAULT_SLOW_CONSUMER_TIMEOUT,
            inbound_queue: Self::DEFAULT_INBOUND_QUEUE,
            keep_alive: Some(Self::DEFAULT_KEEP_ALIVE),
            sse_retry: Self::DEFAULT_SSE_RETRY,
            standalone_get: true,
            json_responses: true,
            close_request_streams_after_priming: false,
            guard: HostGuard::loopback(),
            event_store: Arc::new(MemoryEventStore::new()),
            shared_sessions: None,
            header_read_timeout: Self::DEFAULT_HEADER_READ_TIMEOUT,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            shutdown_grace: Self::DEFAULT_SHUTDOWN_GRACE,
            protocol_versions: vec![
                ProtocolVersion::V2024_11_05,
                ProtocolVersion::V2025_03_26,
                ProtocolVersion::V2025_06_18,
                ProtocolVersion::V2025_11_25,
            ],
            modern_versions: ProtocolVersion::MODERN.to_vec(),
            max_stateless_in_flight: Self::DEFAULT_MAX_STATELESS_IN_FLIGHT,
            peer_limits: ParseOptions::default(),
            #[cfg(feature = "legacy-sse")]
            legacy_sse: None,
        }
    }

    /// Sets the largest POST body read (at least 1 byte); a larger one gets `413 Payload Too
    /// Large`, enforced while reading whatever the framing.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit.max(1);
        self
    }

    /// The largest POST body read.
    pub fn get_max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// Sets how long receiving a whole POST body may take; a slower body gets `408 Request
    /// Timeout`.
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// Sets how long a new session may wait for `notifications/initialized` after its
    /// `initialize` (at least 1 ms); a session still uninitialized then is ended, and its
    /// requests get `404`.
    pub fn initialization_timeout(mut self, timeout: Duration) -> Self {
        self.initialization_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Sets how many sessions of one client address may wait for
    /// `notifications/initialized` at once (at least 1); an `initialize` beyond it gets
    /// `429 Too Many Requests` with `Retry-After`, and no session is created, so that one
    /// client cannot fill the session table. The address is the [`ClientAddress`] of the
    /// request, which [`serve`](crate::server::serve) sets; a request without one is not
    /// counted per client.
    ///
    /// [`ClientAddress`]: crate::server::ClientAddress
    pub fn max_pending_initializations(mut self, limit: usize) -> Self {
        self.max_pending_initializations = limit.max(1);
        self
    }

    /// Sets how many sessions may be live at once (at least 1). An `initialize` beyond it gets
    /// `503 Service Unavailable` with `Retry-After`, and no session is created.
    pub fn max_sessions(mut self, limit: usize) -> Self {
        self.max_sessions = limit.max(1);
        self
    }

    /// Sets how long a session may stay idle (no request being served, no SSE stream open)
    /// before it ends. Later requests with its id get `404 Not Found`.
    pub fn session_idle_timeout(mut self, timeout: Duration) -> Self {
        self.session_idle_timeout = timeout;
        self
    }

    /// Sets how many standalone GET streams a session may have open at once (at least 1);
    /// one more gets `409 Conflict`.
    pub fn max_standalone_streams(mut self, limit: usize) -> Self {
        self.max_standalone_streams = limit.max(1);
        self
    }

    /// Sets how many events may wait to be written on one SSE connection (at least 1).
    ///
    /// A client that reads slower than the server sends fills this queue; the session's next
    /// message then waits for room (back-pressure on the engine) for at most the
    /// [`slow_consumer_timeout`](Self::slow_consumer_timeout), and the connection is closed
    /// rather than buffered for when none comes. Every event stays in the [`EventStore`], so
    /// the client resumes with `Last-Event-ID` and loses nothing that the store still holds.
    pub fn stream_queue(mut self, capacity: usize) -> Self {
        self.stream_queue = capacity.max(1);
        self
    }

    /// Sets how long an event waits for room on a full SSE connection queue before the
    /// connection is closed; `Duration::ZERO` closes it at once.
    pub fn slow_consumer_timeout(mut self, timeout: Duration) -> Self {
        self.slow_consumer_timeout = timeout;
        self
    }

    /// Sets how many POSTed messages of one session may wait for the engine (at least 1);
    /// further POSTs wait for room.
    pub fn inbound_queue(mut self, capacity: usize) -> Self {
        self.inbound_queue = capacity.max(1);
        self
    }

    /// Sets the interval of keep-alive comments on an SSE stream with nothing to send, or
    /// `None` to send none.
    pub fn keep_alive(mut self, interval: Option<Duration>) -> Self {
        self.keep_alive = interval;
        self
    }

    /// Sets the `retry` field of every priming event: how long a client waits before it
    /// reconnects to a closed stream.
    pub fn sse_retry(mut self, retry: Duration) -> Self {
        self.sse_retry = retry;
        self
    }

    /// Enables or disables the standalone GET stream; when disabled, GET gets `405 Method Not
    /// Allowed`. Messages that relate to no request are then dropped.
    pub fn standalone_get(mut self, enabled: bool) -> Self {
        self.standalone_get = enabled;
        self
    }

    /// When `true` (the default), a request whose handler sends nothing before its result is
    /// answered with one `application/json` body; when `false`, every request of a session is
    /// answered with an SSE stream. (The stateless lane always answers a lone final message
    /// with JSON.)
    pub fn json_responses(mut self, enabled: bool) -> Self {
        self.json_responses = enabled;
        self
    }

    /// When `true`, every request other than `initialize` is answered with an SSE stream that
    /// holds only the priming event and then ends, and the client receives the request's
    /// messages by resuming with `Last-Event-ID` (SEP-1699 polling). Default: `false`.
    pub fn close_request_streams_after_priming(mut self, enabled: bool) -> Self {
        self.close_request_streams_after_priming = enabled;
        self
    }

    /// Sets the accepted `Host` names, replacing the default loopback names (`localhost`,
    /// `127.0.0.1`, `[::1]`). A name matches with any port unless it names one
    /// (`example.com:8443`); matching ignores ASCII case and a trailing dot. Any other `Host`
    /// gets `403 Forbidden`.
    pub fn allowed_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.guard.hosts = Some(hosts.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the accepted `Origin` values (`scheme://host[:port]`), replacing the default
    /// loopback origins (`http` or `https`, loopback names, any port). A request with another
    /// `Origin` gets `403 Forbidden`; a request without one (not from a browser) is accepted.
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.guard.origins = Some(origins.into_iter().map(Into::into).collect());
        self
    }

    /// Turns the `Host` and `Origin` checks off, for a server behind a proxy that performs
    /// them. Without them, any web page a user visits can reach a server on their machine.
    pub fn disable_dns_rebinding_protection(mut self) -> Self {
        self.guard.enabled = false;
        self
    }

    /// Sets the store that keeps SSE events for resumption. Default: a
    /// [`MemoryEventStore`] with its default bounds.
    pub fn event_store(mut self, store: Arc<dyn EventStore>) -> Self {
        self.event_store = store;
        self
    }

    /// Shares the service's Streamable HTTP sessions with the other instances of a deployment
    /// that use the same `store` and `bus` (and the same [`event_store`](Self::event_store),
    /// shared too, for resumption): any instance then serves any session, so a load balancer
    /// in front of them needs no stickiness. Default: none, every session lives in this
    /// service alone.
    ///
    /// A session's record (its owner, whether the client finished initializing, and the
    /// role's state) is saved when `initialize` is answered and whenever the role's state
    /// changes, and lives for [`session_idle_timeout`](Self::session_idle_timeout) after the
    /// session was last used on any instance. An instance that gets a request for a session
    /// it does not hold adopts it from its record. Every request to a copy renews the record
    /// in the store, so a `DELETE` on any instance, which removes the record, makes the next
    /// request anywhere `404`; idleness and an instance's shutdown end only that instance's
    /// copy. Each save of the record is numbered by the store, and a copy never takes an
    /// older state than the one it has, however the instances' frames cross. Sessions of the
    /// legacy HTTP+SSE transport are not shared: each lives with its event stream.
    ///
    /// When the store cannot be reached, a request that needs it (a session this instance
    /// does not hold, or a change of a session's record) fails with `503`, a copy held here
    /// serves on, and later requests succeed again once the store is back.
    pub fn shared_sessions(
        mut self,
        store: Arc<dyn SessionStore>,
        bus: Arc<dyn MessageBus>,
    ) -> Self {
        self.shared_sessions = Some((store, bus));
        self
    }

    /// The bus of [`shared_sessions`](Self::shared_sessions), if any: the role crate announces
    /// what concerns every instance's clients on it.
    pub fn get_message_bus(&self) -> Option<&Arc<dyn MessageBus>> {
        self.shared_sessions.as_ref().map(|(_, bus)| bus)
    }

    /// Sets the accepted `MCP-Protocol-Version` header values of the legacy era (sessions);
    /// any other value gets `400 Bad Request`. Default: the legacy revisions 2024-11-05,
    /// 2025-03-26, 2025-06-18 and 2025-11-25. A request without the header is taken as
    /// 2025-03-26.
    ///
    /// With a [stateless lane](crate::server::StreamableHttpService::stateless), a header that
    /// names no legacy revision goes to the lane instead, which judges it against
    /// [`modern_versions`](Self::modern_versions).
    ///
    /// With none, the service serves no legacy revision: every legacy message, `initialize`
    /// included, gets `400` and `-32022` (UnsupportedProtocolVersion) whose `data.supported`
    /// lists the lane's modern versions, as the spec asks of a modern-only server.
    pub fn protocol_versions(
        mut self,
        versions: impl IntoIterator<Item = ProtocolVersion>,
    ) -> Self {
        self.protocol_versions = versions.into_iter().collect();
        self
    }

    /// The accepted `MCP-Protocol-Version` header values of the legacy era.
    pub fn get_protocol_versions(&self) -> &[ProtocolVersion] {
        &self.protocol_versions
    }

    /// Sets the modern revisions the [stateless lane](crate::server::StreamableHttpService::stateless)
    /// serves. A modern request for another version gets `400 Bad Request` and `-32022`
    /// (UnsupportedProtocolVersion), whose `data.supported` lists these. Default: every modern
    /// revision this crate knows ([`ProtocolVersion::MODERN`]: 2026-07-28).
    pub fn modern_versions(mut self, versions: impl IntoIterator<Item = ProtocolVersion>) -> Self {
        self.modern_versions = versions.into_iter().collect();
        self
    }

    /// The modern revisions the stateless lane serves.
    pub fn get_modern_versions(&self) -> &[ProtocolVersion] {
        &self.modern_versions
    }

    /// Sets how many modern requests the [stateless lane](crate::server::StreamableHttpService::stateless)
    /// serves at once (at least 1), from admission until the handler is done or the client is
    /// gone; an open `subscriptions/listen` stream counts for as long as it is open. One more
    /// gets `503 Service Unavailable` with `Retry-After`, and a JSON-RPC error carrying its id.
    pub fn max_stateless_in_flight(mut self, limit: usize) -> Self {
        self.max_stateless_in_flight = limit.max(1);
        self
    }

    /// How many modern requests the stateless lane serves at once.
    pub fn get_max_stateless_in_flight(&self) -> usize {
        self.max_stateless_in_flight
    }

    /// Sets the limits clients read messages with: the size and nesting of a message their
    /// parser accepts (the other members of `limits` are not used). A final message of the
    /// [stateless lane](crate::server::StreamableHttpService::stateless) that breaks them is
    /// not sent; the request is answered instead with `-32603` (internal error) naming the
    /// limit, since the client would refuse the message and its request would wait for a
    /// timeout. Default: [`ParseOptions::default`] (4 MiB, 64 levels), what mcpwire's client
    /// reads with. (A session's messages come from its own engine, which has its own limits.)
    pub fn peer_limits(mut self, limits: ParseOptions) -> Self {
        self.peer_limits = limits;
        self
    }

    /// Sets how long [`serve`](crate::server::serve) waits for a connection's request headers,
    /// which also bounds how long an HTTP/1 connection may idle between requests.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets how many connections [`serve`](crate::server::serve) keeps open at once (at least
    /// 1); connections beyond it are closed as soon as they are accepted.
    pub fn max_connections(mut self, limit: usize) -> Self {
        self.max_connections = limit.max(1);
        self
    }

    /// Sets how long requests in flight have to finish when the service shuts down
    /// ([`StreamableHttpService::shutdown`](crate::server::StreamableHttpService::shutdown),
    /// which [`serve`](crate::server::serve) runs): what still runs then is answered `503`,
    /// or has its SSE stream told to come back after the `retry` interval.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// The grace period of [`Config::shutdown_grace`].
    pub fn get_shutdown_grace(&self) -> Duration {
        self.shutdown_grace
    }

    /// Serves the deprecated HTTP+SSE transport of revision 2024-11-05 beside Streamable
    /// HTTP, for clients that predate it: `GET sse_path` opens a session's event stream and
    /// `POST messages_path?sessionId=…` carries the client's messages (conventionally `/sse`
    /// and `/messages`). Default: off.
    ///
    /// Requests to these two paths are served by the legacy transport; every other path stays
    /// the Streamable HTTP endpoint, unchanged. Each path is matched exactly against the
    /// request's path, and must not be the path of the Streamable HTTP endpoint; it may be the
    /// same for both (`GET` opens the stream, `POST` carries a message). A path is read up to
    /// any `?` or `#`, and gets a leading `/` when it has none. The messages path is sent to
    /// the client as is in the stream's `endpoint` event, so behind a router that strips a
    /// prefix, mount the service so that it sees the paths clients use.
    ///
    /// A legacy session starts with its `GET` (counted against
    /// [`max_sessions`](Self::max_sessions), `503` beyond it), is handed to the same session
    /// factory as an [`HttpSessionTransport`](crate::server::HttpSessionTransport), and ends
    /// when its event stream closes. The `Host` and `Origin` allowlists, the body limits, the
    /// inbound queue, the keep-alive comments and the [`stream_queue`](Self::stream_queue)
    /// apply as they do to Streamable HTTP; the client of a legacy stream cannot resume it, so
    /// a client that leaves its stream's queue full beyond the
    /// [`slow_consumer_timeout`](Self::slow_consumer_timeout) loses its session, and nothing
    /// is kept in the event store. See
    /// [`StreamableHttpService`](crate::server::StreamableHttpService) for the status codes.
    ///
    /// # Examples
    ///
    /// ```
    /// use mcpwire_http::server::Config;
    ///
    /// let config = Config::new().legacy_sse_endpoints("/sse", "/messages");
    /// assert_eq!(config.get_legacy_sse_endpoints(), Some(("/sse", "/messages")));
    /// ```
    #[cfg(feature = "legacy-sse")]
    pub fn legacy_sse_endpoints(
        mut self,
        sse_path: impl Into<String>,
        messages_path: impl Into<String>,
    ) -> Self {
        self.legacy_sse = Some(LegacySseEndpoints {
            sse: endpoint_path(sse_path.into()),
            messages: endpoint_path(messages_path.into()),
        });
        self
    }

    /// The paths of the legacy HTTP+SSE endpoints (event stream, messages), when they are
    /// served.
    #[cfg(feature = "legacy-sse")]
    pub fn get_legacy_sse_endpoints(&self) -> Option<(&str, &str)> {
        self.legacy_sse
            .as_ref()
            .map(|endpoints| (endpoints.sse.as_str(), endpoints.messages.as_str()))
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = formatter.debug_struct("Config");
        debug
            .field("max_body_bytes", &self.max_body_bytes)
            .field("body_read_timeout", &self.body_read_timeout)
            .field("max_sessions", &self.max_sessions)
            .field("initialization_timeout", &self.initialization_timeout)
            .field(
                "max_pending_initializations",
                &self.max_pending_initializations,
            )
            .field("session_idle_timeout", &self.session_idle_timeout)
            .field("max_standalone_streams", &self.max_standalone_streams)
            .field("stream_queue", &self.stream_queue)
            .field("slow_consumer_timeout", &self.slow_consumer_timeout)
            .field("inbound_queue", &self.inbound_queue)
            .field("keep_alive", &self.keep_alive)
            .field("sse_retry", &self.sse_retry)
            .field("standalone_get", &self.standalone_get)
            .field("json_responses", &self.json_responses)
            .field(
                "close_request_streams_after_priming",
                &self.close_request_streams_after_priming,
            )
            .field("guard", &self.guard)
            .field("shared_sessions", &self.shared_sessions.is_some())
            .field("header_read_timeout", &self.header_read_timeout)
            .field("max_connections", &self.max_connections)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("protocol_versions", &self.protocol_versions)
            .field("modern_versions", &self.modern_versions)
            .field("max_stateless_in_flight", &self.max_stateless_in_flight)
            .field("peer_limits", &self.peer_limits);
        #[cfg(feature = "legacy-sse")]
        debug.field("legacy_sse", &self.legacy_sse);
        debug.finish_non_exhaustive()
    }
}

/// A configured endpoint path as the service matches it: up to any query or fragment, with a
/// leading `/`.
#[cfg(feature = "legacy-sse")]
fn endpoint_path(mut path: String) -> String {
    if let Some(end) = path.find(['?', '#']) {
        path.truncate(end);
    }
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    path
}
