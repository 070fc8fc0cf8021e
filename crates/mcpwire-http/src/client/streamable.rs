//! The Streamable HTTP client transport.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::client::service::ResponseBody;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use http_body_util::BodyExt;
use mcpwire_jsonrpc::{Message, Request, RequestId};
use mcpwire_transport::{Error, Inbound, MessageSender, SendOptions, Transport};
use tokio::sync::{RwLock, oneshot};
use tokio_util::sync::CancellationToken;

use crate::client::Error as HttpError;
use crate::client::connection::{
    APPLICATION_JSON, Connection, TEXT_EVENT_STREAM, explained_status, is_unsupported, media_type,
};
use crate::client::inbox::{HttpClientReceiver, Inbox};
use crate::client::modern::{cancelled_request, modern_headers};
use crate::client::options::Options;
use crate::client::session::{SessionHandle, lock};
use crate::client::sse::SseParser;
use crate::headers::{LAST_EVENT_ID, MCP_PROTOCOL_VERSION, MCP_SESSION_ID};

/// The request whose answer carries the session id and the negotiated protocol version.
const INITIALIZE: &str = "initialize";
/// The notification after which the standalone GET stream is opened.
const INITIALIZED: &str = "notifications/initialized";

/// The wait for the answer to a request's POST: in effect none, since the engine bounds it.
const UNBOUNDED: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 60 * 60);

/// Room for the `data: ` prefix of an SSE line on top of the message limit.
const SSE_LINE_SLACK: usize = 64;

/// The prefix of the ids of the transport's own `initialize` requests. The engine's ids are
/// its own business, but a string no engine would choose keeps the two apart in logs.
const REINITIALIZE_ID_PREFIX: &str = "mcpwire-http-reinitialize-";

/// A client transport that speaks MCP's Streamable HTTP to one server endpoint.
///
/// Built by [`HttpClientBuilder::streamable`](crate::client::HttpClientBuilder::streamable).
/// See the [module documentation](crate::client) for how messages, sessions, streams and
/// resumption work.
#[derive(Debug)]
pub struct StreamableHttpClientTransport {
    sender: StreamableHttpClientSender,
    receiver: HttpClientReceiver,
}

impl StreamableHttpClientTransport {
    pub(crate) fn new(connection: Arc<Connection>, options: Options) -> Self {
        let (inbox, receiver) = Inbox::new(options.inbound_capacity, options.max_message_bytes);
        let streamable = Streamable::new(connection, options, inbox);
        StreamableHttpClientTransport {
            sender: StreamableHttpClientSender {
                streamable,
                closed: false,
            },
            receiver,
        }
    }

    /// The session: its id once the server assigned one, and the protocol version sent.
    pub fn session(&self) -> SessionHandle {
        self.sender.streamable.session.clone()
    }
}

impl Transport for StreamableHttpClientTransport {
    type Sender = StreamableHttpClientSender;
    type Receiver = HttpClientReceiver;

    fn split(self) -> (StreamableHttpClientSender, HttpClientReceiver) {
        (self.sender, self.receiver)
    }
}

/// The sending half of a [`StreamableHttpClientTransport`].
#[derive(Debug)]
pub struct StreamableHttpClientSender {
    streamable: Arc<Streamable>,
    closed: bool,
}

impl MessageSender for StreamableHttpClientSender {
    const SENDS_HEADERS: bool = true;

    /// POSTs `message` to the endpoint.
    ///
    /// A request returns at once: its HTTP exchange runs on a task, so that a slow answer
    /// does not hold back the messages after it (such as the answer to a server request the
    /// slow one waits for). A notification or response returns once the server has accepted
    /// it, which keeps them in order with what follows.
    ///
    /// # Errors
    ///
    /// [`Error::is_closed`] after [`close`](MessageSender::close). An error whose
    /// [`Error`](crate::client::Error) source [`is_session_expired`](HttpError::is_session_expired) when the
    /// server answered 404 to the session id and no new session could take its place (see
    /// [`HttpClientBuilder::reinitialize_on_session_expiry`](crate::client::HttpClientBuilder::reinitialize_on_session_expiry)):
    /// the transport is over, and the client must initialize a new session on a new
    /// transport. [`Error::is_io`] when a notification or response could not be delivered. A
    /// request that fails is answered instead, with a `-32603` error response naming the
    /// HTTP failure.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the message may or may not have been sent.
    async fn send(&mut self, message: Message, options: SendOptions) -> Result<(), Error> {
        if self.closed || self.streamable.inbox.shutdown.is_cancelled() {
            return Err(self.streamable.inbox.closed_error());
        }
        self.streamable.send(message, options.param_headers).await
    }

