//! The legacy HTTP+SSE endpoints of revision 2024-11-05 (feature `legacy-sse`), served beside
//! Streamable HTTP by one `StreamableHttpService`: driven on the wire by a hyper client, by
//! this crate's client transports, and by mcpwire-client against a mcpwire-server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, ALLOW, CONTENT_TYPE, ORIGIN, RETRY_AFTER};
use http::{HeaderName, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mcpwire_client::{Client, ClientBuilder, EraChoice, RequestContext, ServerNotification};
use mcpwire_http::client::HttpClientBuilder;
use mcpwire_http::server::{
    Config, HttpSessionTransport, ResponseBody, StreamableHttpService, serve,
};
use mcpwire_jsonrpc::{ErrorObject, Message, Notification};
use mcpwire_schema::v2025_11_25 as types;
use mcpwire_server::{Context, Server, Session, Tool, ToolError};
use mcpwire_transport::{MessageSender, SendOptions, Transport};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// How long any single step of a test may take before it fails.
const STEP: Duration = Duration::from_secs(10);

/// The headers of a Streamable HTTP `POST`.
const STREAMABLE_POST: [(HeaderName, &str); 2] = [
    (ACCEPT, "application/json, text/event-stream"),
    (CONTENT_TYPE, "application/json"),
];

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Echo {
    text: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Nothing {}

/// A server with a plain tool, a tool that asks the client's model (a request from the server
/// to the client), and a tool that logs (a notification) before it answers.
fn mcp_server() -> Server {
    Server::builder("legacy-test", "1.0.0")
        .tool(Tool::typed("echo", |arguments: Echo| async move {
            Ok::<_, ToolError>(arguments.text)
        }))
        .tool(Tool::typed(
            "ask_model",
            |_: Nothing, context: Context| async move {
                let params = serde_json::from_value(json!({
                    "messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}],
                    "maxTokens": 10
                }))
                .map_err(|error| ToolError::new(error.to_string()))?;
                let message = context.create_message(params).await?;
                Ok::<_, ToolError>(message.model)
            },
        ))
        .tool(Tool::typed(
            "shout",
            |arguments: Echo, context: Context| async move {
                context
                    .log(types::LoggingLevel::Warning, Some("shout"), &arguments.text)
                    .await?;
                Ok::<_, ToolError>("shouted")
            },
        ))
        .build()
        .expect("the server builds")
}

/// The server sessions the factory started, and whether each came over the legacy transport.
type Served = Arc<Mutex<Vec<(bool, Session)>>>;

/// The service serving `server` with `config`, recording the sessions it starts.
fn service_for(server: Server, config: Config, served: Served) -> StreamableHttpService {
    StreamableHttpService::new(config, move |transport: HttpSessionTransport| {
        let legacy = transport.is_legacy_sse();
        let session = server.serve(transport);
        served.lock().unwrap().push((legacy, session));
    })
}

/// Both transports on a loopback port: Streamable HTTP at `/mcp` (and any other path), the
/// legacy event stream at `/sse` and its messages at `/messages`.
fn both_transports() -> Config {
    Config::default().legacy_sse_endpoints("/sse", "/messages")
}

struct Harness {
    port: u16,
    http: HyperClient<HttpConnector, Full<Bytes>>,
    service: StreamableHttpService,
    served: Served,
    stop: Option<oneshot::Sender<()>>,
    serving: JoinHandle<Result<(), mcpwire_http::server::Error>>,
}

impl Harness {
    async fn start(config: Config) -> Harness {
        let served = Served::default();
        let service = service_for(mcp_server(), config, Arc::clone(&served));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(serve(listener, service.clone(), async {
            let _ = stopped.await;
        }));
        Harness {
            port,
            http: HyperClient::builder(TokioExecutor::new()).build_http(),
            service,
            served,
            stop: Some(stop),
            serving,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The transports of the sessions served so far: `true` for legacy.
    fn served_kinds(&self) -> Vec<bool> {
        self.served
            .lock()
            .unwrap()
            .iter()
            .map(|(legacy, _)| *legacy)
            .collect()
    }

    /// The server session started `index`-th.
    fn server_session(&self, index: usize) -> Session {
        self.served.lock().unwrap()[index].1.clone()
    }

    async fn send(&self, request: Request<Full<Bytes>>) -> Response<Incoming> {
        tokio::time::timeout(STEP, self.http.request(request))
            .await
            .expect("the server answers in time")
            .expect("the request succeeds")
    }

    /// Sends a `method` request to `path_and_query` with `headers` and `body`.
    async fn request(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(HeaderName, &str)],
        body: impl Into<Bytes>,
    ) -> Response<Incoming> {
        let mut request = Request::builder()
            .method(method)
            .uri(self.url(path_and_query));
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        self.send(request.body(Full::new(body.into())).unwrap())
            .await
    }

    /// Opens a legacy event stream with `GET /sse`.
    async fn open(&self) -> Response<Incoming> {
        let accept = [(ACCEPT, "text/event-stream")];
        self.request(Method::GET, "/sse", &accept, "").await
    }

    /// Opens a legacy event stream and initializes its session; returns the stream and the
    /// endpoint it named.
    async fn initialized(&self) -> (Events<Incoming>, String) {
        let mut events = Events::new(self.open().await);
        let endpoint = events.endpoint().await;
        let accepted = self.post(&endpoint, initialize(1)).await;
        assert_eq!(accepted.status(), StatusCode::ACCEPTED);
        assert_eq!(events.message().await["id"], 1);
        (events, endpoint)
    }

    /// POSTs `body` as JSON to `path_and_query`, as an old client does.
    async fn post(&self, path_and_query: &str, body: impl Into<Bytes>) -> Response<Incoming> {
        let json = [(CONTENT_TYPE, "application/json")];
        self.request(Method::POST, path_and_query, &json, body)
            .await
    }

    async fn stop(mut self) {
        let _ = self.stop.take().expect("stopped once").send(());
        tokio::time::timeout(STEP, self.serving)
            .await
            .expect("serve returns after shutdown")
            .unwrap()
            .expect("serve ends without error");
    }
}

/// Reads the events of an SSE body, as lists of their fields in order.
struct Events<B> {
    body: B,
    buffer: Vec<u8>,
}

impl<B> Events<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Debug,
{
    fn new(response: Response<B>) -> Self {
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CONTENT_TYPE], "text/event-stream");
        Events {
            body: response.into_body(),
            buffer: Vec::new(),
        }
    }

    /// The fields (`name`, `value`) of the next event, comments left out, or `None` once the
    /// stream has ended.
    async fn next(&mut self) -> Option<Vec<(String, String)>> {
        // Bounded: every round reads a frame or returns.
        for _ in 0..1_000 {
            while let Some(end) = self.buffer.windows(2).position(|pair| pair == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                let fields: Vec<(String, String)> = std::str::from_utf8(&block)
                    .expect("events are UTF-8")
                    .lines()
                    .filter(|line| !line.is_empty() && !line.starts_with(':'))
                    .map(|line| {
                        let (name, value) = line.split_once(": ").unwrap_or((line, ""));
                        (name.to_owned(), value.to_owned())
                    })
                    .collect();
                if !fields.is_empty() {
                    return Some(fields);
                }
            }
            let frame = tokio::time::timeout(STEP, self.body.frame())
                .await
                .expect("the stream moves in time");
            match frame {
                Some(frame) => {
                    if let Ok(data) = frame.expect("the stream does not fail").into_data() {
                        self.buffer.extend_from_slice(&data);
                    }
                }
                None => {
                    assert!(self.buffer.is_empty(), "the stream ends between events");
                    return None;
                }
            }
        }
        panic!("too many frames without an event");
    }

    /// The endpoint the stream names first.
    async fn endpoint(&mut self) -> String {
        let fields = self.next().await.expect("an endpoint event");
        match &fields[..] {
            [(event, kind), (data, endpoint)] if event == "event" && data == "data" => {
                assert_eq!(kind, "endpoint");
                endpoint.clone()
            }
            other => panic!("the first event names the endpoint, not {other:?}"),
        }
    }

    /// The JSON-RPC message of the next event, which must be a `message` event without an id.
    async fn message(&mut self) -> Value {
        let fields = self.next().await.expect("a message event");
        match &fields[..] {
            [(event, kind), (data, json)] if event == "event" && data == "data" => {
                assert_eq!(kind, "message");
                serde_json::from_str(json).expect("the data is JSON")
            }
            other => panic!("expected a message event, got {other:?}"),
        }
    }
}

fn initialize(id: i64) -> String {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "initialize",
        "params": {
            "protocolVersion": "2024-11-05",
            "capabilities": {},
            "clientInfo": {"name": "old-client", "version": "1.0.0"}
        }
    })
    .to_string()
}

