//! The modern mode (2026-07-28) of the HTTP client transports against a scripted hyper server
//! on loopback: the headers of modern requests, no session, modern errors in non-2xx answers,
//! streams that end early and cancellation.

mod support;

use hyper::{Method, StatusCode};
use mcpwire_http::client::{HttpClientBuilder, SessionHandle};
use mcpwire_jsonrpc::{Message, Request, Response};
use mcpwire_transport::{MessageSender, SendOptions, Transport};
use serde_json::{Value, json};
use support::{Recorded, TestServer, WAIT, json as json_answer, receive, status};

const MODERN: &str = "2026-07-28";

/// A request whose params carry the modern `_meta` envelope.
fn modern_request(id: i64, method: &str, mut params: Value) -> Message {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "test-client", "version": "1.0.0"},
    });
    let params = serde_json::value::to_raw_value(&params).unwrap();
    Message::from(Request::new(id, method, Some(params)))
}

/// The JSON text of a response to `recorded`'s request.
fn answer(recorded: &Recorded, result: Value) -> String {
    let id = recorded.message().id().cloned().expect("a request");
    Message::from(Response::from_result(id, &result).unwrap()).to_string()
}

/// A JSON answer to `recorded` that also names a session, which a modern client ignores.
fn answer_with_session(recorded: &Recorded) -> hyper::Response<support::TestBody> {
    let mut response = json_answer(answer(recorded, json!({"resultType": "complete"})));
    response.headers_mut().insert(
        "mcp-session-id",
        hyper::header::HeaderValue::from_static("not-for-modern"),
    );
    response
}

async fn send(sender: &mut impl MessageSender, message: Message) {
    tokio::time::timeout(WAIT, sender.send(message, SendOptions::default()))
        .await
        .expect("sent in time")
        .expect("sent");
}

/// The requests of the conversation, the modern headers of each: (method, protocol version,
/// `Mcp-Method`, `Mcp-Name`, `Mcp-Session-Id`).
type Headers = (
    Method,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn headers(recorded: &[Recorded]) -> Vec<Headers> {
    recorded
        .iter()
        .map(|recorded| {
            (
                recorded.method.clone(),
                recorded.header("mcp-protocol-version"),
                recorded.header("mcp-method"),
                recorded.header("mcp-name"),
                recorded.header("mcp-session-id"),
            )
        })
        .collect()
}

fn post(method: &str, name: Option<&str>) -> Headers {
    (
        Method::POST,
        Some(MODERN.to_owned()),
        Some(method.to_owned()),
        name.map(str::to_owned),
        None,
    )
}

fn answering_server() -> impl Future<Output = TestServer> {
    TestServer::start(|recorded| match recorded.method {
        Method::POST => answer_with_session(recorded),
        _ => status(StatusCode::METHOD_NOT_ALLOWED),
    })
}

/// Sends one modern request of each kind, one at a time, and checks the headers on the wire.
async fn modern_requests_carry_their_headers(
    server: &TestServer,
    session: SessionHandle,
    transport: impl Transport,
) {
    let (mut sender, mut receiver) = transport.split();
    let requests = [
        modern_request(1, "server/discover", json!({})),
        modern_request(2, "tools/list", json!({})),
        modern_request(
            3,
            "tools/call",
            json!({"name": "wetter-größe", "arguments": {}}),
        ),
        modern_request(4, "prompts/get", json!({"name": "greet"})),
        modern_request(5, "resources/read", json!({"uri": "file:///notes/a b.txt"})),
    ];
    for (index, request) in requests.into_iter().enumerate() {
        send(&mut sender, request).await;
        let answered = receive(&mut receiver).await;
        assert_eq!(answered.id(), Some(&(index as i64 + 1).into()));
        assert!(matches!(answered, Message::Response(_)));
    }
    assert_eq!(session.id(), None, "a modern answer assigns no session");
    sender.close().await.unwrap();

    // Only the POSTs: no standalone GET stream, no DELETE on close.
    assert_eq!(
        headers(&server.recorded()),
        vec![
            post("server/discover", None),
            post("tools/list", None),
            post("tools/call", Some("=?base64?d2V0dGVyLWdyw7bDn2U=?=")),
            post("prompts/get", Some("greet")),
            post("resources/read", Some("file:///notes/a b.txt")),
        ]
    );
}

#[tokio::test]
async fn modern_requests_carry_their_headers_and_no_session() {
    let server = answering_server().await;
    let transport = HttpClientBuilder::new(server.url("/mcp"))
        .streamable()
        .unwrap();
    let session = transport.session();
    modern_requests_carry_their_headers(&server, session, transport).await;
}

#[tokio::test]
async fn modern_requests_decide_nothing_in_the_fallback_transport() {
    let server = answering_server().await;
    let transport = HttpClientBuilder::new(server.url("/mcp"))
        .with_fallback()
        .unwrap();
    let session = transport.session();
    modern_requests_carry_their_headers(&server, session, transport).await;
}
