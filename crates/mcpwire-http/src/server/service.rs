//! The MCP endpoint as a `tower::Service`: header checks, sessions, and the three methods.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use mcpwire_jsonrpc::{ErrorCode, ErrorObject, ErrorResponse, Message, RequestId};
use mcpwire_schema::{Era, ProtocolVersion};

use crate::server::body::{ResponseBody, parse_event_id};
use crate::server::config::Config;
use crate::server::guard::Rejection;
#[cfg(feature = "legacy-sse")]
use crate::server::legacy::{self, LegacyPath};
use crate::server::registry::Registry;
use crate::server::request::{BoxError, accepts, check_post_headers, read_message, session_id};
use crate::server::response::{
    Reject, accepted, error_response, error_response_in, json_response, method_not_allowed,
    session_not_found, sse_response,
};
use crate::server::session::{PostReply, Refusal, Registered, Session};
use crate::server::stateless::{self, Lane, StatelessHandler};
use crate::server::transport::HttpSessionTransport;

pub use crate::headers::{LAST_EVENT_ID, MCP_PROTOCOL_VERSION, MCP_SESSION_ID};

/// The function that serves each new session's transport, supplied by the role crate.
type SessionFactory = dyn Fn(HttpSessionTransport) + Send + Sync;

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
/// | `400` | malformed JSON-RPC (with a JSON-RPC error body), a batch, a missing `Mcp-Session-Id` on anything but `initialize`, an unsupported `MCP-Protocol-Version` (or, on `initialize`, one that contradicts its `protocolVersion`), a duplicate in-flight request id, a `Last-Event-ID` that cannot be resumed; a legacy `POST` without a well-formed `sessionId` |
/// | `403` | a `Host` or `Origin` outside the allowlists |
/// | `404` | an unknown, expired or deleted session (for a legacy `POST`, one whose stream has closed) |
/// | `405` | a method other than `GET`, `POST` and `DELETE`; `GET` when the standalone stream is disabled; at a legacy path, a method other than its own (`Allow` names it) |
/// | `406` | an `Accept` header without `application/json` and `text/event-stream` (`POST`) or `text/event-stream` (`GET`); for the legacy stream, an `Accept` header without `text/event-stream` |
/// | `408` | a body slower than the body read timeout |
/// | `409` | a `GET` beyond the open standalone streams allowed per session |
/// | `413` | a body larger than the limit |
/// | `415` | a `POST` whose `Content-Type` is not `application/json` |
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