async fn body_json(response: Response<Incoming>) -> Value {
    let bytes = tokio::time::timeout(STEP, response.into_body().collect())
        .await
        .expect("the body arrives in time")
        .expect("the body reads")
        .to_bytes();
    serde_json::from_slice(&bytes).expect("the body is JSON")
}

/// A client of the legacy era, the one the HTTP+SSE transport was made for.
fn client_builder() -> ClientBuilder {
    Client::builder("legacy-test-client", "1.0.0").era(EraChoice::Legacy)
}

/// A client whose model answers sampling with the name `old-model`.
fn sampling_client() -> ClientBuilder {
    client_builder().sampling(
        |_: types::CreateMessageRequestParams, _: RequestContext| async move {
            Ok::<_, ErrorObject>(types::CreateMessageResult {
                meta: None,
                content: serde_json::from_value(json!({"type": "text", "text": "hello"}))
                    .expect("a text block"),
                model: "old-model".to_owned(),
                role: types::Role::Assistant,
                stop_reason: None,
            })
        },
    )
}

/// The text of a tool result's first block.
fn text_of(result: &types::CallToolResult) -> &str {
    match result.content.first() {
        Some(types::ContentBlock::TextContent(text)) => &text.text,
        other => panic!("a text block expected, got {other:?}"),
    }
}

