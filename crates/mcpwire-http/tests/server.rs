//! The Streamable HTTP server, driven over loopback sockets by a hyper client, serving a
//! small mcpwire-server with test-controlled tools.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HOST, ORIGIN, RETRY_AFTER};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mcpwire_http::server::{
    BoxFuture, Config, EventStore, HttpSessionTransport, MemoryEventStore, ResponseBody,
    StreamableHttpService, serve,
};
use mcpwire_server::{Context, Server, Session, Tool, ToolError};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// How long any single step of a test may take before it fails.
const STEP: Duration = Duration::from_secs(10);

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Echo {
    text: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Steps {
    count: u32,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Wait {}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Poll {
    early: u32,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Roots {}

/// The tools' shared controls: `steps` sends one progress notification per permit of `gate`,
/// and `wait` reports on `started` and then waits for its cancellation.
struct Controls {
    gate: Arc<Semaphore>,
    started: mpsc::UnboundedReceiver<()>,
    sessions: Arc<Mutex<Vec<Session>>>,
}

fn mcp_server() -> (Server, Controls) {
    let gate = Arc::new(Semaphore::new(0));
    let (started_sender, started) = mpsc::unbounded_channel();
    let steps_gate = Arc::clone(&gate);
    let poll_gate = Arc::clone(&gate);
    let server = Server::builder("http-test", "1.0.0")
        // Progress is these tests' numbered stream of events: every update must go out.
        .progress_interval(Duration::ZERO)
        .tool(Tool::typed("echo", |arguments: Echo| async move {
            Ok::<_, ToolError>(arguments.text)
        }))
        .tool(Tool::typed(
            "steps",
            move |arguments: Steps, context: Context| {
                let gate = Arc::clone(&steps_gate);
                async move {
                    for step in 1..=arguments.count {
                        gate.acquire().await.expect("the gate stays open").forget();
                        context
                            .progress(f64::from(step), Some(f64::from(arguments.count)), None)
                            .await?;
                    }
                    Ok::<_, ToolError>(format!("{} steps", arguments.count))
                }
            },
        ))
        .tool(Tool::typed(
            "roots",
            |_: Roots, context: Context| async move {
                let roots = context.list_roots().await?;
                let names: Vec<String> = roots
                    .roots
                    .into_iter()
                    .filter_map(|root| root.name)
                    .collect();
                Ok::<_, ToolError>(names.join(","))
            },
        ))
        .tool(Tool::typed(
            "poll",
            move |arguments: Poll, context: Context| {
                let gate = Arc::clone(&poll_gate);
                async move {
                    // `early` progress updates on the open stream, then the stream closes
                    // (SEP-1699) and the rest waits for the client to resume.
                    for step in 1..=arguments.early {
                        context.progress(f64::from(step), None, None).await?;
                    }
                    context.close_stream().await?;
                    gate.acquire().await.expect("the gate stays open").forget();
                    context
                        .progress(f64::from(arguments.early + 1), None, None)
                        .await?;
                    Ok::<_, ToolError>("polled")
                }
            },
        ))
        .tool(Tool::typed("wait", move |_: Wait, context: Context| {
            let started = started_sender.clone();
            async move {
                let _ = started.send(());
                context.cancellation().cancelled().await;
                Ok::<_, ToolError>("cancelled")
            }
        }))
        .build()
        .expect("the server builds");
    let controls = Controls {
        gate,
        started,
        sessions: Arc::default(),
    };
    (server, controls)
}

fn service_for(
    server: Server,
    sessions: Arc<Mutex<Vec<Session>>>,
    config: Config,
) -> StreamableHttpService {
    StreamableHttpService::new(config, move |transport: HttpSessionTransport| {
        let session = server.serve(transport);
        sessions.lock().unwrap().push(session);
    })
}

struct Harness {
    base: String,
    port: u16,
    client: Client<HttpConnector, Full<Bytes>>,
    service: StreamableHttpService,
    controls: Controls,
    /// The MCP server every session serves, for notifications of its own.
    server: Server,
    stop: Option<oneshot::Sender<()>>,
    served: JoinHandle<Result<(), mcpwire_http::server::Error>>,
}

impl Harness {
    async fn start(config: Config) -> Harness {
        let (server, controls) = mcp_server();
        let service = service_for(server.clone(), Arc::clone(&controls.sessions), config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(serve(listener, service.clone(), async {
            let _ = stopped.await;
        }));
        Harness {
            base: format!("http://127.0.0.1:{port}/mcp"),
            port,
            client: Client::builder(TokioExecutor::new()).build_http(),
            service,
            controls,
            server,
            stop: Some(stop),
            served,
        }
    }

    /// A request with the headers a well-behaved client sends.
    fn request(&self, method: Method, session: Option<&str>) -> http::request::Builder {
        let mut builder = Request::builder()
            .method(method)
            .uri(&self.base)
            .header(ACCEPT, "application/json, text/event-stream");
        if let Some(session) = session {
            builder = builder
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", "2025-11-25");
        }
        builder
    }

    async fn send(&self, request: Request<Full<Bytes>>) -> Response<Incoming> {
        tokio::time::timeout(STEP, self.client.request(request))
            .await
            .expect("the server answers in time")
            .expect("the request succeeds")
    }

    async fn post(&self, session: Option<&str>, message: Value) -> Response<Incoming> {
        let request = self
            .request(Method::POST, session)
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(message.to_string())))
            .unwrap();
        self.send(request).await
    }

    async fn get(&self, session: &str, last_event_id: Option<&str>) -> Response<Incoming> {
        let mut builder = self.request(Method::GET, Some(session));
        if let Some(id) = last_event_id {
            builder = builder.header("last-event-id", id);
        }
        self.send(builder.body(Full::default()).unwrap()).await
    }

    /// Runs the handshake and returns the session id.
    async fn initialize(&self) -> String {
        self.initialize_with(json!({})).await
    }

    /// Runs the handshake declaring `capabilities` and returns the session id.
    async fn initialize_with(&self, capabilities: Value) -> String {
        let mut request = initialize_request(1);
        request["params"]["capabilities"] = capabilities;
        let response = self.post(None, request).await;
        assert_eq!(response.status(), StatusCode::OK);
        let session = response
            .headers()
            .get("mcp-session-id")
            .expect("initialize returns a session id")
            .to_str()
            .unwrap()
            .to_owned();
        let body = json_body(response).await;
        assert_eq!(body["result"]["protocolVersion"], "2025-11-25");
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let response = self.post(Some(&session), initialized).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        session
    }

    async fn stop(mut self) {
        let _ = self.stop.take().expect("stopped once").send(());
        tokio::time::timeout(STEP, self.served)
            .await
            .expect("serve returns after shutdown")
            .unwrap()
            .expect("serve ends without error");
    }
}

fn initialize_request(id: i64) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "http-test-client", "version": "1.0.0"}
        }
    })
}

fn call(id: i64, tool: &str, arguments: Value) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments, "_meta": {"progressToken": format!("p{id}")}}
    })
}

fn content_type<B>(response: &Response<B>) -> &str {
    response
        .headers()
        .get(CONTENT_TYPE)
        .map_or("", |value| value.to_str().unwrap())
}

async fn body_bytes<B>(response: Response<B>) -> Bytes
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    tokio::time::timeout(STEP, response.into_body().collect())
        .await
        .expect("the body ends in time")
        .expect("the body reads")
        .to_bytes()
}

async fn json_body<B>(response: Response<B>) -> Value
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    serde_json::from_slice(&body_bytes(response).await).expect("the body is JSON")
}

/// One server-sent event.
#[derive(Debug)]
struct Event {
    id: Option<String>,
    retry: Option<u64>,
    data: String,
}

impl Event {
    fn json(&self) -> Value {
        serde_json::from_str(&self.data).expect("event data is JSON")
    }
}

/// Reads server-sent events from a response body.
struct Sse<B> {
    body: B,
    buffer: Vec<u8>,
}

impl<B> Sse<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Debug,
{
    fn new(response: Response<B>) -> Self {
        assert_eq!(content_type(&response), "text/event-stream");
        Sse {
            body: response.into_body(),
            buffer: Vec::new(),
        }
    }

