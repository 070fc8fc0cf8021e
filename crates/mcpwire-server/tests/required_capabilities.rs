//! A tool that needs a client capability (`ToolBuilder::requires`) is shown only to clients
//! that declared it, and a call from another client is refused before its handler runs: as an
//! unknown tool in the legacy era, with -32021 naming the capability in the modern era.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mcpwire_client::{Client, ClientBuilder, EraChoice, ErrorObject, RequestContext};
use mcpwire_server::{ClientCapability, Context, Server, Tool, ToolError, types};
use serde_json::{Map, Value, json};

fn server(ran: &Arc<AtomicUsize>) -> Server {
    let ran = Arc::clone(ran);
    Server::builder("capable", "1.0.0")
        .tool(Tool::typed("echo", |arguments: Map<String, Value>| async move {
            Ok::<_, ToolError>(Value::Object(arguments).to_string())
        }))
        .tool(
            Tool::typed("poem", move |_: Map<String, Value>, context: Context| {
                ran.fetch_add(1, Ordering::SeqCst);
                async move {
                    let params = serde_json::from_value(json!({
                        "messages": [{"role": "user", "content": {"type": "text", "text": "A poem"}}],
                        "maxTokens": 20
                    }))
                    .expect("valid params");
                    let poem = context.create_message(params).await?;
                    Ok::<_, ToolError>(poem.text_content().unwrap_or_default().to_owned())
                }
            })
            .requires(ClientCapability::Sampling),
        )
        .build()
        .expect("the server builds")
}

fn sampling(builder: ClientBuilder) -> ClientBuilder {
    builder.sampling(
        |_: types::CreateMessageRequestParams, _: RequestContext| async {
            Ok::<_, ErrorObject>(types::CreateMessageResult::text("model", "Roses"))
        },
    )
}

async fn connect(builder: ClientBuilder, server: &Server) -> Client {
    let (client_end, server_end) = mcpwire_transport::duplex(16);
    let _session = server.serve(server_end);
    builder.connect(client_end).await.expect("connects")
}

fn names(tools: &[types::Tool]) -> Vec<&str> {
    tools.iter().map(|tool| tool.name.as_str()).collect()
}

#[tokio::test]
async fn a_client_with_the_capability_sees_and_calls_the_tool() {
    for era in [EraChoice::Legacy, EraChoice::Modern] {
        let ran = Arc::new(AtomicUsize::new(0));
        let server = server(&ran);
        let client = connect(sampling(Client::builder("t", "1").era(era)), &server).await;
        let tools = client.list_tools().await.unwrap();
        assert_eq!(names(&tools), ["echo", "poem"], "{era:?}");
        let poem = client.call_tool("poem", json!({})).await.unwrap();
        assert_eq!(poem.text(), "Roses", "{era:?}");
        client.close().await;
    }
}

#[tokio::test]
async fn a_client_without_it_is_not_shown_the_tool_and_cannot_call_it() {
    for era in [EraChoice::Legacy, EraChoice::Modern] {
        let ran = Arc::new(AtomicUsize::new(0));
        let server = server(&ran);
        let client = connect(Client::builder("t", "1").era(era), &server).await;
        let tools = client.list_tools().await.unwrap();
        assert_eq!(names(&tools), ["echo"], "{era:?}");
        let refused = client
            .call_tool("poem", json!({}))
            .await
            .expect_err("refused before the handler runs");
        match era {
            EraChoice::Modern => {
                assert!(refused.is_missing_client_capability(), "{refused}");
                let data = refused
                    .remote()
                    .and_then(|error| error.data.as_ref())
                    .unwrap();
                assert!(data.get().contains("sampling"), "{}", data.get());
            }
            _ => assert!(refused.is_invalid_params(), "{refused}"),
        }
        assert_eq!(
            ran.load(Ordering::SeqCst),
            0,
            "{era:?}: the handler never ran"
        );
        client.close().await;
    }
}
