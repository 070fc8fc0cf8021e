//! The server asks the client outside any request: from `on_initialized`, once the handshake
//! is complete, through the session's `list_roots`, `elicit` and `create_message`, each
//! checked against the capabilities the client declared.

use std::time::Duration;

use mcpwire_client::{Client, ClientBuilder, EraChoice, ErrorObject, RequestContext};
use mcpwire_server::{Error, Server, Session, types};
use serde_json::json;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);

/// What the server learnt by asking.
type Asked = (
    Result<types::ListRootsResult, Error>,
    Result<types::ElicitResult, Error>,
    Result<types::CreateMessageResult, Error>,
);

async fn ask_everything(session: Session) -> Asked {
    let roots = session.list_roots().await;
    let elicit = serde_json::from_value(json!({
        "message": "Pick a workspace",
        "requestedSchema": {"type": "object", "properties": {"workspace": {"type": "string"}}}
    }))
    .expect("valid params");
    let elicited = session.elicit(elicit).await;
    let sample = serde_json::from_value(json!({
        "messages": [{"role": "user", "content": {"type": "text", "text": "Say hi"}}],
        "maxTokens": 5
    }))
    .expect("valid params");
    let sampled = session.create_message(sample).await;
    (roots, elicited, sampled)
}

/// A server that asks every initialized client everything, and reports what it got.
fn server() -> (Server, mpsc::UnboundedReceiver<Asked>) {
    let (report, reports) = mpsc::unbounded_channel();
    let server = Server::builder("asking", "1.0.0")
        .on_initialized(move |session| {
            let report = report.clone();
            tokio::spawn(async move {
                let _ = report.send(ask_everything(session).await);
            });
        })
        .build()
        .expect("the server builds");
    (server, reports)
}

fn answering_client() -> ClientBuilder {
    Client::builder("answering", "1.0.0")
        .era(EraChoice::Legacy)
        .roots(|_| async { Ok::<_, ErrorObject>(vec![types::Root::new("file:///work")]) })
        .elicitation(|_: types::ElicitRequestParams, _: RequestContext| async {
            Ok::<_, ErrorObject>(types::ElicitResult::accept([("workspace", "main".into())]))
        })
        .sampling(
            |_: types::CreateMessageRequestParams, _: RequestContext| async {
                Ok::<_, ErrorObject>(types::CreateMessageResult::text("test-model", "hi"))
            },
        )
}

#[tokio::test]
async fn the_server_asks_an_initialized_client_outside_any_request() {
    let (server, mut reports) = server();
    let (client_end, server_end) = mcpwire_transport::duplex(16);
    let _session = server.serve(server_end);
    let client = answering_client()
        .connect(client_end)
        .await
        .expect("connects");
    let (roots, elicited, sampled) = tokio::time::timeout(WAIT, reports.recv())
        .await
        .expect("asked in time")
        .expect("a report");
    let roots = roots.expect("roots");
    assert_eq!(roots.roots[0].uri, "file:///work");
    let elicited = elicited.expect("an answer");
    assert!(elicited.is_accepted());
    assert_eq!(elicited.text("workspace"), Some("main"));
    let sampled = sampled.expect("a completion");
    assert_eq!(sampled.model, "test-model");
    assert_eq!(sampled.text_content(), Some("hi"));
    client.close().await;
}

#[tokio::test]
async fn what_the_client_did_not_declare_is_not_asked() {
    let (server, mut reports) = server();
    let (client_end, server_end) = mcpwire_transport::duplex(16);
    let _session = server.serve(server_end);
    let client = Client::builder("silent", "1.0.0")
        .era(EraChoice::Legacy)
        .connect(client_end)
        .await
        .expect("connects");
    let (roots, elicited, sampled) = tokio::time::timeout(WAIT, reports.recv())
        .await
        .expect("asked in time")
        .expect("a report");
    for error in [
        roots.map(drop).expect_err("no roots"),
        elicited.map(drop).expect_err("no elicitation"),
        sampled.map(drop).expect_err("no sampling"),
    ] {
        assert!(error.is_capability_missing(), "{error}");
    }
    client.close().await;
}
