//! The MCP endpoint as a `tower::Service`: the checks every request passes, then the lane that
//! serves it (stateless, legacy HTTP+SSE, or Streamable HTTP).

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};
use http_body::Body;
use mcpwire_jsonrpc::ErrorCode;
use mcpwire_schema::{Era, ProtocolVersion};

use crate::server::body::ResponseBody;
use crate::server::config::Config;
use crate::server::guard::Rejection;
#[cfg(feature = "legacy-sse")]
use crate::server::legacy::{self, LegacyPath};
use crate::server::registry::Registry;
use crate::server::request::{BoxError, check_head};
use crate::server::response::{error_response, error_response_in};
use crate::server::shared::Shared;
use crate::server::stateless::{self, Lane, StatelessHandler};
use crate::server::streamable;
use crate::server::transport::HttpSessionTransport;

pub use crate::headers::{LAST_EVENT_ID, MCP_PROTOCOL_VERSION, MCP_SESSION_ID};

/// The MCP endpoint of the Streamable HTTP transport (revision 2025-11-25), as a
/// [`tower_service::Service`] over [`http::Request`]s.
///
/// The service answers every request it is given, whatever its path: mount it at the MCP
/// endpoint (for example `/mcp`) with a router, or serve it alone with
/// [`serve`](crate::server::serve).
///
/// - `POST` carries one JSON-RPC message. A request is answered with `application/json` when
///   its handler sends nothing before the result, otherwise with `text/event-stream`; a
///   notification or response gets `202 Accepted`. An `initialize` request without
///   `Mcp-Session-Id` creates a session, after every check has passed, and the session id
///   comes back in the `Mcp-Session-Id` header of its response; if `initialize` fails, the
///   session is dropped again.
/// - `GET` opens a standalone SSE stream, or resumes any stream of the session with
///   `Last-Event-ID`.
/// - `DELETE` ends the session.
///
/// Each new session's [`HttpSessionTransport`] is given to the session factory, which must
/// serve it (`mcpwire_server::Server::serve` does).
///
/// With a [stateless lane](Self::stateless), the same endpoint serves the modern era
/// (revision 2026-07-28) too: requests without sessions, validated and answered one by one
/// by a [`StatelessHandler`]; the statuses of that lane are listed there.
///
/// With `Config::legacy_sse_endpoints` (feature `legacy-sse`), the service also speaks the
/// deprecated HTTP+SSE transport of revision 2024-11-05 at two paths of its own, for clients
/// that predate Streamable HTTP; every other path stays the Streamable HTTP endpoint:
///
/// - `GET` of the event stream path creates a session, within the session limit, and answers
///   with an SSE stream whose first event is `endpoint`, with the messages path and the
///   session's id as data (`/messages?sessionId=…`). Every message of the session's transport,
///   responses included, follows as a `message` event. The session ends when the stream's
///   connection closes.
/// - `POST` of the messages path with the session's `sessionId` carries one JSON-RPC message
///   and gets `202 Accepted`; its answer travels on the stream.
/// - A legacy session is unknown to the Streamable endpoint, and the other way round.
///
/// | status | when |
/// |---|---|
/// | `400` | a request head with `Host`, `Origin`, `Authorization`, `Mcp-Session-Id`, `MCP-Protocol-Version` or `Last-Event-ID` given twice, or an HTTP/1.1 one without `Host`; malformed JSON-RPC (with a JSON-RPC error body), a batch, a missing `Mcp-Session-Id` on anything but `initialize`, an unsupported `MCP-Protocol-Version` (or, on `initialize`, one that contradicts its `protocolVersion`), a duplicate in-flight request id, a `Last-Event-ID` that cannot be resumed; a legacy `POST` without a well-formed `sessionId` |
/// | `403` | a `Host` or `Origin` outside the allowlists |
/// | `404` | an unknown, expired or deleted session (one that did not finish initializing in time included) (for a legacy `POST`, one whose stream has closed) |
/// | `405` | a method other than `GET`, `POST` and `DELETE`; `GET` when the standalone stream is disabled; at a legacy path, a method other than its own (`Allow` names it) |
/// | `406` | an `Accept` header without `application/json` and `text/event-stream` (`POST`) or `text/event-stream` (`GET`); for the legacy stream, an `Accept` header without `text/event-stream` |
/// | `408` | a body slower than the body read timeout |
/// | `409` | a `GET` beyond the open standalone streams allowed per session |
/// | `413` | a body larger than the limit |
/// | `415` | a `POST` whose `Content-Type` is not `application/json` |
/// | `429` | a new session of a client address that already has as many sessions waiting for `notifications/initialized` as allowed (with `Retry-After`) |
/// | `503` | a new session beyond the session limit (with `Retry-After`), legacy sessions included, or a service shutting down |
///
/// # Examples
///
/// ```
/// use mcpwire_http::server::{Config, HttpSessionTransport, StreamableHttpService};
///
/// let service = StreamableHttpService::new(Config::default(), |transport: HttpSessionTransport| {
///     // A role crate serves the transport here, for example `server.serve(transport)`.
///     drop(transport);
/// });
/// assert_eq!(service.session_count(), 0);
/// ```
#[derive(Clone)]
pub struct StreamableHttpService {
    shared: Arc<Shared>,
}

