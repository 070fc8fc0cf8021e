//! The Streamable HTTP client transport against a scripted hyper server on loopback: JSON and
//! SSE answers, 202, the session and version headers, the optional GET stream, resumption
//! with `Last-Event-ID`, session expiry, failures, limits and DELETE on close.

mod support;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::{Method, StatusCode};
use mcpwire_http::client::Error as HttpError;
use mcpwire_http::client::HttpClientBuilder;
use mcpwire_jsonrpc::{ErrorCode, Message, Notification, Request, RequestId, Response};
use mcpwire_transport::{Inbound, MessageReceiver, MessageSender, SendOptions, Transport};
use serde_json::{Value, json};
use support::{
    Recorded, TestServer, WAIT, error_chain, event, json as json_answer, receive, receive_inbound,
    receive_request_failure, sse, status, stream,
};
use tokio::sync::mpsc;

fn request(id: i64, method: &str) -> Message {
    let params = serde_json::value::to_raw_value(&json!({})).unwrap();
    Message::from(Request::new(id, method, Some(params)))
}

fn notification(method: &str, params: Value) -> Message {
    let params = serde_json::value::to_raw_value(&params).unwrap();
    Message::from(Notification::new(method, Some(params)))
}

/// The JSON text of a response to `recorded`'s request.
fn answer(recorded: &Recorded, result: Value) -> String {
    let id = recorded.message().id().cloned().expect("a request");
    Message::from(Response::from_result(id, &result).unwrap()).to_string()
}

fn initialize_result(version: &str) -> Value {
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {}},
        "serverInfo": {"name": "mock", "version": "1.0.0"},
    })
}

/// Answers `initialize` with JSON and the session id `session`.
fn initialize_answer(
    recorded: &Recorded,
    session: &'static str,
) -> hyper::Response<support::TestBody> {
    let mut response = json_answer(answer(recorded, initialize_result("2025-06-18")));
    response.headers_mut().insert(
        "mcp-session-id",
        hyper::header::HeaderValue::from_static(session),
    );
    response
}

fn is_response_to(message: &Message, id: i64) -> bool {
    matches!(message, Message::Response(_)) && message.id() == Some(&RequestId::from(id))
}

async fn send(sender: &mut impl MessageSender, message: Message) {
    tokio::time::timeout(WAIT, sender.send(message, SendOptions::default()))
        .await
        .expect("sent in time")
        .expect("sent");
}

/// Sends `initialize` with id 1 and receives its response.
async fn initialize(sender: &mut impl MessageSender, receiver: &mut impl MessageReceiver) {
    send(sender, request(1, "initialize")).await;
    assert!(is_response_to(&receive(receiver).await, 1));
}

/// Receives the error that ends the transport.
async fn receive_failure(receiver: &mut impl MessageReceiver) -> mcpwire_transport::Error {
    match tokio::time::timeout(WAIT, receiver.receive())
        .await
        .unwrap()
    {
        Some(Err(error)) => error,
        other => panic!("expected the transport to fail, got {other:?}"),
    }
}

/// Initializes, sends `tools/list` with id 2 to a server that refuses it, and receives the
/// error that ends the transport.
async fn initialize_then_fail_on_tools_list(
    sender: &mut impl MessageSender,
    receiver: &mut impl MessageReceiver,
) -> mcpwire_transport::Error {
    initialize(sender, receiver).await;
    send(sender, request(2, "tools/list")).await;
    receive_failure(receiver).await
}

async fn expect_end(receiver: &mut impl MessageReceiver) {
    let end = tokio::time::timeout(WAIT, receiver.receive())
        .await
        .expect("the receiver ends in time");
    assert!(end.is_none(), "expected the end, got {end:?}");
}