/// What every clone of a service shares.
pub(crate) struct Shared {
    pub(crate) config: Arc<Config>,
    pub(crate) factory: Arc<SessionFactory>,
    pub(crate) registry: Arc<Registry>,
    /// The stateless lane of modern requests, when installed.
    pub(crate) stateless: Option<Lane>,
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
        StreamableHttpService {
            shared: Arc::new(Shared {
                config: Arc::new(config),
                factory: Arc::new(factory),
                registry: Arc::new(Registry::new()),
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

    /// Ends every session and refuses new requests with `503`: open SSE streams end cleanly
    /// after the events already queued, and each session's transport receiver ends. Every
    /// request on the stateless lane is cancelled.
    pub async fn shutdown(&self) {
        let registry = &self.shared.registry;
        registry.begin_shutdown();
        if let Some(lane) = &self.shared.stateless {
            lane.shut_down();
        }
        for session in registry.sessions() {
            session.terminate().await;
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
    if shared.registry.is_shutting_down() {
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
        // serves (see `refuse_legacy`).
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
        return stateless::handle(Arc::clone(&shared), lane, request).await;
    }
    #[cfg(feature = "legacy-sse")]
    if let Some(path) = LegacyPath::of(config, request.uri().path()) {
        return legacy::handle(shared, path, request).await;
    }
    match *request.method() {
        Method::POST => post(shared, request).await,
        Method::GET => get(&shared, request.headers()).await,
        Method::DELETE => delete(&shared, request.headers()).await,
        _ => method_not_allowed(Era::Legacy, "method not allowed", "GET, POST, DELETE"),
    }
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

async fn post<B>(shared: Arc<Shared>, request: Request<B>) -> Response<ResponseBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let config = &shared.config;
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    if let Err(reject) = check_post_headers(config, headers) {
        return reject.into_response();
    }
    let session_header = match session_id_header(headers) {
        Ok(id) => id,
        Err(reject) => return reject.into_response(),
    };
    // Look the session up before reading the body, so that nothing is read for a dead one.
    let session = match &session_header {
        Some(id) => match shared.registry.get(id) {
            Some(session) => Some(session),
            None => return session_not_found(),
        },
        None => None,
    };

    let message = match read_message(config, body, Era::Legacy).await {
        Ok(message) => message,
        Err(response) => return *response,
    };
    if session.is_none()
        && let Some(lane) = &shared.stateless
        && stateless::is_modern_message(&message)
    {
        return stateless::serve_message(&shared, lane, headers, message).await;
    }

    if config.protocol_versions.is_empty() {
        return refuse_legacy(&shared, headers, &message);
    }

    let is_initialize =
        matches!(&message, Message::Request(request) if request.method == "initialize");
    if is_initialize && let Some(response) = contradicting_version(headers, &message) {
        return response;
    }
    let (session, created) = match session {
        Some(session) => (session, false),
        None if is_initialize => match create_session(&shared) {
            Ok(session) => (session, true),
            Err(reject) => return reject.into_response(),
        },
        None => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::INVALID_REQUEST,
                "Mcp-Session-Id is required after initialize",
            );
        }
    };

    match message {
        Message::Request(request) => {
            let id = request.id.clone();
            let activity = session.busy();
            let registered = match session
                .register_request(id.clone(), is_initialize && created, activity)
                .await
            {
                Ok(registered) => registered,
                Err(Refusal::DuplicateId) => {
                    let error = ErrorObject::new(
                        ErrorCode::INVALID_REQUEST,
                        format!("request id {id} is already in flight"),
                    );
                    return json_response(
                        StatusCode::BAD_REQUEST,
                        Message::from(ErrorResponse::new(Some(id), error)).to_vec(),
                    );
                }
                Err(_) => return session_not_found(),
            };
            let mut forwarding = ForwardGuard {
                session: Some(Arc::clone(&session)),
                id,
            };
            if session.forward(Message::Request(request)).await.is_err() {
                return session_not_found();
            }
            forwarding.session = None;
            let mut response = match registered {
                Registered::Streaming(body) => sse_response(body),
                Registered::Pending(reply, _activity) => match reply.await {
                    Ok(PostReply::Json(bytes, is_error)) => {
                        if created && is_error {
                            // A failed initialize leaves nothing behind.
                            session.terminate().await;
                            return json_response(StatusCode::OK, bytes);
                        }
                        json_response(StatusCode::OK, bytes)
                    }
                    Ok(PostReply::Sse(body)) => sse_response(body),
                    Err(_) if session.terminated.is_cancelled() => return session_not_found(),
                    // The client cancelled the request: it gets no response.
                    Err(_) => sse_response(ResponseBody::sse(Default::default(), None, None, None)),
                },
            };
            if created {
                let value =
                    HeaderValue::from_str(&session.id).expect("session ids are visible ASCII");
                response.headers_mut().insert(MCP_SESSION_ID, value);
            }
            response
        }
        other => {
            if let Some(id) = cancelled_request(&other) {
                // The engine sends nothing more for a cancelled request; end its stream.
                session.forget_request(&id).await;
            }
            let _activity = session.busy();
            match session.forward(other).await {
                Ok(()) => accepted(),
                Err(_) => session_not_found(),
            }
        }
    }
}

/// The `protocolVersion` a request asks for in its params, as `initialize` does.
fn initialize_version(message: &Message) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Initialize {
        #[serde(rename = "protocolVersion")]
        protocol_version: String,
    }
    let Message::Request(request) = message else {
        return None;
    };
    let params = request.params.as_deref()?;
    serde_json::from_str::<Initialize>(params.get())
        .ok()
        .map(|initialize| initialize.protocol_version)
}

/// The `400` for an `initialize` whose `MCP-Protocol-Version` header names another revision
/// than its `protocolVersion`: the two would negotiate different things, so neither is
/// trusted and no session is made. `None` when the header is absent or agrees.
fn contradicting_version(headers: &HeaderMap, message: &Message) -> Option<Response<ResponseBody>> {
    let header = headers.get(MCP_PROTOCOL_VERSION)?;
    let Message::Request(request) = message else {
        return None;
    };
    let asked = initialize_version(message)?;
    if header.as_bytes() == asked.as_bytes() {
        return None;
    }
    let header = String::from_utf8_lossy(header.as_bytes());
    let error = ErrorObject::new(
        ErrorCode::INVALID_REQUEST,
        format!(
            "the MCP-Protocol-Version header `{header}` contradicts the protocolVersion `{asked}` of initialize"
        ),
    );
    Some(json_response(
        StatusCode::BAD_REQUEST,
        Message::from(ErrorResponse::new(Some(request.id.clone()), error)).to_vec(),
    ))
}

/// The answer of a service that serves no legacy revision (an empty
/// [`Config::protocol_versions`]) to a legacy message: `400` and `-32022`
/// (UnsupportedProtocolVersion) naming the modern revisions of its stateless lane, if any, and
/// the revision the client asked for (in `initialize`, or else in its header), so that a
/// legacy client can tell its user why.
fn refuse_legacy(
    shared: &Shared,
    headers: &HeaderMap,
    message: &Message,
) -> Response<ResponseBody> {
    let id = match message {
        Message::Request(request) => Some(request.id.clone()),
        _ => None,
    };
    let requested = initialize_version(message)
        .or_else(|| {
            headers
                .get(MCP_PROTOCOL_VERSION)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let supported: &[ProtocolVersion] = match &shared.stateless {
        Some(_) => &shared.config.modern_versions,
        None => &[],
    };
    let mut error = mcpwire_schema::meta::unsupported_protocol_version(&requested, supported);
    // A legacy client may show only the message: it names what the server speaks.
    let names: Vec<&str> = supported.iter().map(|version| version.as_str()).collect();
    error.message = format!(
        "unsupported protocol version: {requested}; this server supports only {}",
        names.join(", ")
    );
    json_response(
        StatusCode::BAD_REQUEST,
        Message::from(ErrorResponse::new(id, error)).to_vec(),
    )
}

/// Forgets a registered request whose POST ended before the request was forwarded.
struct ForwardGuard {
    session: Option<Arc<Session>>,
    id: RequestId,
}

impl Drop for ForwardGuard {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let id = self.id.clone();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move { session.forget_request(&id).await });
            }
        }
    }
}

