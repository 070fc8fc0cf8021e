//! An MCP server with one `echo` tool, over Streamable HTTP on 127.0.0.1:8080.
//!
//! `cargo run -p mcpwire-http --features server --example echo_server`, then point an MCP
//! client at `http://127.0.0.1:8080/mcp`. Stop it with Ctrl-C.

use mcpwire_http::server::{Config, HttpSessionTransport, StreamableHttpService, serve};
use mcpwire_server::{Server, Tool, ToolError};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Echo {
    text: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let server = Server::builder("echo", "1.0.0")
        .tool(
            Tool::typed("echo", |arguments: Echo| async move {
                Ok::<_, ToolError>(arguments.text)
            })
            .description("Returns its text"),
        )
        .build()?;
    let service =
        StreamableHttpService::new(Config::default(), move |transport: HttpSessionTransport| {
            server.serve(transport);
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    println!("serving MCP on http://{}/mcp", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // Ctrl-C ends the process; the channel shows how a graceful stop is wired.
    let _stop = stop;
    serve(listener, service, async {
        let _ = stopped.await;
    })
    .await?;
    Ok(())
}
