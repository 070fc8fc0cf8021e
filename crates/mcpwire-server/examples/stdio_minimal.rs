//! The smallest useful MCP server: one tool, over stdio.
//!
//! Run it under any MCP client, for example with the command `cargo run -p mcpwire-server
//! --example stdio_minimal --features stdio`.

use mcpwire_server::{Server, Tool, ToolError};

/// The arguments of the `echo` tool.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Echo {
    /// The text to send back.
    text: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), mcpwire_server::Error> {
    let server = Server::builder("echo-server", env!("CARGO_PKG_VERSION"))
        .tool(
            Tool::typed("echo", |arguments: Echo| async move {
                Ok::<_, ToolError>(arguments.text)
            })
            .description("Sends the text back"),
        )
        .build()?;
    server.serve_stdio().await;
    Ok(())
}