    /// The next event, skipping comments, or `None` when the stream ends.
    async fn next(&mut self) -> Option<Event> {
        // Bounded: each round either returns or reads one more frame, within the step limit.
        for _ in 0..10_000 {
            if let Some(end) = self.buffer.windows(2).position(|window| window == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                let text = String::from_utf8(block).expect("events are UTF-8");
                let mut event = Event {
                    id: None,
                    retry: None,
                    data: String::new(),
                };
                let mut fields = 0;
                for line in text.lines() {
                    if line.starts_with(':') || line.is_empty() {
                        continue;
                    }
                    fields += 1;
                    let (name, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match name {
                        "id" => event.id = Some(value.to_owned()),
                        "retry" => event.retry = Some(value.parse().expect("retry is a number")),
                        "data" => event.data.push_str(value),
                        _ => {}
                    }
                }
                if fields == 0 {
                    continue;
                }
                return Some(event);
            }
            let frame = tokio::time::timeout(STEP, self.body.frame())
                .await
                .expect("an event arrives in time");
            match frame {
                None => {
                    assert!(self.buffer.is_empty(), "the stream ends between events");
                    return None;
                }
                Some(frame) => {
                    if let Ok(data) = frame.expect("the stream does not fail").into_data() {
                        self.buffer.extend_from_slice(&data);
                    }
                }
            }
        }
        panic!("too many frames without an event");
    }

    /// The priming event every stream starts with: an id, a retry field and no data.
    async fn priming(&mut self) -> String {
        let event = self.next().await.expect("a priming event");
        assert!(
            event.data.is_empty(),
            "the priming event has no data: {event:?}"
        );
        assert!(event.retry.is_some(), "the priming event has a retry field");
        event.id.expect("the priming event has an id")
    }
}

fn progress_of(event: &Event) -> u64 {
    let message = event.json();
    assert_eq!(message["method"], "notifications/progress", "{message}");
    message["params"]["progress"].as_f64().unwrap() as u64
}

/// The sequence number of an event id `<stream>-<sequence>`, and its stream.
fn split_id(id: &str) -> (u64, u64) {
    let (stream, sequence) = id.split_once('-').expect("ids name their stream");
    (stream.parse().unwrap(), sequence.parse().unwrap())
}

#[tokio::test]
async fn initialize_creates_a_session_and_a_simple_call_is_answered_with_json() {
    let harness = Harness::start(Config::default()).await;
    let session = harness.initialize().await;
    assert!(session.bytes().all(|byte| (0x21..=0x7e).contains(&byte)));
    assert_eq!(harness.service.session_count(), 1);

    let response = harness
        .post(Some(&session), call(2, "echo", json!({"text": "hi"})))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(content_type(&response), "application/json");
    let body = json_body(response).await;
    assert_eq!(body["id"], 2);
    assert_eq!(body["result"]["content"][0]["text"], "hi");
    harness.stop().await;
}

#[tokio::test]
async fn a_request_whose_handler_sends_first_is_answered_with_an_sse_stream() {
    let harness = Harness::start(Config::default()).await;
    let session = harness.initialize().await;
    harness.controls.gate.add_permits(3);
    let response = harness
        .post(Some(&session), call(2, "steps", json!({"count": 3})))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut sse = Sse::new(response);
    let priming = sse.priming().await;
    let (stream, sequence) = split_id(&priming);
    assert_eq!(sequence, 0);
    for expected in 1..=3 {
        let event = sse.next().await.unwrap();
        assert_eq!(progress_of(&event), expected);
        assert_eq!(split_id(event.id.as_deref().unwrap()), (stream, expected));
    }
    let result = sse
        .next()
        .await
        .expect("the response ends the stream")
        .json();
    assert_eq!(result["id"], 2);
    assert_eq!(result["result"]["content"][0]["text"], "3 steps");
    assert!(
        sse.next().await.is_none(),
        "the stream ends after the response"
    );
    harness.stop().await;
}

#[tokio::test]
async fn notifications_and_responses_get_202_and_any_supported_version_header_is_accepted() {
    let harness = Harness::start(Config::default()).await;
    let session = harness.initialize().await;
    let ping = json!({"jsonrpc": "2.0", "id": 9, "method": "ping"});
    for version in [Some("2025-03-26"), Some("2025-06-18"), None] {
        let mut builder = Request::post(&harness.base)
            .header(ACCEPT, "application/json, text/event-stream")
            .header(CONTENT_TYPE, "application/json")
            .header("mcp-session-id", &session);
        if let Some(version) = version {
            builder = builder.header("mcp-protocol-version", version);
        }
        let response = harness
            .send(
                builder
                    .body(Full::new(Bytes::from(ping.to_string())))
                    .unwrap(),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "version {version:?}");
        assert_eq!(json_body(response).await["result"], json!({}));
    }
    // A response to a request the server never sent is still accepted as input.
    let stray = json!({"jsonrpc": "2.0", "id": 12345, "result": {}});
    let response = harness.post(Some(&session), stray).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(body_bytes(response).await.is_empty());
    harness.stop().await;
}

#[tokio::test]
async fn every_rejection_has_its_status_and_allocates_no_session() {
    let config = Config::default().max_body_bytes(1024);
    let harness = Harness::start(config).await;
    let post = |accept: &str, content_type: &str, body: String| {
        Request::post(&harness.base)
            .header(ACCEPT, accept)
            .header(CONTENT_TYPE, content_type)
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    };
    let both = "application/json, text/event-stream";
    let initialize = initialize_request(1).to_string();

    let response = harness
        .send(post(
            "application/json",
            "application/json",
            initialize.clone(),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);
    let response = harness
        .send(post(both, "text/plain", initialize.clone()))
        .await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let padded = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#,
        "x".repeat(2048)
    );
    let response = harness.send(post(both, "application/json", padded)).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let response = harness
        .send(post(both, "application/json", "{not json".to_owned()))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_body(response).await["error"]["code"], -32700);
    let batch = format!("[{initialize}]");
    let response = harness.send(post(both, "application/json", batch)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_body(response).await["error"]["code"], -32600);

    // Anything but initialize needs a session.
    let response = harness
        .post(
            None,
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = harness
        .post(
            Some("no-such-session"),
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let response = harness
        .send(
            Request::post(&harness.base)
                .header(ACCEPT, both)
                .header(CONTENT_TYPE, "application/json")
                .header("mcp-protocol-version", "1999-01-01")
                .body(Full::new(Bytes::from(initialize.clone())))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let response = harness
        .send(Request::put(&harness.base).body(Full::default()).unwrap())
        .await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(response.headers().contains_key(http::header::ALLOW));

    // An initialize the server refuses leaves no session behind.
    let invalid = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}});
    let response = harness.post(None, invalid).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!response.headers().contains_key("mcp-session-id"));
    assert!(json_body(response).await["error"].is_object());

    assert_eq!(harness.service.session_count(), 0);
    assert!(harness.controls.sessions.lock().unwrap().len() <= 1);
    harness.stop().await;
}

#[tokio::test]
async fn an_initialize_whose_version_header_contradicts_its_body_is_refused_without_a_session() {
    let harness = Harness::start(Config::default()).await;
    let initialize = |header: &str| {
        harness
            .request(Method::POST, None)
            .header(CONTENT_TYPE, "application/json")
            .header("mcp-protocol-version", header)
            .body(Full::new(Bytes::from(initialize_request(7).to_string())))
            .unwrap()
    };
    let refused = harness.send(initialize("2024-11-05")).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.headers().get("mcp-session-id").is_none());
    let body = json_body(refused).await;
    assert_eq!(body["id"], 7, "{body}");
    assert_eq!(body["error"]["code"], -32600, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2024-11-05"),
        "{body}"
    );
    assert_eq!(harness.service.session_count(), 0);
    assert!(harness.controls.sessions.lock().unwrap().is_empty());

    // The same request with an agreeing header is served.
    let accepted = harness.send(initialize("2025-11-25")).await;
    assert_eq!(accepted.status(), StatusCode::OK);
    assert!(accepted.headers().get("mcp-session-id").is_some());
    assert_eq!(harness.service.session_count(), 1);
}

