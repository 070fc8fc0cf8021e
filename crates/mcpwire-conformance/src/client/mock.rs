//! The mock Streamable HTTP server a client scenario runs against: a raw hyper server on
//! loopback that records every request it gets and answers as its scenario says, so that it
//! can observe what a client sends and misbehave where a scenario needs it to.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

/// The largest request body the mock reads.
const BODY_LIMIT: usize = 1024 * 1024;
/// The most requests the mock records; later ones are answered but not kept.
const RECORD_LIMIT: usize = 1000;
/// The most connections the mock serves at once.
const CONNECTION_LIMIT: usize = 64;
/// How long the mock waits after a failed accept before it tries again.
const ACCEPT_BACKOFF: std::time::Duration = std::time::Duration::from_millis(10);
/// How many events may wait unsent on one SSE stream.
const STREAM_QUEUE: usize = 16;

/// One request the client sent, as the mock saw it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    /// When it arrived.
    pub(crate) at: Instant,
    /// The HTTP method.
    pub(crate) method: Method,
    /// The path of the URL.
    pub(crate) path: String,
    /// The query of the URL, when it has one.
    pub(crate) query: Option<String>,
    /// The headers.
    pub(crate) headers: HeaderMap,
    /// The body as JSON, when it was JSON.
    pub(crate) body: Option<Value>,
    /// The body as sent.
    pub(crate) raw: Bytes,
}

impl Seen {
    /// The value of header `name`, when it is present and text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The JSON-RPC method of the body, when it has one.
    pub(crate) fn rpc_method(&self) -> Option<&str> {
        self.body.as_ref()?.get("method")?.as_str()
    }

    /// The JSON-RPC id of the body, when it has one.
    pub(crate) fn rpc_id(&self) -> Option<&Value> {
        self.body.as_ref()?.get("id")
    }

    /// Whether the body is a JSON-RPC request (a method and an id).
    pub(crate) fn is_rpc_request(&self) -> bool {
        self.rpc_method().is_some() && self.rpc_id().is_some()
    }

    /// A short description for a report line.
    pub(crate) fn describe(&self) -> String {
        match self.rpc_method() {
            Some(method) => format!("{} {} ({method})", self.method, self.path),
            None if self.body.is_some() => format!("{} {} (a response)", self.method, self.path),
            None => format!("{} {}", self.method, self.path),
        }
    }
}

/// What a scenario's behaviour answers to one request.
pub(crate) type Answer = Response<MockBody>;

/// The future of an answer.
pub(crate) type AnswerFuture = Pin<Box<dyn Future<Output = Answer> + Send>>;

/// A scenario's behaviour: answers each request (already recorded in `shared`'s log).
pub(crate) trait Behaviour: Send + Sync + 'static {
    /// Answers `seen`.
    fn answer(&self, seen: Seen, shared: Arc<Shared>) -> AnswerFuture;
}

/// What the mock and its behaviour share: the log of requests and the open SSE streams.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    log: Mutex<Vec<Seen>>,
    streams: Mutex<Vec<mpsc::Sender<Bytes>>>,
}

impl Shared {
    /// The requests recorded so far.
    pub(crate) fn log(&self) -> Vec<Seen> {
        lock(&self.log).clone()
    }

    /// Keeps `sender` open until the mock stops, so that its stream stays open too.
    pub(crate) fn keep_open(&self, sender: mpsc::Sender<Bytes>) {
        let mut streams = lock(&self.streams);
        streams.retain(|stream| !stream.is_closed());
        if streams.len() < CONNECTION_LIMIT {
            streams.push(sender);
        }
    }
}

