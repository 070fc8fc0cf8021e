//! The stateless lane of `StreamableHttpService` (revision 2026-07-28), driven over loopback
//! sockets with raw HTTP requests, with a stub `StatelessHandler` beside a real legacy
//! mcpwire server on the same endpoint.

mod support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, ALLOW, CONTENT_TYPE, ORIGIN, RETRY_AFTER};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mcpwire_http::server::{Config, Exchange, StreamableHttpService, serve};
use mcpwire_jsonrpc::{ErrorObject, Notification, RequestId};
use mcpwire_rpc::CancellationToken;
use mcpwire_schema::JsonObject;
use mcpwire_schema::meta;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc, oneshot};

use support::echo::{echo_server, echo_service};

/// How long any single step of a test may take before it fails.
const STEP: Duration = Duration::from_secs(10);

const MODERN: &str = "2026-07-28";

/// What the stub handler reports to the test.
struct Reports {
    /// The id of each `slow` request once it runs.
    started: mpsc::UnboundedReceiver<RequestId>,
    /// For each dropped `slow` request: its id, and whether it was cancelled first.
    dropped: mpsc::UnboundedReceiver<(RequestId, bool)>,
    /// Lets one `hold` request answer.
    release: Arc<Notify>,
}

/// The stub's side of [`Reports`].
#[derive(Clone)]
struct Stub {
    started: mpsc::UnboundedSender<RequestId>,
    dropped: mpsc::UnboundedSender<(RequestId, bool)>,
    release: Arc<Notify>,
}

/// Reports the drop of a `slow` request's future, and whether its exchange was cancelled.
struct DropRecorder {
    id: RequestId,
    cancellation: CancellationToken,
    dropped: mpsc::UnboundedSender<(RequestId, bool)>,
}

impl Drop for DropRecorder {
    fn drop(&mut self) {
        let _ = self
            .dropped
            .send((self.id.clone(), self.cancellation.is_cancelled()));
    }
}

fn raw(value: &Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).unwrap()
}

fn progress(id: &RequestId) -> Notification {
    Notification::new(
        "notifications/progress",
        Some(raw(
            &json!({"progressToken": id.to_string(), "progress": 1}),
        )),
    )
}

impl Stub {
    /// Serves one modern request by its method and, for `tools/call`, by the tool's name:
    ///
    /// - `echo {text, notify?}`: answers `text`, the decoded `Mcp-Param-*` headers and whether
    ///   an `Authorization` digest was made; with `notify`, sends a progress notification
    ///   first.
    /// - `slow {notify?}`: reports its start, optionally notifies, then never answers; its
    ///   drop is reported.
    /// - `hold`: notifies, waits for the test's release, then answers.
    /// - `silent`: returns without answering; `panic`: panics.
    /// - `sampling {notify?}`: answers `-32021`, optionally after a notification.
    /// - `server/discover`, `resources/read`, `prompts/get`, `tasks/get`: an empty result.
    /// - anything else: `-32601`.
    async fn serve(self, request: mcpwire_jsonrpc::Request, exchange: Exchange) {
        let params: Value = request
            .params
            .as_deref()
            .map(|params| serde_json::from_str(params.get()).unwrap())
            .unwrap_or(Value::Null);
        let outcome = match request.method.as_str() {
            "tools/call" => {
                let arguments = &params["arguments"];
                let notify = arguments["notify"] == true;
                match params["name"].as_str() {
                    Some("echo") => {
                        if notify {
                            exchange.notify(progress(exchange.id())).await.unwrap();
                        }
                        let headers: serde_json::Map<String, Value> = exchange
                            .param_headers()
                            .iter()
                            .map(|(name, value)| {
                                let value = match value {
                                    Ok(text) => Value::String(text.to_owned()),
                                    Err(_) => Value::Null,
                                };
                                (name.to_owned(), value)
                            })
                            .collect();
                        Ok(json!({
                            "resultType": "complete",
                            "content": [{"type": "text", "text": arguments["text"]}],
                            "params": headers,
                            "authorized": exchange.authorization_digest().is_some(),
                            "version": exchange.protocol_version().as_str(),
                            "client": exchange.meta().client_info.as_ref().map(|info| info["name"].clone()),
                        }))
                    }
                    Some("slow") => {
                        let _recorder = DropRecorder {
                            id: exchange.id().clone(),
                            cancellation: exchange.cancellation().clone(),
                            dropped: self.dropped.clone(),
                        };
                        if notify {
                            exchange.notify(progress(exchange.id())).await.unwrap();
                        }
                        let _ = self.started.send(exchange.id().clone());
                        std::future::pending::<()>().await;
                        unreachable!("a slow request never ends by itself");
                    }
                    Some("hold") => {
                        exchange.notify(progress(exchange.id())).await.unwrap();
                        self.release.notified().await;
                        Ok(json!({"resultType": "complete", "content": []}))
                    }
                    Some("silent") => return,
                    Some("panic") => panic!("the stub handler panics on purpose"),
                    Some("sampling") => {
                        if notify {
                            exchange.notify(progress(exchange.id())).await.unwrap();
                        }
                        let mut required = JsonObject::new();
                        required.insert("sampling".to_owned(), json!({}));
                        Err(meta::missing_required_client_capability(required))
                    }
                    _ => Err(ErrorObject::invalid_params("unknown tool")),
                }
            }
            "server/discover" | "resources/read" | "prompts/get" | "tasks/get" => {
                Ok(json!({"resultType": "complete"}))
            }
            other => Err(ErrorObject::method_not_found(other)),
        };
        let _ = exchange.respond(outcome.map(|result| raw(&result))).await;
    }
}