#[tokio::test]
async fn get_needs_a_session_and_sse_in_accept() {
    let harness = Harness::start(Config::default().max_standalone_streams(1)).await;
    let session = harness.initialize().await;
    let response = harness
        .send(
            Request::get(&harness.base)
                .header(ACCEPT, "text/event-stream")
                .body(Full::default())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = harness
        .send(
            Request::get(&harness.base)
                .header(ACCEPT, "application/json")
                .header("mcp-session-id", &session)
                .body(Full::default())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);

    let mut open = Sse::new(harness.get(&session, None).await);
    open.priming().await;
    let response = harness.get(&session, None).await;
    assert_eq!(
        response.status(),
        StatusCode::CONFLICT,
        "one standalone stream at a time"
    );
    let response = harness.get(&session, Some("garbage")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    harness.stop().await;
}

#[tokio::test]
async fn get_is_405_when_the_standalone_stream_is_disabled() {
    let harness = Harness::start(Config::default().standalone_get(false)).await;
    let session = harness.initialize().await;
    let response = harness.get(&session, None).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    harness.stop().await;
}

#[tokio::test]
async fn delete_ends_the_session_and_its_server_session() {
    let harness = Harness::start(Config::default()).await;
    let session = harness.initialize().await;
    let mut stream = Sse::new(harness.get(&session, None).await);
    stream.priming().await;

    let delete = |session: &str| {
        harness
            .request(Method::DELETE, Some(session))
            .body(Full::default())
            .unwrap()
    };
    let response = harness.send(delete(&session)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(harness.service.session_count(), 0);
    assert!(stream.next().await.is_none(), "the session's streams end");
    let server_session = harness.controls.sessions.lock().unwrap()[0].clone();
    tokio::time::timeout(STEP, server_session.closed())
        .await
        .expect("the server's session ends with the HTTP session");

    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"});
    assert_eq!(
        harness.post(Some(&session), ping).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        harness.get(&session, None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        harness.send(delete(&session)).await.status(),
        StatusCode::NOT_FOUND
    );
    let response = harness
        .send(
            Request::delete(&harness.base)
                .body(Full::default())
                .unwrap(),
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "DELETE needs a session id"
    );
    harness.stop().await;
}

#[tokio::test]
async fn sessions_beyond_the_limit_get_503_with_retry_after() {
    let harness = Harness::start(Config::default().max_sessions(1)).await;
    harness.initialize().await;
    let response = harness.post(None, initialize_request(1)).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key(RETRY_AFTER));
    assert_eq!(harness.service.session_count(), 1);
    harness.stop().await;
}

#[tokio::test]
async fn dns_rebinding_is_refused_with_403() {
    let harness = Harness::start(Config::default()).await;
    let with = |host: String, origin: Option<String>| {
        let mut builder = Request::post(&harness.base)
            .header(ACCEPT, "application/json, text/event-stream")
            .header(CONTENT_TYPE, "application/json")
            .header(HOST, host);
        if let Some(origin) = origin {
            builder = builder.header(ORIGIN, origin);
        }
        builder
            .body(Full::new(Bytes::from(initialize_request(1).to_string())))
            .unwrap()
    };
    let evil = harness
        .send(with(
            "evil.example.com".into(),
            Some("http://evil.example.com".into()),
        ))
        .await;
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    let evil_origin = harness
        .send(with(
            format!("localhost:{}", harness.port),
            Some("http://evil.example.com".into()),
        ))
        .await;
    assert_eq!(evil_origin.status(), StatusCode::FORBIDDEN);
    let evil_host = harness.send(with("evil.example.com".into(), None)).await;
    assert_eq!(evil_host.status(), StatusCode::FORBIDDEN);
    assert_eq!(harness.service.session_count(), 0);

    let local = harness
        .send(with(
            format!("localhost:{}", harness.port),
            Some(format!("http://localhost:{}", harness.port)),
        ))
        .await;
    assert_eq!(local.status(), StatusCode::OK);
    harness.stop().await;
}

#[tokio::test]
async fn configured_hosts_replace_the_loopback_defaults() {
    let config = Config::default()
        .allowed_hosts(["mcp.example.com"])
        .allowed_origins(["https://app.example.com"]);
    let harness = Harness::start(config).await;
    let with = |host: &str, origin: &str| {
        Request::post(&harness.base)
            .header(ACCEPT, "application/json, text/event-stream")
            .header(CONTENT_TYPE, "application/json")
            .header(HOST, host)
            .header(ORIGIN, origin)
            .body(Full::new(Bytes::from(initialize_request(1).to_string())))
            .unwrap()
    };
    let allowed = harness
        .send(with("mcp.example.com", "https://app.example.com"))
        .await;
    assert_eq!(allowed.status(), StatusCode::OK);
    let loopback = harness
        .send(with("localhost", "https://app.example.com"))
        .await;
    assert_eq!(loopback.status(), StatusCode::FORBIDDEN);
    harness.stop().await;
}

#[tokio::test]
async fn a_dropped_stream_resumes_with_no_event_lost_or_repeated() {
    // The finished stream is replayed at the end, after its client was handed all of it: the
    // store keeps such a stream only briefly, and this test runs on the real clock.
    let store = MemoryEventStore::new().delivered_retention(STEP);
    let harness = Harness::start(Config::default().event_store(Arc::new(store))).await;
    let session = harness.initialize().await;
    let gate = Arc::clone(&harness.controls.gate);
    gate.add_permits(2);
    let response = harness
        .post(Some(&session), call(7, "steps", json!({"count": 6})))
        .await;
    let mut first = Sse::new(response);
    let priming = first.priming().await;
    let (stream, _) = split_id(&priming);
    let mut last_id = priming;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let event = first.next().await.unwrap();
        seen.push(progress_of(&event));
        last_id = event.id.unwrap();
    }
    // The connection breaks; the handler goes on.
    drop(first);
    gate.add_permits(2);

    let resumed = harness.get(&session, Some(&last_id)).await;
    assert_eq!(resumed.status(), StatusCode::OK);
    let mut resumed = Sse::new(resumed);
    assert_eq!(
        resumed.priming().await,
        last_id,
        "the priming event repeats the cursor"
    );
    for _ in 0..2 {
        let event = resumed.next().await.unwrap();
        seen.push(progress_of(&event));
        let id = event.id.unwrap();
        assert_eq!(
            split_id(&id),
            (stream, split_id(&last_id).1 + 1),
            "ids have no gap"
        );
        last_id = id;
    }
    // Later events continue live on the resumed connection.
    gate.add_permits(2);
    for _ in 0..2 {
        let event = resumed.next().await.unwrap();
        seen.push(progress_of(&event));
        last_id = event.id.unwrap();
    }
    let response = resumed.next().await.unwrap();
    assert_eq!(response.json()["id"], 7);
    assert_eq!(
        split_id(response.id.as_deref().unwrap()).1,
        split_id(&last_id).1 + 1
    );
    assert!(resumed.next().await.is_none());
    assert_eq!(seen, [1, 2, 3, 4, 5, 6]);

    // The finished stream can still be replayed from the store, and only that stream.
    let mut replay = Sse::new(harness.get(&session, Some(&format!("{stream}-4"))).await);
    replay.priming().await;
    assert_eq!(progress_of(&replay.next().await.unwrap()), 5);
    assert_eq!(progress_of(&replay.next().await.unwrap()), 6);
    assert_eq!(replay.next().await.unwrap().json()["id"], 7);
    assert!(replay.next().await.is_none());
    harness.stop().await;
}

#[tokio::test]
async fn resuming_from_an_evicted_event_is_refused() {
    // The stream is resumed after its client read all of it: keep it for the whole test.
    let store = Arc::new(
        MemoryEventStore::new()
            .max_events_per_stream(2)
            .delivered_retention(STEP),
    );
    let harness = Harness::start(Config::default().event_store(store.clone())).await;
    let session = harness.initialize().await;
    harness.controls.gate.add_permits(5);
    let response = harness
        .post(Some(&session), call(3, "steps", json!({"count": 5})))
        .await;
    let mut sse = Sse::new(response);
    let (stream, _) = split_id(&sse.priming().await);
    let mut count = 0;
    while sse.next().await.is_some() {
        count += 1;
        assert!(count <= 6, "five notifications and a response");
    }
    assert_eq!(count, 6);
    assert_eq!(store.len(), 2, "the store keeps two events of the stream");

    let response = harness.get(&session, Some(&format!("{stream}-1"))).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        json_body(response).await["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no longer stored")
    );
    let response = harness.get(&session, Some(&format!("{stream}-99"))).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = harness.get(&session, Some("999-0")).await;
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "an unknown stream"
    );

    let mut tail = Sse::new(harness.get(&session, Some(&format!("{stream}-4"))).await);
    tail.priming().await;
    assert_eq!(progress_of(&tail.next().await.unwrap()), 5);
    assert_eq!(tail.next().await.unwrap().json()["id"], 3);
    assert!(tail.next().await.is_none());
    harness.stop().await;
}

