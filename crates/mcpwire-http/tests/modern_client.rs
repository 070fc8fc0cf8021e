//! The modern mode (2026-07-28) of the HTTP client transports against a scripted hyper server
//! on loopback: the headers of modern requests, no session, modern errors in non-2xx answers,
//! streams that end early and cancellation.

mod support;

use std::sync::Mutex;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, StatusCode};
use mcpwire_client::ErrorCode;
use mcpwire_http::client::{HttpClientBuilder, SessionHandle};
use mcpwire_jsonrpc::{Message, Request, RequestId, Response};
use mcpwire_schema::Era;
use mcpwire_schema::v2025_11_25::Implementation;
use mcpwire_transport::{MessageSender, SendOptions, Transport};
use serde_json::{Value, json};
use support::{
    Recorded, TestBody, TestServer, WAIT, event, json as json_answer, receive,
    receive_request_failure, status, stream,
};
use tokio::sync::mpsc;

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

/// An answer with `status` and a body of media type `content_type`.
fn refusal(status: StatusCode, content_type: &str, body: &str) -> hyper::Response<TestBody> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(TestBody::Full(Full::new(Bytes::from(body.to_owned()))))
        .unwrap()
}

/// The code and message of the error response `message`, which must answer request `id`.
fn error_of(message: &Message, id: i64) -> (i32, String) {
    match message {
        Message::Error(error) => {
            assert_eq!(error.id, Some(RequestId::from(id)));
            (error.error.code.0, error.error.message.clone())
        }
        other => panic!("expected an error response to {id}, got {other:?}"),
    }
}

#[tokio::test]
async fn json_rpc_errors_in_error_statuses_reach_the_engine_as_the_servers_errors() {
    let server = TestServer::start(|recorded| {
        let json = "application/json";
        match recorded.header("mcp-method").as_deref() {
            // A modern server that could not read the request names no id.
            Some("tools/list") => refusal(
                StatusCode::BAD_REQUEST,
                json,
                r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32602,"message":"bad cursor"}}"#,
            ),
            Some("tools/call") => refusal(
                StatusCode::NOT_FOUND,
                "application/json; charset=utf-8",
                r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"no tasks here"}}"#,
            ),
            // Not a JSON-RPC error, or not JSON: local failures.
            Some("resources/read") => refusal(StatusCode::BAD_REQUEST, "text/plain", "nope"),
            Some("prompts/get") => refusal(StatusCode::INTERNAL_SERVER_ERROR, json, "{}"),
            _ => refusal(
                StatusCode::BAD_REQUEST,
                json,
                r#"{"jsonrpc":"2.0","id":99,"error":{"code":-32602,"message":"someone else"}}"#,
            ),
        }
    })
    .await;
    let transport = HttpClientBuilder::new(server.url("/mcp"))
        .streamable()
        .unwrap();
    let (mut sender, mut receiver) = transport.split();
    let requests = [
        modern_request(1, "tools/list", json!({})),
        modern_request(2, "tools/call", json!({"name": "t"})),
        modern_request(3, "resources/read", json!({"uri": "file:///x"})),
        modern_request(4, "prompts/get", json!({"name": "p"})),
        modern_request(5, "completion/complete", json!({})),
    ];
    let mut errors = Vec::new();
    let mut failures = Vec::new();
    for (index, request) in requests.into_iter().enumerate() {
        send(&mut sender, request).await;
        let id = index as i64 + 1;
        if index < 2 {
            errors.push(error_of(&receive(&mut receiver).await, id));
        } else {
            // No JSON-RPC error of the server's for this request: the transport fails it.
            failures.push(receive_request_failure(&mut receiver, id).await);
        }
    }
    assert_eq!(errors[0], (-32602, "bad cursor".to_owned()));
    assert_eq!(errors[1], (-32601, "no tasks here".to_owned()));
    assert!(
        failures[0].contains("400") && failures[0].contains("nope"),
        "{}",
        failures[0]
    );
    assert!(failures[1].contains("500"), "{}", failures[1]);
    // An error response to another request is no answer to this one.
    assert!(failures[2].contains("400"), "{}", failures[2]);
}

fn client_info() -> Implementation {
    Implementation::new("test-client", "1.0.0")
}

fn discovery(recorded: &Recorded) -> hyper::Response<TestBody> {
    json_answer(answer(
        recorded,
        json!({
            "resultType": "complete",
            "supportedVersions": [MODERN],
            "capabilities": {"tools": {}},
            "ttlMs": 0,
            "cacheScope": "private",
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "modern", "version": "2.0.0"}},
        }),
    ))
}

#[tokio::test]
async fn the_client_role_retries_discovery_after_a_400_with_an_unsupported_version_error() {
    let probes = Mutex::new(0);
    let server = TestServer::start(move |recorded| {
        match recorded.header("mcp-method").as_deref() {
            Some("server/discover") => {
                let mut probes = probes.lock().unwrap();
                *probes += 1;
                if *probes == 1 {
                    return refusal(
                        StatusCode::BAD_REQUEST,
                        "application/json",
                        &json!({
                            "jsonrpc": "2.0",
                            "id": null,
                            "error": {
                                "code": -32022,
                                "message": "Unsupported protocol version",
                                "data": {"requested": MODERN, "supported": [MODERN]},
                            },
                        })
                        .to_string(),
                    );
                }
                discovery(recorded)
            }
            Some("tools/list") => refusal(
                StatusCode::NOT_FOUND,
                "application/json",
                r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32601,"message":"Method not found"}}"#,
            ),
            _ => status(StatusCode::BAD_REQUEST),
        }
    })
    .await;
    let transport = HttpClientBuilder::new(server.url("/mcp"))
        .with_fallback()
        .unwrap();
    let client = tokio::time::timeout(
        WAIT,
        mcpwire_client::ClientBuilder::new(client_info()).connect(transport),
    )
    .await
    .expect("connected in time")
    .expect("the second discovery succeeds");
    assert_eq!(client.era(), Era::Modern);
    assert_eq!(client.server_info().name, "modern");

    let error = client.list_tools().await.expect_err("the server refuses");
    let remote = error.remote().expect("the server's own error");
    assert_eq!(remote.code, ErrorCode::METHOD_NOT_FOUND);
    assert_eq!(remote.message, "Method not found");
    client.close().await;

    let methods: Vec<_> = server
        .recorded()
        .iter()
        .map(|recorded| (recorded.method.clone(), recorded.header("mcp-method")))
        .collect();
    let post = |method: &str| (Method::POST, Some(method.to_owned()));
    assert_eq!(
        methods,
        vec![
            post("server/discover"),
            post("server/discover"),
            post("tools/list")
        ]
    );
}

