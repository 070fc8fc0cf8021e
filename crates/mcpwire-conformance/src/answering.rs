//! A request during which the suite plays the client's part: it answers the server's own
//! requests (`sampling/createMessage`, `elicitation/create`, `ping`) as they arrive, on the
//! request's stream and, over HTTP, on the session's standalone stream, as the official
//! suite's client does.

use std::time::Duration;

use bytes::BytesMut;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::session::{
    Conn, Exchange, LegacySession, MessageWire, ReadUntil, read_stdio, request_body,
};
use crate::wire::http::{HttpRequest, HttpWire, Until};
use crate::wire::sse::SseReader;

/// How the suite answers one request of the server: given the request, the JSON-RPC response
/// to send back (with the request's id).
pub type Answer = fn(&Value) -> Value;

/// The JSON-RPC error code of a method the client does not handle.
const METHOD_NOT_FOUND: i64 = -32601;

/// The answer of a client that handles nothing but `ping`: `{}` to a ping, a "method not
/// found" error to anything else.
pub fn only_ping(request: &Value) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    if request.get("method").and_then(Value::as_str) == Some("ping") {
        return json!({"jsonrpc": "2.0", "id": id, "result": {}});
    }
    error_response(request, METHOD_NOT_FOUND, "Method not found")
}

/// A JSON-RPC error in answer to `request`.
pub fn error_response(request: &Value, code: i64, message: &str) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// A successful JSON-RPC response to `request`.
pub fn result_response(request: &Value, result: Value) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// Whether `message` is a request of the server (a method and an id).
fn is_server_request(message: &Value) -> bool {
    message.get("method").is_some() && message.get("id").is_some_and(|id| !id.is_null())
}

/// Whether `message` is a response (a result or an error).
fn is_response(message: &Value) -> bool {
    message.get("result").is_some() || message.get("error").is_some()
}

/// Sends `method` in `session` and reads until its response, answering each request of the
/// server with `answer`, within `limit`; after the response, keeps listening for `linger` (over stdio, and on
/// the standalone stream over HTTP). The exchange's `others` hold every other message seen,
/// the server's requests among them, in the order they came (over HTTP, the standalone
/// stream's after the request's own).
///
/// # Errors
///
/// When the request cannot be sent or the answer's head does not come in time.
pub async fn request_answering(
    session: &mut LegacySession,
    method: &str,
    params: Option<Value>,
    answer: Answer,
    limit: Duration,
    linger: Duration,
) -> Result<Exchange, String> {
    let id = session.next_id();
    let body = request_body(&id, method, params);
    send_answering(session, &id, &body, answer, limit, linger).await
}

/// Sends `body`, a request with `id` that the caller built (to name its id inside its
/// params, say), and reads as [`request_answering`] does.
///
/// # Errors
///
/// When the request cannot be sent or the answer's head does not come in time.
pub async fn send_answering(
    session: &mut LegacySession,
    id: &Value,
    body: &Value,
    answer: Answer,
    limit: Duration,
    linger: Duration,
) -> Result<Exchange, String> {
    let headers = session.headers();
    match session.conn() {
        Conn::Http(wire) => {
            let wire = wire.clone();
            let listener = StandaloneListener::open(&wire, &headers, answer, limit + linger);
            let mut exchange = post_answering(&wire, &headers, body, id, answer, limit).await;
            if let Ok(exchange) = &mut exchange {
                exchange.others.extend(listener.finish(linger).await);
            }
            exchange
        }
        Conn::Stdio(wire) => streamed_answering(wire, id, body, answer, limit, linger).await,
        Conn::Sse(wire) => streamed_answering(wire, id, body, answer, limit, linger).await,
    }
}

/// [`send_answering`] on a stdio or HTTP+SSE connection.
async fn streamed_answering<W: MessageWire>(
    wire: &mut W,
    id: &Value,
    body: &Value,
    answer: Answer,
    limit: Duration,
    linger: Duration,
) -> Result<Exchange, String> {
    let http = wire
        .send_message(body.to_string().as_bytes(), limit)
        .await?;
    let mut exchange = Exchange {
        id: id.clone(),
        http,
        ..Exchange::default()
    };
    read_stdio(wire, &mut exchange, limit, ReadUntil::Own, Some(answer)).await;
    if exchange.response.is_some() && !linger.is_zero() {
        read_stdio(wire, &mut exchange, linger, ReadUntil::Limit, Some(answer)).await;
    }
    Ok(exchange)
}

