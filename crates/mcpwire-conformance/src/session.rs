//! Talking MCP to the server under test: a connection over either transport, a legacy
//! session (`initialize` first), and modern (2026-07-28) requests with their `_meta` and
//! headers. Every exchange keeps what was seen, for the report.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::target::Target;
use crate::wire::http::{HttpReply, HttpRequest, HttpWire, Until};
use crate::wire::legacy_sse::SseWire;
use crate::wire::stdio::{Line, StdioWire};

/// The newest legacy revision, the one a legacy session asks for unless told otherwise.
pub const LATEST_LEGACY: &str = "2025-11-25";
/// The modern revision.
pub const MODERN: &str = "2026-07-28";
/// Every revision the suite knows, oldest first.
pub const REVISIONS: [&str; 5] = [
    "2024-11-05",
    "2025-03-26",
    "2025-06-18",
    "2025-11-25",
    "2026-07-28",
];

/// The name the suite gives itself in `clientInfo`.
pub const CLIENT_NAME: &str = "mcpwire-conformance";

/// The `_meta` key of the protocol version of a modern request.
pub const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// The `_meta` key of the client's capabilities in a modern request.
pub const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// The `_meta` key of the client's name and version in a modern request.
pub const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";

/// `clientInfo` of the suite.
pub fn client_info() -> Value {
    json!({"name": CLIENT_NAME, "version": env!("CARGO_PKG_VERSION")})
}

/// A request and what the server answered.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    /// The id the request had (`null` for a notification or a body with no id).
    pub id: Value,
    /// The JSON-RPC response with that id, when one came.
    pub response: Option<Value>,
    /// The other messages the server sent while the request was answered, in order.
    pub others: Vec<Value>,
    /// Lines of a stdio server's stdout that were not JSON.
    pub stray: Vec<String>,
    /// The HTTP answer, over HTTP.
    pub http: Option<HttpReply>,
}

impl Exchange {
    /// The `result` of the response.
    pub fn result(&self) -> Option<&Value> {
        self.response.as_ref()?.get("result")
    }

    /// The `error` of the response.
    pub fn error(&self) -> Option<&Value> {
        self.response.as_ref()?.get("error")
    }

    /// The `error.code` of the response.
    pub fn error_code(&self) -> Option<i64> {
        self.error()?.get("code")?.as_i64()
    }

    /// The HTTP status, over HTTP.
    pub fn status(&self) -> Option<u16> {
        Some(self.http.as_ref()?.status.as_u16())
    }

    /// What was seen, in one line for a report.
    pub fn seen(&self) -> String {
        let mut text = String::new();
        if let Some(http) = &self.http {
            text.push_str(&format!(
                "HTTP {} ({}) ",
                http.status.as_u16(),
                http.content_type()
                    .unwrap_or_else(|| "no Content-Type".into())
            ));
        }
        match &self.response {
            Some(response) => text.push_str(&crate::clip(&response.to_string())),
            None => match &self.http {
                Some(http) if !http.body.is_empty() => {
                    text.push_str(&crate::clip(&String::from_utf8_lossy(&http.body)));
                }
                _ => text.push_str("no response"),
            },
        }
        text
    }
}

/// A connection to the server: its HTTP endpoint, or a process of its own.
#[derive(Debug)]
pub enum Conn {
    /// The HTTP endpoint (each exchange is a request of its own).
    Http(HttpWire),
    /// A server process.
    Stdio(StdioWire),
    /// An HTTP+SSE connection (2024-11-05): an event stream, and posts to its endpoint.
    Sse(SseWire),
}

/// A connection whose messages arrive in one stream, read as they come: a stdio server's
/// lines, or the events of an HTTP+SSE stream.
pub(crate) trait MessageWire: Send {
    /// Sends one message: a line over stdio, a `POST` over HTTP+SSE (with its answer when it
    /// refused the message).
    fn send_message(
        &mut self,
        message: &[u8],
        limit: Duration,
    ) -> impl Future<Output = Result<Option<HttpReply>, String>> + Send;

