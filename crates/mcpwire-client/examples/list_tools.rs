//! Spawns the MCP server given on the command line, prints what it offers, and shuts it down.
//!
//! `cargo run -p mcpwire-client --example list_tools -- <server program> [args…]`

use std::time::Duration;

use mcpwire_client::{Client, ServerNotification};
use mcpwire_stdio::{ChildProcess, Stderr};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut command = std::env::args_os().skip(1);
    let program = command
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: list_tools <program> [args…]"))?;
    let server = ChildProcess::builder(program)
        .args(command)
        .stderr(Stderr::Inherit)
        .close_grace(Duration::from_secs(5))
        .spawn()?;
    let handle = server.handle();

    let client = Client::builder("mcpwire-list-tools", env!("CARGO_PKG_VERSION"))
        .on_notification(|notification| {
            if let ServerNotification::LoggingMessage(log) = notification {
                eprintln!("[{}] {}", log.level.as_str(), log.data);
            }
        })
        .connect(server)
        .await?;
    let server_info = client.server_info();
    println!(
        "{} {} (protocol {})",
        server_info.name,
        server_info.version,
        client.protocol_version()
    );
    if let Some(instructions) = client.instructions() {
        println!("instructions: {instructions}");
    }
    if client.server_capabilities().tools.is_some() {
        for tool in client.list_tools().await? {
            let description = tool.description.as_deref().unwrap_or("");
            println!("- {}: {description}", tool.name);
        }
    } else {
        println!("the server offers no tools");
    }

    client.close().await;
    let status = handle.shutdown().await?;
    eprintln!("the server exited with {status}");
    Ok(())
}