/// A service serving legacy sessions with the echo server, and modern requests with the stub.
fn service(config: Config) -> (StreamableHttpService, Reports) {
    let (started_sender, started) = mpsc::unbounded_channel();
    let (dropped_sender, dropped) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    let stub = Stub {
        started: started_sender,
        dropped: dropped_sender,
        release: Arc::clone(&release),
    };
    let (service, _sessions) = echo_service(&echo_server(), config);
    let service = service.stateless(move |request, exchange| stub.clone().serve(request, exchange));
    let reports = Reports {
        started,
        dropped,
        release,
    };
    (service, reports)
}

struct Harness {
    port: u16,
    client: Client<HttpConnector, Full<Bytes>>,
    service: StreamableHttpService,
    reports: Reports,
    _stop: oneshot::Sender<()>,
}

impl Harness {
    async fn start(config: Config) -> Harness {
        let (service, reports) = service(config);
        Harness::serve(service, reports).await
    }

    async fn serve(service: StreamableHttpService, reports: Reports) -> Harness {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(serve(listener, service.clone(), async {
            let _ = stopped.await;
        }));
        Harness {
            port,
            client: Client::builder(TokioExecutor::new()).build_http(),
            service,
            reports,
            _stop: stop,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }

    async fn send(&self, request: Request<Full<Bytes>>) -> Response<Incoming> {
        tokio::time::timeout(STEP, self.client.request(request))
            .await
            .expect("the server answers in time")
            .expect("the request succeeds")
    }

    /// POSTs `body` with `headers`, and nothing else but the URL.
    async fn post_raw(
        &self,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Response<Incoming> {
        let mut builder = Request::builder().method(Method::POST).uri(self.url());
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        self.send(builder.body(Full::new(body.into())).unwrap())
            .await
    }

    /// POSTs a modern request with the headers a well-behaved client sends.
    async fn post(&self, message: &Value) -> Response<Incoming> {
        let headers = modern_headers(message);
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        self.post_raw(&headers, message.to_string()).await
    }

    /// Waits for the next `slow` request to run.
    async fn started(&mut self) -> RequestId {
        tokio::time::timeout(STEP, self.reports.started.recv())
            .await
            .expect("the slow request runs in time")
            .expect("the stub lives")
    }

    /// Waits for the next `slow` request to be dropped; returns whether it was cancelled.
    async fn dropped(&mut self) -> (RequestId, bool) {
        tokio::time::timeout(STEP, self.reports.dropped.recv())
            .await
            .expect("the slow request is dropped in time")
            .expect("the stub lives")
    }
}

/// The `_meta` of a modern request.
fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "stateless-test", "version": "1.0.0"},
    })
}

/// A modern request of `method` with `params` and the full `_meta`.
fn modern(id: Value, method: &str, mut params: Value) -> Value {
    params["_meta"] = meta();
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

fn call(id: i64, tool: &str, arguments: Value) -> Value {
    modern(
        json!(id),
        "tools/call",
        json!({"name": tool, "arguments": arguments}),
    )
}

/// The headers of a well-behaved modern client for `message`.
fn modern_headers(message: &Value) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("accept", "application/json, text/event-stream".to_owned()),
        ("content-type", "application/json".to_owned()),
        ("mcp-protocol-version", MODERN.to_owned()),
    ];
    if let Some(method) = message["method"].as_str() {
        headers.push(("mcp-method", method.to_owned()));
        let name = match method {
            "tools/call" | "prompts/get" => message["params"]["name"].as_str(),
            "resources/read" => message["params"]["uri"].as_str(),
            "tasks/get" => message["params"]["taskId"].as_str(),
            _ => None,
        };
        if let Some(name) = name {
            headers.push(("mcp-name", mcpwire_http::headers::encode_value(name)));
        }
    }
    headers
}

fn header<B>(response: &Response<B>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap().to_owned())
}

async fn body_text(response: Response<Incoming>) -> String {
    let bytes = tokio::time::timeout(STEP, response.into_body().collect())
        .await
        .expect("the body ends in time")
        .expect("the body reads")
        .to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn json_body(response: Response<Incoming>) -> Value {
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/json")
    );
    let text = body_text(response).await;
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("a JSON body: {text:?}"))
}