/// POSTs `body` and reads its answer as it arrives, answering the server's requests with
/// further POSTs, until the response to `id`, the end of the body, or `limit`.
async fn post_answering(
    wire: &HttpWire,
    headers: &[(String, String)],
    body: &Value,
    id: &Value,
    answer: Answer,
    limit: Duration,
) -> Result<Exchange, String> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut request = HttpRequest::post(body.to_string());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = wire.open_to(None, request, deadline).await?;
    let (parts, mut incoming) = response.into_parts();
    let mut exchange = Exchange {
        id: id.clone(),
        ..Exchange::default()
    };
    let sse = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("text/event-stream"));
    let mut reader = SseReader::default();
    let mut read = BytesMut::new();
    let mut messages = Vec::new();
    let mut ended = false;
    let mut timed_out = false;
    while exchange.response.is_none() {
        let frame = match tokio::time::timeout_at(deadline, incoming.frame()).await {
            Err(_) => {
                timed_out = true;
                break;
            }
            Ok(None) => {
                ended = true;
                break;
            }
            Ok(Some(Err(error))) => {
                exchange
                    .stray
                    .push(format!("the body ended in an error: {error}"));
                break;
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        read.extend_from_slice(&data);
        if !sse {
            continue;
        }
        for event in reader.feed(&data) {
            if event.data.is_empty() {
                continue;
            }
            let Ok(message) = serde_json::from_str::<Value>(&event.data) else {
                exchange.stray.push(crate::clip(&event.data));
                continue;
            };
            messages.push(message.clone());
            if is_response(&message) && message.get("id") == Some(id) {
                exchange.response = Some(message);
                continue;
            }
            if is_server_request(&message) {
                post_answer(wire, headers, &answer(&message), deadline).await;
            }
            exchange.others.push(message);
        }
    }
    let body = read.freeze();
    if !sse && let Ok(message) = serde_json::from_slice::<Value>(&body) {
        messages.push(message.clone());
        if is_response(&message) && message.get("id") == Some(id) {
            exchange.response = Some(message);
        } else {
            exchange.others.push(message);
        }
    }
    exchange.http = Some(crate::wire::http::HttpReply {
        status: parts.status,
        headers: parts.headers,
        body,
        events: Vec::new(),
        messages,
        malformed: Vec::new(),
        ended,
        timed_out,
    });
    Ok(exchange)
}

/// POSTs the suite's answer to a request of the server; what the server says back (202
/// expected) is not the suite's concern here.
async fn post_answer(
    wire: &HttpWire,
    headers: &[(String, String)],
    response: &Value,
    deadline: tokio::time::Instant,
) {
    let mut request = HttpRequest::post(response.to_string());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let limit = deadline.saturating_duration_since(tokio::time::Instant::now());
    let _ = wire.send(request, Until::End, limit).await;
}

/// The session's standalone SSE stream (a GET), read in a task of its own while a request
/// is answered, its server requests answered too; a server that refuses the GET (405) leaves
/// it empty.
struct StandaloneListener {
    task: tokio::task::JoinHandle<()>,
    messages: mpsc::UnboundedReceiver<Value>,
}

impl StandaloneListener {
    /// Opens the stream for at most `limit`.
    fn open(
        wire: &HttpWire,
        headers: &[(String, String)],
        answer: Answer,
        limit: Duration,
    ) -> StandaloneListener {
        let (sender, messages) = mpsc::unbounded_channel();
        let wire = wire.clone();
        let headers = headers.to_vec();
        let task = tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + limit;
            let mut request = HttpRequest::get();
            for (name, value) in &headers {
                request = request.header(name, value);
            }
            let Ok(response) = wire.open_to(None, request, deadline).await else {
                return;
            };
            if !response.status().is_success() {
                return;
            }
            let mut incoming = response.into_body();
            let mut reader = SseReader::default();
            while let Ok(Some(Ok(frame))) =
                tokio::time::timeout_at(deadline, incoming.frame()).await
            {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                for event in reader.feed(&data) {
                    let Ok(message) = serde_json::from_str::<Value>(&event.data) else {
                        continue;
                    };
                    if is_server_request(&message) {
                        post_answer(&wire, &headers, &answer(&message), deadline).await;
                    }
                    if sender.send(message).is_err() {
                        return;
                    }
                }
            }
        });
        StandaloneListener { task, messages }
    }

    /// Waits `linger` more, stops the stream and returns what it brought.
    async fn finish(mut self, linger: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + linger;
        let mut seen = Vec::new();
        while let Ok(Some(message)) = tokio::time::timeout_at(deadline, self.messages.recv()).await
        {
            seen.push(message);
        }
        self.task.abort();
        while let Ok(message) = self.messages.try_recv() {
            seen.push(message);
        }
        seen
    }
}
