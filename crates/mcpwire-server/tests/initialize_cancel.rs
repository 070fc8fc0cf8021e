//! `initialize` cannot be cancelled: a `notifications/cancelled` naming it, sent right behind
//! it (as a racing client would), is ignored, and the request is answered every time.

use std::time::Duration;

use mcpwire_jsonrpc::Message;
use mcpwire_server::Server;
use mcpwire_transport::{Inbound, MessageReceiver, MessageSender, SendOptions, Transport};

const WAIT: Duration = Duration::from_secs(10);

fn message(json: &str) -> Message {
    Message::parse(json.as_bytes()).expect("a valid message")
}

#[tokio::test]
async fn a_cancellation_racing_initialize_is_ignored() {
    let server = Server::builder("uncancellable", "1.0.0")
        .build()
        .expect("the server builds");
    for round in 0..50 {
        let (client_end, server_end) = mcpwire_transport::duplex(16);
        let _session = server.serve(server_end);
        let (mut sender, mut receiver) = client_end.split();
        let initialize = message(
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"racer","version":"1.0.0"}}}"#,
        );
        let cancelled = message(
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1,"reason":"changed my mind"}}"#,
        );
        sender
            .send(initialize, SendOptions::default())
            .await
            .expect("sent");
        sender
            .send(cancelled, SendOptions::default())
            .await
            .expect("sent");
        let answer = tokio::time::timeout(WAIT, receiver.receive())
            .await
            .unwrap_or_else(|_| panic!("round {round}: initialize was not answered"))
            .expect("the server answers")
            .expect("a message");
        let Inbound::Message(Message::Response(response)) = answer else {
            panic!("round {round}: a result, got {answer:?}");
        };
        assert!(
            response.result.get().contains("2025-11-25"),
            "round {round}"
        );
    }
}