/// The messages of a finished SSE body, checking its framing: `event: message` events with
/// one `data` line each, no ids, no priming event, nothing but keep-alive comments between.
fn sse_messages(text: &str) -> Vec<Value> {
    let mut messages = Vec::new();
    for block in text.split("\n\n").filter(|block| !block.is_empty()) {
        if block.starts_with(':') {
            continue;
        }
        let lines: Vec<&str> = block.lines().collect();
        assert_eq!(lines.len(), 2, "an event is two lines: {block:?}");
        assert_eq!(lines[0], "event: message");
        let data = lines[1].strip_prefix("data: ").expect("a data line");
        messages.push(serde_json::from_str(data).expect("JSON data"));
    }
    messages
}

/// One step of the validation ladder: a request and the answer it must get.
struct Case {
    name: &'static str,
    headers: Vec<(&'static str, String)>,
    body: String,
    status: StatusCode,
    /// The JSON-RPC error code of the body, or `None` for a result (or no body).
    code: Option<i64>,
    /// The id the error must carry, or `None` for an error without one.
    id: Option<Value>,
}

impl Case {
    /// A well-formed modern `message`, changed by `edit` on its headers.
    fn modern(
        name: &'static str,
        message: Value,
        edit: impl FnOnce(&mut Vec<(&'static str, String)>),
        status: StatusCode,
        code: Option<i64>,
    ) -> Case {
        let mut headers = modern_headers(&message);
        edit(&mut headers);
        Case {
            name,
            headers,
            id: message.get("id").cloned().filter(|_| code.is_some()),
            body: message.to_string(),
            status,
            code,
        }
    }
}

impl Case {
    /// This case, refused before its body is read: the error cannot name the request.
    fn before_parse(mut self) -> Case {
        self.id = None;
        self
    }
}

fn set(headers: &mut Vec<(&'static str, String)>, name: &'static str, value: &str) {
    headers.retain(|(existing, _)| *existing != name);
    headers.push((name, value.to_owned()));
}

fn remove(headers: &mut Vec<(&'static str, String)>, name: &'static str) {
    headers.retain(|(existing, _)| *existing != name);
}

fn unchanged(_: &mut Vec<(&'static str, String)>) {}

#[tokio::test]
async fn the_validation_ladder_answers_each_step_with_its_status_code_and_id() {
    let harness = Harness::start(Config::default().max_body_bytes(8 * 1024)).await;
    let discover = |id: i64| modern(json!(id), "server/discover", json!({}));
    let without = |id: i64, key: &str| {
        let mut message = discover(id);
        message["params"]["_meta"]
            .as_object_mut()
            .unwrap()
            .remove(key);
        message
    };
    let with_meta = |id: i64, key: &str, value: Value| {
        let mut message = discover(id);
        message["params"]["_meta"][key] = value;
        message
    };
    let cases = vec![
        Case::modern(
            "a foreign Origin",
            discover(1),
            |headers| set(headers, "origin", "http://evil.example.com"),
            StatusCode::FORBIDDEN,
            Some(-32600),
        )
        .before_parse(),
        Case::modern(
            "Accept without SSE",
            discover(2),
            |headers| set(headers, "accept", "application/json"),
            StatusCode::NOT_ACCEPTABLE,
            Some(-32600),
        )
        .before_parse(),
        Case::modern(
            "a text body",
            discover(3),
            |headers| set(headers, "content-type", "text/plain"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some(-32600),
        )
        .before_parse(),
        Case {
            name: "a body over the limit",
            headers: modern_headers(&discover(4)),
            body: format!("{{\"pad\":\"{}\"}}", "x".repeat(16 * 1024)),
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: Some(-32700),
            id: None,
        },
        Case {
            name: "not JSON",
            headers: modern_headers(&discover(5)),
            body: "{\"jsonrpc\":".to_owned(),
            status: StatusCode::BAD_REQUEST,
            code: Some(-32700),
            id: None,
        },
        Case {
            name: "a batch",
            headers: modern_headers(&discover(6)),
            body: json!([discover(6), discover(7)]).to_string(),
            status: StatusCode::BAD_REQUEST,
            code: Some(-32600),
            id: None,
        },
        Case {
            name: "a response",
            headers: modern_headers(&discover(8)),
            body: json!({"jsonrpc": "2.0", "id": 8, "result": {}}).to_string(),
            status: StatusCode::BAD_REQUEST,
            code: Some(-32600),
            id: None,
        },
        Case {
            name: "a notification",
            headers: modern_headers(&discover(9)),
            body: json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                "params": {"requestId": 1, "_meta": meta()}})
            .to_string(),
            status: StatusCode::ACCEPTED,
            code: None,
            id: None,
        },
        Case::modern(
            "no params",
            json!({"jsonrpc": "2.0", "id": 100, "method": "server/discover"}),
            unchanged,
            StatusCode::BAD_REQUEST,
            Some(-32602),
        ),
        Case::modern(
            "params without _meta",
            json!({"jsonrpc": "2.0", "id": 101, "method": "server/discover", "params": {}}),
            unchanged,
            StatusCode::BAD_REQUEST,
            Some(-32602),
        ),
        Case::modern(
            "_meta without protocolVersion",
            without(102, "io.modelcontextprotocol/protocolVersion"),
            unchanged,
            StatusCode::BAD_REQUEST,
            Some(-32602),
        ),
        Case::modern(
            "_meta without clientCapabilities",
            without(104, "io.modelcontextprotocol/clientCapabilities"),
            unchanged,
            StatusCode::BAD_REQUEST,
            Some(-32602),
        ),
        Case::modern(
            "_meta with an unknown log level",
            with_meta(106, "io.modelcontextprotocol/logLevel", json!("loud")),
            unchanged,
            StatusCode::BAD_REQUEST,
            Some(-32602),
        ),
        Case::modern(
            "_meta without clientInfo is served",
            without(105, "io.modelcontextprotocol/clientInfo"),
            unchanged,
            StatusCode::OK,
            None,
        ),
        Case::modern(
            "the header differs from _meta",
            with_meta(
                302,
                "io.modelcontextprotocol/protocolVersion",
                json!("v999.0.0"),
            ),
            unchanged,
            StatusCode::BAD_REQUEST,
            Some(-32020),
        ),
        Case::modern(
            "an unsupported version in both",
            with_meta(
                301,
                "io.modelcontextprotocol/protocolVersion",
                json!("v999.0.0"),
            ),
            |headers| set(headers, "mcp-protocol-version", "v999.0.0"),
            StatusCode::BAD_REQUEST,
            Some(-32022),
        ),
        Case::modern(
            "no Mcp-Method",
            discover(401),
            |headers| remove(headers, "mcp-method"),
            StatusCode::BAD_REQUEST,
            Some(-32020),
        ),
        Case::modern(
            "Mcp-Method in another case",
            discover(402),
            |headers| set(headers, "mcp-method", "SERVER/DISCOVER"),
            StatusCode::BAD_REQUEST,
            Some(-32020),
        ),
        Case::modern(
            "Mcp-Method of another method",
            discover(403),
            |headers| set(headers, "mcp-method", "tools/list"),
            StatusCode::BAD_REQUEST,
            Some(-32020),
        ),
        Case::modern(
            "Mcp-Method with optional whitespace",
            discover(404),
            |headers| set(headers, "mcp-method", "  server/discover\t"),
            StatusCode::OK,
            None,
        ),
        Case::modern(
            "no Mcp-Name on tools/call",
            call(501, "echo", json!({"text": "hi"})),
            |headers| remove(headers, "mcp-name"),
            StatusCode::BAD_REQUEST,
            Some(-32020),
        ),
        Case::modern(
            "Mcp-Name of another tool",
            call(502, "echo", json!({"text": "hi"})),
            |headers| set(headers, "mcp-name", "other"),
            StatusCode::BAD_REQUEST,
            Some(-32020),
        ),
        Case::modern(
            "Mcp-Name in Base64",
            call(503, "echo", json!({"text": "hi"})),
            |headers| set(headers, "mcp-name", " =?base64?ZWNobw==?= "),
            StatusCode::OK,
            None,
        ),
        Case::modern(
            "Mcp-Name in Base64 without its padding",
            call(504, "echo", json!({"text": "hi"})),
            |headers| set(headers, "mcp-name", "=?base64?ZWNobw?="),
            StatusCode::BAD_REQUEST,
            Some(-32020),
        ),
        Case::modern(
            "Mcp-Name of another resource",
            modern(
                json!("r1"),
                "resources/read",
                json!({"uri": "file:///a b.txt"}),
            ),
            |headers| set(headers, "mcp-name", "file:///other.txt"),
            StatusCode::BAD_REQUEST,
            Some(-32020),
        ),
        Case::modern(
            "Mcp-Name of a resource with a space",
            modern(
                json!("r2"),
                "resources/read",
                json!({"uri": "file:///a b.txt"}),
            ),
            unchanged,
            StatusCode::OK,
            None,
        ),
        Case::modern(
            "no Mcp-Name on prompts/get",
            modern(json!("p1"), "prompts/get", json!({"name": "greet"})),
            |headers| remove(headers, "mcp-name"),
            StatusCode::BAD_REQUEST,
            Some(-32020),
        ),
        Case::modern(
            "Mcp-Name of another task",
            modern(json!("t1"), "tasks/get", json!({"taskId": "task-1"})),
            |headers| set(headers, "mcp-name", "task-2"),
            StatusCode::BAD_REQUEST,
            Some(-32020),
        ),
        Case::modern(
            "a removed method",
            modern(json!(600), "initialize", json!({})),
            unchanged,
            StatusCode::NOT_FOUND,
            Some(-32601),
        ),
        Case::modern(
            "an unknown method",
            modern(json!(601), "unknown/method", json!({})),
            unchanged,
            StatusCode::NOT_FOUND,
            Some(-32601),
        ),
        Case::modern(
            "a missing client capability",
            call(602, "sampling", json!({})),
            unchanged,
            StatusCode::BAD_REQUEST,
            Some(-32021),
        ),
        Case::modern(
            "invalid params of the handler",
            call(603, "no-such-tool", json!({})),
            unchanged,
            StatusCode::OK,
            Some(-32602),
        ),
    ];
    for case in cases {
        let headers: Vec<(&str, &str)> = case
            .headers
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let response = harness.post_raw(&headers, case.body.clone()).await;
        let name = case.name;
        assert_eq!(response.status(), case.status, "{name}");
        assert_eq!(header(&response, "mcp-session-id"), None, "{name}");
        if case.status == StatusCode::ACCEPTED {
            assert_eq!(body_text(response).await, "", "{name}");
            continue;
        }
        let body = json_body(response).await;
        match case.code {
            Some(code) => {
                assert_eq!(body["error"]["code"], code, "{name}: {body}");
                assert_eq!(body.get("id"), case.id.as_ref(), "{name}: {body}");
            }
            None => assert_eq!(body["result"]["resultType"], "complete", "{name}: {body}"),
        }
    }
    assert_eq!(harness.service.session_count(), 0);
}

#[tokio::test]
async fn unsupported_versions_name_the_supported_ones_and_echo_the_requested_one() {
    let harness = Harness::start(Config::default()).await;
    let mut message = modern(json!(301), "server/discover", json!({}));
    message["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("v999.0.0");
    let mut headers = modern_headers(&message);
    set(&mut headers, "mcp-protocol-version", "v999.0.0");
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let response = harness.post_raw(&headers, message.to_string()).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = json_body(response).await;
    assert_eq!(
        body,
        json!({"jsonrpc": "2.0", "id": 301, "error": {
            "code": -32022,
            "message": "unsupported protocol version: v999.0.0",
            "data": {"supported": [MODERN], "requested": "v999.0.0"}
        }})
    );
}

/// With no legacy revision (`Config::protocol_versions([])`) the service is modern-only: a
/// legacy client's `initialize` gets `400` and `-32022` naming the lane's versions, and no
/// session is made; modern requests are served as before.
#[tokio::test]
async fn a_service_of_no_legacy_revision_refuses_initialize_naming_the_modern_ones() {
    let harness = Harness::start(Config::default().protocol_versions([])).await;
    let initialize = json!({"jsonrpc": "2.0", "id": 7, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "legacy", "version": "1.0.0"},
    }});
    for version_header in [None, Some("2025-11-25")] {
        let mut headers = vec![
            ("accept", "application/json, text/event-stream"),
            ("content-type", "application/json"),
        ];
        headers.extend(version_header.map(|version| ("mcp-protocol-version", version)));
        let response = harness.post_raw(&headers, initialize.to_string()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = json_body(response).await;
        assert_eq!(body["id"], 7, "{body}");
        assert_eq!(body["error"]["code"], -32022, "{body}");
        assert_eq!(
            body["error"]["data"],
            json!({"supported": [MODERN], "requested": "2025-11-25"})
        );
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(MODERN), "{body}");
    }
    assert_eq!(harness.service.session_count(), 0);

    let message = modern(json!(8), "server/discover", json!({}));
    let headers = modern_headers(&message);
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let response = harness.post_raw(&headers, message.to_string()).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_header_less_modern_request_is_refused_for_the_missing_header() {
    let harness = Harness::start(Config::default()).await;
    let message = modern(json!("no-header"), "server/discover", json!({}));
    let response = harness
        .post_raw(
            &[
                ("accept", "application/json, text/event-stream"),
                ("content-type", "application/json"),
                ("mcp-method", "server/discover"),
            ],
            message.to_string(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = json_body(response).await;
    assert_eq!(body["id"], "no-header");
    assert_eq!(body["error"]["code"], -32020);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("MCP-Protocol-Version"),
        "{body}"
    );
}

#[tokio::test]
async fn a_final_message_alone_is_json_and_notifications_first_make_an_sse_stream() {
    let harness = Harness::start(Config::default()).await;

    let response = harness
        .post(&call(1, "echo", json!({"text": "plain"})))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "mcp-session-id"), None);
    let body = json_body(response).await;
    assert_eq!(body["id"], 1);
    assert_eq!(body["result"]["content"][0]["text"], "plain");
    assert_eq!(body["result"]["version"], MODERN);
    assert_eq!(body["result"]["client"], "stateless-test");

    let response = harness
        .post(&call(
            2,
            "echo",
            json!({"text": "streamed", "notify": true}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("text/event-stream")
    );
    assert_eq!(
        header(&response, "x-accel-buffering").as_deref(),
        Some("no")
    );
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-cache")
    );
    assert_eq!(header(&response, "mcp-session-id"), None);
    let text = body_text(response).await;
    assert!(
        text.starts_with("event: message\ndata: "),
        "no priming event: {text:?}"
    );
    assert!(
        !text.contains("\nid:") && !text.contains("retry:"),
        "{text:?}"
    );
    let messages = sse_messages(&text);
    assert_eq!(messages.len(), 2, "{text:?}");
    assert_eq!(messages[0]["method"], "notifications/progress");
    assert_eq!(messages[1]["id"], 2);
    assert_eq!(messages[1]["result"]["content"][0]["text"], "streamed");
    assert_eq!(harness.service.stateless_in_flight(), 0);
}

#[tokio::test]
async fn an_error_after_notifications_ends_the_stream_with_status_200() {
    let harness = Harness::start(Config::default()).await;
    let response = harness
        .post(&call(3, "sampling", json!({"notify": true})))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let messages = sse_messages(&body_text(response).await);
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1]["id"], 3);
    assert_eq!(messages[1]["error"]["code"], -32021);
    assert_eq!(
        messages[1]["error"]["data"],
        json!({"requiredCapabilities": {"sampling": {}}})
    );
}

#[tokio::test]
async fn a_final_message_beyond_what_the_client_reads_is_replaced_by_an_error() {
    let limits = mcpwire_jsonrpc::ParseOptions {
        max_size: 1024,
        ..mcpwire_jsonrpc::ParseOptions::default()
    };
    let harness = Harness::start(Config::default().peer_limits(limits)).await;
    let text = "x".repeat(2048);
    // The client would refuse the result and could not tell which request it answered: the
    // request gets an error naming the limit instead, as JSON and at the end of a stream.
    let response = harness.post(&call(5, "echo", json!({"text": text}))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_body(response).await;
    assert_eq!(body["id"], 5);
    assert_eq!(body["error"]["code"], -32603);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("result is too large"), "{message}");
    let response = harness
        .post(&call(6, "echo", json!({"text": text, "notify": true})))
        .await;
    let messages = sse_messages(&body_text(response).await);
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1]["id"], 6);
    assert_eq!(messages[1]["error"]["code"], -32603);
    // Within the limit, the result goes as it is.
    let response = harness
        .post(&call(7, "echo", json!({"text": "fits"})))
        .await;
    assert_eq!(
        json_body(response).await["result"]["content"][0]["text"],
        "fits"
    );
}

#[tokio::test]
async fn a_handler_that_ends_without_answering_gets_an_internal_error() {
    let harness = Harness::start(Config::default()).await;
    for (id, tool) in [(3, "silent"), (4, "panic")] {
        let response = harness.post(&call(id, tool, json!({}))).await;
        assert_eq!(response.status(), StatusCode::OK, "{tool}");
        let body = json_body(response).await;
        assert_eq!(body["id"], id, "{tool}");
        assert_eq!(body["error"]["code"], -32603, "{tool}");
    }
    assert_eq!(harness.service.stateless_in_flight(), 0);
}

#[tokio::test]
async fn an_idle_stream_gets_keep_alive_comments_until_its_final_message() {
    let harness =
        Harness::start(Config::default().keep_alive(Some(Duration::from_millis(20)))).await;
    let response = harness.post(&call(5, "hold", json!({}))).await;
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("text/event-stream")
    );
    let mut body = response.into_body();
    let mut text = String::new();
    // Bounded: the notification, then keep-alive comments, each within the step limit.
    for _ in 0..100 {
        let frame = tokio::time::timeout(STEP, body.frame())
            .await
            .expect("a frame in time")
            .expect("the stream is open")
            .unwrap();
        text.push_str(std::str::from_utf8(frame.data_ref().unwrap()).unwrap());
        if text.contains(": keep-alive") {
            break;
        }
    }
    assert!(text.contains("\n\n: keep-alive\n\n"), "{text:?}");
    harness.reports.release.notify_one();
    let rest = tokio::time::timeout(STEP, body.collect())
        .await
        .expect("the stream ends in time")
        .unwrap()
        .to_bytes();
    text.push_str(std::str::from_utf8(&rest).unwrap());
    let messages = sse_messages(&text);
    assert_eq!(
        messages.first().unwrap()["method"],
        "notifications/progress"
    );
    assert_eq!(messages.last().unwrap()["id"], 5);
    assert_eq!(messages.len(), 2, "{text:?}");
}

/// Sends a modern `message` on a raw connection and returns it, for tests that close it.
async fn raw_post(port: u16, message: &Value) -> TcpStream {
    let body = message.to_string();
    let mut request = format!(
        "POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in modern_headers(message) {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    let mut socket = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    socket
}

/// Reads from `socket` until what was read contains `marker`.
async fn read_until(socket: &mut TcpStream, marker: &str) -> String {
    let mut read = Vec::new();
    let mut buffer = [0u8; 4096];
    tokio::time::timeout(STEP, async {
        // Bounded by the step limit; each round reads at least one byte or fails.
        while !String::from_utf8_lossy(&read).contains(marker) {
            let count = socket.read(&mut buffer).await.expect("the socket reads");
            assert_ne!(count, 0, "the server closed before {marker:?}");
            read.extend_from_slice(&buffer[..count]);
        }
    })
    .await
    .expect("the marker arrives in time");
    String::from_utf8_lossy(&read).into_owned()
}

#[tokio::test]
async fn a_client_that_closes_its_connection_before_a_json_answer_cancels_the_request() {
    let mut harness = Harness::start(Config::default()).await;
    let socket = raw_post(harness.port, &call(7, "slow", json!({}))).await;
    assert_eq!(harness.started().await, RequestId::from(7));
    assert_eq!(harness.service.stateless_in_flight(), 1);
    // hyper notices the closed connection while the service future waits, and drops it.
    drop(socket);
    assert_eq!(harness.dropped().await, (RequestId::from(7), true));
    assert_eq!(harness.service.stateless_in_flight(), 0);
}

#[tokio::test]
async fn a_client_that_closes_an_sse_stream_cancels_the_request() {
    let mut harness = Harness::start(Config::default()).await;
    let mut socket = raw_post(harness.port, &call(8, "slow", json!({"notify": true}))).await;
    assert_eq!(harness.started().await, RequestId::from(8));
    let head = read_until(&mut socket, "notifications/progress").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    drop(socket);
    assert_eq!(harness.dropped().await, (RequestId::from(8), true));
    assert_eq!(harness.service.stateless_in_flight(), 0);
}

#[tokio::test]
async fn requests_beyond_the_in_flight_bound_get_503_and_the_bound_frees_on_cancel() {
    let mut harness = Harness::start(Config::default().max_stateless_in_flight(1)).await;
    let socket = raw_post(harness.port, &call(10, "slow", json!({}))).await;
    harness.started().await;

    let response = harness
        .post(&call(11, "echo", json!({"text": "late"})))
        .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(header(&response, RETRY_AFTER.as_str()).is_some());
    let body = json_body(response).await;
    assert_eq!(body["id"], 11);
    assert!(body.get("error").is_some(), "{body}");

    drop(socket);
    harness.dropped().await;
    let response = harness
        .post(&call(12, "echo", json!({"text": "now"})))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        json_body(response).await["result"]["content"][0]["text"],
        "now"
    );
}

#[tokio::test]
async fn requests_of_different_clients_may_share_an_id() {
    let mut harness = Harness::start(Config::default()).await;
    let first = raw_post(harness.port, &call(1, "slow", json!({}))).await;
    let second = raw_post(harness.port, &call(1, "slow", json!({}))).await;
    assert_eq!(harness.started().await, RequestId::from(1));
    assert_eq!(harness.started().await, RequestId::from(1));
    assert_eq!(harness.service.stateless_in_flight(), 2);
    drop(first);
    assert_eq!(harness.dropped().await, (RequestId::from(1), true));
    assert_eq!(harness.service.stateless_in_flight(), 1);
    drop(second);
    assert_eq!(harness.dropped().await, (RequestId::from(1), true));
}

/// A stateless request still running when the shutdown's grace period ends is cancelled, and
/// its POST answered `503`.
#[tokio::test]
async fn shutdown_cancels_the_stateless_requests_left_after_the_grace_and_answers_their_post() {
    let mut harness =
        Harness::start(Config::default().shutdown_grace(Duration::from_millis(100))).await;
    let mut socket = raw_post(harness.port, &call(20, "slow", json!({}))).await;
    harness.started().await;
    harness.service.shutdown().await;
    assert_eq!(harness.dropped().await, (RequestId::from(20), true));
    let answer = read_until(&mut socket, "}}").await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains(r#""id":20"#), "{answer}");
}

#[tokio::test]
async fn mirrored_param_headers_reach_the_handler_decoded() {
    let harness = Harness::start(Config::default()).await;
    let message = call(30, "echo", json!({"text": "x"}));
    let mut headers = modern_headers(&message);
    headers.push(("mcp-param-region", "=?base64?IHVzLXdlc3Qx?=".to_owned()));
    headers.push(("Mcp-Param-Priority", " 42 ".to_owned()));
    headers.push(("mcp-param-broken", "=?base64?SGVsbG8?=".to_owned()));
    headers.push(("authorization", "Bearer secret".to_owned()));
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let response = harness.post_raw(&headers, message.to_string()).await;
    let body = json_body(response).await;
    assert_eq!(
        body["result"]["params"],
        json!({"region": " us-west1", "priority": "42", "broken": null})
    );
    assert_eq!(body["result"]["authorized"], true);
    let response = harness.post(&message).await;
    assert_eq!(json_body(response).await["result"]["authorized"], false);
}

#[tokio::test]
async fn a_legacy_session_request_with_an_unknown_version_header_is_told_what_is_wrong() {
    let harness = Harness::start(Config::default()).await;
    let legacy_headers = [
        ("accept", "application/json, text/event-stream"),
        ("content-type", "application/json"),
    ];
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "legacy", "version": "1.0.0"}}});
    let response = harness
        .post_raw(&legacy_headers, initialize.to_string())
        .await;
    let session = header(&response, "mcp-session-id").expect("a legacy session");
    let bad_headers = [
        ("accept", "application/json, text/event-stream"),
        ("content-type", "application/json"),
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", "2099-01-01"),
    ];
    let legacy_call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "legacy"}}});
    let response = harness
        .post_raw(&bad_headers, legacy_call.to_string())
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = json_body(response).await;
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("unsupported MCP-Protocol-Version `2099-01-01`")
            && message.contains("2025-11-25"),
        "{body}"
    );
    assert!(!message.contains("_meta"), "{body}");
}

