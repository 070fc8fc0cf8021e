//! One tool handler, written once, that elicits, samples and lists roots, driven by the real
//! client in both eras over stdio and over Streamable HTTP: in the legacy era it asks through
//! server-to-client requests, in the modern era through `InputRequiredResult` rounds, and the
//! client's handlers answer either way.

#![cfg(feature = "http")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mcpwire_client::{Client, EraChoice, ErrorObject, RequestContext};
use mcpwire_schema::Era;
use mcpwire_server::{Context, HttpConfig, Server, Tool, ToolError, types};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// How the client reaches the server.
#[derive(Clone, Copy, Debug)]
enum Wire {
    /// stdio framing over an in-memory pipe.
    Stdio,
    /// Streamable HTTP on a loopback port.
    Http,
}

/// The handler under test: three questions, one after the other.
async fn ask_everything(_: Map<String, Value>, context: Context) -> Result<String, ToolError> {
    let answer = context
        .elicit(decode(json!({
            "message": "What is your name?",
            "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
        })))
        .await?;
    let name = match answer
        .content
        .as_ref()
        .and_then(|content| content.get("name"))
    {
        Some(types::ElicitResultContentValue::String(name)) => name.clone(),
        other => return Err(ToolError::new(format!("no name: {other:?}"))),
    };
    let sampled = context
        .create_message(decode(json!({
            "messages": [{"role": "user", "content": {"type": "text", "text": "Greet them"}}],
            "maxTokens": 20
        })))
        .await?;
    let greeting = match &sampled.content {
        types::CreateMessageResultContent::Object(
            types::SamplingMessageContentBlock::TextContent(text),
        ) => text.text.clone(),
        other => format!("{other:?}"),
    };
    let roots = context.list_roots().await?;
    let roots: Vec<_> = roots.roots.iter().map(|root| root.uri.as_str()).collect();
    Ok(format!("{name} / {greeting} / {}", roots.join(",")))
}

fn decode<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("valid params")
}

fn server() -> Server {
    Server::builder("one-handler", "1.0.0")
        .tool(Tool::typed("ask_everything", ask_everything))
        .build()
        .expect("the server builds")
}

/// How often each of the client's handlers ran.
#[derive(Default)]
struct Handled {
    elicitation: AtomicUsize,
    sampling: AtomicUsize,
    roots: AtomicUsize,
}

impl Handled {
    fn counts(&self) -> [usize; 3] {
        [
            self.elicitation.load(Ordering::SeqCst),
            self.sampling.load(Ordering::SeqCst),
            self.roots.load(Ordering::SeqCst),
        ]
    }
}

/// A client in `era` with the three handlers, each counting its runs.
fn client(era: EraChoice, handled: &Arc<Handled>) -> mcpwire_client::ClientBuilder {
    let (elicited, sampled, listed) = (
        Arc::clone(handled),
        Arc::clone(handled),
        Arc::clone(handled),
    );
    Client::builder("one-handler-client", "1.0.0")
        .era(era)
        .elicitation(move |_: types::ElicitRequestParams, _: RequestContext| {
            elicited.elicitation.fetch_add(1, Ordering::SeqCst);
            async move {
                Ok::<_, ErrorObject>(decode::<types::ElicitResult>(
                    json!({"action": "accept", "content": {"name": "Ada"}}),
                ))
            }
        })
        .sampling(
            move |_: types::CreateMessageRequestParams, _: RequestContext| {
                sampled.sampling.fetch_add(1, Ordering::SeqCst);
                async move {
                    Ok::<_, ErrorObject>(decode::<types::CreateMessageResult>(json!({
                        "role": "assistant",
                        "content": {"type": "text", "text": "Hello there"},
                        "model": "test-model",
                        "stopReason": "endTurn"
                    })))
                }
            },
        )
        .roots(move |_| {
            listed.roots.fetch_add(1, Ordering::SeqCst);
            async {
                Ok::<_, ErrorObject>(vec![types::Root {
                    meta: None,
                    name: None,
                    uri: "file:///work".to_owned(),
                }])
            }
        })
}

/// Calls the handler through `wire` in `era` and checks what the user of the client sees.
async fn check(wire: Wire, era: Era) {
    let server = server();
    let handled = Arc::new(Handled::default());
    let choice = match era {
        Era::Legacy => EraChoice::Legacy,
        Era::Modern => EraChoice::Modern,
    };
    let builder = client(choice, &handled);
    let (_stop, stopped) = oneshot::channel::<()>();
    let (client, _session) = match wire {
        Wire::Stdio => {
            let (client_pipe, server_pipe) = tokio::io::duplex(64 * 1024);
            let (server_read, server_write) = tokio::io::split(server_pipe);
            let (client_read, client_write) = tokio::io::split(client_pipe);
            let session = server.serve(mcpwire_stdio::StdioTransport::new(
                server_read,
                server_write,
            ));
            let transport = mcpwire_stdio::StdioTransport::new(client_read, client_write);
            let client = builder.connect(transport).await.expect("connects");
            (client, Some(session))
        }
        Wire::Http => {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
            let address = listener.local_addr().expect("an address");
            let serving = server.clone();
            tokio::spawn(async move {
                serving
                    .serve_http(listener)
                    .config(HttpConfig::default())
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
            });
            let transport =
                mcpwire_http::client::HttpClientBuilder::new(format!("http://{address}/mcp"))
                    .with_fallback()
                    .expect("an HTTP transport");
            let client = builder.connect(transport).await.expect("connects");
            (client, None)
        }
    };
    assert_eq!(client.era(), era, "{wire:?}");
    let result = client
        .call_tool("ask_everything", json!({}))
        .await
        .unwrap_or_else(|error| panic!("{wire:?} {era:?}: {error}"));
    assert_eq!(result.is_error, None, "{wire:?} {era:?}: {result:?}");
    let Some(types::ContentBlock::TextContent(content)) = result.content.first() else {
        panic!("a text result: {result:?}");
    };
    assert_eq!(content.text, "Ada / Hello there / file:///work");
    // Each question was put to the user's handler once, whatever the era: the modern era's
    // replays of the handler do not ask again.
    assert_eq!(handled.counts(), [1, 1, 1], "{wire:?} {era:?}");
}

#[tokio::test]
async fn legacy_over_stdio() {
    check(Wire::Stdio, Era::Legacy).await;
}

#[tokio::test]
async fn modern_over_stdio() {
    check(Wire::Stdio, Era::Modern).await;
}

#[tokio::test]
async fn legacy_over_http() {
    check(Wire::Http, Era::Legacy).await;
}

#[tokio::test]
async fn modern_over_http() {
    check(Wire::Http, Era::Modern).await;
}