    /// The next message of the server, waiting at most `limit`.
    fn next_message(&mut self, limit: Duration) -> impl Future<Output = Line> + Send;
}

impl MessageWire for StdioWire {
    async fn send_message(
        &mut self,
        message: &[u8],
        _limit: Duration,
    ) -> Result<Option<HttpReply>, String> {
        let mut line = Vec::with_capacity(message.len() + 1);
        line.extend_from_slice(message);
        line.push(b'\n');
        self.write(&line).await.map(|()| None)
    }

    async fn next_message(&mut self, limit: Duration) -> Line {
        self.next(limit).await
    }
}

impl MessageWire for SseWire {
    /// The answer to the `POST` when it refused the message; an accepted one says nothing
    /// more (the server answers on the event stream), and checks read the stream as they
    /// read a stdio server's lines.
    async fn send_message(
        &mut self,
        message: &[u8],
        limit: Duration,
    ) -> Result<Option<HttpReply>, String> {
        let reply = self.send(message, limit).await?;
        Ok((!reply.status.is_success()).then_some(reply))
    }

    async fn next_message(&mut self, limit: Duration) -> Line {
        self.next(limit).await
    }
}

/// Sends `body` on a streamed connection and reads until the response to `id` (or any
/// response when `id` is null) or `limit`. Over HTTP+SSE, a `POST` the server refuses with
/// an error status ends the exchange there: the answer is that status.
async fn stream_exchange<W: MessageWire>(
    wire: &mut W,
    body: &[u8],
    id: &Value,
    limit: Duration,
) -> Result<Exchange, String> {
    let posted = wire.send_message(body, limit).await?;
    let mut exchange = Exchange {
        id: id.clone(),
        http: posted,
        ..Exchange::default()
    };
    if let Some(reply) = exchange
        .http
        .as_ref()
        .filter(|reply| !reply.status.is_success())
    {
        // A refused `POST` may carry the JSON-RPC error in its body.
        exchange.response = reply
            .messages
            .iter()
            .find(|message| message.get("error").is_some())
            .cloned();
        return Ok(exchange);
    }
    let until = if id.is_null() {
        ReadUntil::Any
    } else {
        ReadUntil::Own
    };
    read_stdio(wire, &mut exchange, limit, until, None).await;
    Ok(exchange)
}

impl Conn {
    /// Opens a connection to `target`: for stdio, a new process. An HTTP+SSE target needs
    /// [`Conn::connect`].
    pub fn open(target: &Target) -> Result<Conn, String> {
        match target {
            Target::Http { .. } => Ok(Conn::Http(HttpWire::for_target(target)?)),
            Target::Stdio(command) => Ok(Conn::Stdio(StdioWire::spawn(command)?)),
            Target::HttpSse { .. } => Err(
                "the HTTP+SSE transport has no modern era, and its connections open with their \
                 event stream (`Conn::connect`)"
                    .to_owned(),
            ),
        }
    }

    /// Opens a connection to `target`, waiting for the `endpoint` event of an HTTP+SSE
    /// server's event stream (at most `limit`).
    pub async fn connect(target: &Target, limit: Duration) -> Result<Conn, String> {
        match target {
            Target::HttpSse { .. } => {
                let wire = HttpWire::for_target(target)?;
                Ok(Conn::Sse(SseWire::open(&wire, limit).await?))
            }
            _ => Conn::open(target),
        }
    }

    /// Sends `body` (raw bytes; a newline is added over stdio) with `headers` over HTTP, and
    /// reads until the response to `id` (when `id` is not null) or the limit.
    pub async fn exchange(
        &mut self,
        body: &[u8],
        id: &Value,
        headers: &[(String, String)],
        limit: Duration,
    ) -> Result<Exchange, String> {
        match self {
            Conn::Http(wire) => {
                let mut request = HttpRequest::post(body.to_vec());
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                let until = if id.is_null() {
                    Until::End
                } else {
                    Until::Response(id.clone())
                };
                let reply = wire.send(request, until, limit).await?;
                let response = if id.is_null() {
                    reply
                        .messages
                        .iter()
                        .find(|message| {
                            message.get("result").is_some() || message.get("error").is_some()
                        })
                        .cloned()
                } else {
                    reply.response(id).cloned()
                };
                let others = reply
                    .messages
                    .iter()
                    .filter(|message| Some(*message) != response.as_ref())
                    .cloned()
                    .collect();
                Ok(Exchange {
                    id: id.clone(),
                    response,
                    others,
                    stray: Vec::new(),
                    http: Some(reply),
                })
            }
            Conn::Stdio(wire) => stream_exchange(wire, body, id, limit).await,
            Conn::Sse(wire) => stream_exchange(wire, body, id, limit).await,
        }
    }