#[tokio::test]
async fn json_answers_carry_the_session_and_negotiated_version_and_close_deletes() {
    let server = TestServer::start(|recorded| match recorded.method {
        Method::POST => match recorded.message().method() {
            Some("initialize") => initialize_answer(recorded, "session-1"),
            Some("notifications/initialized") => status(StatusCode::ACCEPTED),
            Some("tools/list") => json_answer(answer(recorded, json!({"tools": []}))),
            _ => status(StatusCode::BAD_REQUEST),
        },
        Method::GET => status(StatusCode::METHOD_NOT_ALLOWED),
        _ => status(StatusCode::OK),
    })
    .await;
    let transport = HttpClientBuilder::new(server.url("/mcp"))
        .header("authorization", "Bearer token-1")
        .streamable()
        .unwrap();
    let session = transport.session();
    let (mut sender, mut receiver) = transport.split();

    initialize(&mut sender, &mut receiver).await;
    assert_eq!(session.id().as_deref(), Some("session-1"));
    assert_eq!(session.protocol_version().as_deref(), Some("2025-06-18"));

    send(
        &mut sender,
        notification("notifications/initialized", json!({})),
    )
    .await;
    let get = server.next(Method::GET).await;
    assert_eq!(get.header("mcp-session-id").as_deref(), Some("session-1"));
    assert_eq!(get.header("accept").as_deref(), Some("text/event-stream"));

    send(&mut sender, request(2, "tools/list")).await;
    assert!(is_response_to(&receive(&mut receiver).await, 2));

    sender.close().await.unwrap();
    let delete = server.next(Method::DELETE).await;
    assert_eq!(
        delete.header("mcp-session-id").as_deref(),
        Some("session-1")
    );
    expect_end(&mut receiver).await;

    let posts: Vec<Recorded> = server
        .recorded()
        .into_iter()
        .filter(|recorded| recorded.method == Method::POST)
        .collect();
    assert_eq!(posts.len(), 3);
    for post in &posts {
        assert_eq!(
            post.header("accept").as_deref(),
            Some("application/json, text/event-stream")
        );
        assert_eq!(
            post.header("content-type").as_deref(),
            Some("application/json")
        );
        assert_eq!(
            post.header("authorization").as_deref(),
            Some("Bearer token-1")
        );
    }
    assert_eq!(posts[0].header("mcp-session-id"), None);
    assert_eq!(posts[0].header("mcp-protocol-version"), None);
    for post in &posts[1..] {
        assert_eq!(post.header("mcp-session-id").as_deref(), Some("session-1"));
        assert_eq!(
            post.header("mcp-protocol-version").as_deref(),
            Some("2025-06-18")
        );
    }
    let gets = server
        .recorded()
        .iter()
        .filter(|recorded| recorded.method == Method::GET)
        .count();
    assert_eq!(gets, 1, "a 405 GET stream is not retried");
}

#[tokio::test]
async fn an_sse_answer_delivers_every_message_in_order() {
    let server = TestServer::start(|recorded| {
        sse(&[
            "id: a-0\nretry: 1000\ndata:\n\n".to_owned(),
            event(
                Some("a-1"),
                r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}"#,
            ),
            "event: message\nid: a-2\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"s-1\",\n".to_owned()
                + "data: \"method\":\"ping\"}\n\n",
            ": a comment\nevent: other\ndata: ignored\n\n".to_owned(),
            event(Some("a-3"), &answer(recorded, json!({"content": []}))),
        ])
    })
    .await;
    let (mut sender, mut receiver) = HttpClientBuilder::new(server.url("/mcp"))
        .streamable()
        .unwrap()
        .split();
    send(&mut sender, request(7, "tools/call")).await;
    let progress = receive(&mut receiver).await;
    assert_eq!(progress.method(), Some("notifications/progress"));
    let ping = receive(&mut receiver).await;
    assert_eq!(ping.method(), Some("ping"));
    assert_eq!(ping.id(), Some(&RequestId::from("s-1".to_owned())));
    assert!(is_response_to(&receive(&mut receiver).await, 7));
    sender.close().await.unwrap();
    expect_end(&mut receiver).await;
}

