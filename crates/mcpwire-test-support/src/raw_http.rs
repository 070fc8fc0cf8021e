//! Raw HTTP exchanges with one server, written and read by hand over a connection of their
//! own: for the tests that must choose which instance of a deployment each request reaches
//! (past the balancer), and read an SSE answer event by event.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// How long any read of a test waits.
const STEP: Duration = Duration::from_secs(20);

/// An HTTP exchange with one instance over a connection of its own, read as it comes.
pub struct Exchange {
    stream: TcpStream,
    /// What was read so far: the head, then the body as it arrived.
    pub text: String,
}

impl Exchange {
    /// Sends `request` (head and body) to `address`.
    async fn send(address: SocketAddr, request: String) -> Exchange {
        let mut stream = TcpStream::connect(address)
            .await
            .expect("the instance listens");
        stream.write_all(request.as_bytes()).await.expect("sent");
        Exchange {
            stream,
            text: String::new(),
        }
    }

    /// A POST of `body`, in `session` when given.
    pub async fn post(address: SocketAddr, session: Option<&str>, body: &Value) -> Exchange {
        let body = body.to_string();
        Exchange::send(
            address,
            format!(
                "POST /mcp HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
                 Accept: application/json, text/event-stream\r\n{}\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                session_headers(session),
                body.len()
            ),
        )
        .await
    }

    /// A POST of a modern (2026-07-28) request: `body` with its `MCP-Protocol-Version`,
    /// `Mcp-Method` and, when given, `Mcp-Name` headers.
    pub async fn post_modern(
        address: SocketAddr,
        method: &str,
        name: Option<&str>,
        body: &Value,
    ) -> Exchange {
        let body = body.to_string();
        let name = name
            .map(|name| format!("Mcp-Name: {name}\r\n"))
            .unwrap_or_default();
        Exchange::send(
            address,
            format!(
                "POST /mcp HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
                 Accept: application/json, text/event-stream\r\n\
                 MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: {method}\r\n{name}\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
        .await
    }

    /// The JSON body of a whole response that is one JSON document.
    pub fn json_body(&self) -> Value {
        let body = self
            .text
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body);
        serde_json::from_str(body)
            .unwrap_or_else(|error| panic!("a JSON body ({error}): {}", self.text))
    }

    /// A GET of the session's standalone stream, or with `Last-Event-ID` a resumption.
    pub async fn get(address: SocketAddr, session: &str, last_event_id: Option<&str>) -> Exchange {
        let resume = last_event_id
            .map(|id| format!("Last-Event-ID: {id}\r\n"))
            .unwrap_or_default();
        Exchange::send(
            address,
            format!(
                "GET /mcp HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n{}\
                 {resume}Connection: close\r\n\r\n",
                session_headers(Some(session))
            ),
        )
        .await
    }

    /// A DELETE of the session.
    pub async fn delete(address: SocketAddr, session: &str) -> Exchange {
        Exchange::send(
            address,
            format!(
                "DELETE /mcp HTTP/1.1\r\nHost: {address}\r\n{}Connection: close\r\n\r\n",
                session_headers(Some(session))
            ),
        )
        .await
    }

    /// A POST whose whole response is read: its status and text.
    pub async fn answer(address: SocketAddr, session: Option<&str>, body: &Value) -> (u16, String) {
        let mut exchange = Exchange::post(address, session, body).await;
        exchange.read_to_end().await;
        (exchange.status(), exchange.text)
    }

    /// A POST of the request `body`, read to its end: the JSON-RPC response with the request's
    /// id, from a JSON body or from the events of an SSE one.
    pub async fn response(address: SocketAddr, session: Option<&str>, body: &Value) -> Value {
        let (status, text) = Exchange::answer(address, session, body).await;
        assert_eq!(status, 200, "{text}");
        let id = &body["id"];
        let payload = text
            .split_once("\r\n\r\n")
            .map_or("", |(_, payload)| payload);
        std::iter::once(payload)
            .chain(
                payload
                    .lines()
                    .filter_map(|line| line.strip_prefix("data:")),
            )
            .filter_map(|json| serde_json::from_str::<Value>(json.trim()).ok())
            .find(|message| &message["id"] == id)
            .unwrap_or_else(|| panic!("no response with id {id}: {text}"))
    }

    /// Reads until `needle` was seen `times` times in all.
    pub async fn until(&mut self, needle: &str, times: usize) {
        tokio::time::timeout(STEP, async {
            while self.text.matches(needle).count() < times {
                let mut buffer = [0u8; 4096];
                let read = self.stream.read(&mut buffer).await.expect("reads");
                assert!(read > 0, "the response ended early: {}", self.text);
                self.text
                    .push_str(&String::from_utf8_lossy(&buffer[..read]));
            }
        })
        .await
        .unwrap_or_else(|_| panic!("`{needle}` was not seen {times} times: {}", self.text));
    }

    /// Reads to the end of the response.
    pub async fn read_to_end(&mut self) {
        let mut rest = Vec::new();
        tokio::time::timeout(STEP, self.stream.read_to_end(&mut rest))
            .await
            .expect("the response ends in time")
            .expect("reads");
        self.text.push_str(&String::from_utf8_lossy(&rest));
    }

    /// The status code of the response.
    pub fn status(&self) -> u16 {
        self.text
            .get(9..12)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("a status line: {}", self.text))
    }

    /// What was read up to the end of the last whole event.
    fn whole_events(&self) -> &str {
        self.text.rfind("\n\n").map_or("", |end| &self.text[..end])
    }

    /// The numbers `N` of the members `"key":N` in the whole events read, in order.
    pub fn numbers(&self, key: &str) -> Vec<u64> {
        self.whole_events()
            .split(&format!("\"{key}\":"))
            .skip(1)
            .filter_map(|rest| {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            })
            .collect()
    }

    /// The id of the last whole event read.
    pub fn last_event_id(&self) -> String {
        self.whole_events()
            .lines()
            .rev()
            .find_map(|line| line.strip_prefix("id: "))
            .expect("an event with an id")
            .trim()
            .to_owned()
    }

    /// The `Mcp-Session-Id` of the response's head.
    pub fn session(&self) -> String {
        self.text
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("mcp-session-id")
                    .then(|| value.trim().to_owned())
            })
            .expect("the response names its session")
    }
}

/// The headers of a request in `session`, if any.
fn session_headers(session: Option<&str>) -> String {
    session
        .map(|session| format!("Mcp-Session-Id: {session}\r\nMCP-Protocol-Version: 2025-11-25\r\n"))
        .unwrap_or_default()
}

/// A legacy session made with `initialize` on `made` and initialized on `other`.
pub async fn legacy_session(made: SocketAddr, other: SocketAddr) -> String {
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1.0.0"}}});
    let mut made = Exchange::post(made, None, &initialize).await;
    made.read_to_end().await;
    assert_eq!(made.status(), 200, "{}", made.text);
    let session = made.session();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let (status, text) = Exchange::answer(other, Some(&session), &initialized).await;
    assert_eq!(status, 202, "{text}");
    session
}