    /// Over stdio and HTTP+SSE, the messages that arrive within `limit` (for checks that
    /// expect none).
    pub async fn drain(&mut self, limit: Duration) -> Vec<Value> {
        match self {
            Conn::Stdio(wire) => drain(wire, limit).await,
            Conn::Sse(wire) => drain(wire, limit).await,
            Conn::Http(_) => Vec::new(),
        }
    }

    /// Ends the connection (a stdio server is stopped, an event stream closed).
    pub async fn close(self) {
        if let Conn::Stdio(wire) = self {
            wire.shut_down().await;
        }
    }
}

/// The messages of a streamed connection that arrive within `limit`.
async fn drain<W: MessageWire>(wire: &mut W, limit: Duration) -> Vec<Value> {
    {
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return seen;
            }
            match wire.next_message(left).await {
                Line::Text(text) => {
                    if let Ok(value) = serde_json::from_slice(&text) {
                        seen.push(value);
                    }
                }
                Line::TooLong(_) => {}
                Line::Closed | Line::TimedOut => return seen,
            }
        }
    }
}

/// When a read of a stdio server's lines stops (besides its time limit and the end of stdout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadUntil {
    /// At the response to the exchange's id.
    Own,
    /// At the first response of any id.
    Any,
    /// Only at the time limit.
    Limit,
}

/// Reads a stdio server's lines (or an HTTP+SSE server's events) into `exchange` until
/// `until` says or `limit` passes. The server's requests are answered with `answer` when
/// given; without it, only its `ping`s are (with `{}`).
pub(crate) async fn read_stdio<W: MessageWire>(
    wire: &mut W,
    exchange: &mut Exchange,
    limit: Duration,
    until: ReadUntil,
    answer: Option<fn(&Value) -> Value>,
) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let line = match wire.next_message(left).await {
            Line::Text(line) => line,
            Line::TooLong(start) => {
                exchange.stray.push(format!(
                    "a line longer than the limit: {}",
                    crate::clip(&String::from_utf8_lossy(&start))
                ));
                continue;
            }
            Line::Closed => {
                exchange
                    .stray
                    .push("the server closed its stdout (or event stream)".to_owned());
                return;
            }
            Line::TimedOut => return,
        };
        let Ok(message) = serde_json::from_slice::<Value>(&line) else {
            exchange
                .stray
                .push(crate::clip(&String::from_utf8_lossy(&line)));
            continue;
        };
        let is_response = message.get("result").is_some() || message.get("error").is_some();
        let stops = match until {
            ReadUntil::Own => message.get("id") == Some(&exchange.id),
            ReadUntil::Any => true,
            ReadUntil::Limit => false,
        };
        if is_response && stops {
            exchange.response = Some(message);
            return;
        }
        let is_request =
            message.get("method").is_some() && message.get("id").is_some_and(|id| !id.is_null());
        let reply = match answer {
            Some(answer) if is_request => Some(answer(&message)),
            None if is_request && message.get("method").and_then(Value::as_str) == Some("ping") => {
                Some(json!({"jsonrpc": "2.0", "id": message["id"], "result": {}}))
            }
            _ => None,
        };
        if let Some(reply) = reply {
            let _ = wire
                .send_message(reply.to_string().as_bytes(), Duration::from_secs(5))
                .await;
        }
        exchange.others.push(message);
    }
}

