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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipelined_start_is_served_in_order() {
    let server = Server::builder("pipelined", "1.0.0")
        .tool(mcpwire_server::Tool::typed(
            "noop",
            |_: serde_json::Map<String, serde_json::Value>| async {
                Ok::<_, mcpwire_server::ToolError>("done")
            },
        ))
        .build()
        .expect("the server builds");
    for round in 0..50 {
        let (client_end, server_end) = mcpwire_transport::duplex(16);
        let _session = server.serve(server_end);
        let (mut sender, mut receiver) = client_end.split();
        // All three at once, as a client writing them in one go.
        for text in [
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"pipeliner","version":"1.0.0"}}}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
        ] {
            sender
                .send(message(text), SendOptions::default())
                .await
                .expect("sent");
        }
        for expected in [1, 2] {
            let answer = tokio::time::timeout(WAIT, receiver.receive())
                .await
                .unwrap_or_else(|_| panic!("round {round}: no answer to {expected}"))
                .expect("the server answers")
                .expect("a message");
            let Inbound::Message(Message::Response(response)) = answer else {
                panic!("round {round}: a result for {expected}, got {answer:?}");
            };
            assert_eq!(response.id, mcpwire_jsonrpc::RequestId::from(expected));
        }
    }
}
