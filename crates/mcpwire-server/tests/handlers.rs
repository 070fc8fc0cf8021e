//! The forms a tool handler may take: a named `async fn` or a closure, with or without a
//! `Context`, failing with any error type that converts into `ToolError`. Each is called
//! through the real client over the in-memory transport, in both eras.

use mcpwire_client::{Client, EraChoice};
use mcpwire_server::{Context, Server, Tool, ToolError, types};
use serde_json::json;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Greet {
    name: String,
}

/// A failure of the application's own, which the tool reports to the model.
#[derive(Debug)]
struct BackendDown {
    service: &'static str,
}

impl From<BackendDown> for ToolError {
    fn from(error: BackendDown) -> Self {
        ToolError::new(format!("{} is down", error.service))
    }
}

async fn greet(arguments: Greet) -> Result<String, ToolError> {
    Ok(format!("Hello, {}!", arguments.name))
}

async fn greet_with_progress(arguments: Greet, context: Context) -> Result<String, ToolError> {
    context.progress(1.0, Some(1.0), None).await?;
    Ok(format!("Hello again, {}!", arguments.name))
}

async fn look_up(_: Greet) -> Result<String, BackendDown> {
    Err(BackendDown {
        service: "directory",
    })
}

fn server() -> Server {
    Server::builder("handlers", "1.0.0")
        .tool(Tool::typed("greet", greet))
        .tool(Tool::typed("greet_with_progress", greet_with_progress))
        .tool(Tool::typed("look_up", look_up))
        .tool(Tool::typed("shout", |arguments: Greet| async move {
            Ok::<_, ToolError>(arguments.name.to_uppercase())
        }))
        .build()
        .expect("a valid server")
}

fn text(result: &types::CallToolResult) -> &str {
    match &result.content[..] {
        [types::ContentBlock::TextContent(text)] => &text.text,
        other => panic!("one text block expected, got {other:?}"),
    }
}

async fn connected(era: EraChoice) -> Client {
    let (client_end, server_end) = mcpwire_transport::duplex(16);
    let _session = server().serve(server_end);
    Client::builder("handlers-test", "1.0.0")
        .era(era)
        .connect(client_end)
        .await
        .expect("connects")
}

#[tokio::test]
async fn every_handler_form_answers_in_both_eras() {
    for era in [EraChoice::Legacy, EraChoice::Modern] {
        let client = connected(era).await;
        let arguments = json!({"name": "Ada"});
        let greeted = client.call_tool("greet", arguments.clone()).await.unwrap();
        assert_eq!(text(&greeted), "Hello, Ada!", "{era:?}");
        let again = client
            .call_tool("greet_with_progress", arguments.clone())
            .await
            .unwrap();
        assert_eq!(text(&again), "Hello again, Ada!", "{era:?}");
        let shouted = client.call_tool("shout", arguments.clone()).await.unwrap();
        assert_eq!(text(&shouted), "ADA", "{era:?}");
        client.close().await;
    }
}

#[tokio::test]
async fn an_error_of_the_applications_own_type_reaches_the_model_as_a_tool_error() {
    for era in [EraChoice::Legacy, EraChoice::Modern] {
        let client = connected(era).await;
        let result = client
            .call_tool("look_up", json!({"name": "Ada"}))
            .await
            .expect("a tool error is a result, not a failed call");
        assert_eq!(result.is_error, Some(true), "{era:?}");
        assert_eq!(text(&result), "directory is down", "{era:?}");
        client.close().await;
    }
}
