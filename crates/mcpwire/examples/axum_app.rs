//! The adder at `/mcp` of an axum app, beside `/health`: `axum_app [ADDRESS]`. Only requests
//! for host 127.0.0.1 are served; Ctrl-C ends the MCP sessions, then the server.
use axum::{Router, routing::get};
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
async fn main() -> anyhow::Result<()> {
    let server = Server::builder("adder", "1.0").tool(Tool::typed("add", add));
    let hosts = HttpConfig::default().allowed_hosts(["127.0.0.1"]);
    let mcp = server.build()?.http_service(hosts);
    let app = Router::new().route("/health", get(async || "ok"));
    let app = app.route_service("/mcp", mcp.clone());
    let address = std::env::args().nth(1).unwrap_or("127.0.0.1:3000".into());
    let tcp = tokio::net::TcpListener::bind(address).await?;
    println!("listening on {}", tcp.local_addr()?);
    let stop = mcp.graceful_shutdown(tokio::signal::ctrl_c());
    axum::serve(tcp, app).with_graceful_shutdown(stop).await?;
    Ok(())
}