#[tokio::test]
async fn a_full_queue_holds_the_stream_back_without_losing_messages() {
    const COUNT: usize = 100;
    let server = TestServer::start(|recorded| {
        let mut events: Vec<String> = (0..COUNT)
            .map(|index| {
                event(
                    Some(&index.to_string()),
                    &format!(r#"{{"jsonrpc":"2.0","method":"notifications/message","params":{{"index":{index}}}}}"#),
                )
            })
            .collect();
        events.push(event(None, &answer(recorded, json!({}))));
        sse(&events)
    })
    .await;
    let (mut sender, mut receiver) = HttpClientBuilder::new(server.url("/mcp"))
        .inbound_capacity(1)
        .streamable()
        .unwrap()
        .split();
    send(&mut sender, request(1, "tools/call")).await;
    for index in 0..COUNT {
        let Message::Notification(notification) = receive(&mut receiver).await else {
            panic!("expected notification {index}");
        };
        let params: Value = serde_json::from_str(notification.params.unwrap().get()).unwrap();
        assert_eq!(params["index"], index);
    }
    assert!(is_response_to(&receive(&mut receiver).await, 1));
}

/// The server closes the stream of a request twice before answering; the client resumes
/// each time with GET and the last event id, after the server's `retry`, and every message
/// arrives exactly once.
#[tokio::test]
async fn a_closed_stream_is_resumed_with_the_last_event_id_after_retry() {
    const RETRY: Duration = Duration::from_millis(40);
    let (streams_sender, mut streams) = mpsc::unbounded_channel();
    let streams_sender = Mutex::new(streams_sender);
    let server = TestServer::start(move |recorded| {
        if recorded.method == Method::POST && recorded.message().method() == Some("initialize") {
            return initialize_answer(recorded, "resumable");
        }
        let (response, events) = stream();
        streams_sender.lock().unwrap().send(events).unwrap();
        response
    })
    .await;
    let (mut sender, mut receiver) = HttpClientBuilder::new(server.url("/mcp"))
        .streamable()
        .unwrap()
        .split();
    initialize(&mut sender, &mut receiver).await;

    send(&mut sender, request(2, "tools/call")).await;
    let post_stream = tokio::time::timeout(WAIT, streams.recv())
        .await
        .unwrap()
        .unwrap();
    let notify = |n: u32| {
        format!(r#"{{"jsonrpc":"2.0","method":"notifications/message","params":{{"n":{n}}}}}"#)
    };
    post_stream
        .send(Bytes::from(format!(
            "id: e-0\nretry: {}\ndata:\n\n",
            RETRY.as_millis()
        )))
        .unwrap();
    post_stream
        .send(Bytes::from(event(Some("e-1"), &notify(1))))
        .unwrap();
    assert_eq!(
        receive(&mut receiver).await,
        notification("notifications/message", json!({"n": 1}))
    );
    let closed_at = Instant::now();
    drop(post_stream);

    let first_get = server.next(Method::GET).await;
    assert!(
        first_get.at.duration_since(closed_at) >= RETRY,
        "the client waits `retry`"
    );
    assert_eq!(first_get.header("last-event-id").as_deref(), Some("e-1"));
    assert_eq!(
        first_get.header("mcp-session-id").as_deref(),
        Some("resumable")
    );
    assert_eq!(
        first_get.header("mcp-protocol-version").as_deref(),
        Some("2025-06-18")
    );
    let first_resumed = tokio::time::timeout(WAIT, streams.recv())
        .await
        .unwrap()
        .unwrap();
    first_resumed
        .send(Bytes::from(event(Some("e-2"), &notify(2))))
        .unwrap();
    assert_eq!(
        receive(&mut receiver).await,
        notification("notifications/message", json!({"n": 2}))
    );
    drop(first_resumed);

    let second_get = server.next(Method::GET).await;
    assert_eq!(second_get.header("last-event-id").as_deref(), Some("e-2"));
    let second_resumed = tokio::time::timeout(WAIT, streams.recv())
        .await
        .unwrap()
        .unwrap();
    let response = Message::from(Response::from_result(2, &json!({"content": []})).unwrap());
    second_resumed
        .send(Bytes::from(event(Some("e-3"), &response.to_string())))
        .unwrap();
    assert_eq!(receive(&mut receiver).await, response);
    drop(second_resumed);

    sender.close().await.unwrap();
    // Nothing was delivered twice: after the close, the queue holds nothing more.
    expect_end(&mut receiver).await;
}

#[tokio::test]
async fn a_404_for_the_session_is_a_session_expired_transport_error_when_reinitialization_is_off() {
    let server = TestServer::start(|recorded| match recorded.message().method() {
        Some("initialize") => initialize_answer(recorded, "short-lived"),
        _ => status(StatusCode::NOT_FOUND),
    })
    .await;
    let (mut sender, mut receiver) = HttpClientBuilder::new(server.url("/mcp"))
        .reinitialize_on_session_expiry(false)
        .streamable()
        .unwrap()
        .split();
    let error = initialize_then_fail_on_tools_list(&mut sender, &mut receiver).await;
    let http = HttpError::find(&error).expect("an http error");
    assert!(http.is_session_expired(), "{http}");
    assert!(http.to_string().contains("initialize"));
    expect_end(&mut receiver).await;

    let refused = sender
        .send(request(3, "tools/list"), SendOptions::default())
        .await
        .unwrap_err();
    assert!(HttpError::find(&refused).unwrap().is_session_expired());
}

#[tokio::test]
async fn failed_requests_are_answered_with_error_responses() {
    let server = TestServer::start(|recorded| match recorded.message().method() {
        Some("broken") => {
            let mut response = json_answer("database down");
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response
        }
        Some("unresumable") => sse(&[event(
            None,
            r#"{"jsonrpc":"2.0","method":"notifications/message"}"#,
        )]),
        Some("accepted") => status(StatusCode::ACCEPTED),
        _ => json_answer(r#"{"jsonrpc":"2.0","method":"notifications/message"}"#),
    })
    .await;
    let (mut sender, mut receiver) = HttpClientBuilder::new(server.url("/mcp"))
        .streamable()
        .unwrap()
        .split();
    let cases = [
        (1, "broken", "500 Internal Server Error: database down"),
        (2, "accepted", "202 Accepted and no body"),
        (3, "no-answer", "no response to the request"),
        (4, "unresumable", "no event id to resume from"),
    ];
    for (id, method, expected) in cases {
        send(&mut sender, request(id, method)).await;
        let mut failure = None;
        // The answers of the other cases hold one notification each at most.
        for _ in 0..3 {
            match receive_inbound(&mut receiver).await {
                Inbound::Failed { id: failed, error } => {
                    assert_eq!(failed, RequestId::from(id));
                    failure = Some(error_chain(&error));
                    break;
                }
                Inbound::Message(Message::Notification(_)) => continue,
                other => panic!("unexpected {other:?}"),
            }
        }
        // The transport fails the request with its own error: no error response of the
        // server's is made up.
        let failure = failure.expect("the request fails");
        assert!(failure.contains(expected), "{method}: {failure}");
    }
}

/// A server that explains an error status with a JSON-RPC error, as a modern-only server
/// refuses `initialize` (`400`, `-32022` naming the versions it speaks), answers the request
/// with that error: its code and data reach the client, not a failure of the transport's.
#[tokio::test]
async fn a_json_rpc_error_in_an_error_status_answers_the_request() {
    let server = TestServer::start(|_| {
        let mut response = json_answer(
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32022,"message":"Unsupported protocol version","data":{"supported":["2026-07-28"],"requested":"2025-11-25"}}}"#,
        );
        *response.status_mut() = StatusCode::BAD_REQUEST;
        response
    })
    .await;
    let (mut sender, mut receiver) = HttpClientBuilder::new(server.url("/mcp"))
        .streamable()
        .unwrap()
        .split();
    send(&mut sender, request(1, "initialize")).await;
    let Message::Error(refusal) = receive(&mut receiver).await else {
        panic!("an error response expected");
    };
    assert_eq!(refusal.id, Some(RequestId::from(1)));
    assert_eq!(refusal.error.code, ErrorCode::UNSUPPORTED_PROTOCOL_VERSION);
    let data: serde_json::Value =
        serde_json::from_str(refusal.error.data.as_deref().expect("data").get()).unwrap();
    assert_eq!(data["supported"], json!(["2026-07-28"]));
}

#[tokio::test]
async fn the_standalone_stream_delivers_server_messages_and_reconnects() {
    let (streams_sender, mut streams) = mpsc::unbounded_channel();
    let streams_sender = Mutex::new(streams_sender);
    let server = TestServer::start(move |recorded| match recorded.method {
        Method::POST => match recorded.message().method() {
            Some("initialize") => initialize_answer(recorded, "listening"),
            _ => status(StatusCode::ACCEPTED),
        },
        _ => {
            let (response, events) = stream();
            streams_sender.lock().unwrap().send(events).unwrap();
            response
        }
    })
    .await;
    let (mut sender, mut receiver) = HttpClientBuilder::new(server.url("/mcp"))
        .streamable()
        .unwrap()
        .split();
    initialize(&mut sender, &mut receiver).await;
    send(
        &mut sender,
        notification("notifications/initialized", json!({})),
    )
    .await;

    let changed = notification("notifications/tools/list_changed", json!({}));
    let first = tokio::time::timeout(WAIT, streams.recv())
        .await
        .unwrap()
        .unwrap();
    first
        .send(Bytes::from("id: g-1\nretry: 10\ndata:\n\n"))
        .unwrap();
    first
        .send(Bytes::from(event(Some("g-2"), &changed.to_string())))
        .unwrap();
    assert_eq!(receive(&mut receiver).await, changed);
    drop(first);

    let second = tokio::time::timeout(WAIT, streams.recv())
        .await
        .unwrap()
        .unwrap();
    let gets: Vec<Recorded> = server
        .recorded()
        .into_iter()
        .filter(|recorded| recorded.method == Method::GET)
        .collect();
    assert_eq!(gets.len(), 2);
    assert_eq!(gets[0].header("last-event-id"), None);
    assert_eq!(gets[1].header("last-event-id").as_deref(), Some("g-2"));
    let resource = notification("notifications/resources/list_changed", json!({}));
    second
        .send(Bytes::from(event(Some("g-3"), &resource.to_string())))
        .unwrap();
    assert_eq!(receive(&mut receiver).await, resource);
    sender.close().await.unwrap();
    expect_end(&mut receiver).await;
}

#[tokio::test]
async fn an_oversized_event_is_a_parse_error_and_reading_goes_on() {
    let server = TestServer::start(|recorded| {
        let big = format!(
            r#"{{"jsonrpc":"2.0","method":"notifications/message","params":{{"data":"{}"}}}}"#,
            "x".repeat(2000)
        );
        sse(&[
            event(Some("1"), &big),
            event(Some("2"), &answer(recorded, json!({}))),
        ])
    })
    .await;
    let (mut sender, mut receiver) = HttpClientBuilder::new(server.url("/mcp"))
        .max_message_bytes(512)
        .streamable()
        .unwrap()
        .split();
    send(&mut sender, request(1, "tools/call")).await;
    match tokio::time::timeout(WAIT, receiver.receive())
        .await
        .unwrap()
    {
        Some(Ok(Inbound::Invalid(error))) => assert!(error.is_too_large(), "{error}"),
        other => panic!("expected a too-large event, got {other:?}"),
    }
    assert!(is_response_to(&receive(&mut receiver).await, 1));
}

#[tokio::test]
async fn a_pinned_protocol_version_is_sent_and_not_overridden() {
    let server = TestServer::start(|recorded| match recorded.message().method() {
        Some("initialize") => initialize_answer(recorded, "pinned"),
        _ => json_answer(answer(recorded, json!({}))),
    })
    .await;
    let transport = HttpClientBuilder::new(server.url("/mcp"))
        .protocol_version("2025-03-26")
        .standalone_stream(false)
        .streamable()
        .unwrap();
    let session = transport.session();
    let (mut sender, mut receiver) = transport.split();
    send(&mut sender, request(1, "initialize")).await;
    receive(&mut receiver).await;
    send(&mut sender, request(2, "ping")).await;
    receive(&mut receiver).await;
    assert_eq!(session.protocol_version().as_deref(), Some("2025-03-26"));
    let posts = server.recorded();
    assert_eq!(posts[0].header("mcp-protocol-version"), None);
    assert_eq!(
        posts[1].header("mcp-protocol-version").as_deref(),
        Some("2025-03-26")
    );
}

#[tokio::test]
async fn an_unreachable_server_fails_requests_promptly() {
    // A port that was free a moment ago: connecting is refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let (mut sender, mut receiver) = HttpClientBuilder::new(format!("http://{address}/mcp"))
        .connect_timeout(Duration::from_secs(2))
        .streamable()
        .unwrap()
        .split();
    send(&mut sender, request(1, "initialize")).await;
    let failure = receive_request_failure(&mut receiver, 1).await;
    assert!(failure.contains("connection failed"), "{failure}");
    let notified = sender
        .send(
            notification("notifications/initialized", json!({})),
            SendOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(HttpError::find(&notified).unwrap().is_connect());
}

/// The client role sees the expiry through its own error: [`HttpError::find`] digs it out of
/// the failed call's source chain. The server ends every session at once, so the new one the
/// transport starts does not help.
#[tokio::test]
async fn the_client_role_sees_the_session_expiry_in_its_error() {
    let server = TestServer::start(|recorded| match recorded.method {
        Method::POST => match recorded.message().method() {
            Some("initialize") => initialize_answer(recorded, "expiring"),
            Some("notifications/initialized") => status(StatusCode::ACCEPTED),
            _ => status(StatusCode::NOT_FOUND),
        },
        _ => status(StatusCode::METHOD_NOT_ALLOWED),
    })
    .await;
    let transport = HttpClientBuilder::new(server.url("/mcp"))
        .streamable()
        .unwrap();
    let session = transport.session();
    let client = tokio::time::timeout(
        WAIT,
        mcpwire_client::Client::builder("mcpwire-http-tests", "0.0.0").connect(transport),
    )
    .await
    .unwrap()
    .expect("initialize");
    let error = tokio::time::timeout(WAIT, client.list_tools())
        .await
        .unwrap()
        .expect_err("the session is gone");
    let http = HttpError::find(&error).unwrap_or_else(|| panic!("no http error in {error:?}"));
    assert!(http.is_session_expired());
    assert_eq!(session.reinitializations(), 1);
}

/// A server whose `initialize` answers name the sessions `first`, `second`, … in turn, with
/// protocol version `versions[n]` for the n-th, and that refuses `tools/list` with 404 on the
/// sessions `expired` names.
async fn expiring_server(
    versions: &'static [&'static str],
    expired: &'static [&'static str],
) -> TestServer {
    const NAMES: [&str; 3] = ["first", "second", "third"];
    let initialized = std::sync::atomic::AtomicUsize::new(0);
    TestServer::start(move |recorded| match recorded.method {
        Method::POST => match recorded.message().method() {
            Some("initialize") => {
                let index = initialized.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let result = initialize_result(versions[index.min(versions.len() - 1)]);
                let mut response = json_answer(answer(recorded, result));
                response.headers_mut().insert(
                    "mcp-session-id",
                    hyper::header::HeaderValue::from_static(NAMES[index.min(NAMES.len() - 1)]),
                );
                response
            }
            Some("tools/list") => {
                let session = recorded.header("mcp-session-id").unwrap_or_default();
                if expired.contains(&session.as_str()) {
                    status(StatusCode::NOT_FOUND)
                } else {
                    json_answer(answer(recorded, json!({"tools": []})))
                }
            }
            _ => status(StatusCode::ACCEPTED),
        },
        _ => status(StatusCode::METHOD_NOT_ALLOWED),
    })
    .await
}