/// The id a `notifications/cancelled` names, if `message` is one.
fn cancelled_request(message: &Message) -> Option<RequestId> {
    let Message::Notification(notification) = message else {
        return None;
    };
    if notification.method != "notifications/cancelled" {
        return None;
    }
    #[derive(serde::Deserialize)]
    struct Params {
        #[serde(rename = "requestId")]
        request_id: RequestId,
    }
    let params = notification.params.as_ref()?;
    serde_json::from_str::<Params>(params.get())
        .ok()
        .map(|params| params.request_id)
}

fn create_session(shared: &Arc<Shared>) -> Result<Arc<Session>, Reject> {
    let (session, inbound) = shared.registry.register(&shared.config, false)?;
    (shared.factory)(HttpSessionTransport::new(Arc::clone(&session), inbound));
    Ok(session)
}

async fn get(shared: &Arc<Shared>, headers: &HeaderMap) -> Response<ResponseBody> {
    let config = &shared.config;
    let last_event_id = headers.get(LAST_EVENT_ID);
    if !config.standalone_get && last_event_id.is_none() {
        return method_not_allowed(
            Era::Legacy,
            "this server offers no standalone SSE stream",
            "POST, DELETE",
        );
    }
    if !accepts(headers, "text/event-stream") {
        return error_response(
            StatusCode::NOT_ACCEPTABLE,
            ErrorCode::INVALID_REQUEST,
            "Accept must list text/event-stream",
        );
    }
    let session = match session_for(shared, headers) {
        Ok(session) => session,
        Err(reject) => return reject.into_response(),
    };
    let opened = match last_event_id {
        Some(value) => {
            let Some((stream, after)) = value.to_str().ok().and_then(parse_event_id) else {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::INVALID_REQUEST,
                    "malformed Last-Event-ID",
                );
            };
            session.resume(stream, after).await
        }
        None => session.open_standalone().await,
    };
    match opened {
        Ok(body) => sse_response(body),
        Err(Refusal::Terminated) => session_not_found(),
        Err(Refusal::TooManyStreams) => error_response(
            StatusCode::CONFLICT,
            ErrorCode::INVALID_REQUEST,
            "too many open SSE streams for this session",
        ),
        Err(Refusal::Unresumable(reason)) => {
            error_response(StatusCode::BAD_REQUEST, ErrorCode::INVALID_REQUEST, &reason)
        }
        Err(Refusal::DuplicateId) => unreachable!("a GET registers no request"),
    }
}

async fn delete(shared: &Arc<Shared>, headers: &HeaderMap) -> Response<ResponseBody> {
    match session_for(shared, headers) {
        Ok(session) => {
            session.terminate().await;
            tracing::debug!("session deleted");
            Response::builder()
                .status(StatusCode::OK)
                .body(ResponseBody::empty())
                .expect("a valid response")
        }
        Err(reject) => reject.into_response(),
    }
}

/// The live session a request names, or the response refusing it.
fn session_for(shared: &Arc<Shared>, headers: &HeaderMap) -> Result<Arc<Session>, Reject> {
    match session_id_header(headers)? {
        Some(id) => shared.registry.get(&id).ok_or(Reject::SESSION_NOT_FOUND),
        None => Err(Reject {
            status: StatusCode::BAD_REQUEST,
            code: ErrorCode::INVALID_REQUEST,
            message: "Mcp-Session-Id is required",
        }),
    }
}

/// The `Mcp-Session-Id` header, if present and well formed.
fn session_id_header(headers: &HeaderMap) -> Result<Option<String>, Reject> {
    let Some(value) = headers.get(MCP_SESSION_ID) else {
        return Ok(None);
    };
    match session_id(value.as_bytes()) {
        Some(id) => Ok(Some(id)),
        None => Err(Reject {
            status: StatusCode::BAD_REQUEST,
            code: ErrorCode::INVALID_REQUEST,
            message: "malformed Mcp-Session-Id",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancellation_names_its_request() {
        let message = Message::parse(
            br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}"#,
        )
        .unwrap();
        assert_eq!(cancelled_request(&message), Some(RequestId::from(7)));
        let other =
            Message::parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert_eq!(cancelled_request(&other), None);
    }
}