/// Sends raw bytes a server should refuse on a streamed connection, then a `ping`, so that
/// the server's answer to the ping bounds the wait: an error for the bytes comes before it
/// (or within a short while after it), or not at all.
async fn refused<W: MessageWire>(
    wire: &mut W,
    body: &[u8],
    limit: Duration,
) -> Result<Exchange, String> {
    let marker = json!("mcpwire-conformance-after");
    let posted = wire.send_message(body, limit).await?;
    wire.send_message(
        request_body(&marker, "ping", None).to_string().as_bytes(),
        limit,
    )
    .await?;
    let mut exchange = Exchange {
        id: marker.clone(),
        http: posted,
        ..Exchange::default()
    };
    read_stdio(wire, &mut exchange, limit, ReadUntil::Own, None).await;
    let ping = exchange.response.take();
    let mut late = Exchange::default();
    read_stdio(
        wire,
        &mut late,
        Duration::from_millis(100),
        ReadUntil::Any,
        None,
    )
    .await;
    exchange.others.extend(late.response);
    exchange.others.extend(late.others);
    exchange.response = exchange
        .others
        .iter()
        .position(|message| message.get("error").is_some() || message.get("result").is_some())
        .map(|index| exchange.others.remove(index));
    if ping.is_none() {
        exchange
            .stray
            .push("the server did not answer the `ping` sent after the bytes".to_owned());
    }
    Ok(exchange)
}

/// A JSON-RPC request body.
pub fn request_body(id: &Value, method: &str, params: Option<Value>) -> Value {
    let mut body = json!({"jsonrpc": "2.0", "id": id, "method": method});
    if let Some(params) = params {
        body["params"] = params;
    }
    body
}

/// A legacy session: a connection on which `initialize` succeeded.
#[derive(Debug)]
pub struct LegacySession {
    conn: Conn,
    /// The version the server chose.
    pub version: String,
    /// The `Mcp-Session-Id` the server gave, over HTTP.
    pub session_id: Option<String>,
    /// The `initialize` result.
    pub initialize: Value,
    /// The exchange of `initialize`, as seen.
    pub handshake: Exchange,
    /// The HTTP status of `notifications/initialized`, over HTTP.
    pub initialized_status: Option<u16>,
    next_id: i64,
    limit: Duration,
}

impl LegacySession {
    /// Opens a connection to `target` and initializes a session, asking for `version`.
    pub async fn open(
        target: &Target,
        version: &str,
        capabilities: Value,
        limit: Duration,
    ) -> Result<LegacySession, String> {
        let mut conn = Conn::connect(target, limit).await?;
        let id = json!(0);
        let body = request_body(
            &id,
            "initialize",
            Some(json!({
                "protocolVersion": version,
                "capabilities": capabilities,
                "clientInfo": client_info(),
            })),
        );
        let handshake = conn
            .exchange(body.to_string().as_bytes(), &id, &[], limit)
            .await?;
        let Some(initialize) = handshake.result().cloned() else {
            let seen = handshake.seen();
            conn.close().await;
            return Err(format!("`initialize` did not succeed: {seen}"));
        };
        let version = initialize
            .get("protocolVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let session_id = handshake
            .http
            .as_ref()
            .and_then(|http| http.header("mcp-session-id"))
            .map(str::to_owned);
        let mut session = LegacySession {
            conn,
            version,
            session_id,
            initialize,
            handshake,
            initialized_status: None,
            next_id: 1,
            limit,
        };
        let sent = session.notify("notifications/initialized", None).await?;
        session.initialized_status = sent.status();
        Ok(session)
    }

    /// The headers of a request in this session: its id, and the version from 2025-06-18 on.
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut headers = Vec::new();
        if let Some(id) = &self.session_id {
            headers.push(("mcp-session-id".to_owned(), id.clone()));
        }
        if self.version.as_str() >= "2025-06-18" {
            headers.push(("mcp-protocol-version".to_owned(), self.version.clone()));
        }
        headers
    }