#[tokio::test]
async fn the_wire_is_the_2024_11_05_transport() {
    let harness = Harness::start(both_transports()).await;
    let mut events = Events::new(harness.open().await);
    let endpoint = events.endpoint().await;
    let id = endpoint
        .strip_prefix("/messages?sessionId=")
        .expect("the endpoint is the messages path with the session id");
    assert_eq!(id.len(), 64);
    assert!(id.bytes().all(|byte| byte.is_ascii_hexdigit()));
    assert_eq!(harness.service.session_count(), 1);
    assert_eq!(harness.served_kinds(), [true]);

    // Each POST is accepted with 202 and an empty body; its answer arrives on the stream.
    let accepted = harness.post(&endpoint, initialize(1)).await;
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    assert!(
        accepted
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .is_empty()
    );
    let result = events.message().await;
    assert_eq!(result["id"], 1);
    assert_eq!(result["result"]["protocolVersion"], "2024-11-05");
    assert_eq!(result["result"]["serverInfo"]["name"], "legacy-test");
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let response = harness.post(&endpoint, initialized.to_string()).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let call = json!({
        "jsonrpc": "2.0",
        "id": "call-1",
        "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "over the old transport"}}
    });
    let response = harness.post(&endpoint, call.to_string()).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let result = events.message().await;
    assert_eq!(result["id"], "call-1");
    assert_eq!(
        result["result"]["content"][0]["text"],
        "over the old transport"
    );

    // The session is the legacy transport's only: the Streamable endpoint does not know it.
    let ping = r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#;
    let mut headers = STREAMABLE_POST.to_vec();
    headers.push((HeaderName::from_static("mcp-session-id"), id));
    let response = harness.request(Method::POST, "/mcp", &headers, ping).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // Shutting down ends the stream cleanly.
    let stopping = tokio::spawn(harness.stop());
    assert!(events.next().await.is_none(), "the stream ends on shutdown");
    stopping.await.unwrap();
}

