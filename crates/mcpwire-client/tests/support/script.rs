//! A scripted peer: the test plays the server with raw JSON messages over the in-memory
//! transport, to check exactly what the client sends and to answer anything at all.

use std::time::Duration;

use mcpwire_client::{Client, ClientBuilder, Error};
use mcpwire_jsonrpc::Message;
use mcpwire_transport::{
    Inbound, MemoryReceiver, MemorySender, MemoryTransport, MessageReceiver, MessageSender,
    SendOptions, Transport,
};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// How long the script waits for the client's next message before the test fails.
const PATIENCE: Duration = Duration::from_secs(600);

/// The modern version the client speaks.
pub const MODERN: &str = "2026-07-28";

/// The server's side of a connection, message by message.
pub struct Script {
    sender: MemorySender,
    receiver: MemoryReceiver,
}

/// Starts a script and returns it with the client's transport.
pub fn scripted() -> (Script, MemoryTransport) {
    let (client_end, server_end) = mcpwire_transport::duplex(64);
    let (sender, receiver) = server_end.split();
    (Script { sender, receiver }, client_end)
}

/// Connects a client made by `builder` on `transport`, in a task, while the script answers.
pub fn spawn_connect(
    builder: ClientBuilder,
    transport: MemoryTransport,
) -> JoinHandle<Result<Client, Error>> {
    tokio::spawn(builder.connect(transport))
}

/// The result a modern server sends to `server/discover`.
pub fn discovery(capabilities: Value) -> Value {
    json!({
        "resultType": "complete",
        "supportedVersions": [MODERN],
        "capabilities": capabilities,
        "instructions": "modern and kind",
        "ttlMs": 0,
        "cacheScope": "private",
        "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "scripted", "version": "2.0.0"}},
    })
}

/// The capabilities the scripted servers declare unless a test says otherwise.
pub fn all_capabilities() -> Value {
    json!({
        "tools": {"listChanged": true},
        "resources": {"subscribe": true, "listChanged": true},
        "prompts": {},
        "logging": {},
        "completions": {},
    })
}

impl Script {
    /// The client's next message, as JSON.
    pub async fn receive(&mut self) -> Value {
        let received = tokio::time::timeout(PATIENCE, self.receiver.receive())
            .await
            .expect("the client sends a message in time");
        match received {
            Some(Ok(Inbound::Message(message))) => {
                serde_json::from_slice(&message.to_vec()).expect("messages are JSON")
            }
            other => panic!("expected a message from the client, got {other:?}"),
        }
    }

    /// The client's next message, which must be a request for `method`.
    pub async fn request(&mut self, method: &str) -> Value {
        let message = self.receive().await;
        assert_eq!(message["method"], method, "{message}");
        assert!(
            message.get("id").is_some(),
            "a request has an id: {message}"
        );
        message
    }

    /// Waits until the client has closed the connection, returning what it sent meanwhile
    /// (at most 100 messages).
    pub async fn remaining(&mut self) -> Vec<Value> {
        let mut messages = Vec::new();
        while messages.len() < 100 {
            let received = tokio::time::timeout(PATIENCE, self.receiver.receive())
                .await
                .expect("the client closes in time");
            match received {
                Some(Ok(Inbound::Message(message))) => messages
                    .push(serde_json::from_slice(&message.to_vec()).expect("messages are JSON")),
                None => break,
                other => panic!("unexpected inbound {other:?}"),
            }
        }
        messages
    }

    /// Sends a raw JSON-RPC message.
    pub async fn send(&mut self, message: Value) {
        let message = Message::parse(message.to_string().as_bytes())
            .expect("the script sends valid JSON-RPC");
        self.sender
            .send(message, SendOptions::default())
            .await
            .expect("the client is connected");
    }

    /// Answers `request` with `result`.
    pub async fn respond(&mut self, request: &Value, result: Value) {
        self.send(json!({"jsonrpc": "2.0", "id": request["id"], "result": result}))
            .await;
    }

    /// Answers `request` with an error.
    pub async fn fail(&mut self, request: &Value, code: i64, data: Option<Value>) {
        let mut error = json!({"code": code, "message": "scripted failure"});
        if let Some(data) = data {
            error["data"] = data;
        }
        self.send(json!({"jsonrpc": "2.0", "id": request["id"], "error": error}))
            .await;
    }

    /// Sends a notification.
    pub async fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}))
            .await;
    }

    /// Answers the client's `server/discover` with [`discovery`] of `capabilities`, returning
    /// the request.
    pub async fn discover(&mut self, capabilities: Value) -> Value {
        let request = self.request("server/discover").await;
        self.respond(&request, discovery(capabilities)).await;
        request
    }

    /// Plays a legacy server's handshake: answers `initialize` and reads
    /// `notifications/initialized`. Returns the `initialize` request.
    pub async fn initialize(&mut self) -> Value {
        let request = self.request("initialize").await;
        let result = json!({
            "protocolVersion": request["params"]["protocolVersion"],
            "capabilities": all_capabilities(),
            "serverInfo": {"name": "legacy", "version": "1.0.0"},
        });
        self.respond(&request, result).await;
        let initialized = self.receive().await;
        assert_eq!(initialized["method"], "notifications/initialized");
        request
    }
}

/// Connects a modern client made by `builder` to a script that answers discovery with
/// `capabilities`.
pub async fn modern_client(builder: ClientBuilder, capabilities: Value) -> (Client, Script) {
    let (mut script, transport) = scripted();
    let connecting = spawn_connect(builder, transport);
    script.discover(capabilities).await;
    let client = connecting
        .await
        .expect("the connecting task ends")
        .expect("discovery succeeds");
    (client, script)
}

/// Lists the tools with `client` while the script answers that there are none, and returns
/// the `tools/list` request, which must be the next message the client sends.
pub async fn list_tools_answered(client: &Client, script: &mut Script) -> Value {
    let listing = {
        let client = client.clone();
        tokio::spawn(async move { client.list_tools().await })
    };
    let request = script.request("tools/list").await;
    script.respond(&request, json!({"tools": []})).await;
    listing
        .await
        .expect("the listing task ends")
        .expect("the tools are listed");
    request
}

/// The `_meta` members every modern request of the test client carries, for a client that
/// registered no handlers.
pub fn envelope() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "test-client", "version": "1.0.0"},
    })
}