#[tokio::test]
async fn a_modern_stream_that_ends_early_fails_only_its_request_and_is_not_resumed() {
    let (held_sender, mut held) = mpsc::unbounded_channel();
    let server = TestServer::start(move |recorded| {
        match recorded.header("mcp-method").as_deref() {
            Some("tools/call") => {
                // A progress notification, with an event id a legacy client would resume
                // from, then the end of the stream.
                let (response, events) = stream();
                let progress = json!({
                    "jsonrpc": "2.0",
                    "method": "notifications/progress",
                    "params": {"progressToken": "p", "progress": 1},
                });
                events
                    .send(Bytes::from(event(Some("e-1"), &progress.to_string())))
                    .unwrap();
                response
            }
            Some("tools/list") => {
                let (response, events) = stream();
                held_sender.send((recorded.clone(), events)).unwrap();
                response
            }
            _ => status(StatusCode::METHOD_NOT_ALLOWED),
        }
    })
    .await;
    let transport = HttpClientBuilder::new(server.url("/mcp"))
        .reconnect_delay(std::time::Duration::ZERO)
        .streamable()
        .unwrap();
    let (mut sender, mut receiver) = transport.split();

    send(&mut sender, modern_request(1, "tools/list", json!({}))).await;
    let (list, list_events) = tokio::time::timeout(WAIT, held.recv())
        .await
        .unwrap()
        .unwrap();
    send(
        &mut sender,
        modern_request(2, "tools/call", json!({"name": "slow"})),
    )
    .await;

    let progress = receive(&mut receiver).await;
    assert_eq!(progress.method(), Some("notifications/progress"));
    let failure = receive_request_failure(&mut receiver, 2).await;
    assert!(
        failure.contains("stream ended before the response"),
        "{failure}"
    );

    // The other request's stream is untouched: its response still arrives.
    let response = answer(&list, json!({"resultType": "complete", "tools": []}));
    list_events
        .send(Bytes::from(event(None, &response)))
        .unwrap();
    let answered = receive(&mut receiver).await;
    assert!(matches!(answered, Message::Response(_)));
    assert_eq!(answered.id(), Some(&RequestId::from(1)));
    sender.close().await.unwrap();

    // No GET with `Last-Event-ID`: only the two POSTs.
    let methods: Vec<_> = server
        .recorded()
        .iter()
        .map(|recorded| recorded.method.clone())
        .collect();
    assert_eq!(methods, vec![Method::POST, Method::POST]);
}

#[tokio::test]
async fn cancelling_a_modern_request_closes_its_stream_and_posts_nothing() {
    let (held_sender, mut held) = mpsc::unbounded_channel();
    let server =
        TestServer::start(
            move |recorded| match recorded.header("mcp-method").as_deref() {
                Some("tools/call") => {
                    let (response, events) = stream();
                    held_sender.send(events).unwrap();
                    response
                }
                Some("tools/list") => json_answer(answer(
                    recorded,
                    json!({"resultType": "complete", "tools": []}),
                )),
                _ => status(StatusCode::BAD_REQUEST),
            },
        )
        .await;
    let transport = HttpClientBuilder::new(server.url("/mcp"))
        .with_fallback()
        .unwrap();
    let (mut sender, mut receiver) = transport.split();

    send(
        &mut sender,
        modern_request(1, "tools/call", json!({"name": "slow"})),
    )
    .await;
    let events = tokio::time::timeout(WAIT, held.recv())
        .await
        .unwrap()
        .unwrap();
    let cancel = json!({"requestId": 1, "reason": "the user gave up"});
    let cancel = serde_json::value::to_raw_value(&cancel).unwrap();
    send(
        &mut sender,
        Message::from(mcpwire_jsonrpc::Notification::new(
            "notifications/cancelled",
            Some(cancel),
        )),
    )
    .await;
    // The server sees the request's connection close.
    tokio::time::timeout(WAIT, events.closed())
        .await
        .expect("the cancelled request's stream is closed");

    // The transport goes on, and the cancelled request gets no answer of its own.
    send(&mut sender, modern_request(2, "tools/list", json!({}))).await;
    let answered = receive(&mut receiver).await;
    assert!(matches!(answered, Message::Response(_)));
    assert_eq!(answered.id(), Some(&RequestId::from(2)));
    sender.close().await.unwrap();

    let methods: Vec<_> = server
        .recorded()
        .iter()
        .map(|recorded| (recorded.method.clone(), recorded.header("mcp-method")))
        .collect();
    let post = |method: &str| (Method::POST, Some(method.to_owned()));
    assert_eq!(methods, vec![post("tools/call"), post("tools/list")]);
}