impl StreamableHttpService {
    /// A service with `config` that hands each new session's transport to `factory`.
    ///
    /// The factory runs on the tokio runtime that serves the `initialize` request, and must
    /// not block: it typically starts serving the transport and returns.
    pub fn new<F>(config: Config, factory: F) -> Self
    where
        F: Fn(HttpSessionTransport) + Send + Sync + 'static,
    {
        let registry = Arc::new(Registry::new(&config));
        StreamableHttpService {
            shared: Arc::new(Shared {
                config: Arc::new(config),
                factory: Arc::new(factory),
                registry,
                stateless: None,
            }),
        }
    }

    /// This service with a stateless lane that serves the modern era (revision 2026-07-28)
    /// through `handler`, beside the legacy sessions, on the same endpoint.
    ///
    /// Call it on the new service, before cloning it: clones made before share the sessions
    /// but not the lane. Installing a lane again replaces the handler.
    ///
    /// # Which requests take the lane
    ///
    /// - A request whose `MCP-Protocol-Version` header names no legacy revision (2026-07-28,
    ///   or a version this crate does not know, such as `v999.0.0`). A stray `Mcp-Session-Id`
    ///   is ignored: a modern request never touches a session.
    /// - A `POST` without the header and without `Mcp-Session-Id` whose message carries a
    ///   modern `params._meta` (any `io.modelcontextprotocol/` per-request key); it is refused
    ///   for the missing header.
    ///
    /// Everything else is legacy traffic and is served as before. Without a lane, a request
    /// with a modern header gets the legacy answer (`400` with `-32600`, which a dual-era
    /// client takes as a legacy server).
    ///
    /// # The validation ladder
    ///
    /// A request on the lane is checked in this order; the first failure answers it, with a
    /// JSON-RPC error in a JSON body that carries the request's id once the body is parsed:
    ///
    /// | step | failure |
    /// |---|---|
    /// | `Host`, `Origin` | `403` |
    /// | method | `405` with `Allow: POST` (a modern `GET` or `DELETE`) |
    /// | `Accept` lists `application/json` and `text/event-stream` | `406` |
    /// | `Content-Type: application/json` | `415` |
    /// | body size and read time | `413`, `408` |
    /// | JSON-RPC parse | `400`, `-32700`, no id |
    /// | one message, not a batch | `400`, `-32600` |
    /// | not a response | `400`, `-32600` |
    /// | a notification | `202 Accepted`, ignored |
    /// | `MCP-Protocol-Version` present | `400`, `-32020` |
    /// | `_meta` has `protocolVersion` and `clientCapabilities`, well-formed | `400`, `-32602` |
    /// | the header equals the `_meta` version | `400`, `-32020` |
    /// | the version is one of [`Config::modern_versions`] | `400`, `-32022` with `data.supported` and `data.requested` |
    /// | `Mcp-Method` equals the method | `400`, `-32020` |
    /// | `Mcp-Name` equals `params.name` (`tools/call`, `prompts/get`), `params.uri` (`resources/read`) or `params.taskId` (`tasks/get`, `tasks/update`, `tasks/cancel`) | `400`, `-32020` |
    /// | a place among [`Config::max_stateless_in_flight`] | `503` with `Retry-After` |
    ///
    /// Header values are compared case-sensitively after removing optional whitespace, and
    /// `Mcp-Name` is decoded from its Base64 form first ([`crate::headers::decode_value`]). The
    /// `Mcp-Param-*` headers are decoded and handed to the handler
    /// ([`Exchange::param_headers`](crate::server::Exchange::param_headers)), which judges
    /// them.
    ///
    /// # The answer
    ///
    /// The handler's final message alone is one JSON body, with status `404` for `-32601`,
    /// `400` for `-32020`, `-32021` and `-32022`, and `200` otherwise. When the handler
    /// notifies first, the answer is an SSE stream (status `200`, `X-Accel-Buffering: no`)
    /// of `event: message` events, without a priming event or event ids, with keep-alive
    /// comments while idle, ending after the final message. No answer carries
    /// `Mcp-Session-Id`. Request ids may repeat across requests: each is its own exchange.
    ///
    /// Closing the connection before the answer, or the SSE stream before its end, cancels
    /// the request: [`Exchange::cancellation`](crate::server::Exchange::cancellation) fires,
    /// the handler's future is dropped, and nothing more is sent.
    pub fn stateless<H: StatelessHandler>(self, handler: H) -> Self {
        let shared = &self.shared;
        let lane = Lane::new(Arc::new(handler), shared.config.max_stateless_in_flight);
        StreamableHttpService {
            shared: Arc::new(Shared {
                config: Arc::clone(&shared.config),
                factory: Arc::clone(&shared.factory),
                registry: Arc::clone(&shared.registry),
                stateless: Some(lane),
            }),
        }
    }