    /// Ends the session with a DELETE carrying its id (a 405 answer is fine: the server keeps
    /// sessions until they expire), then stops every stream. Closing twice does nothing.
    ///
    /// # Errors
    ///
    /// Never fails: a failed DELETE is logged, since the server ends idle sessions anyway.
    async fn close(&mut self) -> Result<(), Error> {
        if std::mem::replace(&mut self.closed, true) {
            return Ok(());
        }
        self.streamable.terminate().await;
        self.streamable.inbox.shutdown.cancel();
        Ok(())
    }
}

impl Drop for StreamableHttpClientSender {
    fn drop(&mut self) {
        self.streamable.inbox.shutdown.cancel();
    }
}

/// How an SSE stream went.
#[derive(Debug, Default)]
struct StreamOutcome {
    /// The response to the awaited request arrived.
    answered: bool,
    /// The response to the transport's own request, kept from the engine.
    kept: Option<Message>,
    /// How many messages the stream delivered.
    messages: usize,
    /// The transport shut down while reading.
    shut_down: bool,
}

/// Whose request an answer being read belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    /// A request of the engine, or none: every message goes to the engine.
    Engine,
    /// The engine's `initialize`: its result names the protocol version to send.
    Initialize,
    /// The transport's own `initialize` for a new session: its response stays with the
    /// transport, and other messages go to the engine.
    Reinitialize,
    /// A modern request of the engine: every message goes to the engine, and its stream is
    /// not resumed.
    Modern,
}

impl Purpose {
    fn of_engine_request(initialize: bool) -> Self {
        if initialize {
            Purpose::Initialize
        } else {
            Purpose::Engine
        }
    }
}

/// Why a single POST failed.
#[derive(Debug)]
enum PostFailure {
    /// The server answered 404 to the session id of this generation.
    SessionGone { generation: u64 },
    /// Any other failure.
    Http(HttpError),
}

/// The client role's handshake, kept to start a new session the same way.
#[derive(Debug, Default)]
struct Handshake {
    /// The client's `initialize` request.
    initialize: Option<Request>,
    /// The body of the client's `notifications/initialized`.
    initialized: Option<Bytes>,
    /// The protocol version the server negotiated in its answer to `initialize`.
    negotiated: Option<String>,
}

/// The state of one Streamable HTTP transport, shared by its sender and its tasks.
#[derive(Debug)]
pub(crate) struct Streamable {
    connection: Arc<Connection>,
    options: Options,
    pub(crate) inbox: Arc<Inbox>,
    session: SessionHandle,
    /// Stops the standalone GET stream, while one runs.
    standalone: Mutex<Option<CancellationToken>>,
    handshake: Mutex<Handshake>,
    /// Held for writing while a new session starts, and for reading while a request takes
    /// the session id: nothing goes out with the ended session's id once a new session is
    /// under way, and nothing goes out with no id before it is there.
    settling: RwLock<()>,
    /// The modern requests in flight, which a cancellation stops.
    modern_requests: Mutex<ModernRequests>,
}

/// The modern requests in flight: each id with the ticket of its task and what stops it.
#[derive(Debug, Default)]
struct ModernRequests {
    in_flight: HashMap<RequestId, (u64, CancellationToken)>,
    /// The ticket of the latest request.
    issued: u64,
}

impl Streamable {
    pub(crate) fn new(
        connection: Arc<Connection>,
        options: Options,
        inbox: Arc<Inbox>,
    ) -> Arc<Self> {
        let session = SessionHandle::default();
        if let Some(version) = &options.protocol_version {
            session.state().set_protocol_version(version.clone());
        }
        Arc::new(Streamable {
            connection,
            options,
            inbox,
            session,
            standalone: Mutex::new(None),
            handshake: Mutex::new(Handshake::default()),
            settling: RwLock::new(()),
            modern_requests: Mutex::new(ModernRequests::default()),
        })
    }

    pub(crate) fn session(&self) -> SessionHandle {
        self.session.clone()
    }

    /// Sends one message; see [`StreamableHttpClientSender::send`].
    pub(crate) async fn send(
        self: &Arc<Self>,
        message: Message,
        param_headers: Vec<(String, String)>,
    ) -> Result<(), Error> {
        self.remember_handshake(&message);
        let body = Bytes::from(message.to_vec());
        if let Message::Request(request) = &message
            && let Some(headers) = modern_headers(request, &param_headers)
        {
            self.spawn_modern_request(request.id.clone(), body, headers);
            return Ok(());
        }
        if let Some(id) = cancelled_request(&message)
            && self.abort_modern_request(&id)
        {
            // Closing the request's stream is the cancellation of the modern era: the
            // notification itself is not sent.
            tracing::debug!(%id, "aborted a cancelled modern request");
            return Ok(());
        }
        if let Message::Request(request) = &message {
            let initialize = request.method == INITIALIZE;
            let id = request.id.clone();
            let this = Arc::clone(self);
            self.spawn(async move { this.run_request(id, body, initialize).await });
            return Ok(());
        }
        let initialized = message.method() == Some(INITIALIZED);
        // A response answers a server request of the ended session, and a new session's
        // handshake sends `initialized` itself: neither is sent again on a new session.
        let resend = matches!(message, Message::Notification(_)) && !initialized;
        match self.post(body, false, true, resend).await {
            Ok(None) => Ok(()),
            Ok(Some(response)) => {
                let this = Arc::clone(self);
                self.spawn(async move { this.consume(response, None, false).await });
                if initialized {
                    // What the engine writes next waits until the standalone stream is open
                    // (or refused), so that nothing the server sends in answer races it.
                    self.open_standalone_stream().await;
                }
                Ok(())
            }
            Err(error) if error.is_status() => {
                tracing::warn!(%error, "the server refused a notification or response");
                Ok(())
            }
            Err(error) => Err(error.into_transport()),
        }
    }