#[tokio::test]
async fn legacy_sessions_and_modern_requests_share_the_endpoint() {
    let harness = Harness::start(Config::default()).await;
    let legacy_headers = [
        ("accept", "application/json, text/event-stream"),
        ("content-type", "application/json"),
    ];
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "legacy", "version": "1.0.0"}}});
    let response = harness
        .post_raw(&legacy_headers, initialize.to_string())
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let session = header(&response, "mcp-session-id").expect("a legacy session");
    assert_eq!(
        json_body(response).await["result"]["protocolVersion"],
        "2025-11-25"
    );
    let session_headers = [
        ("accept", "application/json, text/event-stream"),
        ("content-type", "application/json"),
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let response = harness
        .post_raw(&session_headers, initialized.to_string())
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);

    // A modern request in between, with a stray session id: served by the lane.
    let message = call(2, "echo", json!({"text": "modern"}));
    let mut headers = modern_headers(&message);
    headers.push(("mcp-session-id", session.clone()));
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let response = harness.post_raw(&headers, message.to_string()).await;
    assert_eq!(header(&response, "mcp-session-id"), None);
    assert_eq!(
        json_body(response).await["result"]["content"][0]["text"],
        "modern"
    );

    // The legacy session still works, served by the real server.
    let legacy_call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "legacy"}}});
    let response = harness
        .post_raw(&session_headers, legacy_call.to_string())
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_body(response).await;
    assert_eq!(body["result"]["content"][0]["text"], "legacy", "{body}");
    assert!(body["result"].get("resultType").is_none(), "{body}");
    assert_eq!(harness.service.session_count(), 1);

    // Legacy traffic without a session and without modern markers keeps its legacy answer.
    let list = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"});
    let response = harness.post_raw(&legacy_headers, list.to_string()).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_body(response).await["error"]["code"], -32600);
}

