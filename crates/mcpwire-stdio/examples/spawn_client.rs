//! Spawns a server given on the command line, calls `echo` on it, and shuts it down.
//!
//! Try it with the echo server example:
//! `cargo run -p mcpwire-stdio --features process --example spawn_client -- cargo run -q -p mcpwire-stdio --example echo_server`

use std::time::Duration;

use mcpwire_jsonrpc::{ErrorObject, Notification};
use mcpwire_rpc::{Config, Handler, Peer, RequestContext, RequestOptions};
use mcpwire_stdio::{ChildProcess, Stderr};
use serde_json::value::RawValue;

/// The client serves no requests of its own.
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

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut command = std::env::args_os().skip(1);
    let program = command
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: spawn_client <program> [args…]"))?;
    let server = ChildProcess::builder(program)
        .args(command)
        .stderr(Stderr::Inherit)
        .close_grace(Duration::from_secs(5))
        .spawn()?;
    let handle = server.handle();
    let peer = Peer::start(server, NoRequests, Config::default());

    let params = RawValue::from_string(r#"{"hello":"stdio"}"#.to_owned())?;
    let result = peer
        .request_raw("echo", Some(params), RequestOptions::default())
        .await?;
    println!("echo answered {}", result.get());

    peer.close().await;
    let status = handle.shutdown().await?;
    println!("the server exited with {status}");
    Ok(())
}