#[tokio::test]
async fn bad_requests_to_the_legacy_endpoints_get_the_status_that_names_the_fault() {
    let harness = Harness::start(both_transports().max_body_bytes(1024)).await;
    let mut events = Events::new(harness.open().await);
    let endpoint = events.endpoint().await;
    let status_of = |response: Response<Incoming>| response.status();

    let unknown = format!("/messages?sessionId={}", "0".repeat(64));
    let response = harness.post(&unknown, initialize(1)).await;
    assert_eq!(status_of(response), StatusCode::NOT_FOUND);
    let response = harness.post("/messages", initialize(1)).await;
    assert_eq!(status_of(response), StatusCode::BAD_REQUEST);
    let response = harness.post("/messages?sessionId=", initialize(1)).await;
    assert_eq!(status_of(response), StatusCode::BAD_REQUEST);

    let response = harness.post(&endpoint, "{not json").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(response).await["error"]["code"], -32700);
    let batch = format!("[{}]", initialize(1));
    assert_eq!(
        status_of(harness.post(&endpoint, batch).await),
        StatusCode::BAD_REQUEST
    );

    let oversize = format!(
        r#"{{"jsonrpc":"2.0","method":"x","params":{{"pad":"{}"}}}}"#,
        "x".repeat(2048)
    );
    assert_eq!(
        status_of(harness.post(&endpoint, oversize).await),
        StatusCode::PAYLOAD_TOO_LARGE
    );

    let text = [(CONTENT_TYPE, "text/plain")];
    let foreign = [
        (ORIGIN, "http://evil.example"),
        (CONTENT_TYPE, "application/json"),
    ];
    let json_only = [(ACCEPT, "application/json")];
    let refusals = [
        // Only JSON is read.
        (
            Method::POST,
            endpoint.as_str(),
            &text[..],
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        // A browser page of another origin reaches neither endpoint, and opens no session.
        (Method::GET, "/sse", &foreign[..], StatusCode::FORBIDDEN),
        (
            Method::POST,
            endpoint.as_str(),
            &foreign[..],
            StatusCode::FORBIDDEN,
        ),
        (
            Method::GET,
            "/sse",
            &json_only[..],
            StatusCode::NOT_ACCEPTABLE,
        ),
    ];
    for (method, path, headers, status) in refusals {
        let response = harness
            .request(method.clone(), path, headers, initialize(1))
            .await;
        assert_eq!(response.status(), status, "{method} {path} {headers:?}");
    }

    // Each endpoint has one method.
    let response = harness.post("/sse", initialize(1)).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()[ALLOW], "GET");
    let response = harness.request(Method::GET, &endpoint, &[], "").await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()[ALLOW], "POST");

    assert_eq!(harness.service.session_count(), 1, "only the first stream");
    // Nothing of the above reached the session: its first message is still the answer to its
    // first valid request.
    assert_eq!(
        status_of(harness.post(&endpoint, initialize(7)).await),
        StatusCode::ACCEPTED
    );
    assert_eq!(events.message().await["id"], 7);
    harness.stop().await;
}

#[tokio::test]
async fn the_session_ends_when_its_stream_closes() {
    let harness = Harness::start(both_transports()).await;
    let (events, endpoint) = harness.initialized().await;
    let server_session = harness.server_session(0);

    drop(events);
    tokio::time::timeout(STEP, server_session.closed())
        .await
        .expect("the server's session ends with the event stream");
    assert_eq!(harness.service.session_count(), 0);
    assert_eq!(
        harness.post(&endpoint, initialize(2)).await.status(),
        StatusCode::NOT_FOUND
    );
    harness.stop().await;
}

#[tokio::test]
async fn closing_the_session_on_the_server_ends_its_stream() {
    let harness = Harness::start(both_transports()).await;
    let (mut events, _) = harness.initialized().await;
    harness.server_session(0).close().await;
    assert!(events.next().await.is_none(), "the stream ends");
    assert_eq!(harness.service.session_count(), 0);
    harness.stop().await;
}

#[tokio::test]
async fn legacy_sessions_count_against_the_session_limit() {
    let harness = Harness::start(both_transports().max_sessions(1)).await;
    let first = harness.open().await;
    assert_eq!(first.status(), StatusCode::OK);
    let refused = harness.open().await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key(RETRY_AFTER));
    let streamable = harness
        .request(Method::POST, "/mcp", &STREAMABLE_POST, initialize(1))
        .await;
    assert_eq!(streamable.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(harness.service.session_count(), 1);
    harness.stop().await;
}

#[tokio::test]
async fn without_the_setting_the_legacy_paths_are_streamable_http() {
    let harness = Harness::start(Config::default()).await;
    let response = harness.open().await;
    // The Streamable endpoint wants a session for GET.
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(harness.service.session_count(), 0);
    harness.stop().await;
}

#[tokio::test]
async fn mcpwire_client_over_the_legacy_transport_calls_tools_and_answers_the_server() {
    let harness = Harness::start(both_transports()).await;
    let transport = HttpClientBuilder::new(harness.url("/sse"))
        .legacy_sse()
        .await
        .expect("the endpoint event arrives");
    assert!(
        transport
            .endpoint()
            .starts_with(&harness.url("/messages?sessionId="))
    );
    let (notified, mut notifications) = mpsc::unbounded_channel();
    let client = tokio::time::timeout(
        STEP,
        sampling_client()
            .on_notification(move |notification| {
                let _ = notified.send(notification);
            })
            .connect(transport),
    )
    .await
    .expect("initialize in time")
    .expect("initialize over the legacy transport");
    assert_eq!(client.server_info().name, "legacy-test");
    assert_eq!(harness.served_kinds(), [true]);

    let mut names: Vec<String> = client
        .list_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|tool| tool.name)
        .collect();
    names.sort();
    assert_eq!(names, ["ask_model", "echo", "shout"]);
    let echoed = client
        .call_tool("echo", json!({"text": "hi"}))
        .await
        .unwrap();
    assert_eq!(text_of(&echoed), "hi");

    // A request from the server to the client, and its answer, while a call is in flight.
    let sampled = client.call_tool("ask_model", json!({})).await.unwrap();
    assert_eq!(text_of(&sampled), "old-model");

    // A notification precedes the result it comes before.
    let shouted = client
        .call_tool("shout", json!({"text": "careful"}))
        .await
        .unwrap();
    assert_eq!(text_of(&shouted), "shouted");
    match notifications.try_recv() {
        Ok(ServerNotification::LoggingMessage(message)) => {
            assert_eq!(message.data, json!("careful"));
        }
        other => panic!("a log message expected, got {other:?}"),
    }

    let server_session = harness.server_session(0);
    client.close().await;
    tokio::time::timeout(STEP, server_session.closed())
        .await
        .expect("closing the client's stream ends the server's session");
    assert_eq!(harness.service.session_count(), 0);
    harness.stop().await;
}