/// Locks `mutex`, taking the data even when a holder panicked (the data stays valid: every
/// holder only pushes or reads).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running mock server.
#[derive(Debug)]
pub(crate) struct MockServer {
    address: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl MockServer {
    /// Starts a mock on a free loopback port that answers with `behaviour`.
    ///
    /// # Errors
    ///
    /// When no port can be bound.
    pub(crate) async fn start(behaviour: Arc<dyn Behaviour>) -> Result<MockServer, String> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|error| format!("could not bind a loopback port: {error}"))?;
        let address = listener
            .local_addr()
            .map_err(|error| format!("could not read the bound address: {error}"))?;
        let shared = Arc::new(Shared::default());
        let accept = tokio::spawn(accept_loop(listener, behaviour, Arc::clone(&shared)));
        Ok(MockServer {
            address,
            shared,
            accept,
        })
    }

    /// The port the mock listens on.
    pub(crate) fn port(&self) -> u16 {
        self.address.port()
    }

    /// What the mock shares with its behaviour.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops the mock: ends its open streams and drops its connections.
    pub(crate) fn stop(self) {
        lock(&self.shared.streams).clear();
        self.accept.abort();
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Accepts connections until aborted; aborting it drops every connection it serves.
async fn accept_loop(listener: TcpListener, behaviour: Arc<dyn Behaviour>, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of descriptors, most likely: give the connections a moment to end.
            tokio::time::sleep(ACCEPT_BACKOFF).await;
            continue;
        };
        while connections.try_join_next().is_some() {}
        if connections.len() >= CONNECTION_LIMIT {
            continue;
        }
        let behaviour = Arc::clone(&behaviour);
        let shared = Arc::clone(&shared);
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let behaviour = Arc::clone(&behaviour);
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(handle(request, behaviour, shared).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Reads and records one request, then lets the behaviour answer it.
async fn handle(
    request: Request<Incoming>,
    behaviour: Arc<dyn Behaviour>,
    shared: Arc<Shared>,
) -> Answer {
    let at = Instant::now();
    let (parts, body) = request.into_parts();
    let bytes = match Limited::new(body, BODY_LIMIT).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return status(StatusCode::PAYLOAD_TOO_LARGE),
    };
    let form = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    let body = if bytes.is_empty() || form {
        None
    } else {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(value) => Some(value),
            Err(error) => {
                return json(
                    StatusCode::BAD_REQUEST,
                    &serde_json::json!({
                        "jsonrpc": "2.0",
                        "id": null,
                        "error": {"code": -32700, "message": format!("Parse error: {error}")},
                    }),
                );
            }
        }
    };
    let seen = Seen {
        at,
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
        raw: bytes,
    };
    {
        let mut log = lock(&shared.log);
        if log.len() < RECORD_LIMIT {
            log.push(seen.clone());
        }
    }
    behaviour.answer(seen, shared).await
}

/// The body of a mock's answer: fixed bytes, or an SSE stream fed through a channel.
#[derive(Debug)]
pub(crate) enum MockBody {
    /// Fixed bytes, sent at once.
    Full(Option<Bytes>),
    /// Chunks as they come; the body ends when every sender is gone.
    Channel(mpsc::Receiver<Bytes>),
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            MockBody::Full(bytes) => Poll::Ready(bytes.take().map(|bytes| Ok(Frame::data(bytes)))),
            MockBody::Channel(receiver) => receiver
                .poll_recv(context)
                .map(|chunk| chunk.map(|bytes| Ok(Frame::data(bytes)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, MockBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            MockBody::Full(None) => SizeHint::with_exact(0),
            MockBody::Channel(_) => SizeHint::default(),
        }
    }
}

/// An answer with `status` and no body.
pub(crate) fn status(status: StatusCode) -> Answer {
    let mut response = Response::new(MockBody::Full(None));
    *response.status_mut() = status;
    response
}

/// An answer with `status` and a JSON body.
pub(crate) fn json(status: StatusCode, value: &Value) -> Answer {
    let mut response = Response::new(MockBody::Full(Some(Bytes::from(value.to_string()))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// An SSE answer whose events are sent through the returned sender; the stream ends when
/// the sender (and every clone of it) is dropped.
pub(crate) fn sse() -> (mpsc::Sender<Bytes>, Answer) {
    let (sender, receiver) = mpsc::channel(STREAM_QUEUE);
    let mut response = Response::new(MockBody::Channel(receiver));
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache"),
    );
    (sender, response)
}

/// An SSE answer that carries `message` and ends.
pub(crate) fn sse_once(message: &Value) -> Answer {
    let mut response = Response::new(MockBody::Full(Some(message_event(message, None))));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/event-stream"),
    );
    response
}

/// The SSE event that carries `message`, with `id` when given.
pub(crate) fn message_event(message: &Value, id: Option<&str>) -> Bytes {
    let id_line = id.map(|id| format!("id: {id}\n")).unwrap_or_default();
    Bytes::from(format!("event: message\n{id_line}data: {message}\n\n"))
}

/// Adds `Mcp-Session-Id: session` to `answer`.
pub(crate) fn with_session(mut answer: Answer, session: &str) -> Answer {
    if let Ok(value) = http::HeaderValue::from_str(session) {
        answer.headers_mut().insert("mcp-session-id", value);
    }
    answer
}
