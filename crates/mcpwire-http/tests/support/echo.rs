//! A real mcpwire server with an `echo` tool behind `StreamableHttpService`, for the tests
//! that drive the whole stack: the mcpwire client, the client transport, and the server.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use mcpwire_http::server::{Config, HttpSessionTransport, StreamableHttpService, serve};
use mcpwire_schema::v2025_11_25::{CallToolResult, ContentBlock, Implementation};
use mcpwire_server::{Server, Session, Tool, ToolBuilder, ToolError};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Echo {
    text: String,
}

/// A tool named `name` that answers with its `text` argument.
pub fn echo_tool(name: &str) -> ToolBuilder {
    Tool::typed(name, |arguments: Echo| async move {
        Ok::<_, ToolError>(arguments.text)
    })
}

/// The server role with one tool, `echo`.
pub fn echo_server() -> Server {
    Server::builder("http-echo-test", "1.0.0")
        .tool(echo_tool("echo"))
        .build()
        .expect("the server builds")
}

/// The endpoint serving `server` with `config`, and the server sessions it starts, in
/// order.
pub fn echo_service(server: &Server, config: Config) -> (StreamableHttpService, Sessions) {
    let sessions = Sessions::default();
    let started = sessions.clone();
    let server = server.clone();
    let service = StreamableHttpService::new(config, move |transport: HttpSessionTransport| {
        let session = server.serve(transport);
        started.0.lock().unwrap().push(session);
    });
    (service, sessions)
}

/// The server sessions an endpoint started, in order.
#[derive(Clone, Default)]
pub struct Sessions(Arc<Mutex<Vec<Session>>>);

impl Sessions {
    /// How many sessions the endpoint started.
    pub fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// The session started `index`-th.
    pub fn get(&self, index: usize) -> Session {
        self.0.lock().unwrap()[index].clone()
    }
}

/// The echo server, served by [`serve`] on 127.0.0.1 until it is dropped.
pub struct ServedEcho {
    pub server: Server,
    pub service: StreamableHttpService,
    pub sessions: Sessions,
    pub address: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl ServedEcho {
    /// Serves a new echo server with `config` on a free loopback port.
    pub async fn start(config: Config) -> ServedEcho {
        let server = echo_server();
        let (service, sessions) = echo_service(&server, config);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(serve(listener, service.clone(), async {
            // A dropped sender stops the server too.
            let _ = stopped.await;
        }));
        ServedEcho {
            server,
            service,
            sessions,
            address,
            _stop: stop,
        }
    }

    /// The URL of the MCP endpoint.
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.address)
    }
}

/// The client's name and version for `initialize`.
pub fn client_info() -> Implementation {
    Implementation::new("mcpwire-http-tests", env!("CARGO_PKG_VERSION"))
}

/// The text blocks of a tool result, joined.
pub fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|block| match block {
            ContentBlock::TextContent(text) => Some(text.text.as_str()),
            _ => None,
        })
        .collect()
}
