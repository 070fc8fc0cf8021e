//! What the tests of the tasks extension share: the tools they serve and their helpers, and
//! serving a server over Streamable HTTP on a loopback port.

// Each test file uses a part of this module.
#![allow(
    dead_code,
    reason = "each test file that includes this module uses a part of it"
)]

use std::time::Duration;

use mcpwire_server::{AskOptions, Context, ServerBuilder, Tool, ToolError, types};
use serde_json::{Map, Value, json};

/// The input schema of a tool that takes any object.
pub(crate) fn no_arguments() -> Map<String, Value> {
    json!({"type": "object"})
        .as_object()
        .cloned()
        .expect("object")
}

/// A form elicitation asking `message` for one string, `answer`.
pub(crate) fn form(message: &str) -> types::ElicitRequestParams {
    serde_json::from_value(json!({
        "message": message,
        "requestedSchema": {"type": "object", "properties": {"answer": {"type": "string"}}}
    }))
    .expect("form params")
}

/// The `answer` field of an elicitation result, or its action when it has none.
pub(crate) fn answer_of(result: &types::ElicitResult) -> String {
    match result
        .content
        .as_ref()
        .and_then(|content| content.get("answer"))
    {
        Some(types::ElicitResultContentValue::String(answer)) => answer.clone(),
        _ => result.action.to_string(),
    }
}

/// Works for `seconds` (of the test's paused clock), then says whether it ran as a task.
pub(crate) async fn compute(
    arguments: Map<String, Value>,
    context: Context,
) -> Result<String, ToolError> {
    let seconds = arguments
        .get("seconds")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if seconds > 0 {
        tokio::time::sleep(Duration::from_secs(seconds)).await;
    }
    Ok(format!(
        "computed in {seconds}s (task {})",
        context.task_id().is_some()
    ))
}

/// Goes on as a task, then asks two questions of the task's requestor at once.
pub(crate) async fn interview(
    _: Map<String, Value>,
    context: Context,
) -> Result<String, ToolError> {
    context.continue_as_task().await;
    let first = context
        .elicit(form("first?"))
        .options(AskOptions::new().key("first"));
    let second = context
        .elicit(form("second?"))
        .options(AskOptions::new().key("second"));
    let (first, second) = tokio::join!(first, second);
    Ok(format!(
        "{} and {}",
        answer_of(&first?),
        answer_of(&second?)
    ))
}

/// Asks a question as a round of the request, then goes on as a task.
pub(crate) async fn welcome(_: Map<String, Value>, context: Context) -> Result<String, ToolError> {
    let name = context.elicit(form("name?")).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    Ok(format!("Welcome, {}!", answer_of(&name)))
}

/// Adds the tools every tasks test serves: `compute` (may become a task), `quick` (never
/// does), `interview` (always does, then asks) and `welcome` (asks first, only as a task).
pub(crate) fn task_tools(builder: ServerBuilder) -> ServerBuilder {
    builder
        .tool(
            Tool::raw("compute", no_arguments(), compute)
                .task_support(types::ToolExecutionTaskSupport::Optional),
        )
        .tool(Tool::raw("quick", no_arguments(), compute))
        .tool(
            Tool::raw("interview", no_arguments(), interview)
                .task_support(types::ToolExecutionTaskSupport::Optional),
        )
        .tool(
            Tool::raw("welcome", no_arguments(), welcome)
                .task_support(types::ToolExecutionTaskSupport::Required),
        )
}

/// Serves `server` over Streamable HTTP on a loopback port until the sender is dropped.
#[cfg(feature = "http")]
pub(crate) async fn serve_http(
    server: mcpwire_server::Server,
) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("an address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        server
            .serve_http(listener)
            .config(mcpwire_server::HttpConfig::default())
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    (address, stop)
}