#[tokio::test]
async fn polling_mode_closes_request_streams_after_priming_and_the_client_resumes() {
    let harness = Harness::start(Config::default().close_request_streams_after_priming(true)).await;
    let session = harness.initialize().await;
    let response = harness
        .post(Some(&session), call(4, "echo", json!({"text": "later"})))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut sse = Sse::new(response);
    let priming = sse.priming().await;
    assert!(
        sse.next().await.is_none(),
        "the stream closes after the priming event"
    );

    let mut resumed = Sse::new(harness.get(&session, Some(&priming)).await);
    resumed.priming().await;
    let response = resumed.next().await.unwrap().json();
    assert_eq!(response["id"], 4);
    assert_eq!(response["result"]["content"][0]["text"], "later");
    assert!(resumed.next().await.is_none());
    harness.stop().await;
}

/// Calls `poll`, which sends `early` progress updates and closes its stream, then checks that
/// the stream ends there and that resuming it delivers the rest exactly once.
async fn poll_closes_its_stream_and_resumes(early: u32) {
    let harness = Harness::start(Config::default()).await;
    let session = harness.initialize().await;
    let id = 7 + i64::from(early);
    let response = harness
        .post(Some(&session), call(id, "poll", json!({"early": early})))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(content_type(&response), "text/event-stream");
    let mut sse = Sse::new(response);
    let mut last_seen = sse.priming().await;
    for expected in 1..=u64::from(early) {
        let event = sse
            .next()
            .await
            .expect("the progress sent before the close");
        assert_eq!(progress_of(&event), expected);
        last_seen = event.id.expect("events carry ids");
    }
    assert!(
        sse.next().await.is_none(),
        "the stream ends where the handler closed it, before its result"
    );

    harness.controls.gate.add_permits(1);
    let mut resumed = Sse::new(harness.get(&session, Some(&last_seen)).await);
    resumed.priming().await;
    assert_eq!(
        progress_of(
            &resumed
                .next()
                .await
                .expect("the progress sent after the close")
        ),
        u64::from(early) + 1
    );
    let result = resumed.next().await.expect("the result").json();
    assert_eq!(result["id"], id);
    assert_eq!(result["result"]["content"][0]["text"], "polled");
    assert!(resumed.next().await.is_none(), "nothing is repeated");
    harness.stop().await;
}

#[tokio::test]
async fn a_handler_closes_its_json_request_stream_and_the_client_resumes() {
    poll_closes_its_stream_and_resumes(0).await;
}

#[tokio::test]
async fn a_handler_closes_its_open_sse_stream_and_the_client_resumes() {
    poll_closes_its_stream_and_resumes(2).await;
}

#[tokio::test]
async fn concurrent_requests_on_one_session_are_all_answered() {
    let harness = Harness::start(Config::default()).await;
    let session = harness.initialize().await;
    let requests = (1000..1003).map(|id| {
        harness.post(
            Some(&session),
            json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"}),
        )
    });
    let responses = futures_join_all(requests).await;
    for (index, response) in responses.into_iter().enumerate() {
        assert_eq!(response.status(), StatusCode::OK);
        let body = json_body(response).await;
        assert_eq!(body["id"], 1000 + index as i64);
        assert!(body["result"]["tools"].is_array());
    }
    harness.stop().await;
}

#[tokio::test]
async fn a_duplicate_in_flight_request_id_is_refused_and_a_cancelled_request_ends_its_post() {
    let mut harness = Harness::start(Config::default()).await;
    let session = harness.initialize().await;
    let pending = {
        let client = harness.client.clone();
        let request = harness
            .request(Method::POST, Some(&session))
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(
                call(5, "wait", json!({})).to_string(),
            )))
            .unwrap();
        tokio::spawn(async move { client.request(request).await })
    };
    tokio::time::timeout(STEP, harness.controls.started.recv())
        .await
        .expect("the tool starts")
        .unwrap();
    let duplicate = harness
        .post(Some(&session), call(5, "echo", json!({"text": "x"})))
        .await;
    assert_eq!(duplicate.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_body(duplicate).await["id"], 5);

    let cancel =
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 5}});
    assert_eq!(
        harness.post(Some(&session), cancel).await.status(),
        StatusCode::ACCEPTED
    );
    let response = tokio::time::timeout(STEP, pending)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut sse = Sse::new(response);
    assert!(
        sse.next().await.is_none(),
        "a cancelled request gets no response"
    );

    // The id is free again.
    let again = harness
        .post(Some(&session), call(5, "echo", json!({"text": "again"})))
        .await;
    assert_eq!(
        json_body(again).await["result"]["content"][0]["text"],
        "again"
    );
    harness.stop().await;
}

#[tokio::test]
async fn shutdown_ends_open_streams_cleanly() {
    let harness = Harness::start(Config::default()).await;
    let session = harness.initialize().await;
    let mut stream = Sse::new(harness.get(&session, None).await);
    stream.priming().await;
    let service = harness.service.clone();
    harness.stop().await;
    // The server going away tells the client when to come back (to another instance).
    let goodbye = stream.next().await.expect("a last block");
    assert_eq!(
        (goodbye.id, goodbye.retry, goodbye.data.as_str()),
        (None, Some(3000), "")
    );
    assert!(
        stream.next().await.is_none(),
        "the stream ends without an error"
    );
    assert_eq!(service.session_count(), 0);
}