fn posts_of(server: &TestServer, method: &str) -> Vec<Recorded> {
    server
        .recorded()
        .into_iter()
        .filter(|recorded| {
            recorded.method == Method::POST && recorded.message().method() == Some(method)
        })
        .collect()
}

/// The session id each of `posts` carried.
fn sessions_of(posts: &[Recorded]) -> Vec<Option<String>> {
    posts
        .iter()
        .map(|post| post.header("mcp-session-id"))
        .collect()
}

/// The spec's rule: a 404 for the session id starts a new session with a new `initialize`
/// without a session id. The transport repeats the client's handshake on its own, keeps the
/// new `initialize` response to itself, and sends the refused request again.
#[tokio::test]
async fn a_404_for_the_session_repeats_the_handshake_and_sends_the_message_again() {
    let server = expiring_server(&["2025-06-18"], &["first"]).await;
    let transport = HttpClientBuilder::new(server.url("/mcp"))
        .streamable()
        .unwrap();
    let session = transport.session();
    let (mut sender, mut receiver) = transport.split();
    initialize(&mut sender, &mut receiver).await;
    send(
        &mut sender,
        notification("notifications/initialized", json!({})),
    )
    .await;
    let first_get = server.next(Method::GET).await;
    assert_eq!(first_get.header("mcp-session-id").as_deref(), Some("first"));

    send(&mut sender, request(2, "tools/list")).await;
    // The next message the engine sees is the answer to its request: the transport's own
    // `initialize` response never reaches it.
    assert!(is_response_to(&receive(&mut receiver).await, 2));
    assert_eq!(session.id().as_deref(), Some("second"));
    assert_eq!(session.reinitializations(), 1);
    assert_eq!(session.protocol_version().as_deref(), Some("2025-06-18"));

    let initializes = posts_of(&server, "initialize");
    assert_eq!(initializes.len(), 2);
    let (original, repeated) = (initializes[0].message(), initializes[1].message());
    assert_eq!(repeated.method(), original.method());
    let (Message::Request(original), Message::Request(repeated)) = (original, repeated) else {
        panic!("initialize is a request");
    };
    assert_eq!(
        repeated.params.as_ref().map(|params| params.get()),
        original.params.as_ref().map(|params| params.get()),
        "the client's own initialize request is repeated"
    );
    assert_ne!(repeated.id, original.id, "under an id of the transport");
    assert_eq!(initializes[1].header("mcp-session-id"), None);
    assert_eq!(initializes[1].header("mcp-protocol-version"), None);

    let first_then_second = [Some("first".to_owned()), Some("second".to_owned())];
    let initialized = posts_of(&server, "notifications/initialized");
    assert_eq!(sessions_of(&initialized), first_then_second);
    assert_eq!(
        initialized[1].header("mcp-protocol-version").as_deref(),
        Some("2025-06-18")
    );

    let lists = posts_of(&server, "tools/list");
    assert_eq!(sessions_of(&lists), first_then_second);
    assert_eq!(lists[1].message().id(), Some(&RequestId::from(2)));

    let second_get = server.next(Method::GET).await;
    assert_eq!(
        second_get.header("mcp-session-id").as_deref(),
        Some("second"),
        "the standalone stream is reopened on the new session"
    );
    sender.close().await.unwrap();
    let delete = server.next(Method::DELETE).await;
    assert_eq!(delete.header("mcp-session-id").as_deref(), Some("second"));
}