    /// Whether the service has a [stateless lane](Self::stateless) for the modern era.
    pub fn is_stateless(&self) -> bool {
        self.shared.stateless.is_some()
    }

    /// How many modern requests the stateless lane is serving: admitted, and neither
    /// finished nor cancelled.
    pub fn stateless_in_flight(&self) -> usize {
        self.shared.stateless.as_ref().map_or(0, |lane| {
            lane.in_flight(self.shared.config.max_stateless_in_flight)
        })
    }

    /// The configuration the service runs with.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// How many sessions are live.
    pub fn session_count(&self) -> usize {
        self.shared.registry.len()
    }

    /// The frames on the bus of the deployment the service shares its sessions with
    /// ([`Config::shared_sessions`]) that are not the service's own: what a role publishes
    /// there, such as a server's announcements. Each comes after the service has acted on
    /// every frame published before it, so a role that reads its frames here sees the
    /// sessions as the other instances left them when they published. `None` when the
    /// sessions are not shared, or when a clone of the service took the frames already.
    /// Call it inside a tokio runtime: the service starts reading the bus.
    pub fn bus_frames(&self) -> Option<tokio::sync::mpsc::Receiver<bytes::Bytes>> {
        self.shared.registry.foreign_frames()
    }

    /// Shuts the service down gracefully, within [`Config::shutdown_grace`]:
    ///
    /// 1. New requests get `503` with `Retry-After` (a session's POSTs still pass with the
    ///    answers and cancellations its requests in flight need); new sessions and streams
    ///    are refused the same way.
    /// 2. Standalone SSE streams get a last `retry` field and end, so clients reconnect
    ///    (to another instance, behind a balancer) after that interval.
    /// 3. Requests in flight, in sessions and on the stateless lane, have the grace period to
    ///    finish and be answered.
    /// 4. Then what is still running is cut: a request waiting for a JSON answer gets `503`
    ///    with a `-32603` error under its id, a request's SSE stream gets a last `retry` field
    ///    and ends, stateless requests are cancelled (`503`), and every session ends.
    pub async fn shutdown(&self) {
        let registry = &self.shared.registry;
        registry.begin_shutdown();
        let deadline = tokio::time::Instant::now() + self.shared.config.shutdown_grace;
        let sessions = registry.sessions();
        for session in &sessions {
            session.send_away(true).await;
        }
        let settled = async {
            for session in &sessions {
                session.settled().await;
            }
            if let Some(lane) = &self.shared.stateless {
                lane.settled(self.shared.config.max_stateless_in_flight)
                    .await;
            }
        };
        if tokio::time::timeout_at(deadline, settled).await.is_err() {
            tracing::debug!("requests still in flight after the shutdown grace period are cut");
        }
        if let Some(lane) = &self.shared.stateless {
            lane.shut_down();
        }
        for session in registry.sessions() {
            session.send_away(false).await;
            // A shared session lives on in the other instances of its deployment.
            session.release().await;
        }
    }

    /// A future that waits for `signal`, then [`shutdown`](Self::shutdown)s the service: give
    /// it to the graceful shutdown of the HTTP server the service is mounted in (axum's
    /// `with_graceful_shutdown`, for example), which then waits for connections that only the
    /// service's open SSE streams would otherwise keep alive.
    pub fn graceful_shutdown<F>(&self, signal: F) -> impl Future<Output = ()> + Send + 'static
    where
        F: Future + Send + 'static,
    {
        let service = self.clone();
        async move {
            signal.await;
            service.shutdown().await;
        }
    }