#[tokio::test]
async fn get_and_delete_with_a_modern_header_are_not_allowed() {
    let harness = Harness::start(Config::default()).await;
    for method in [Method::GET, Method::DELETE] {
        let request = Request::builder()
            .method(method.clone())
            .uri(harness.url())
            .header(ACCEPT, "text/event-stream")
            .header("mcp-protocol-version", MODERN)
            .header("mcp-session-id", "stray")
            .header("last-event-id", "1-1")
            .body(Full::default())
            .unwrap();
        let response = harness.send(request).await;
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}"
        );
        assert_eq!(header(&response, ALLOW.as_str()).as_deref(), Some("POST"));
    }
}

#[tokio::test]
async fn without_a_lane_a_modern_request_gets_the_legacy_answer() {
    let (service, _sessions) = echo_service(&echo_server(), Config::default());
    assert!(!service.is_stateless());
    let (_, reports) = self::service(Config::default());
    let harness = Harness::serve(service, reports).await;
    let response = harness.post(&call(1, "echo", json!({"text": "x"}))).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = json_body(response).await;
    assert_eq!(body["error"]["code"], -32600);
    assert_eq!(body["id"], Value::Null, "the legacy form: {body}");
    let request = Request::builder()
        .method(Method::GET)
        .uri(harness.url())
        .header(ACCEPT, "text/event-stream")
        .header("mcp-protocol-version", MODERN)
        .body(Full::default())
        .unwrap();
    assert_eq!(
        harness.send(request).await.status(),
        StatusCode::BAD_REQUEST
    );
    let request = Request::builder()
        .method(Method::POST)
        .uri(harness.url())
        .header(ACCEPT, "application/json, text/event-stream")
        .header(CONTENT_TYPE, "application/json")
        .header(ORIGIN, "http://localhost")
        .body(Full::new(Bytes::from(
            modern(json!(2), "server/discover", json!({})).to_string(),
        )))
        .unwrap();
    // Header-less: the legacy rules ask for a session.
    assert_eq!(
        harness.send(request).await.status(),
        StatusCode::BAD_REQUEST
    );
}