/// Awaits every future, in order.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let handles: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    // Poll them together so that the requests are in flight at once.
    let mut pending: Vec<Option<std::pin::Pin<Box<F>>>> = handles.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut done = true;
        for (slot, result) in pending.iter_mut().zip(results.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(context) {
                    std::task::Poll::Ready(output) => {
                        *result = Some(output);
                        *slot = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.extend(
        results
            .into_iter()
            .map(|result| result.expect("every future finished")),
    );
    outputs
}

// The tests below drive the service directly, without sockets, where time or back-pressure
// must be controlled exactly.

fn direct(method: Method, session: Option<&str>, body: Option<Value>) -> Request<Full<Bytes>> {
    let mut builder = Request::builder()
        .method(method)
        .uri("/mcp")
        .header(HOST, "localhost")
        .header(ACCEPT, "application/json, text/event-stream")
        .header(CONTENT_TYPE, "application/json");
    if let Some(session) = session {
        builder = builder.header("mcp-session-id", session);
    }
    let body = body.map_or_else(Bytes::new, |body| Bytes::from(body.to_string()));
    builder.body(Full::new(body)).unwrap()
}

async fn direct_initialize(service: &StreamableHttpService) -> String {
    let response = service
        .handle(direct(Method::POST, None, Some(initialize_request(1))))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let session = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let response = service
        .handle(direct(Method::POST, Some(&session), Some(initialized)))
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    session
}

async fn direct_ping(service: &StreamableHttpService, session: &str) -> StatusCode {
    let ping = json!({"jsonrpc": "2.0", "id": 99, "method": "ping"});
    let response: Response<ResponseBody> = service
        .handle(direct(Method::POST, Some(session), Some(ping)))
        .await;
    response.status()
}

#[tokio::test(start_paused = true)]
async fn idle_sessions_expire_but_sessions_with_an_open_stream_do_not() {
    let (server, controls) = mcp_server();
    let timeout = Duration::from_secs(60);
    let service = service_for(
        server,
        Arc::clone(&controls.sessions),
        Config::default().session_idle_timeout(timeout),
    );
    let session = direct_initialize(&service).await;

    tokio::time::advance(timeout - Duration::from_secs(1)).await;
    assert_eq!(
        direct_ping(&service, &session).await,
        StatusCode::OK,
        "activity renews the session"
    );

    // An open GET stream keeps the session alive however long it idles.
    let stream = service
        .handle(direct(Method::GET, Some(&session), None))
        .await;
    assert_eq!(stream.status(), StatusCode::OK);
    tokio::time::advance(timeout * 3).await;
    assert_eq!(direct_ping(&service, &session).await, StatusCode::OK);
    drop(stream);

    tokio::time::advance(timeout + Duration::from_secs(1)).await;
    // Let the expiry task run.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(direct_ping(&service, &session).await, StatusCode::NOT_FOUND);
    assert_eq!(service.session_count(), 0);
    let server_session = controls.sessions.lock().unwrap()[0].clone();
    tokio::time::timeout(STEP, server_session.closed())
        .await
        .expect("the server's session ends with the expired HTTP session");
}

#[tokio::test(start_paused = true)]
async fn a_slow_consumer_is_disconnected_at_the_queue_bound_and_resumes_losslessly() {
    let store = Arc::new(MemoryEventStore::new());
    let (server, controls) = mcp_server();
    let service = service_for(
        server,
        Arc::clone(&controls.sessions),
        Config::default().stream_queue(4).event_store(store.clone()),
    );
    let session = direct_initialize(&service).await;
    // The client opens the standalone stream but does not read it.
    let standalone = service
        .handle(direct(Method::GET, Some(&session), None))
        .await;
    assert_eq!(standalone.status(), StatusCode::OK);

    let server_session = controls.sessions.lock().unwrap()[0].clone();
    for index in 1..=20 {
        server_session
            .notify_elicitation_complete(&format!("e{index}"))
            .await
            .unwrap();
    }
    // The engine writes in order: once the ping is answered, every notification has been
    // routed.
    assert_eq!(direct_ping(&service, &session).await, StatusCode::OK);
    assert_eq!(store.len(), 20, "every event is stored, sent or not");

    let elicitation_of = |event: &Event| {
        let message = event.json();
        assert_eq!(message["method"], "notifications/elicitation/complete");
        message["params"]["elicitationId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut slow = Sse::new(standalone);
    slow.priming().await;
    let mut last_id = String::new();
    let mut received = Vec::new();
    while let Some(event) = slow.next().await {
        received.push(elicitation_of(&event));
        last_id = event.id.unwrap();
        assert!(
            received.len() <= 4,
            "the connection holds at most the queue bound"
        );
    }
    assert_eq!(received, ["e1", "e2", "e3", "e4"]);

    let resumed = service
        .handle({
            let mut request = direct(Method::GET, Some(&session), None);
            request
                .headers_mut()
                .insert("last-event-id", last_id.parse().unwrap());
            request
        })
        .await;
    let mut resumed = Sse::new(resumed);
    resumed.priming().await;
    for index in 5..=20 {
        assert_eq!(
            elicitation_of(&resumed.next().await.unwrap()),
            format!("e{index}")
        );
    }
    // The resumed connection is live again.
    server_session
        .notify_elicitation_complete("e21")
        .await
        .unwrap();
    assert_eq!(elicitation_of(&resumed.next().await.unwrap()), "e21");
}

#[tokio::test]
async fn a_request_to_the_client_travels_on_the_stream_of_the_request_it_serves() {
    let harness = Harness::start(Config::default()).await;
    let session = harness.initialize_with(json!({"roots": {}})).await;
    // The client opens a standalone stream too: the related request must not go there.
    let mut standalone = Sse::new(harness.get(&session, None).await);
    standalone.priming().await;

    let response = harness
        .post(Some(&session), call(8, "roots", json!({})))
        .await;
    let mut sse = Sse::new(response);
    sse.priming().await;
    let request = sse.next().await.unwrap().json();
    assert_eq!(request["method"], "roots/list");
    let answer = json!({
        "jsonrpc": "2.0",
        "id": request["id"],
        "result": {"roots": [{"uri": "file:///work", "name": "work"}]}
    });
    assert_eq!(
        harness.post(Some(&session), answer).await.status(),
        StatusCode::ACCEPTED
    );
    let result = sse.next().await.unwrap().json();
    assert_eq!(result["id"], 8);
    assert_eq!(result["result"]["content"][0]["text"], "work");
    assert!(sse.next().await.is_none());

    // Nothing reached the standalone stream: the session's end closes it empty.
    let delete = harness
        .request(Method::DELETE, Some(&session))
        .body(Full::default())
        .unwrap();
    assert_eq!(harness.send(delete).await.status(), StatusCode::OK);
    assert!(standalone.next().await.is_none());
    harness.stop().await;
}

#[tokio::test]
async fn a_broken_reply_to_the_servers_request_fails_it_at_once() {
    let harness = Harness::start(Config::default()).await;
    let session = harness.initialize_with(json!({"roots": {}})).await;
    let response = harness
        .post(Some(&session), call(8, "roots", json!({})))
        .await;
    let mut sse = Sse::new(response);
    sse.priming().await;
    let request = sse.next().await.unwrap().json();
    assert_eq!(request["method"], "roots/list");
    // Both `result` and `error`: neither an answer nor a refusal.
    let broken = json!({
        "jsonrpc": "2.0",
        "id": request["id"],
        "result": {"roots": []},
        "error": {"code": -32603, "message": "both"}
    });
    let refused = harness.post(Some(&session), broken).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    // The answer names no id: the client cannot take it for a response of its own.
    assert_eq!(json_body(refused).await["id"], Value::Null);
    // The tool's request failed at once (STEP bounds the wait), not after its timeout.
    let result = sse.next().await.unwrap().json();
    assert_eq!(result["id"], 8);
    assert_eq!(result["result"]["isError"], true, "{result}");
    harness.stop().await;
}

#[tokio::test]
async fn a_connection_that_sends_no_headers_is_closed_after_the_header_read_timeout() {
    use tokio::io::AsyncReadExt;

    let harness =
        Harness::start(Config::default().header_read_timeout(Duration::from_millis(200))).await;
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", harness.port))
        .await
        .unwrap();
    let mut buffer = [0u8; 1024];
    // Bounded: the server closes the connection (EOF or reset) well within the step limit.
    let closed = tokio::time::timeout(STEP, async {
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the silent connection is closed");
    harness.stop().await;
}

#[tokio::test]
async fn the_request_head_has_one_deadline_from_accept_however_slowly_it_starts() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let window = Duration::from_secs(2);
    let harness = Harness::start(Config::default().header_read_timeout(window)).await;
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", harness.port))
        .await
        .unwrap();
    let connected = std::time::Instant::now();
    // Silent for most of the window, then the request line one byte at a time.
    tokio::time::sleep(window * 3 / 4).await;
    let head = format!("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n", harness.port);
    let mut buffer = [0u8; 1024];
    let dribbled = tokio::time::timeout(STEP, async {
        for byte in head.bytes() {
            if socket.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The head never ends: only the deadline can close the connection.
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(dribbled.is_ok(), "the connection is closed");
    let lived = connected.elapsed();
    // One window from accept, not the silent part plus a fresh window (3.5 s).
    assert!(
        lived < window + window / 2,
        "the connection lived {lived:?}"
    );
    harness.stop().await;
}

/// A body that does not tell its length, so only the streaming limit can catch it.
struct Unsized(Option<Bytes>);

impl http_body::Body for Unsized {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.take().map(|bytes| Ok(http_body::Frame::data(bytes))))
    }
}

#[tokio::test]
async fn a_body_without_a_length_is_still_limited_while_it_is_read() {
    let (server, controls) = mcp_server();
    let service = service_for(
        server,
        Arc::clone(&controls.sessions),
        Config::default().max_body_bytes(64),
    );
    let request = Request::post("/mcp")
        .header(HOST, "localhost")
        .header(ACCEPT, "application/json, text/event-stream")
        .header(CONTENT_TYPE, "application/json")
        .body(Unsized(Some(Bytes::from(
            initialize_request(1).to_string(),
        ))))
        .unwrap();
    let response = service.handle(request).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(service.session_count(), 0);
}

#[tokio::test]
async fn resuming_while_the_handler_keeps_sending_repeats_and_skips_nothing() {
    let harness = Harness::start(Config::default()).await;
    let session = harness.initialize().await;
    const STEPS: u64 = 40;
    for (round, dropped_after) in [0u64, 1, 7, 25].into_iter().enumerate() {
        let id = 100 + round as i64;
        // Every step may run at once: the handler races the drop and the resume.
        harness.controls.gate.add_permits(STEPS as usize);
        let response = harness
            .post(Some(&session), call(id, "steps", json!({"count": STEPS})))
            .await;
        let mut first = Sse::new(response);
        let mut last_id = first.priming().await;
        let mut seen = Vec::new();
        for _ in 0..dropped_after {
            let event = first.next().await.unwrap();
            seen.push(progress_of(&event));
            last_id = event.id.unwrap();
        }
        drop(first);
        let mut resumed = Sse::new(harness.get(&session, Some(&last_id)).await);
        resumed.priming().await;
        let mut response = None;
        while let Some(event) = resumed.next().await {
            assert!(seen.len() as u64 <= STEPS, "no event twice");
            let message = event.json();
            if message.get("id").is_some() {
                response = Some(message);
            } else {
                seen.push(progress_of(&event));
            }
        }
        assert_eq!(
            seen,
            (1..=STEPS).collect::<Vec<_>>(),
            "dropped after {dropped_after}"
        );
        assert_eq!(response.expect("the response arrives")["id"], id);
    }
    harness.stop().await;
}

/// The transport alone, served by the test instead of a server, to watch the routing.
#[tokio::test]
async fn outbound_messages_are_routed_by_the_request_they_relate_to() {
    use mcpwire_jsonrpc::{Message, Notification, RequestId, Response as RpcResponse};
    use mcpwire_transport::{Inbound, MessageReceiver, MessageSender, SendOptions, Transport};

    let (transports, mut served) = mpsc::unbounded_channel();
    let service = StreamableHttpService::new(
        Config::default().json_responses(false),
        move |transport: HttpSessionTransport| {
            let _ = transports.send(transport);
        },
    );
    // Answer initialize from the transport by hand.
    let initialize = tokio::spawn({
        let service = service.clone();
        async move {
            service
                .handle(direct(Method::POST, None, Some(initialize_request(1))))
                .await
        }
    });
    let (mut sender, mut receiver) = served.recv().await.unwrap().split();
    let Some(Ok(Inbound::Message(Message::Request(request)))) = receiver.receive().await else {
        panic!("the initialize request arrives");
    };
    assert_eq!(request.method, "initialize");
    let result = serde_json::value::to_raw_value(&json!({"ok": true})).unwrap();
    sender
        .send(
            Message::from(RpcResponse::new(request.id.clone(), result.clone())),
            SendOptions::related_to(request.id),
        )
        .await
        .unwrap();
    let response = initialize.await.unwrap();
    assert_eq!(
        content_type(&response),
        "application/json",
        "initialize is answered as JSON"
    );
    let session = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();

    let standalone = service
        .handle(direct(Method::GET, Some(&session), None))
        .await;
    let mut standalone = Sse::new(standalone);
    standalone.priming().await;

    // With JSON responses off, a request's stream opens at once.
    let ping = json!({"jsonrpc": "2.0", "id": "a", "method": "ping"});
    let stream = service
        .handle(direct(Method::POST, Some(&session), Some(ping)))
        .await;
    let mut stream = Sse::new(stream);
    stream.priming().await;
    let Some(Ok(Inbound::Message(Message::Request(ping)))) = receiver.receive().await else {
        panic!("the ping arrives");
    };
    let note = |method: &str| Message::from(Notification::new(method, None));
    sender
        .send(note("related"), SendOptions::related_to(ping.id.clone()))
        .await
        .unwrap();
    sender
        .send(note("unrelated"), SendOptions::default())
        .await
        .unwrap();
    // A response to nothing in flight goes nowhere, least of all to the standalone stream.
    let stray = Message::from(RpcResponse::new(RequestId::from(42), result.clone()));
    sender.send(stray, SendOptions::default()).await.unwrap();
    sender
        .send(
            Message::from(RpcResponse::new(ping.id.clone(), result)),
            SendOptions::related_to(ping.id),
        )
        .await
        .unwrap();
    sender
        .send(note("after"), SendOptions::default())
        .await
        .unwrap();

    assert_eq!(stream.next().await.unwrap().json()["method"], "related");
    assert_eq!(stream.next().await.unwrap().json()["id"], "a");
    assert!(stream.next().await.is_none());
    assert_eq!(
        standalone.next().await.unwrap().json()["method"],
        "unrelated"
    );
    assert_eq!(standalone.next().await.unwrap().json()["method"], "after");

    // Closing the sender ends the session.
    sender.close().await.unwrap();
    assert!(standalone.next().await.is_none());
    assert!(receiver.receive().await.is_none());
    assert_eq!(direct_ping(&service, &session).await, StatusCode::NOT_FOUND);
}

/// A body that never sends anything: a slow POST.
struct Silent;

impl http_body::Body for Silent {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

#[tokio::test(start_paused = true)]
async fn a_body_slower_than_the_read_timeout_gets_408() {
    let (server, controls) = mcp_server();
    let service = service_for(
        server,
        Arc::clone(&controls.sessions),
        Config::default().body_read_timeout(Duration::from_secs(30)),
    );
    let request = Request::post("/mcp")
        .header(HOST, "localhost")
        .header(ACCEPT, "application/json, text/event-stream")
        .header(CONTENT_TYPE, "application/json")
        .body(Silent)
        .unwrap();
    let started = tokio::time::Instant::now();
    let response = service.handle(request).await;
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(started.elapsed(), Duration::from_secs(30));
    assert_eq!(service.session_count(), 0);
}

#[tokio::test]
async fn a_head_with_a_repeated_deciding_header_or_no_host_is_refused_before_any_lookup() {
    let (server, controls) = mcp_server();
    let service = service_for(server, Arc::clone(&controls.sessions), Config::default());
    let initialize = || {
        Request::post("/mcp")
            .header(ACCEPT, "application/json, text/event-stream")
            .header(CONTENT_TYPE, "application/json")
    };
    let body = || Full::new(Bytes::from(initialize_request(1).to_string()));
    let refused = [
        // A loopback Host, then another: which one the guard reads must not matter.
        initialize()
            .header(HOST, "localhost")
            .header(HOST, "evil.example"),
        initialize()
            .header(HOST, "localhost")
            .header(ORIGIN, "http://localhost")
            .header(ORIGIN, "http://evil.example"),
        initialize()
            .header(HOST, "localhost")
            .header("mcp-session-id", "a")
            .header("mcp-session-id", "b"),
        initialize()
            .header(HOST, "localhost")
            .header("mcp-protocol-version", "2025-11-25")
            .header("mcp-protocol-version", "2025-06-18"),
        initialize()
            .header(HOST, "localhost")
            .header("last-event-id", "1")
            .header("last-event-id", "2"),
        initialize()
            .header(HOST, "localhost")
            .header("authorization", "Bearer one")
            .header("authorization", "Bearer two"),
        // HTTP/1.1 requires Host.
        initialize(),
    ];
    for request in refused {
        let request = request.body(body()).unwrap();
        let described = format!("{:?}", request.headers());
        let response = service.handle(request).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{described}");
        let error = json_body(response).await;
        assert_eq!(error["error"]["code"], -32600, "{described}");
    }
    assert_eq!(service.session_count(), 0);

    // HTTP/1.0 has no Host requirement, and HTTP/2 carries the authority in the URI.
    let http2 = Request::post("http://localhost/mcp")
        .version(http::Version::HTTP_2)
        .header(ACCEPT, "application/json, text/event-stream")
        .header(CONTENT_TYPE, "application/json")
        .body(body())
        .unwrap();
    assert_eq!(service.handle(http2).await.status(), StatusCode::OK);
}

/// POSTs a bare `initialize` and returns the new session's id.
async fn initialize_only(harness: &Harness) -> Response<Incoming> {
    harness.post(None, initialize_request(1)).await
}

fn session_of(response: &Response<Incoming>) -> String {
    response
        .headers()
        .get("mcp-session-id")
        .expect("a session id")
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn one_client_cannot_fill_the_session_table_with_bare_initializations() {
    let config = Config::default().max_pending_initializations(2);
    let harness = Harness::start(config).await;
    let first = initialize_only(&harness).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(initialize_only(&harness).await.status(), StatusCode::OK);
    // A third session that never initializes is one too many for this client.
    let refused = initialize_only(&harness).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key(RETRY_AFTER));
    assert_eq!(harness.service.session_count(), 2);

    // Finishing one handshake makes room again.
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let session = session_of(&first);
    let response = harness.post(Some(&session), initialized).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    // A client that completes its handshakes is not refused, however many it makes.
    for _ in 0..3 {
        harness.initialize().await;
    }
    assert_eq!(harness.service.session_count(), 5);
    harness.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_session_that_never_finishes_initializing_ends_at_its_deadline() {
    let deadline = Duration::from_millis(300);
    let (server, controls) = mcp_server();
    let config = Config::default().initialization_timeout(deadline);
    let service = service_for(server, Arc::clone(&controls.sessions), config);
    let post = |session: Option<&str>, body: Value| in_process("POST", session, None, Some(body));
    let session_id = |response: &Response<ResponseBody>| {
        response.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    let bare = session_id(&service.handle(post(None, initialize_request(1))).await);
    let finished = session_id(&service.handle(post(None, initialize_request(1))).await);
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let accepted = service.handle(post(Some(&finished), initialized)).await;
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    assert_eq!(service.session_count(), 2);
    // The clock is paused: this passes the deadline without waiting for it.
    tokio::time::sleep(deadline + Duration::from_millis(1)).await;
    let ping = json!({"jsonrpc": "2.0", "id": 9, "method": "ping"});
    let gone = service.handle(post(Some(&bare), ping.clone())).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let alive = service.handle(post(Some(&finished), ping)).await;
    assert_eq!(alive.status(), StatusCode::OK);
    assert_eq!(service.session_count(), 1);
}

#[tokio::test]
async fn a_notification_sent_before_the_standalone_stream_opens_waits_for_it() {
    let harness = Harness::start(Config::default()).await;
    let session = harness.initialize().await;
    // The client has not opened its GET stream yet when the tools change.
    harness
        .server
        .notify_list_changed(mcpwire_server::ListKind::Tools)
        .await;
    let mut standalone = Sse::new(harness.get(&session, None).await);
    standalone.priming().await;
    let notification = standalone
        .next()
        .await
        .expect("the waiting notification")
        .json();
    assert_eq!(notification["method"], "notifications/tools/list_changed");
    // It was delivered once: a second stream does not get it again.
    let mut second = Sse::new(harness.get(&session, None).await);
    second.priming().await;
    harness
        .server
        .notify_list_changed(mcpwire_server::ListKind::Prompts)
        .await;
    let next = second.next().await.expect("the next notification").json();
    assert_eq!(next["method"], "notifications/prompts/list_changed");
    harness.stop().await;
}

#[tokio::test]
async fn a_session_is_found_only_by_requests_of_the_principal_that_made_it() {
    use mcpwire_http::server::SessionOwner;

    let (server, controls) = mcp_server();
    let service = service_for(server, Arc::clone(&controls.sessions), Config::default());
    let request = |method: Method, owner: Option<&str>, session: Option<&str>, body: Value| {
        let mut request = in_process(method.as_str(), session, None, Some(body));
        if let Some(owner) = owner {
            request
                .extensions_mut()
                .insert(SessionOwner(Arc::from(owner)));
        }
        request
    };
    let created = service
        .handle(request(
            Method::POST,
            Some("alice"),
            None,
            initialize_request(1),
        ))
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let session = created
        .headers()
        .get("mcp-session-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"});
    let accepted = service
        .handle(request(
            Method::POST,
            Some("alice"),
            Some(&session),
            initialized,
        ))
        .await;
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    // Another principal, or none, meets the session as if it did not exist: every method.
    for owner in [Some("mallory"), None] {
        for method in [Method::POST, Method::GET, Method::DELETE] {
            let response = service
                .handle(request(method.clone(), owner, Some(&session), ping.clone()))
                .await;
            assert_eq!(
                response.status(),
                StatusCode::NOT_FOUND,
                "{method} by {owner:?}"
            );
        }
    }
    // The owner still reaches it.
    let answered = service
        .handle(request(Method::POST, Some("alice"), Some(&session), ping))
        .await;
    assert_eq!(answered.status(), StatusCode::OK);
    assert_eq!(service.session_count(), 1);
}

/// The event store keeps what resumption needs and no more: the streams of answered requests
/// stay resumable for the store's retention, then release their events, however many requests
/// a session makes; the store never holds more than its bounds in between.
#[tokio::test(start_paused = true)]
async fn answered_streams_stay_resumable_for_the_retention_then_release_their_events() {
    const CALLS: i64 = 300;
    let retention = Duration::from_secs(60);
    let store = Arc::new(
        MemoryEventStore::new()
            .completed_retention(retention)
            .max_bytes(64 * 1024),
    );
    let (server, controls) = mcp_server();
    let config = Config::default()
        .json_responses(false)
        .keep_alive(None)
        .event_store(store.clone());
    let service = service_for(server, Arc::clone(&controls.sessions), config);
    let request = in_process;
    let session = in_process_handshake(&service).await;

    let mut first_stream = None;
    let padding = "x".repeat(400);
    for id in 2..2 + CALLS {
        let arguments = json!({"text": format!("{id} {padding}")});
        let response = service
            .handle(request(
                "POST",
                Some(&session),
                None,
                Some(call(id, "echo", arguments)),
            ))
            .await;
        let mut sse = Sse::new(response);
        let (stream, _) = split_id(&sse.priming().await);
        first_stream.get_or_insert(stream);
        assert_eq!(sse.next().await.expect("the response").json()["id"], id);
        assert!(sse.next().await.is_none());
        assert!(store.bytes() <= 64 * 1024, "{} bytes kept", store.bytes());
    }
    let first_stream = first_stream.expect("a stream");
    let last_stream = first_stream + u64::try_from(CALLS).unwrap() - 1;
    assert!(
        store.len() < usize::try_from(CALLS).unwrap(),
        "the global bound evicts"
    );

    // Within the retention, a client that lost the last answer resumes and gets it.
    let resumed = service
        .handle(request(
            "GET",
            Some(&session),
            Some(&format!("{last_stream}-0")),
            None,
        ))
        .await;
    let mut sse = Sse::new(resumed);
    sse.priming().await;
    assert_eq!(
        sse.next().await.expect("the answer").json()["id"],
        1 + CALLS
    );

    // Past it, the answered streams' events are gone, and resuming says so.
    tokio::time::sleep(retention).await;
    let response = service
        .handle(request(
            "POST",
            Some(&session),
            None,
            Some(call(9_999, "echo", json!({"text": "last"}))),
        ))
        .await;
    let mut sse = Sse::new(response);
    sse.priming().await;
    assert_eq!(sse.next().await.expect("the response").json()["id"], 9_999);
    assert!(sse.next().await.is_none());
    assert_eq!(store.len(), 1, "only the newest answer is kept");
    let expired = service
        .handle(request(
            "GET",
            Some(&session),
            Some(&format!("{last_stream}-0")),
            None,
        ))
        .await;
    assert_eq!(expired.status(), StatusCode::BAD_REQUEST);
    assert!(
        json_body(expired).await["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no longer stored")
    );
}

/// A request for `StreamableHttpService::handle`, with the headers of a well-behaved client:
/// in `session` when given, resuming after `last_event` when given.
fn in_process(
    method: &str,
    session: Option<&str>,
    last_event: Option<&str>,
    body: Option<Value>,
) -> Request<Full<Bytes>> {
    let mut builder = Request::builder()
        .method(method)
        .uri("/mcp")
        .header(HOST, "localhost")
        .header(ACCEPT, "application/json, text/event-stream")
        .header(CONTENT_TYPE, "application/json");
    if let Some(session) = session {
        builder = builder
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-11-25");
    }
    if let Some(last_event) = last_event {
        builder = builder.header("last-event-id", last_event);
    }
    let body = body.map_or_else(Bytes::new, |body| Bytes::from(body.to_string()));
    builder.body(Full::new(body)).unwrap()
}

/// A session whose every request is answered over SSE, and whose client reads each stream to
/// its response, leaves nothing in the event store but the streams of the last few seconds:
/// the client holds no position to resume from, so the store releases what it was handed
/// instead of keeping it for the minute a lost stream is kept.
#[tokio::test(start_paused = true)]
async fn streams_read_to_their_response_release_their_events_within_seconds() {
    const CALLS: u64 = 1_500;
    /// The time between two requests of the client.
    const PACE: Duration = Duration::from_millis(40);
    let store = Arc::new(MemoryEventStore::new());
    let (server, controls) = mcp_server();
    let config = Config::default()
        .json_responses(false)
        .keep_alive(None)
        .event_store(store.clone());
    let service = service_for(server, Arc::clone(&controls.sessions), config);
    let session = in_process_handshake(&service).await;
    let mut most_kept = 0;
    for id in 2..2 + CALLS {
        let call = call(i64::try_from(id).unwrap(), "echo", json!({"text": "hello"}));
        let response = service
            .handle(in_process("POST", Some(&session), None, Some(call)))
            .await;
        let mut sse = Sse::new(response);
        sse.priming().await;
        assert_eq!(sse.next().await.expect("the response").json()["id"], id);
        assert!(sse.next().await.is_none());
        drop(sse);
        most_kept = most_kept.max(store.len());
        tokio::time::advance(PACE).await;
    }
    // A minute of requests is 1 500 streams; ten seconds of them are 250.
    assert!(
        most_kept <= 250,
        "{most_kept} events kept for a client that read every one"
    );
    assert!(store.len() <= 250, "{} events kept at the end", store.len());
    let stats = store.stats();
    assert!(stats.streams <= stats.events, "{stats:?}");
    assert!(
        stats.index_entries <= 3 * stats.events + 3 * 64,
        "{stats:?}"
    );
}

/// Runs the handshake on `service` in process and returns the session id.
async fn in_process_handshake(service: &StreamableHttpService) -> String {
    let response = service
        .handle(in_process("POST", None, None, Some(initialize_request(1))))
        .await;
    let session = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        json_body(response).await["id"],
        1,
        "initialize is answered as JSON"
    );
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let accepted = service
        .handle(in_process("POST", Some(&session), None, Some(initialized)))
        .await;
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    session
}

/// A [`MemoryEventStore`] that tells how many streams the service completed (their request
/// answered), for tests to wait on.
struct Observed {
    store: MemoryEventStore,
    completed: watch::Sender<usize>,
}

impl Observed {
    fn new(store: MemoryEventStore) -> Arc<Observed> {
        Arc::new(Observed {
            store,
            completed: watch::Sender::new(0),
        })
    }

    /// Waits until the service has completed `count` streams.
    async fn completed(&self, count: usize) {
        let mut completed = self.completed.subscribe();
        tokio::time::timeout(STEP, completed.wait_for(|done| *done >= count))
            .await
            .expect("the streams complete in time")
            .expect("the store stays");
    }
}

impl EventStore for Observed {
    fn append<'a>(
        &'a self,
        session: &'a str,
        stream: u64,
        sequence: u64,
        message: Bytes,
    ) -> BoxFuture<'a, Result<(), mcpwire_http::server::Error>> {
        self.store.append(session, stream, sequence, message)
    }

    fn replay<'a>(
        &'a self,
        session: &'a str,
        stream: u64,
        after: u64,
    ) -> BoxFuture<'a, Result<Vec<(u64, Bytes)>, mcpwire_http::server::Error>> {
        self.store.replay(session, stream, after)
    }

    fn forget_session<'a>(&'a self, session: &'a str) -> BoxFuture<'a, ()> {
        self.store.forget_session(session)
    }

    fn complete<'a>(&'a self, session: &'a str, stream: u64) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            self.store.complete(session, stream).await;
            self.completed.send_modify(|done| *done += 1);
        })
    }

    fn delivered<'a>(&'a self, session: &'a str, stream: u64) -> BoxFuture<'a, ()> {
        self.store.delivered(session, stream)
    }
}