    /// Whether `message` is sent the modern way, whatever the state of the transport: a
    /// request whose params carry the modern `_meta`, or the cancellation of such a request
    /// in flight.
    pub(crate) fn is_modern(&self, message: &Message) -> bool {
        match message {
            Message::Request(request) => modern_headers(request, &[]).is_some(),
            _ => cancelled_request(message)
                .is_some_and(|id| lock(&self.modern_requests).in_flight.contains_key(&id)),
        }
    }

    /// Runs a modern request on a task of its own, which
    /// [`abort_modern_request`](Self::abort_modern_request) stops.
    fn spawn_modern_request(
        self: &Arc<Self>,
        id: RequestId,
        body: Bytes,
        headers: Result<HeaderMap, HttpError>,
    ) {
        let stop = self.inbox.shutdown.child_token();
        let ticket = {
            let mut requests = lock(&self.modern_requests);
            requests.issued += 1;
            let ticket = requests.issued;
            requests
                .in_flight
                .insert(id.clone(), (ticket, stop.clone()));
            ticket
        };
        let this = Arc::clone(self);
        tokio::spawn(async move {
            tokio::select! {
                biased;
                () = stop.cancelled() => {}
                () = Arc::clone(&this).run_modern_request(id.clone(), body, headers) => {}
            }
            let mut requests = lock(&this.modern_requests);
            // A later request may have taken the same id meanwhile.
            if requests
                .in_flight
                .get(&id)
                .is_some_and(|(issued, _)| *issued == ticket)
            {
                requests.in_flight.remove(&id);
            }
        });
    }

    /// Stops the modern request `id`, if it is in flight: its POST is abandoned and its
    /// stream closed, which tells the server that the request is cancelled. Returns whether
    /// there was such a request.
    fn abort_modern_request(&self, id: &RequestId) -> bool {
        match lock(&self.modern_requests).in_flight.remove(id) {
            Some((_, stop)) => {
                stop.cancel();
                true
            }
            None => false,
        }
    }

    /// The path of a modern request: a POST with the headers of its `_meta`, no session id
    /// (and none taken from the answer), then its answer, or its failure.
    async fn run_modern_request(
        self: Arc<Self>,
        id: RequestId,
        body: Bytes,
        headers: Result<HeaderMap, HttpError>,
    ) {
        let headers = match headers {
            Ok(headers) => headers,
            Err(error) => return self.inbox.fail_request(id, error).await,
        };
        let mut request = self
            .connection
            .post_json(&self.connection.url, body.clone());
        if let Some(fields) = request.headers_mut() {
            fields.extend(headers);
        }
        // Like any request of the engine, its wait is bounded by the engine's timeout.
        let response = match self.connection.send_within(request, body, UNBOUNDED).await {
            Ok(response) => response,
            Err(error) => return self.inbox.fail_request(id, error).await,
        };
        if response.status().is_success() {
            self.consume_as(response, Some(id), Purpose::Modern).await;
        } else {
            self.read_modern_refusal(response, id).await;
        }
    }

    /// Reads the answer of a modern server that refused request `id` with an error status.
    /// A modern server explains the refusal with a JSON-RPC error in a JSON body (such as
    /// `-32022` for an unsupported protocol version, or `-32601` with 404): that error is
    /// delivered as the request's error response, under the request's id when it names
    /// none. Any other answer fails the request with a local `-32603` error.
    async fn read_modern_refusal(&self, response: Response<ResponseBody>, id: RequestId) {
        let status = response.status();
        if media_type(&response) != APPLICATION_JSON {
            let error = self.connection.status_error(response).await;
            return self.inbox.fail_request(id, error).await;
        }
        let body = match self
            .connection
            .read_body(response.into_body(), self.options.max_message_bytes)
            .await
        {
            Ok(body) => body,
            Err(error) => return self.inbox.fail_request(id, error).await,
        };
        match Message::parse(&body) {
            Ok(Message::Error(mut refusal))
                if refusal.id.as_ref().is_none_or(|refused| *refused == id) =>
            {
                tracing::debug!(%id, %status, code = refusal.error.code.0, "a modern server refused a request");
                refusal.id = Some(id);
                self.inbox
                    .deliver(Inbound::Message(Message::from(refusal)))
                    .await;
            }
            _ => {
                let error = explained_status(status, &body);
                self.inbox.fail_request(id, error).await;
            }
        }
    }