    /// Answers one HTTP request.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        handle(Arc::clone(&self.shared), request).await
    }
}

impl fmt::Debug for StreamableHttpService {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("StreamableHttpService")
            .field("config", &self.shared.config)
            .field("sessions", &self.session_count())
            .finish()
    }
}

impl<B> tower_service::Service<Request<B>> for StreamableHttpService
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _context: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> ResponseFuture {
        let shared = Arc::clone(&self.shared);
        ResponseFuture(Box::pin(async move { Ok(handle(shared, request).await) }))
    }
}

/// The future of [`StreamableHttpService`]'s response.
pub struct ResponseFuture(
    Pin<Box<dyn Future<Output = Result<Response<ResponseBody>, Infallible>> + Send>>,
);

impl Future for ResponseFuture {
    type Output = Result<Response<ResponseBody>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(context)
    }
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("ResponseFuture")
    }
}

async fn handle<B>(shared: Arc<Shared>, request: Request<B>) -> Response<ResponseBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let config = &shared.config;
    // A header that names no legacy revision sends the request to the stateless lane, if
    // there is one; the legacy HTTP+SSE paths keep their own rules whatever it says.
    let version_header = request.headers().get(MCP_PROTOCOL_VERSION);
    // A request of a legacy session whose header names no modern revision either is a legacy
    // request with a bad header, not a modern one: it gets the legacy refusal below.
    let in_session = request.headers().contains_key(MCP_SESSION_ID);
    let modern = shared.stateless.is_some()
        && version_header.is_some_and(|value| {
            stateless::is_modern_header(value)
                && (!in_session || stateless::names_modern_revision(value))
        })
        && !is_legacy_sse_path(config, request.uri().path());
    let era = if modern { Era::Modern } else { Era::Legacy };
    if let Err(problem) = check_head(request.version(), request.headers()) {
        return error_response_in(
            era,
            StatusCode::BAD_REQUEST,
            ErrorCode::INVALID_REQUEST,
            &problem,
        );
    }
    // While the service drains, POSTs to a session still pass: they may carry the answers
    // and cancellations of requests in flight (a new request among them is refused later).
    let draining_session_post = in_session && request.method() == http::Method::POST;
    if shared.registry.is_shutting_down() && !draining_session_post {
        return error_response_in(
            era,
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::INTERNAL_ERROR,
            "the server is shutting down",
        );
    }
    let authority = request
        .uri()
        .authority()
        .map(|authority| authority.as_str());
    match config.guard.check(request.headers(), authority) {
        Ok(()) => {}
        Err(Rejection::Host) => {
            return error_response_in(
                era,
                StatusCode::FORBIDDEN,
                ErrorCode::INVALID_REQUEST,
                "host not allowed",
            );
        }
        Err(Rejection::Origin) => {
            return error_response_in(
                era,
                StatusCode::FORBIDDEN,
                ErrorCode::INVALID_REQUEST,
                "origin not allowed",
            );
        }
    }
    if let Some(value) = version_header {
        let supported = value
            .to_str()
            .ok()
            .and_then(ProtocolVersion::from_wire)
            .is_some_and(|version| config.protocol_versions.contains(&version));
        // A service of no legacy revision refuses the message itself, with the versions it
        // serves (see `streamable::refuse_legacy`).
        if !supported && !modern && !config.protocol_versions.is_empty() {
            let served: Vec<&str> = config
                .protocol_versions
                .iter()
                .map(|version| version.as_str())
                .collect();
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::INVALID_REQUEST,
                &format!(
                    "unsupported MCP-Protocol-Version `{}`: this endpoint serves {}",
                    String::from_utf8_lossy(value.as_bytes()),
                    served.join(", ")
                ),
            );
        }
    }
    if modern && let Some(lane) = &shared.stateless {
        return stateless::handle(&shared.config, lane, request).await;
    }
    #[cfg(feature = "legacy-sse")]
    if let Some(path) = LegacyPath::of(config, request.uri().path()) {
        return legacy::handle(shared, path, request).await;
    }
    streamable::handle(shared, request).await
}

/// Whether `path` is one of the legacy HTTP+SSE endpoints.
#[cfg(feature = "legacy-sse")]
fn is_legacy_sse_path(config: &Config, path: &str) -> bool {
    LegacyPath::of(config, path).is_some()
}

/// Whether `path` is one of the legacy HTTP+SSE endpoints: never without the feature.
#[cfg(not(feature = "legacy-sse"))]
fn is_legacy_sse_path(_config: &Config, _path: &str) -> bool {
    false
}