#[tokio::test]
async fn a_new_session_with_another_protocol_version_fails_the_transport() {
    let server = expiring_server(&["2025-06-18", "2025-03-26"], &["first"]).await;
    let transport = HttpClientBuilder::new(server.url("/mcp"))
        .standalone_stream(false)
        .streamable()
        .unwrap();
    let session = transport.session();
    let (mut sender, mut receiver) = transport.split();
    let error = initialize_then_fail_on_tools_list(&mut sender, &mut receiver).await;
    let http = HttpError::find(&error).expect("an http error");
    assert!(http.is_session_expired(), "{http}");
    let text = http.to_string();
    assert!(
        text.contains("2025-03-26") && text.contains("2025-06-18"),
        "{text}"
    );
    expect_end(&mut receiver).await;
    assert_eq!(posts_of(&server, "tools/list").len(), 1, "not sent again");
    assert_eq!(session.reinitializations(), 0);
    assert_eq!(session.id().as_deref(), Some("first"));
}

#[tokio::test]
async fn a_message_causes_at_most_one_new_session() {
    let server = expiring_server(&["2025-06-18"], &["first", "second", "third"]).await;
    let (mut sender, mut receiver) = HttpClientBuilder::new(server.url("/mcp"))
        .standalone_stream(false)
        .streamable()
        .unwrap()
        .split();
    let error = initialize_then_fail_on_tools_list(&mut sender, &mut receiver).await;
    assert!(HttpError::find(&error).unwrap().is_session_expired());
    expect_end(&mut receiver).await;
    assert_eq!(posts_of(&server, "initialize").len(), 2);
    assert_eq!(posts_of(&server, "tools/list").len(), 2);
}