    /// The next request id.
    pub fn next_id(&mut self) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        json!(id)
    }

    /// Sends a request and reads its response.
    pub async fn request(
        &mut self,
        method: &str,
        params: Option<Value>,
    ) -> Result<Exchange, String> {
        let id = self.next_id();
        let body = request_body(&id, method, params);
        self.send(&body, &id).await
    }

    /// Sends `body` as it is and reads the response to `id` (nothing to wait for when null).
    pub async fn send(&mut self, body: &Value, id: &Value) -> Result<Exchange, String> {
        self.send_raw(body.to_string().as_bytes(), id).await
    }

    /// Sends raw bytes as a message of the session.
    pub async fn send_raw(&mut self, body: &[u8], id: &Value) -> Result<Exchange, String> {
        let headers = self.headers();
        self.conn.exchange(body, id, &headers, self.limit).await
    }

    /// Sends raw bytes with the session's headers changed by `adjust`.
    pub async fn send_with_headers(
        &mut self,
        body: &[u8],
        id: &Value,
        adjust: impl FnOnce(&mut Vec<(String, String)>),
    ) -> Result<Exchange, String> {
        let mut headers = self.headers();
        adjust(&mut headers);
        self.conn.exchange(body, id, &headers, self.limit).await
    }

    /// Sends a notification. Over HTTP the exchange holds the answer (202 expected); over
    /// stdio nothing is read.
    pub async fn notify(
        &mut self,
        method: &str,
        params: Option<Value>,
    ) -> Result<Exchange, String> {
        let mut body = json!({"jsonrpc": "2.0", "method": method});
        if let Some(params) = params {
            body["params"] = params;
        }
        self.send_unanswered(body.to_string().as_bytes()).await
    }

    /// Sends raw bytes the server should refuse, and reads its answer. Over stdio a `ping`
    /// follows them, so that the server's answer to the ping bounds the wait: an error for the
    /// bytes comes before it (or within a short while after it), or not at all.
    pub async fn send_refused(&mut self, body: &[u8]) -> Result<Exchange, String> {
        let headers = self.headers();
        let limit = self.limit;
        match &mut self.conn {
            Conn::Stdio(wire) => refused(wire, body, limit).await,
            Conn::Sse(wire) => refused(wire, body, limit).await,
            Conn::Http(_) => {
                self.conn
                    .exchange(body, &Value::Null, &headers, self.limit)
                    .await
            }
        }
    }

    /// Sends raw bytes that expect no response (a notification, a response): over HTTP and
    /// HTTP+SSE the exchange holds the answer to the `POST`; over stdio nothing is read.
    pub async fn send_unanswered(&mut self, body: &[u8]) -> Result<Exchange, String> {
        let limit = self.limit;
        match &mut self.conn {
            Conn::Http(_) => {
                let headers = self.headers();
                self.conn
                    .exchange(body, &Value::Null, &headers, self.limit)
                    .await
            }
            Conn::Stdio(wire) => {
                let http = wire.send_message(body, limit).await?;
                Ok(Exchange {
                    http,
                    ..Exchange::default()
                })
            }
            Conn::Sse(wire) => {
                let http = wire.send_message(body, limit).await?;
                Ok(Exchange {
                    http,
                    ..Exchange::default()
                })
            }
        }
    }

    /// Over stdio, the messages that arrive within `limit`.
    pub async fn drain(&mut self, limit: Duration) -> Vec<Value> {
        self.conn.drain(limit).await
    }

    /// The connection, for checks that go below the session.
    pub fn conn(&mut self) -> &mut Conn {
        &mut self.conn
    }

    /// The HTTP endpoint, over HTTP.
    pub fn http(&self) -> Option<&HttpWire> {
        match &self.conn {
            Conn::Http(wire) => Some(wire),
            Conn::Stdio(_) | Conn::Sse(_) => None,
        }
    }

    /// Ends the session: `DELETE` over HTTP (its answer ignored), the process stopped over
    /// stdio.
    pub async fn close(self) {
        if let (Conn::Http(wire), Some(id)) = (&self.conn, &self.session_id) {
            let request = HttpRequest::bare(http::Method::DELETE)
                .header("mcp-session-id", id)
                .header("mcp-protocol-version", &self.version);
            let _ = wire.send(request, Until::End, Duration::from_secs(2)).await;
        }
        self.conn.close().await;
    }
}

