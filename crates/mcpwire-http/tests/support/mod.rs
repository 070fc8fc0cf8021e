//! A scriptable HTTP server on loopback for the client transport tests: each test answers
//! requests with a closure, records every request, and streams SSE bodies it controls.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different part.

#[cfg(feature = "server")]
pub mod echo;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Body, Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use mcpwire_jsonrpc::Message;
use mcpwire_transport::{Inbound, MessageReceiver};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// How long a test waits for anything before failing.
pub const WAIT: Duration = Duration::from_secs(10);

/// A request the server received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: Method,
    pub uri: String,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Recorded {
    /// The value of header `name`, if present.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    }

    /// The JSON-RPC message in the body.
    pub fn message(&self) -> Message {
        Message::parse(&self.body).expect("the client posts valid messages")
    }
}

/// A response body: complete, or a stream of chunks the test pushes and ends by dropping the
/// sender.
pub enum TestBody {
    Full(Full<Bytes>),
    Stream(mpsc::UnboundedReceiver<Bytes>),
}

impl Body for TestBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            TestBody::Full(full) => Pin::new(full).poll_frame(context),
            TestBody::Stream(receiver) => receiver
                .poll_recv(context)
                .map(|chunk| chunk.map(|chunk| Ok(Frame::data(chunk)))),
        }
    }
}

/// An answer with `status` and no body.
pub fn status(status: StatusCode) -> Response<TestBody> {
    Response::builder()
        .status(status)
        .body(TestBody::Full(Full::new(Bytes::new())))
        .unwrap()
}

/// A 200 answer with a JSON body.
pub fn json(text: impl Into<String>) -> Response<TestBody> {
    Response::builder()
        .header("content-type", "application/json")
        .body(TestBody::Full(Full::new(Bytes::from(text.into()))))
        .unwrap()
}

/// A 200 SSE answer whose events the returned sender writes; dropping it ends the stream.
pub fn stream() -> (Response<TestBody>, mpsc::UnboundedSender<Bytes>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let response = Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(TestBody::Stream(receiver))
        .unwrap();
    (response, sender)
}

/// A complete SSE answer made of `events`.
pub fn sse(events: &[String]) -> Response<TestBody> {
    let (response, sender) = stream();
    for event in events {
        sender.send(Bytes::from(event.clone())).unwrap();
    }
    response
}

/// One SSE event carrying `data`, with an id when given.
pub fn event(id: Option<&str>, data: &str) -> String {
    match id {
        Some(id) => format!("id: {id}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    }
}

type Handler = dyn Fn(&Recorded) -> Response<TestBody> + Send + Sync;

/// The running server.
pub struct TestServer {
    pub address: SocketAddr,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    arrivals: tokio::sync::Mutex<mpsc::UnboundedReceiver<Recorded>>,
}

impl TestServer {
    /// Starts a server on 127.0.0.1 with a free port that answers with `handler`.
    pub async fn start(
        handler: impl Fn(&Recorded) -> Response<TestBody> + Send + Sync + 'static,
    ) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let handler: Arc<Handler> = Arc::new(handler);
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let (arrival_sender, arrivals) = mpsc::unbounded_channel();
        let log = Arc::clone(&recorded);
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let handler = Arc::clone(&handler);
                let log = Arc::clone(&log);
                let arrival_sender = arrival_sender.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                        let handler = Arc::clone(&handler);
                        let log = Arc::clone(&log);
                        let arrival_sender = arrival_sender.clone();
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = http_body_util::BodyExt::collect(body)
                                .await
                                .map(|collected| collected.to_bytes())
                                .unwrap_or_default();
                            let recorded = Recorded {
                                method: parts.method,
                                uri: parts.uri.to_string(),
                                headers: parts.headers,
                                body,
                                at: Instant::now(),
                            };
                            // Recorded before the handler runs, so that whatever the
                            // handler hands to the test finds the request in the log.
                            log.lock().unwrap().push(recorded.clone());
                            let response = handler(&recorded);
                            let _ = arrival_sender.send(recorded);
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        TestServer {
            address,
            recorded,
            arrivals: tokio::sync::Mutex::new(arrivals),
        }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Every request received so far.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.recorded.lock().unwrap().clone()
    }

    /// Waits for the next request the server answers whose method is `method`, skipping
    /// others.
    pub async fn next(&self, method: Method) -> Recorded {
        let mut arrivals = self.arrivals.lock().await;
        let wait = async {
            for _ in 0..1000 {
                let recorded = arrivals.recv().await.expect("the server runs");
                if recorded.method == method {
                    return recorded;
                }
            }
            panic!("no {method} among 1000 requests");
        };
        tokio::time::timeout(WAIT, wait)
            .await
            .unwrap_or_else(|_| panic!("no {method} request in time"))
    }
}

/// Receives the next inbound item, failing the test after [`WAIT`].
pub async fn receive_inbound(receiver: &mut impl MessageReceiver) -> Inbound {
    match tokio::time::timeout(WAIT, receiver.receive()).await {
        Ok(Some(Ok(inbound))) => inbound,
        other => panic!("expected an inbound item, got {other:?}"),
    }
}

/// An error and its sources, in one line.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Receives the next inbound item, which must be the transport's failure of request `id`
/// (`Inbound::Failed`): its error and the error's sources, in one line.
pub async fn receive_request_failure(receiver: &mut impl MessageReceiver, id: i64) -> String {
    match receive_inbound(receiver).await {
        Inbound::Failed { id: failed, error } => {
            assert_eq!(failed, mcpwire_jsonrpc::RequestId::Number(id));
            error_chain(&error)
        }
        other => panic!("expected the failure of request {id}, got {other:?}"),
    }
}

/// Receives the next inbound message, failing the test after [`WAIT`].
pub async fn receive(receiver: &mut impl MessageReceiver) -> Message {
    match tokio::time::timeout(WAIT, receiver.receive()).await {
        Ok(Some(Ok(Inbound::Message(message)))) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}