    /// Keeps the client role's `initialize` and `notifications/initialized`, to start a new
    /// session the same way when the server ends this one.
    pub(crate) fn remember_handshake(&self, message: &Message) {
        match message {
            Message::Request(request) if request.method == INITIALIZE => {
                lock(&self.handshake).initialize = Some(request.clone());
            }
            Message::Notification(notification) if notification.method == INITIALIZED => {
                lock(&self.handshake).initialized = Some(Bytes::from(message.to_vec()));
            }
            _ => {}
        }
    }

    /// The request path after the POST: reads its answer, or fails the request.
    pub(crate) async fn run_request(self: Arc<Self>, id: RequestId, body: Bytes, initialize: bool) {
        // In JSON mode the server sends its headers with the result, which may take as long
        // as the request itself: the engine's request timeout bounds that wait.
        match self.post(body, initialize, false, true).await {
            Ok(Some(response)) => self.consume(response, Some(id), initialize).await,
            // Requests are always sent again on a new session.
            Ok(None) => {}
            // The transport has failed as a whole; the engine learns it from the receiver.
            Err(error) if error.is_session_expired() => {}
            Err(error) => self.inbox.fail_request(id, error).await,
        }
    }

    /// Runs `task` until it ends or the transport shuts down.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let shutdown = self.inbox.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => {}
                () = task => {}
            }
        });
    }

    /// POSTs one message and waits for the status and headers of the answer: within the
    /// request timeout when `bounded`, for as long as it takes otherwise.
    ///
    /// When the server answers 404 to the session id, a new session takes its place (see
    /// [`recover`](Self::recover)) and, when `resend`, the message is POSTed again on it, once;
    /// `Ok(None)` says that it was not.
    ///
    /// # Errors
    ///
    /// [`HttpError::is_session_expired`] (and the transport fails) for a 404 to a request
    /// that carried the session id, when no new session could take its place;
    /// [`HttpError::is_status`] for any other unsuccessful status; connection failures and
    /// timeouts.
    pub(crate) async fn post(
        self: &Arc<Self>,
        body: Bytes,
        initialize: bool,
        bounded: bool,
        resend: bool,
    ) -> Result<Option<Response<ResponseBody>>, HttpError> {
        let generation = match self.post_once(&body, initialize, bounded).await {
            Ok(response) => return Ok(Some(response)),
            Err(PostFailure::Http(error)) => return Err(error),
            Err(PostFailure::SessionGone { generation }) => generation,
        };
        self.recover(generation).await?;
        if !resend {
            return Ok(None);
        }
        match self.post_once(&body, initialize, bounded).await {
            Ok(response) => Ok(Some(response)),
            Err(PostFailure::Http(error)) => Err(error),
            // One new session per message: a server that ends sessions at once is not chased.
            Err(PostFailure::SessionGone { .. }) => {
                Err(self.expire(Some("the new session ended at once too")))
            }
        }
    }

    /// POSTs one message once; see [`post`](Self::post).
    async fn post_once(
        &self,
        body: &Bytes,
        initialize: bool,
        bounded: bool,
    ) -> Result<Response<ResponseBody>, PostFailure> {
        let mut request = self
            .connection
            .post_json(&self.connection.url, body.clone());
        let sent_session = self.session_headers(&mut request, initialize).await;
        let deadline = if bounded {
            self.options.request_timeout
        } else {
            UNBOUNDED
        };
        let response = self
            .connection
            .send_within(request, body.clone(), deadline)
            .await
            .map_err(PostFailure::Http)?;
        if let Some(session_id) = response.headers().get(MCP_SESSION_ID) {
            self.session.state().capture_id(session_id);
        }
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status == StatusCode::NOT_FOUND
            && let Some(generation) = sent_session
        {
            return Err(PostFailure::SessionGone { generation });
        }
        Err(PostFailure::Http(
            self.connection.status_error(response).await,
        ))
    }

    /// Replaces the session of `generation`, which the server ended, with a new one, unless
    /// another message did so meanwhile; concurrent callers share one new session.
    ///
    /// # Errors
    ///
    /// [`HttpError::is_session_expired`], after failing the transport with it, when new
    /// sessions are turned off or this one could not be started.
    async fn recover(self: &Arc<Self>, generation: u64) -> Result<(), HttpError> {
        if !self.options.reinitialize_on_session_expiry {
            return Err(self.expire(None));
        }
        let _settling = self.settling.write().await;
        if self.session.state().generation() != generation {
            // Another message met the same expiry and has started the new session.
            return Ok(());
        }
        if self.inbox.shutdown.is_cancelled() {
            // Closed, or an earlier attempt failed the transport: no new session.
            return Err(HttpError::session_expired());
        }
        match tokio::time::timeout(self.options.request_timeout, self.reinitialize()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(reason)) => {
                Err(self.expire(Some(&format!("starting a new session failed: {reason}"))))
            }
            Err(_) => Err(self.expire(Some("starting a new session timed out"))),
        }
    }

    /// Fails the transport with a session expiry, for `reason` when given, and returns the
    /// same error for the caller.
    fn expire(&self, reason: Option<&str>) -> HttpError {
        let error = || match reason {
            Some(reason) => HttpError::session_expired_because(reason),
            None => HttpError::session_expired(),
        };
        self.inbox.fail(error());
        error()
    }

    /// Starts a new session with the client role's handshake: its `initialize` under an id
    /// of the transport, whose response the engine never sees, then, once the server
    /// negotiated the same protocol version, its `notifications/initialized` and the
    /// standalone stream. The caller holds `settling` for writing.
    ///
    /// # Errors
    ///
    /// Why the new session could not be started.
    async fn reinitialize(self: &Arc<Self>) -> Result<(), String> {
        let (request, initialized, negotiated) = {
            let handshake = lock(&self.handshake);
            (
                handshake.initialize.clone(),
                handshake.initialized.clone(),
                handshake.negotiated.clone(),
            )
        };
        let Some(mut request) = request else {
            return Err("no initialize request to repeat".to_owned());
        };
        let Some(negotiated) = negotiated else {
            return Err("the first session named no protocol version".to_owned());
        };
        let generation = self.session.state().generation() + 1;
        tracing::info!(
            generation,
            "the server ended the session; starting a new one"
        );
        self.stop_standalone_stream();
        let id = RequestId::from(format!("{REINITIALIZE_ID_PREFIX}{generation}"));
        request.id = id.clone();
        let body = Bytes::from(Message::from(request).to_vec());
        // Like the first `initialize`, this one carries no session id.
        let request = self
            .connection
            .post_json(&self.connection.url, body.clone());
        let response = self.post_settled(request, body).await?;
        let session_id = response.headers().get(MCP_SESSION_ID).cloned();
        let answer = self
            .read_own_answer(response, &id)
            .await
            .map_err(|error| error.to_string())?;
        let version = match &answer {
            Message::Response(response) => negotiated_version(response),
            Message::Error(refusal) => {
                return Err(format!(
                    "the server refused to initialize: {}",
                    refusal.error.message
                ));
            }
            _ => None,
        };
        if version.as_deref() != Some(negotiated.as_str()) {
            return Err(format!(
                "the server negotiated protocol version {}, not {negotiated} as before",
                version.as_deref().unwrap_or("(none)")
            ));
        }
        self.session.state().replace(session_id.as_ref());
        if let Some(body) = initialized {
            let mut request = self
                .connection
                .post_json(&self.connection.url, body.clone());
            self.write_session_headers(&mut request, false);
            let response = self.post_settled(request, body).await?;
            let this = Arc::clone(self);
            self.spawn(async move { this.consume(response, None, false).await });
            // `settling` is held here, and the GET needs it: start the stream, do not wait.
            let _ = self.start_standalone_stream();
        }
        Ok(())
    }

    /// Sends a POST of the handshake, while `settling` is held, and checks its status.
    async fn post_settled(
        &self,
        request: http::request::Builder,
        body: Bytes,
    ) -> Result<Response<ResponseBody>, String> {
        let response = self
            .connection
            .send(request, body)
            .await
            .map_err(|error| error.to_string())?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(self.connection.status_error(response).await.to_string())
    }

    /// Reads the response to the transport's own request `id` from its answer, a JSON body
    /// or an SSE stream; other messages on the stream go to the engine.
    async fn read_own_answer(
        &self,
        response: Response<ResponseBody>,
        id: &RequestId,
    ) -> Result<Message, HttpError> {
        match media_type(&response).as_str() {
            APPLICATION_JSON => {
                let bytes = self
                    .connection
                    .read_body(response.into_body(), self.options.max_message_bytes)
                    .await?;
                match Message::parse(&bytes) {
                    Ok(message) if answers(&message, Some(id)) => Ok(message),
                    _ => Err(HttpError::protocol(
                        "the json answer holds no response to initialize",
                    )),
                }
            }
            TEXT_EVENT_STREAM => {
                let (_, outcome) = self
                    .read_new_stream(response, Some(id), Purpose::Reinitialize)
                    .await;
                outcome.kept.ok_or_else(|| {
                    HttpError::protocol("the stream ended before the response to initialize")
                })
            }
            media => Err(HttpError::protocol(format!(
                "unexpected content type `{media}`"
            ))),
        }
    }

    /// Adds the session id and the protocol version, when known, to a request other than
    /// `initialize`, once no new session is being started. Returns the generation of the
    /// session id added, if one was.
    async fn session_headers(
        &self,
        request: &mut http::request::Builder,
        initialize: bool,
    ) -> Option<u64> {
        let _settled = self.settling.read().await;
        self.write_session_headers(request, initialize)
    }

    /// [`session_headers`](Self::session_headers) without waiting, for the handshake of a
    /// new session, which holds `settling` itself.
    fn write_session_headers(
        &self,
        request: &mut http::request::Builder,
        initialize: bool,
    ) -> Option<u64> {
        if initialize {
            return None;
        }
        let headers = request.headers_mut()?;
        if let Some(version) = self.session.state().protocol_version() {
            headers.insert(MCP_PROTOCOL_VERSION, version);
        }
        let (session_id, generation) = self.session.state().current();
        headers.insert(MCP_SESSION_ID, session_id?);
        Some(generation)
    }

    /// Reads the answer to a POST: nothing (202), one JSON body, or an SSE stream that is
    /// resumed when it ends before the response to `awaited` arrived.
    pub(crate) async fn consume(
        &self,
        response: Response<ResponseBody>,
        awaited: Option<RequestId>,
        initialize: bool,
    ) {
        let purpose = Purpose::of_engine_request(initialize);
        self.consume_as(response, awaited, purpose).await;
    }

    /// [`consume`](Self::consume) for the request of `purpose`: the stream of a modern
    /// request is not resumed.
    async fn consume_as(
        &self,
        response: Response<ResponseBody>,
        awaited: Option<RequestId>,
        purpose: Purpose,
    ) {
        let initialize = purpose == Purpose::Initialize;
        let status = response.status();
        let media = media_type(&response);
        let empty = status == StatusCode::ACCEPTED
            || status == StatusCode::NO_CONTENT
            || (media.is_empty() && http_body::Body::is_end_stream(response.body()));
        if empty {
            if let Some(id) = awaited {
                let error = HttpError::protocol(format!(
                    "the server answered a request with {status} and no body"
                ));
                self.inbox.fail_request(id, error).await;
            }
            return;
        }
        match media.as_str() {
            TEXT_EVENT_STREAM => {
                let (parser, outcome) = self
                    .read_new_stream(response, awaited.as_ref(), purpose)
                    .await;
                if let Some(id) = awaited
                    && !outcome.answered
                    && !outcome.shut_down
                {
                    if purpose == Purpose::Modern {
                        // The modern era resumes no stream: the request is over.
                        let error = HttpError::protocol(
                            "the stream ended before the response, and modern streams are not resumed",
                        );
                        self.inbox.fail_request(id, error).await;
                    } else {
                        self.resume(parser, id, initialize).await;
                    }
                }
            }
            APPLICATION_JSON => {
                self.read_json(response.into_body(), awaited, initialize)
                    .await
            }
            _ => {
                if let Some(id) = awaited {
                    let error = HttpError::protocol(format!("unexpected content type `{media}`"));
                    self.inbox.fail_request(id, error).await;
                }
            }
        }
    }

    async fn read_json(&self, body: ResponseBody, awaited: Option<RequestId>, initialize: bool) {
        let bytes = match self
            .connection
            .read_body(body, self.options.max_message_bytes)
            .await
        {
            Ok(bytes) => bytes,
            Err(error) => {
                match awaited {
                    Some(id) => self.inbox.fail_request(id, error).await,
                    None => tracing::debug!(%error, "reading the answer to a notification failed"),
                }
                return;
            }
        };
        // Some servers answer a notification with 200 and a body that is no message (empty,
        // `{}`, a status text): nothing to deliver, and nothing the engine should answer.
        if awaited.is_none() && mcpwire_jsonrpc::parse(&bytes, &self.inbox.parse).is_err() {
            tracing::debug!("ignoring a body that is no message in the answer to a notification");
            return;
        }
        let mut answered = false;
        let delivered = self
            .inbox
            .deliver_bytes(&bytes, |message| {
                if answers(message, awaited.as_ref()) {
                    answered = true;
                    if initialize {
                        self.learn_protocol_version(message);
                    }
                }
                true
            })
            .await;
        if let Some(id) = awaited
            && delivered
            && !answered
        {
            let error = HttpError::protocol("the json answer holds no response to the request");
            self.inbox.fail_request(id, error).await;
        }
    }

    fn new_parser(
        &self,
        last_event_id: Option<String>,
        retry: Option<std::time::Duration>,
    ) -> SseParser {
        SseParser::resuming(
            self.options
                .max_message_bytes
                .saturating_add(SSE_LINE_SLACK),
            last_event_id,
            retry,
        )
    }

    /// Reads the SSE stream that answers a POST; returns its parser, which knows where to
    /// resume, and how it went.
    async fn read_new_stream(
        &self,
        response: Response<ResponseBody>,
        awaited: Option<&RequestId>,
        purpose: Purpose,
    ) -> (SseParser, StreamOutcome) {
        let mut parser = self.new_parser(None, None);
        let outcome = self
            .read_stream(response.into_body(), &mut parser, awaited, purpose)
            .await;
        (parser, outcome)
    }

    /// Reads an SSE stream to its end, delivering each message event.
    async fn read_stream(
        &self,
        mut body: ResponseBody,
        parser: &mut SseParser,
        awaited: Option<&RequestId>,
        purpose: Purpose,
    ) -> StreamOutcome {
        let mut outcome = StreamOutcome::default();
        let mut events = Vec::new();
        loop {
            let frame = tokio::select! {
                biased;
                () = self.inbox.shutdown.cancelled() => {
                    outcome.shut_down = true;
                    return outcome;
                }
                frame = body.frame() => frame,
            };
            let chunk = match frame {
                None => return outcome,
                Some(Err(error)) => {
                    tracing::debug!(%error, "an sse stream broke");
                    return outcome;
                }
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(chunk) => chunk,
                    Err(_) => continue,
                },
            };
            parser.feed(&chunk, &mut events);
            for event in events.drain(..) {
                if !event.is_message() || event.data.is_empty() {
                    // Priming events carry only an id; other event types are not MCP's.
                    continue;
                }
                let mut data = event.data;
                if event.oversized && data.len() <= self.inbox.parse.max_size {
                    // Make sure the parser reports the event as too large, not as truncated.
                    data.resize(self.inbox.parse.max_size + 1, b' ');
                }
                let delivered = self
                    .inbox
                    .deliver_bytes(&data, |message| {
                        outcome.messages += 1;
                        if !answers(message, awaited) {
                            return true;
                        }
                        outcome.answered = true;
                        match purpose {
                            Purpose::Engine | Purpose::Modern => true,
                            Purpose::Initialize => {
                                self.learn_protocol_version(message);
                                true
                            }
                            Purpose::Reinitialize => {
                                outcome.kept = Some(message.clone());
                                false
                            }
                        }
                    })
                    .await;
                if !delivered {
                    outcome.shut_down = true;
                    return outcome;
                }
                if outcome.kept.is_some() {
                    // The transport's own response ends its stream's use.
                    return outcome;
                }
            }
        }
    }

    /// Resumes the stream of request `id` with GET and `Last-Event-ID` until its response
    /// arrives, waiting the server's `retry` before each attempt, with bounded attempts.
    async fn resume(&self, mut parser: SseParser, id: RequestId, initialize: bool) {
        let mut attempt = 0;
        loop {
            let Some(last_event_id) = parser.last_event_id().map(str::to_owned) else {
                let error = HttpError::protocol(
                    "the stream ended before the response, with no event id to resume from",
                );
                self.inbox.fail_request(id, error).await;
                return;
            };
            if attempt >= self.options.max_reconnect_attempts {
                let error = HttpError::protocol(format!(
                    "the stream ended before the response and {attempt} attempts to resume it failed"
                ));
                self.inbox.fail_request(id, error).await;
                return;
            }
            let wait = self.options.reconnect_wait(parser.retry(), attempt);
            attempt += 1;
            tracing::debug!(%id, ?wait, %last_event_id, "resuming an sse stream");
            tokio::time::sleep(wait).await;
            parser = self.new_parser(Some(last_event_id.clone()), parser.retry());
            match self.open_stream(Some(&last_event_id)).await {
                Ok(response) => {
                    let outcome = self
                        .read_stream(
                            response.into_body(),
                            &mut parser,
                            Some(&id),
                            Purpose::of_engine_request(initialize),
                        )
                        .await;
                    if outcome.answered || outcome.shut_down {
                        return;
                    }
                    if outcome.messages > 0 {
                        attempt = 0;
                    }
                }
                Err(error) if error.status().is_some_and(is_unsupported) => {
                    self.inbox.fail_request(id, error).await;
                    return;
                }
                Err(error) => tracing::debug!(%error, "resuming an sse stream failed"),
            }
        }
    }

    /// Opens an SSE stream with GET, resuming after `last_event_id` when given.
    async fn open_stream(
        &self,
        last_event_id: Option<&str>,
    ) -> Result<Response<ResponseBody>, HttpError> {
        let mut request = self.connection.get_stream(&self.connection.url);
        self.session_headers(&mut request, false).await;
        if let (Some(last_event_id), Some(headers)) = (last_event_id, request.headers_mut()) {
            let value = HeaderValue::try_from(last_event_id).map_err(|_| {
                HttpError::protocol("the server sent an event id that is not a valid header")
            })?;
            headers.insert(LAST_EVENT_ID, value);
        }
        let response = self.connection.send(request, Bytes::new()).await?;
        if !response.status().is_success() {
            return Err(self.connection.status_error(response).await);
        }
        let media = media_type(&response);
        if media != TEXT_EVENT_STREAM {
            return Err(HttpError::protocol(format!(
                "a GET was answered with `{media}`, not an event stream"
            )));
        }
        Ok(response)
    }

    /// Opens the standalone GET stream, unless it is turned off or already running, and waits
    /// (at most the connect timeout) until the server has answered its first GET.
    async fn open_standalone_stream(self: &Arc<Self>) {
        let Some(answered) = self.start_standalone_stream() else {
            return;
        };
        if tokio::time::timeout(self.options.connect_timeout, answered)
            .await
            .is_err()
        {
            tracing::debug!("the standalone sse stream is not open yet; going on without it");
        }
    }

    /// Starts the standalone GET stream, unless it is turned off or already running; the
    /// receiver completes when the server has answered its first GET, either way.
    fn start_standalone_stream(self: &Arc<Self>) -> Option<oneshot::Receiver<()>> {
        if !self.options.standalone_stream {
            return None;
        }
        let stop = {
            let mut standalone = lock(&self.standalone);
            if standalone.is_some() {
                return None;
            }
            standalone.insert(self.inbox.shutdown.child_token()).clone()
        };
        let (answered, first_answer) = oneshot::channel();
        let this = Arc::clone(self);
        tokio::spawn(async move {
            tokio::select! {
                biased;
                () = stop.cancelled() => {}
                () = this.run_standalone_stream(answered) => {}
            }
        });
        Some(first_answer)
    }

    /// Stops the standalone GET stream of a session that ended.
    fn stop_standalone_stream(&self) {
        if let Some(stop) = lock(&self.standalone).take() {
            stop.cancel();
        }
    }

    /// Holds the standalone GET stream open: reconnects when it ends, after the server's
    /// `retry`, and gives up when the server offers none or after too many failed attempts.
    async fn run_standalone_stream(&self, answered: oneshot::Sender<()>) {
        let mut answered = Some(answered);
        let mut parser = self.new_parser(None, None);
        let mut attempt = 0;
        let mut first = true;
        loop {
            if !first {
                if attempt >= self.options.max_reconnect_attempts {
                    tracing::debug!("giving up the standalone sse stream");
                    return;
                }
                tokio::time::sleep(self.options.reconnect_wait(parser.retry(), attempt)).await;
                attempt += 1;
            }
            let last_event_id = parser.last_event_id().map(str::to_owned);
            parser = self.new_parser(last_event_id.clone(), parser.retry());
            let opened = self.open_stream(last_event_id.as_deref()).await;
            if let Some(answered) = answered.take() {
                let _ = answered.send(());
            }
            match opened {
                Ok(response) => {
                    let outcome = self
                        .read_stream(response.into_body(), &mut parser, None, Purpose::Engine)
                        .await;
                    if outcome.shut_down {
                        return;
                    }
                    if outcome.messages > 0 {
                        attempt = 0;
                    }
                }
                Err(error)
                    if error.status() == Some(StatusCode::METHOD_NOT_ALLOWED)
                        || (first && error.status().is_some_and(is_unsupported)) =>
                {
                    tracing::debug!(%error, "the server offers no standalone sse stream");
                    return;
                }
                Err(error) => tracing::debug!(%error, "opening the standalone sse stream failed"),
            }
            first = false;
        }
    }

    /// Ends the session with DELETE, when there is one.
    pub(crate) async fn terminate(&self) {
        if self.session.state().id().is_none() || self.inbox.session_expired() {
            return;
        }
        let mut request = self
            .connection
            .request(Method::DELETE, &self.connection.url);
        self.session_headers(&mut request, false).await;
        match self.connection.send(request, Bytes::new()).await {
            Ok(response) => tracing::debug!(status = %response.status(), "session ended"),
            Err(error) => tracing::debug!(%error, "ending the session failed"),
        }
    }

    /// Reads the negotiated protocol version from the result of `initialize`: it is kept to
    /// compare a new session with, and sent unless the builder pinned one.
    fn learn_protocol_version(&self, message: &Message) {
        let Message::Response(response) = message else {
            return;
        };
        let Some(version) = negotiated_version(response) else {
            return;
        };
        lock(&self.handshake).negotiated = Some(version.clone());
        if self.options.protocol_version.is_some() {
            return;
        }
        match HeaderValue::try_from(version) {
            Ok(version) => self.session.state().set_protocol_version(version),
            Err(_) => tracing::warn!("the negotiated protocol version is not a valid header"),
        }
    }
}

/// The protocol version an `initialize` result names.
fn negotiated_version(response: &mcpwire_jsonrpc::Response) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct InitializeResult {
        #[serde(rename = "protocolVersion")]
        protocol_version: String,
    }
    match serde_json::from_str::<InitializeResult>(response.result.get()) {
        Ok(result) => Some(result.protocol_version),
        Err(error) => {
            tracing::debug!(%error, "the initialize result names no protocol version");
            None
        }
    }
}

/// Whether `message` is the response (or error response) to `awaited`.
fn answers(message: &Message, awaited: Option<&RequestId>) -> bool {
    matches!(message, Message::Response(_) | Message::Error(_))
        && awaited.is_some()
        && message.id() == awaited
}
