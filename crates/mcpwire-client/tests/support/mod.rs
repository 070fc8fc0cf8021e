//! A fake MCP server for the client's tests: an engine peer with a small hand-written handler
//! over the in-memory transport, which reports everything it receives.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different part.

pub mod script;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use mcpwire_client::{Client, ClientBuilder, EraChoice, Error};
use mcpwire_jsonrpc::{ErrorObject, Notification, RequestId};
use mcpwire_rpc::{Config, Handler, Peer, RequestContext};
use mcpwire_schema::v2025_11_25::Implementation;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// What the fake server saw.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Request {
        method: String,
        id: RequestId,
        params: Value,
    },
    Notification {
        method: String,
        params: Value,
    },
    /// A request's handler saw its cancellation token fire.
    HandlerCancelled(RequestId),
}

impl Event {
    pub fn method(&self) -> Option<&str> {
        match self {
            Event::Request { method, .. } | Event::Notification { method, .. } => Some(method),
            Event::HandlerCancelled(_) => None,
        }
    }
}

/// How the fake server behaves.
#[derive(Clone, Debug)]
pub struct Behaviour {
    /// The version `initialize` answers with; `None` echoes the client's.
    pub version: Option<String>,
    pub capabilities: Value,
    pub instructions: Option<String>,
    /// `tools/list` results by the cursor asked for (`None` for the first page).
    pub tool_pages: HashMap<Option<String>, Value>,
    /// Never answers `initialize`.
    pub hang_initialize: bool,
    /// `tools/list` always has a next page, with a fresh cursor.
    pub endless_tools: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            version: None,
            capabilities: json!({
                "tools": {"listChanged": true},
                "resources": {"subscribe": true},
                "prompts": {},
                "logging": {},
                "completions": {},
            }),
            instructions: Some("be kind".to_owned()),
            tool_pages: HashMap::new(),
            hang_initialize: false,
            endless_tools: false,
        }
    }
}

pub struct FakeServer {
    behaviour: Behaviour,
    events: mpsc::UnboundedSender<Event>,
}

fn raw(value: Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(&value).expect("JSON values encode")
}

fn tool(name: &str) -> Value {
    json!({"name": name, "inputSchema": {"type": "object"}})
}

/// A `tools/list` page with tools named `names` and the next cursor.
pub fn tools_page(names: &[&str], next_cursor: Option<&str>) -> Value {
    let mut page = json!({"tools": names.iter().map(|name| tool(name)).collect::<Vec<_>>()});
    if let Some(cursor) = next_cursor {
        page["nextCursor"] = json!(cursor);
    }
    page
}

impl Handler for FakeServer {
    async fn request(
        &self,
        params: Option<Box<RawValue>>,
        context: RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let params: Value = params
            .map(|params| serde_json::from_str(params.get()).expect("params are JSON"))
            .unwrap_or(Value::Null);
        let _ = self.events.send(Event::Request {
            method: context.method().to_owned(),
            id: context.id().clone(),
            params: params.clone(),
        });
        match context.method() {
            "initialize" if self.behaviour.hang_initialize => {
                context.cancellation().cancelled().await;
                Err(ErrorObject::internal_error("cancelled"))
            }
            "initialize" => {
                let version = self
                    .behaviour
                    .version
                    .clone()
                    .unwrap_or_else(|| params["protocolVersion"].as_str().unwrap().to_owned());
                let mut result = json!({
                    "protocolVersion": version,
                    "capabilities": self.behaviour.capabilities,
                    "serverInfo": {"name": "fake", "version": "0.0.1"},
                });
                if let Some(instructions) = &self.behaviour.instructions {
                    result["instructions"] = json!(instructions);
                }
                Ok(raw(result))
            }
            "ping" => Ok(raw(json!({}))),
            "tools/list" if self.behaviour.endless_tools => {
                let page: u64 = params["cursor"].as_str().map_or(0, |cursor| {
                    cursor.parse().expect("the fake server's own cursor")
                });
                let next = (page + 1).to_string();
                Ok(raw(tools_page(&[], Some(&next))))
            }
            "tools/list" => {
                let cursor = params["cursor"].as_str().map(str::to_owned);
                self.behaviour
                    .tool_pages
                    .get(&cursor)
                    .cloned()
                    .map(raw)
                    .ok_or_else(|| ErrorObject::invalid_params("unknown cursor"))
            }
            "tools/call" => self.call_tool(&params, &context).await,
            // Answers with the params it got, to show what was sent.
            "resources/read" | "prompts/get" | "completion/complete" | "vendor/echo" => {
                Ok(raw(echo_result(context.method(), &params)))
            }
            "resources/subscribe" | "resources/unsubscribe" | "logging/setLevel" => {
                Ok(raw(json!({})))
            }
            other => Err(ErrorObject::method_not_found(other)),
        }
    }

    async fn notification(&self, notification: Notification, _peer: &Peer) {
        let params = notification
            .params
            .map(|params| serde_json::from_str(params.get()).expect("params are JSON"))
            .unwrap_or(Value::Null);
        let _ = self.events.send(Event::Notification {
            method: notification.method,
            params,
        });
    }
}

