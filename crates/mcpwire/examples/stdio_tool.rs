//! A typed tool over stdio: run it under any MCP client.
use mcpwire::prelude::*;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Add {
    a: f64,
    b: f64,
}

async fn add(arguments: Add) -> Result<String, ToolError> {
    Ok((arguments.a + arguments.b).to_string())
}

#[tokio::main]
async fn main() -> Result<(), mcpwire::server::Error> {
    let server = Server::builder("adder", "1.0").tool(Tool::typed("add", add));
    server.build()?.serve_stdio().await;
    Ok(())
}