/// The `Mcp-Name` of a modern request: the tool, prompt or resource it names.
pub fn modern_name(method: &str, params: Option<&Value>) -> Option<String> {
    let key = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" => "uri",
        "tasks/get" | "tasks/update" | "tasks/cancel" => "taskId",
        _ => return None,
    };
    params?.get(key)?.as_str().map(str::to_owned)
}

/// Adds the per-request `_meta` of a modern request to `params` (an object, or none).
pub fn with_modern_meta(params: Option<Value>, capabilities: Value) -> Value {
    let mut params = match params {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let meta = params
        .entry("_meta")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(meta) = meta {
        meta.entry(META_VERSION).or_insert_with(|| json!(MODERN));
        meta.entry(META_CAPABILITIES).or_insert(capabilities);
        meta.entry(META_CLIENT_INFO).or_insert_with(client_info);
    }
    Value::Object(params)
}

/// The headers of a modern request over HTTP: `MCP-Protocol-Version`, `Mcp-Method` and, when
/// the method names something, `Mcp-Name`.
pub fn modern_headers(method: &str, params: Option<&Value>) -> Vec<(String, String)> {
    let mut headers = vec![
        ("mcp-protocol-version".to_owned(), MODERN.to_owned()),
        ("mcp-method".to_owned(), method.to_owned()),
    ];
    if let Some(name) = modern_name(method, params) {
        headers.push(("mcp-name".to_owned(), header_value(&name)));
    }
    headers
}

/// A header value as the modern era writes it: as it is when it is plain visible ASCII
/// without leading or trailing space, else `=?base64?…?=`.
pub fn header_value(text: &str) -> String {
    use base64::Engine as _;
    let plain = !text.is_empty()
        && text.bytes().all(|byte| (0x20..0x7f).contains(&byte))
        && !text.starts_with(' ')
        && !text.ends_with(' ')
        && !text.starts_with("=?");
    if plain {
        text.to_owned()
    } else {
        format!(
            "=?base64?{}?=",
            base64::engine::general_purpose::STANDARD.encode(text)
        )
    }
}

/// A client of the modern era: each request stands alone, with its `_meta` and headers.
#[derive(Debug)]
pub struct Modern {
    conn: Conn,
    next_id: i64,
    limit: Duration,
}

impl Modern {
    /// A connection to `target` for modern requests (over stdio, a process of its own).
    pub fn open(target: &Target, limit: Duration) -> Result<Modern, String> {
        Ok(Modern {
            conn: Conn::open(target)?,
            next_id: 1,
            limit,
        })
    }

    /// The next request id.
    pub fn next_id(&mut self) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        json!(format!("m{id}"))
    }

    /// Sends a modern request with no client capabilities.
    pub async fn request(
        &mut self,
        method: &str,
        params: Option<Value>,
    ) -> Result<Exchange, String> {
        self.request_with(method, params, json!({})).await
    }

    /// Sends a modern request declaring `capabilities`.
    pub async fn request_with(
        &mut self,
        method: &str,
        params: Option<Value>,
        capabilities: Value,
    ) -> Result<Exchange, String> {
        let id = self.next_id();
        let params = with_modern_meta(params, capabilities);
        let headers = modern_headers(method, Some(&params));
        let body = request_body(&id, method, Some(params));
        self.conn
            .exchange(body.to_string().as_bytes(), &id, &headers, self.limit)
            .await
    }

    /// Sends `body` as it is with `headers` (over HTTP), reading the response to `id`.
    pub async fn send_raw(
        &mut self,
        body: &[u8],
        id: &Value,
        headers: &[(String, String)],
    ) -> Result<Exchange, String> {
        self.conn.exchange(body, id, headers, self.limit).await
    }

    /// The connection, for checks that go below the client.
    pub fn conn(&mut self) -> &mut Conn {
        &mut self.conn
    }

    /// Ends the connection.
    pub async fn close(self) {
        self.conn.close().await;
    }
}