fn echo_result(method: &str, params: &Value) -> Value {
    match method {
        "resources/read" => json!({"contents": [{"uri": params["uri"], "text": "contents"}]}),
        "prompts/get" => json!({
            "messages": [{"role": "user", "content": {"type": "text", "text": params.to_string()}}]
        }),
        "completion/complete" => json!({"completion": {"values": [params["argument"]["value"]]}}),
        _ => json!({"echo": params}),
    }
}

impl FakeServer {
    async fn call_tool(
        &self,
        params: &Value,
        context: &RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let arguments = &params["arguments"];
        let text = |text: String| raw(json!({"content": [{"type": "text", "text": text}]}));
        match params["name"].as_str() {
            Some("echo") => Ok(text(arguments.to_string())),
            // Sends `steps` progress updates `interval_secs` apart, then answers.
            Some("progress") => {
                let token = params["_meta"]["progressToken"].clone();
                let steps = arguments["steps"].as_u64().unwrap_or(3);
                let interval =
                    Duration::from_secs(arguments["interval_secs"].as_u64().unwrap_or(0));
                for step in 1..=steps {
                    tokio::time::sleep(interval).await;
                    let update = json!({
                        "progressToken": token,
                        "progress": step,
                        "total": steps,
                        "message": format!("step {step}"),
                    });
                    context
                        .notify_raw("notifications/progress", Some(raw(update)))
                        .await
                        .map_err(|error| ErrorObject::internal_error(error.to_string()))?;
                }
                tokio::time::sleep(interval).await;
                Ok(text("done".to_owned()))
            }
            // Waits until cancelled.
            Some("block") => {
                context.cancellation().cancelled().await;
                let _ = self
                    .events
                    .send(Event::HandlerCancelled(context.id().clone()));
                Err(ErrorObject::internal_error("cancelled"))
            }
            Some("failing") => Ok(raw(json!({
                "content": [{"type": "text", "text": "it broke"}],
                "isError": true,
            }))),
            _ => Err(ErrorObject::invalid_params("unknown tool")),
        }
    }
}

/// The fake server's side of a connection.
pub struct Fake {
    pub peer: Peer,
    pub events: mpsc::UnboundedReceiver<Event>,
}

impl Fake {
    /// The next event, which must arrive (the test fails rather than hangs otherwise).
    pub async fn next_event(&mut self) -> Event {
        tokio::time::timeout(Duration::from_secs(600), self.events.recv())
            .await
            .expect("the fake server sees an event in time")
            .expect("the fake server is running")
    }

    /// The events left once the connection has ended, at most 100.
    pub async fn remaining_events(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        while events.len() < 100 {
            match tokio::time::timeout(Duration::from_secs(600), self.events.recv()).await {
                Ok(Some(event)) => events.push(event),
                Ok(None) => return events,
                Err(_) => panic!("the fake server's connection did not end in time"),
            }
        }
        events
    }

    /// Skips events until one with `method`, looking at most at 100 events.
    pub async fn event_for(&mut self, method: &str) -> Event {
        for _ in 0..100 {
            let event = self.next_event().await;
            if event.method() == Some(method) {
                return event;
            }
        }
        panic!("no {method} event among the next 100");
    }
}

/// Starts a fake server with `behaviour` and returns its side and the client's transport.
pub fn fake_server(behaviour: Behaviour) -> (Fake, mcpwire_transport::MemoryTransport) {
    let (client_end, server_end) = mcpwire_transport::duplex(64);
    let (events, receiver) = mpsc::unbounded_channel();
    let server = FakeServer { behaviour, events };
    // No cancellation protocol on the server side: `notifications/cancelled` reaches the
    // handler, so tests can read it as sent. Cancellation reaches handlers through the
    // `block` tool's token only when the connection closes.
    let peer = Peer::start(server_end, server, Config::default());
    (
        Fake {
            peer,
            events: receiver,
        },
        client_end,
    )
}

pub fn client_info() -> Implementation {
    Implementation::new("test-client", "1.0.0")
}

/// A builder for the legacy era: the fake server speaks it, and these suites test it without
/// the `server/discover` probe in front (`tests/era.rs` covers the probe).
pub fn builder() -> ClientBuilder {
    mcpwire_client::ClientBuilder::new(client_info()).era(EraChoice::Legacy)
}

/// Connects a client made by `builder` to a fake server with `behaviour`, and consumes the
/// handshake's events.
pub async fn connect(behaviour: Behaviour, builder: ClientBuilder) -> (Client, Fake) {
    let (mut fake, transport) = fake_server(behaviour);
    let client = builder
        .connect(transport)
        .await
        .expect("handshake succeeds");
    fake.event_for("notifications/initialized").await;
    (client, fake)
}

/// Shares a value with callbacks.
pub fn shared<T>(value: T) -> Arc<std::sync::Mutex<T>> {
    Arc::new(std::sync::Mutex::new(value))
}

pub fn expect_error<T: std::fmt::Debug>(outcome: Result<T, Error>) -> Error {
    outcome.expect_err("the call fails")
}