/// Requests refused together wait for one new session and are all sent again on it.
#[tokio::test]
async fn requests_refused_together_share_one_new_session() {
    const REQUESTS: i64 = 6;
    let server = expiring_server(&["2025-06-18"], &["first"]).await;
    let transport = HttpClientBuilder::new(server.url("/mcp"))
        .standalone_stream(false)
        .streamable()
        .unwrap();
    let session = transport.session();
    let (mut sender, mut receiver) = transport.split();
    initialize(&mut sender, &mut receiver).await;
    for id in 2..2 + REQUESTS {
        send(&mut sender, request(id, "tools/list")).await;
    }
    let mut answered: Vec<RequestId> = Vec::new();
    for _ in 0..REQUESTS {
        let message = receive(&mut receiver).await;
        assert!(matches!(message, Message::Response(_)), "{message:?}");
        answered.push(message.id().cloned().unwrap());
    }
    answered.sort_by_key(RequestId::as_number);
    let expected: Vec<RequestId> = (2..2 + REQUESTS).map(RequestId::from).collect();
    assert_eq!(answered, expected);
    assert_eq!(session.reinitializations(), 1);
    assert_eq!(posts_of(&server, "initialize").len(), 2);
}

#[tokio::test]
async fn sending_initialized_returns_once_the_standalone_stream_is_answered() {
    let server = TestServer::start(move |recorded| match recorded.method {
        Method::POST => match recorded.message().method() {
            Some("initialize") => initialize_answer(recorded, "ordered"),
            _ => status(StatusCode::ACCEPTED),
        },
        // The stream stays open, with nothing on it.
        _ => {
            let (response, events) = stream();
            std::mem::forget(events);
            response
        }
    })
    .await;
    let (mut sender, mut receiver) = HttpClientBuilder::new(server.url("/mcp"))
        .streamable()
        .unwrap()
        .split();
    initialize(&mut sender, &mut receiver).await;
    send(
        &mut sender,
        notification("notifications/initialized", json!({})),
    )
    .await;
    // Whatever the engine writes next goes after the GET: the server's answers to it cannot
    // race the stream that carries them.
    let methods: Vec<Method> = server
        .recorded()
        .into_iter()
        .map(|recorded| recorded.method)
        .collect();
    assert_eq!(methods, [Method::POST, Method::POST, Method::GET]);
    sender.close().await.unwrap();
}
