//! The legacy HTTP+SSE client transport of 2024-11-05 and the fallback to it, against a
//! scripted hyper server on loopback that speaks only the legacy transport.

mod support;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use hyper::{Method, StatusCode};
use mcpwire_http::client::HttpClientBuilder;
use mcpwire_jsonrpc::{Message, Request, Response};
use mcpwire_schema::v2025_11_25::{ContentBlock, Implementation};
use mcpwire_transport::{MessageSender, SendOptions, Transport};
use serde_json::{Value, json};
use support::{Recorded, TestBody, TestServer, WAIT, event, receive, status, stream};
use tokio::sync::mpsc;

/// What the legacy server answers each request with.
fn result_for(method: &str, params: &Value) -> Value {
    match method {
        "initialize" => json!({
            "protocolVersion": "2024-11-05",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "legacy-mock", "version": "1.0.0"},
        }),
        "tools/list" => json!({"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}),
        "tools/call" => json!({"content": [{"type": "text", "text": params["arguments"]["text"]}]}),
        _ => json!({}),
    }
}

/// A server with only the legacy transport: GET `/sse` opens the stream and names
/// `/messages?sessionId=legacy-1`; POSTs there are answered on the stream; a POST to `/sse`
/// is 405, as a legacy server without Streamable HTTP answers.
async fn legacy_server() -> TestServer {
    let stream_events: Arc<Mutex<Option<mpsc::UnboundedSender<Bytes>>>> = Arc::default();
    TestServer::start(move |recorded: &Recorded| -> hyper::Response<TestBody> {
        match (&recorded.method, recorded.uri.as_str()) {
            (&Method::GET, "/sse") => {
                let (response, events) = stream();
                events
                    .send(Bytes::from(
                        "event: endpoint\ndata: /messages?sessionId=legacy-1\n\n",
                    ))
                    .unwrap();
                *stream_events.lock().unwrap() = Some(events);
                response
            }
            (&Method::POST, "/messages?sessionId=legacy-1") => {
                if let Message::Request(Request { id, method, params }) = recorded.message() {
                    let params: Value = params
                        .map(|params| serde_json::from_str(params.get()).unwrap())
                        .unwrap_or_default();
                    let response =
                        Response::from_result(id, &result_for(&method, &params)).unwrap();
                    let text = Message::from(response).to_string();
                    let events = stream_events.lock().unwrap();
                    let events = events.as_ref().expect("the stream is open");
                    events
                        .send(Bytes::from(format!(
                            "event: message\n{}",
                            event(None, &text)
                        )))
                        .unwrap();
                }
                status(StatusCode::ACCEPTED)
            }
            (&Method::POST, "/sse") => status(StatusCode::METHOD_NOT_ALLOWED),
            _ => status(StatusCode::NOT_FOUND),
        }
    })
    .await
}

fn client_info() -> Implementation {
    Implementation::new("mcpwire-http-tests", "0.0.0")
}

#[tokio::test]
async fn the_legacy_transport_posts_to_the_endpoint_and_reads_the_stream() {
    let server = legacy_server().await;
    let transport = HttpClientBuilder::new(server.url("/sse"))
        .legacy_sse()
        .await
        .expect("the endpoint event arrives");
    assert_eq!(
        transport.endpoint(),
        server.url("/messages?sessionId=legacy-1")
    );
    let (mut sender, mut receiver) = transport.split();
    let params = serde_json::value::to_raw_value(&json!({})).unwrap();
    let request = Message::from(Request::new(5, "tools/list", Some(params)));
    tokio::time::timeout(WAIT, sender.send(request, SendOptions::default()))
        .await
        .unwrap()
        .unwrap();
    let answer = receive(&mut receiver).await;
    assert_eq!(answer.id(), Some(&5.into()));
    let post = server.next(Method::POST).await;
    assert_eq!(
        post.header("content-type").as_deref(),
        Some("application/json")
    );
}

#[tokio::test]
async fn the_fallback_switches_to_the_legacy_transport_when_post_is_refused() {
    let server = legacy_server().await;
    let transport = HttpClientBuilder::new(server.url("/sse"))
        .with_fallback()
        .unwrap();
    let client = tokio::time::timeout(
        WAIT,
        mcpwire_client::ClientBuilder::new(client_info()).connect(transport),
    )
    .await
    .expect("initialize in time")
    .expect("initialize over the legacy transport");
    assert_eq!(client.server_info().name, "legacy-mock");
    let tools = client.list_tools().await.expect("tools/list");
    assert_eq!(tools.len(), 1);
    let echo = client
        .call_tool("echo", json!({"text": "over http+sse"}))
        .await
        .expect("tools/call");
    match &echo.content[..] {
        [ContentBlock::TextContent(text)] => assert_eq!(text.text, "over http+sse"),
        other => panic!("unexpected content {other:?}"),
    }
    client.close().await;

    let requests: Vec<(Method, String)> = server
        .recorded()
        .into_iter()
        .map(|recorded| (recorded.method, recorded.uri))
        .collect();
    // The client speaks both eras: its `server/discover` probe is refused first and decides
    // nothing; the refused `initialize` then makes the transport fall back.
    assert_eq!(requests[0], (Method::POST, "/sse".to_owned()), "the probe");
    assert_eq!(requests[1], (Method::POST, "/sse".to_owned()), "initialize");
    assert_eq!(requests[2], (Method::GET, "/sse".to_owned()));
    assert!(
        requests[3..]
            .iter()
            .all(|request| *request == (Method::POST, "/messages?sessionId=legacy-1".to_owned())),
        "{requests:?}"
    );
}

#[tokio::test]
async fn a_stream_without_an_endpoint_event_fails_to_connect() {
    let server =
        TestServer::start(|_| support::sse(&[event(None, r#"{"jsonrpc":"2.0","method":"x"}"#)]))
            .await;
    let error = HttpClientBuilder::new(server.url("/sse"))
        .legacy_sse()
        .await
        .unwrap_err();
    assert!(error.is_protocol(), "{error}");
}

#[tokio::test]
async fn the_fallback_keeps_streamable_http_when_the_server_speaks_it() {
    let server = TestServer::start(|recorded| match recorded.method {
        Method::POST => {
            let Message::Request(request) = recorded.message() else {
                return status(StatusCode::ACCEPTED);
            };
            let response =
                Response::from_result(request.id, &result_for(&request.method, &json!({})));
            support::json(Message::from(response.unwrap()).to_string())
        }
        _ => status(StatusCode::METHOD_NOT_ALLOWED),
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
    .unwrap()
    .expect("initialize over streamable http");
    assert_eq!(client.list_tools().await.unwrap().len(), 1);
    client.close().await;
    assert!(
        server
            .recorded()
            .iter()
            .all(|recorded| recorded.uri == "/mcp"),
        "no legacy stream was opened"
    );
}

#[tokio::test]
async fn the_fallback_stays_on_a_server_that_refuses_the_legacy_versions() {
    // A modern-only Streamable HTTP server: every request is refused with 400 and -32022.
    let server = TestServer::start(|recorded| match (&recorded.method, recorded.message()) {
        (&Method::POST, Message::Request(request)) => {
            let refusal = json!({
                "jsonrpc": "2.0",
                "id": request.id,
                "error": {
                    "code": -32022,
                    "message": "Unsupported protocol version",
                    "data": {"supported": ["2026-07-28"], "requested": "2025-11-25"}
                }
            });
            let mut answer = support::json(refusal.to_string());
            *answer.status_mut() = StatusCode::BAD_REQUEST;
            answer
        }
        _ => status(StatusCode::METHOD_NOT_ALLOWED),
    })
    .await;
    let transport = HttpClientBuilder::new(server.url("/mcp"))
        .with_fallback()
        .unwrap();
    let error = tokio::time::timeout(
        WAIT,
        mcpwire_client::ClientBuilder::new(client_info())
            .era(mcpwire_client::EraChoice::Legacy)
            .connect(transport),
    )
    .await
    .expect("refused in time")
    .expect_err("no revision in common");
    let remote = error.remote().expect("the server's error");
    assert_eq!(
        remote.code,
        mcpwire_client::ErrorCode::UNSUPPORTED_PROTOCOL_VERSION
    );
    assert!(
        server
            .recorded()
            .iter()
            .all(|recorded| recorded.method == Method::POST),
        "no legacy stream was opened"
    );
}