/// A session answering over SSE, served in process, with `store`.
async fn sse_session(
    store: Arc<Observed>,
    config: Config,
) -> (StreamableHttpService, Controls, String) {
    let (server, controls) = mcp_server();
    let config = config
        .json_responses(false)
        .keep_alive(None)
        .event_store(store);
    let service = service_for(server, Arc::clone(&controls.sessions), config);
    let session = in_process_handshake(&service).await;
    (service, controls, session)
}

/// A client whose connection breaks mid-stream, and which comes back well within the
/// retention of a completed stream (far past that of a stream its client read to the end),
/// gets every event it missed once, in order, and the response; having read them, it holds no
/// position to resume from, and the stream's events go after the short retention.
#[tokio::test(start_paused = true)]
async fn a_stream_lost_mid_way_resumes_within_the_retention_then_releases_its_events() {
    let store = Observed::new(MemoryEventStore::new());
    let (service, controls, session) = sse_session(store.clone(), Config::default()).await;
    controls.gate.add_permits(2);
    let steps = call(7, "steps", json!({"count": 6}));
    let response = service
        .handle(in_process("POST", Some(&session), None, Some(steps)))
        .await;
    let mut first = Sse::new(response);
    let priming = first.priming().await;
    let (stream, _) = split_id(&priming);
    let mut last_id = priming;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let event = first.next().await.expect("a progress event");
        seen.push(progress_of(&event));
        last_id = event.id.expect("an id");
    }
    // The connection breaks; the handler goes on to its response.
    drop(first);
    controls.gate.add_permits(4);
    store.completed(1).await;
    tokio::time::advance(MemoryEventStore::DEFAULT_COMPLETED_RETENTION / 2).await;
    assert_eq!(store.store.stats().streams, 1, "the lost stream is kept");

    let resumed = service
        .handle(in_process("GET", Some(&session), Some(&last_id), None))
        .await;
    let mut resumed = Sse::new(resumed);
    assert_eq!(resumed.priming().await, last_id);
    let mut answers = 0;
    // Bounded: four progress events and a response, then the end.
    for _ in 0..6 {
        let Some(event) = resumed.next().await else {
            break;
        };
        let id = event.id.clone().expect("an id");
        assert_eq!(
            split_id(&id),
            (stream, split_id(&last_id).1 + 1),
            "ids have no gap"
        );
        last_id = id;
        let message = event.json();
        if message.get("method").is_some() {
            seen.push(progress_of(&event));
        } else {
            assert_eq!(message["id"], 7);
            answers += 1;
        }
    }
    assert_eq!(seen, [1, 2, 3, 4, 5, 6]);
    assert_eq!(answers, 1, "the response comes once, last");
    drop(resumed);

    tokio::time::advance(MemoryEventStore::DEFAULT_DELIVERED_RETENTION).await;
    let stats = store.store.stats();
    assert_eq!(
        (stats.streams, stats.events, stats.bytes),
        (0, 0, 0),
        "{stats:?}"
    );
    let again = service
        .handle(in_process("GET", Some(&session), Some(&last_id), None))
        .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(
        json_body(again).await["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no longer stored")
    );
}

