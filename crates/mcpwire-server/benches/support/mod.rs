//! What the benchmark binaries share: the server under test, a client, and the connections
//! between them over the in-memory and the stdio transports.

use mcpwire_jsonrpc::{ErrorObject, Notification};
use mcpwire_rpc::{Config, Handler, Peer, RequestContext};
use mcpwire_server::types::{self as wire, methods};
use mcpwire_server::{IntoToolResult, Server, Session, Structured, Tool, ToolBuilder, ToolError};
use mcpwire_stdio::StdioTransport;
use mcpwire_transport::Transport;
use serde_json::value::RawValue;
use tokio::io::DuplexStream;

/// Messages each direction of the in-memory transport buffers; more than the 16 calls of the
/// concurrent benchmark, so that no send waits for room.
const MEMORY_CAPACITY: usize = 64;

/// Bytes each in-process pipe of the stdio transport buffers, as much as a Linux pipe.
const PIPE_BYTES: usize = 64 * 1024;

/// The arguments of the `add` tools.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct AddArguments {
    a: f64,
    b: f64,
}

/// The structured output of the `add` tool.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct Sum {
    pub(crate) sum: f64,
}

/// The first operand of every call.
pub(crate) const A: f64 = 1.5;
/// The second operand of every call.
pub(crate) const B: f64 = 2.25;

/// The `add` tool: typed arguments, and structured output that is declared and validated.
pub(crate) fn add_tool() -> ToolBuilder {
    Tool::typed("add", |arguments: AddArguments| async move {
        Ok::<_, ToolError>(Structured(Sum {
            sum: arguments.a + arguments.b,
        }))
    })
    .description("Adds two numbers")
    .output::<Sum>()
}

/// A server with two tools: [`add_tool`], and `add_text`, which answers with text only.
pub(crate) fn server() -> Server {
    Server::builder("bench-server", "1.0.0")
        .tool(add_tool())
        .tool(
            Tool::typed("add_text", |arguments: AddArguments| async move {
                Ok::<_, ToolError>(format!("{}", arguments.a + arguments.b))
            })
            .description("Adds two numbers, answering with text"),
        )
        .build()
        .expect("the benchmark tools are valid")
}

/// The params of a call of `tool` with the operands [`A`] and [`B`].
pub(crate) fn call_params(tool: &str) -> wire::CallToolRequestParams {
    let arguments = serde_json::json!({ "a": A, "b": B });
    wire::CallToolRequestParams {
        meta: None,
        arguments: arguments.as_object().cloned(),
        name: tool.to_owned(),
        task: None,
    }
}

/// The result the `add` tool gives for [`A`] and [`B`], as the server builds it.
pub(crate) fn add_result() -> wire::CallToolResult {
    Structured(Sum { sum: A + B }).into_tool_result()
}

/// A single-threaded runtime: every task of both peers runs on the benchmark's thread, so a
/// round trip is measured without cross-thread wake-ups.
pub(crate) fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

/// The client's handler: the benchmarks make the server send no request, so it refuses all.
struct NoRequests;

impl Handler for NoRequests {
    async fn request(
        &self,
        _params: Option<Box<RawValue>>,
        context: RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        Err(ErrorObject::method_not_found(context.method()))
    }

    async fn notification(&self, _notification: Notification, _peer: &Peer) {}
}

/// A client connected to a server session that has completed the handshake.
pub(crate) struct Connection {
    pub(crate) client: Peer,
    session: Session,
}

impl Connection {
    /// Calls a tool through the typed path a client uses, and returns the decoded result.
    ///
    /// # Panics
    ///
    /// Panics when the call fails: a benchmark of a failing path would measure nothing useful.
    pub(crate) async fn call(&self, params: &wire::CallToolRequestParams) -> wire::CallToolResult {
        self.client
            .request::<methods::CallTool>(params)
            .await
            .expect("tools/call answers")
    }

    /// Closes the connection and waits until both peers have stopped.
    pub(crate) async fn close(self) {
        self.client.close().await;
        self.session.closed().await;
    }
}

/// Serves `server_end` with `server`, connects a client over `client_end`, runs the
/// `initialize` handshake and checks that `add` answers correctly.
pub(crate) async fn connect<C: Transport, S: Transport>(
    server: &Server,
    client_end: C,
    server_end: S,
) -> Connection {
    let session = server.serve(server_end);
    let client = Peer::start(client_end, NoRequests, Config::default());
    let initialize = wire::InitializeRequestParams {
        meta: None,
        capabilities: wire::ClientCapabilities::default(),
        client_info: wire::Implementation::new("bench-client", "1.0.0"),
        protocol_version: "2025-11-25".to_owned(),
    };
    client
        .request::<methods::Initialize>(&initialize)
        .await
        .expect("initialize answers");
    client
        .notify::<methods::Initialized>(&None)
        .await
        .expect("the initialized notification is sent");
    let connection = Connection { client, session };
    let result = connection.call(&call_params("add")).await;
    assert_eq!(result, add_result(), "the add tool answers with the sum");
    connection
}

/// A client and a server connected over the in-memory transport.
pub(crate) async fn connect_in_memory(server: &Server) -> Connection {
    let (client_end, server_end) = mcpwire_transport::duplex(MEMORY_CAPACITY);
    connect(server, client_end, server_end).await
}

/// A client and a server connected by the stdio framing over two in-process pipes.
pub(crate) async fn connect_stdio(server: &Server) -> Connection {
    let (client_end, server_end) = stdio_pipes();
    connect(server, client_end, server_end).await
}

type PipeTransport = StdioTransport<DuplexStream, DuplexStream>;

/// Two stdio transports joined by one pipe each way: what one writes, the other reads.
fn stdio_pipes() -> (PipeTransport, PipeTransport) {
    // Each in-memory stream is used in one direction only, as a pipe.
    let (client_writes, server_reads) = tokio::io::duplex(PIPE_BYTES);
    let (server_writes, client_reads) = tokio::io::duplex(PIPE_BYTES);
    (
        StdioTransport::new(client_reads, client_writes),
        StdioTransport::new(server_reads, server_writes),
    )
}

/// The bytes of a typical `tools/call` request for `add`, as a client writes them.
pub(crate) fn tools_call_bytes() -> Vec<u8> {
    let params = mcpwire_jsonrpc::encode_params(&call_params("add"))
        .expect("the params encode")
        .expect("the params are an object");
    mcpwire_jsonrpc::Message::from(mcpwire_jsonrpc::Request::new(7, "tools/call", Some(params)))
        .to_vec()
}