/// Connects the fallback client to `path` of a server with both transports, has a tool ask
/// the client's model, and returns the transports of the sessions served (`true` for legacy).
async fn served_by_fallback(path: &str) -> Vec<bool> {
    let harness = Harness::start(both_transports()).await;
    let transport = HttpClientBuilder::new(harness.url(path))
        .with_fallback()
        .unwrap();
    let client = tokio::time::timeout(STEP, sampling_client().connect(transport))
        .await
        .unwrap()
        .expect("initialize");
    let sampled = client.call_tool("ask_model", json!({})).await.unwrap();
    assert_eq!(text_of(&sampled), "old-model");
    client.close().await;
    let served = harness.served_kinds();
    harness.stop().await;
    served
}

#[tokio::test]
async fn the_fallback_client_keeps_streamable_http_on_a_server_with_both() {
    assert_eq!(
        served_by_fallback("/mcp").await,
        [false],
        "a Streamable session"
    );
}

#[tokio::test]
async fn the_fallback_client_falls_back_where_post_is_refused() {
    // `POST /sse` is refused with 405, as by a server that speaks only the legacy transport.
    assert_eq!(served_by_fallback("/sse").await, [true], "a legacy session");
}

#[tokio::test]
async fn one_path_may_serve_both_legacy_endpoints() {
    let harness =
        Harness::start(Config::default().legacy_sse_endpoints("/legacy", "/legacy")).await;
    let client = tokio::time::timeout(
        STEP,
        client_builder().connect(
            HttpClientBuilder::new(harness.url("/legacy"))
                .legacy_sse()
                .await
                .unwrap(),
        ),
    )
    .await
    .unwrap()
    .expect("initialize");
    let echoed = client.call_tool("echo", json!({"text": "one path"})).await;
    assert_eq!(text_of(&echoed.unwrap()), "one path");
    client.close().await;
    harness.stop().await;
}

/// A request to the service without a socket, from loopback.
fn direct(method: Method, uri: &str, body: Option<&str>) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "127.0.0.1")
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.unwrap_or_default().to_owned())))
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_client_that_leaves_its_stream_full_loses_its_session() {
    let (transports, mut opened) = mpsc::unbounded_channel();
    let service = StreamableHttpService::new(
        both_transports()
            .stream_queue(2)
            .slow_consumer_timeout(Duration::from_secs(5)),
        move |transport: HttpSessionTransport| {
            let _ = transports.send(transport);
        },
    );
    let stream: Response<ResponseBody> = service.handle(direct(Method::GET, "/sse", None)).await;
    let transport = opened.try_recv().expect("the GET opened a session");
    assert!(transport.is_legacy_sse());
    let (mut sender, _receiver) = transport.split();
    let note = |index: u32| {
        let params = serde_json::value::to_raw_value(&json!({"index": index})).unwrap();
        Message::from(Notification::new("notifications/note", Some(params)))
    };
    for index in 1..=2 {
        sender
            .send(note(index), SendOptions::default())
            .await
            .expect("the stream's queue has room");
    }
    let started = tokio::time::Instant::now();
    let error = sender
        .send(note(3), SendOptions::default())
        .await
        .expect_err("the client reads nothing");
    assert!(error.is_closed(), "{error}");
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    assert_eq!(service.session_count(), 0);

    // The stream holds what was queued, then ends.
    let mut events = Events::new(stream);
    events.endpoint().await;
    assert_eq!(events.message().await["params"]["index"], 1);
    assert_eq!(events.message().await["params"]["index"], 2);
    assert!(events.next().await.is_none());
}