/// Clients that vanish before reading their answers, and one that stops reading its stream
/// while the handler keeps sending, grow the store no further than its bounds; a resume that
/// would need an evicted event is refused; and once the retention passes, nothing is left.
#[tokio::test(start_paused = true)]
async fn clients_that_vanish_or_stall_cannot_grow_the_store_past_its_bounds() {
    const SESSION_BYTES: usize = 16 * 1024;
    const STREAM_EVENTS: usize = 8;
    const VANISHED: usize = 400;
    let store = Observed::new(
        MemoryEventStore::new()
            .max_bytes_per_session(SESSION_BYTES)
            .max_events_per_stream(STREAM_EVENTS),
    );
    let config = Config::default()
        .stream_queue(4)
        .slow_consumer_timeout(Duration::from_secs(1));
    let (service, controls, session) = sse_session(store.clone(), config).await;
    let within_bounds = || {
        let stats = store.store.stats();
        assert!(stats.bytes <= SESSION_BYTES, "{stats:?}");
        assert!(stats.streams <= stats.events, "{stats:?}");
        assert!(
            stats.index_entries <= 3 * stats.events + 3 * 64,
            "{stats:?}"
        );
        stats
    };

    let text = "v".repeat(200);
    for id in 0..VANISHED {
        let echo = call(
            10 + i64::try_from(id).unwrap(),
            "echo",
            json!({"text": text}),
        );
        let response = service
            .handle(in_process("POST", Some(&session), None, Some(echo)))
            .await;
        // The client goes before its answer comes.
        drop(response);
        store.completed(id + 1).await;
        within_bounds();
    }
    assert!(
        within_bounds().events < VANISHED / 4,
        "the session's bound evicts"
    );

    // A client that reads its stream's priming event and then nothing more.
    controls.gate.add_permits(100);
    let steps = call(9, "steps", json!({"count": 100}));
    let response = service
        .handle(in_process("POST", Some(&session), None, Some(steps)))
        .await;
    let mut stalled = Sse::new(response);
    let position = stalled.priming().await;
    // The server cuts the stalled connection off and stores on, within the stream's bound.
    store.completed(VANISHED + 1).await;
    let stats = within_bounds();
    let (stream, _) = split_id(&position);
    assert!(stats.events <= STREAM_EVENTS + VANISHED, "{stats:?}");
    let resumed = service
        .handle(in_process("GET", Some(&session), Some(&position), None))
        .await;
    assert_eq!(
        resumed.status(),
        StatusCode::BAD_REQUEST,
        "resuming stream {stream} from its start would leave a gap"
    );
    drop(stalled);

    tokio::time::advance(MemoryEventStore::DEFAULT_COMPLETED_RETENTION).await;
    let stats = store.store.stats();
    assert_eq!(
        (
            stats.streams,
            stats.events,
            stats.bytes,
            stats.index_entries
        ),
        (0, 0, 0, 0),
        "{stats:?}"
    );
}
