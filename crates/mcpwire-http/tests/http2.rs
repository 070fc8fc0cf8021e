//! `server::serve` speaks HTTP/2 with prior knowledge (h2c) on the same port as HTTP/1.1:
//! a hyper HTTP/2 client initializes a session, calls a tool, and reads the standalone SSE
//! stream, all on one HTTP/2 connection.

mod support;

use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use mcpwire_http::server::Config;
use serde_json::{Value, json};
use support::WAIT;
use support::echo::{ServedEcho, echo_tool};
use tokio::net::TcpStream;

/// The most body frames read while waiting for one SSE event.
const MAX_FRAMES_PER_EVENT: usize = 100;

/// One HTTP/2 connection to the server at `address`.
struct H2 {
    sender: SendRequest<Full<Bytes>>,
    address: SocketAddr,
}

impl H2 {
    /// Opens a cleartext HTTP/2 connection without an upgrade: the client starts with the
    /// HTTP/2 preface.
    async fn connect(address: SocketAddr) -> H2 {
        let stream = TcpStream::connect(address).await.unwrap();
        let (sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .expect("the server accepts the http/2 preface");
        tokio::spawn(connection);
        H2 { sender, address }
    }

    /// Sends a request and checks that the answer came over HTTP/2.
    async fn send(
        &mut self,
        method: Method,
        session: Option<&str>,
        body: Option<Value>,
    ) -> Response<Incoming> {
        let mut request = Request::builder()
            .method(method)
            // HTTP/2 has no `Host` header: the authority travels as `:authority`, which the
            // server's DNS-rebinding check reads instead.
            .uri(format!("http://{}/mcp", self.address))
            .header(ACCEPT, "application/json, text/event-stream")
            .header(CONTENT_TYPE, "application/json");
        if let Some(session) = session {
            request = request
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", "2025-11-25");
        }
        let body = body.map_or_else(Bytes::new, |body| Bytes::from(body.to_string()));
        let request = request.body(Full::new(body)).unwrap();
        let response = tokio::time::timeout(WAIT, self.sender.send_request(request))
            .await
            .expect("answered in time")
            .expect("answered");
        assert_eq!(response.version(), Version::HTTP_2);
        response
    }

    /// Initializes a session and completes the handshake; returns the session id and the
    /// `initialize` result.
    async fn initialize(&mut self) -> (String, Value) {
        let initialize = json!({
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "h2-test", "version": "1.0.0"},
            },
        });
        let response = self.send(Method::POST, None, Some(initialize)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        let session = response.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let answer = json_body(response).await;
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let response = self
            .send(Method::POST, Some(&session), Some(initialized))
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        (session, answer)
    }

    /// Calls the `echo` tool and returns its text.
    async fn echo(&mut self, session: &str, text: &str) -> String {
        let call = json!({
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": text}},
        });
        let response = self.send(Method::POST, Some(session), Some(call)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let answer = json_body(response).await;
        answer["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("no text in {answer}"))
            .to_owned()
    }
}

async fn json_body(response: Response<Incoming>) -> Value {
    let body = tokio::time::timeout(WAIT, response.into_body().collect())
        .await
        .expect("the body arrives in time")
        .unwrap()
        .to_bytes();
    serde_json::from_slice(&body).expect("a json body")
}

/// Reads SSE events from a response body.
struct Events {
    body: Incoming,
    buffer: String,
}

impl Events {
    /// The next event's text, without its blank line.
    async fn next(&mut self) -> String {
        for _ in 0..MAX_FRAMES_PER_EVENT {
            if let Some(end) = self.buffer.find("\n\n") {
                let event = self.buffer[..end].to_owned();
                self.buffer.drain(..end + 2);
                return event;
            }
            let frame = tokio::time::timeout(WAIT, self.body.frame())
                .await
                .expect("an event arrives in time")
                .expect("the stream stays open")
                .expect("the stream has no error");
            if let Ok(data) = frame.into_data() {
                self.buffer.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
        panic!("no complete event in {MAX_FRAMES_PER_EVENT} frames");
    }
}

#[tokio::test]
async fn http2_with_prior_knowledge_initializes_and_calls_with_json_answers() {
    let served = ServedEcho::start(Config::default()).await;
    let mut h2 = H2::connect(served.address).await;
    let (session, answer) = h2.initialize().await;
    assert_eq!(answer["id"], 1);
    assert_eq!(answer["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(answer["result"]["serverInfo"]["name"], "http-echo-test");
    assert_eq!(h2.echo(&session, "over h2").await, "over h2");
    assert_eq!(served.service.session_count(), 1);
}

#[tokio::test]
async fn the_standalone_sse_stream_works_over_http2() {
    let served = ServedEcho::start(Config::default()).await;
    let mut h2 = H2::connect(served.address).await;
    let (session, _) = h2.initialize().await;
    // The answer to a request that follows `notifications/initialized` on the session means
    // the server has handled the notification: the session now hears of list changes.
    assert_eq!(h2.echo(&session, "ready").await, "ready");

    let response = h2.send(Method::GET, Some(&session), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], "text/event-stream");
    let mut events = Events {
        body: response.into_body(),
        buffer: String::new(),
    };
    let priming = events.next().await;
    assert!(
        priming.contains("id:") && priming.contains("retry:"),
        "{priming}"
    );

    served
        .server
        .add_tool(echo_tool("echo-again").build().unwrap())
        .await
        .unwrap();
    let changed = events.next().await;
    assert!(
        changed.contains("notifications/tools/list_changed"),
        "{changed}"
    );

    // The stream and a request share the one connection.
    assert_eq!(h2.echo(&session, "still there").await, "still there");
}
