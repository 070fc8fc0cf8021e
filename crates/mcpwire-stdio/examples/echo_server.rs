//! A server over stdio that answers `echo` with its params.
//!
//! Try it: `printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"echo","params":{"hi":1}}' |
//! cargo run -p mcpwire-stdio --example echo_server`

use mcpwire_jsonrpc::{ErrorObject, Notification};
use mcpwire_rpc::{Config, Handler, Peer, RequestContext};
use serde_json::value::RawValue;

/// Answers `echo` with its params and every other method with "method not found".
struct Echo;

impl Handler for Echo {
    async fn request(
        &self,
        params: Option<Box<RawValue>>,
        context: RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        match context.method() {
            "echo" => params.ok_or_else(|| ErrorObject::invalid_params("echo needs params")),
            other => Err(ErrorObject::method_not_found(other)),
        }
    }

    async fn notification(&self, notification: Notification, _peer: &Peer) {
        // Logs go to stderr: stdout carries only messages.
        eprintln!("notification: {}", notification.method);
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let peer = Peer::start(mcpwire_stdio::stdio(), Echo, Config::default());
    peer.closed().await;
}
