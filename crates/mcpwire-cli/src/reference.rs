//! The reference server: demonstration tools, a resource and a prompt.

use std::time::{Duration, SystemTime};

use mcpwire_server::{
    Context, HandlerError, Prompt, Resource, Server, ServerBuilder, Structured, Tool, ToolError,
    text_contents, types,
};
use serde_json::json;

/// The name the reference server gives in `serverInfo`.
pub const SERVER_NAME: &str = "mcpwire-reference";

/// The reference server, ready to serve.
///
/// # Errors
///
/// Fails only if a definition is invalid, which the tests rule out.
pub fn server() -> Result<Server, mcpwire_server::Error> {
    register(builder()).build()
}

/// A builder with the reference server's identity and capabilities, and nothing registered.
pub fn builder() -> ServerBuilder {
    Server::builder(SERVER_NAME, env!("CARGO_PKG_VERSION"))
        .title("mcpwire reference server")
        .website_url("https://github.com/mcpwire/mcpwire")
        .instructions(
            "The mcpwire reference server. Its tools are safe to call: they echo, add, tell the \
             time and count down with progress.",
        )
        .tools()
        .resources()
        .prompts()
        .tasks()
}

/// The arguments of `echo`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Echo {
    /// The text to send back.
    text: String,
}

/// The arguments of `add`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Add {
    /// The first addend.
    a: f64,
    /// The second addend.
    b: f64,
}

/// The structured result of `add`.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct Sum {
    /// The sum of both addends.
    sum: f64,
}

/// The arguments of `count_down`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct CountDown {
    /// Steps to count, from 1 to 50.
    #[schemars(range(min = 1, max = 50))]
    steps: u32,
    /// Milliseconds between steps, at most 1000. Default 100.
    #[serde(default)]
    #[schemars(range(max = 1000))]
    interval_ms: Option<u64>,
}

fn read_only() -> types::ToolAnnotations {
    types::ToolAnnotations {
        read_only_hint: Some(true),
        destructive_hint: Some(false),
        idempotent_hint: Some(true),
        open_world_hint: Some(false),
        title: None,
    }
}

/// Registers the demonstration tools, resource and prompt on `builder`, for a server that
/// configures more than [`server`] does (a shared `requestState` key, say).
pub fn register(builder: ServerBuilder) -> ServerBuilder {
    builder
        .tool(
            Tool::typed("echo", |arguments: Echo| async move {
                Ok::<_, ToolError>(arguments.text)
            })
            .title("Echo")
            .description("Sends the given text back unchanged.")
            .annotations(read_only()),
        )
        .tool(
            Tool::typed("add", |arguments: Add| async move {
                Ok::<_, ToolError>(Structured(Sum {
                    sum: arguments.a + arguments.b,
                }))
            })
            .title("Add")
            .description("Adds two numbers and returns the sum as structured content.")
            .output::<Sum>()
            .annotations(read_only()),
        )
        .tool(
            Tool::typed("current_time", |_: serde_json::Map<String, serde_json::Value>| async move {
                Ok::<_, ToolError>(humantime::format_rfc3339_millis(SystemTime::now()).to_string())
            })
            .title("Current time")
            .description("The server's clock, in UTC, as an RFC 3339 timestamp."),
        )
        .tool(
            Tool::typed("count_down", |arguments: CountDown, context: Context| async move {
                let steps = arguments.steps.clamp(1, 50);
                let interval = Duration::from_millis(arguments.interval_ms.unwrap_or(100).min(1000));
                for step in 1..=steps {
                    tokio::select! {
                        () = context.cancellation().cancelled() => return Err(ToolError::new("cancelled")),
                        () = tokio::time::sleep(interval) => {}
                    }
                    let remaining = steps - step;
                    context
                        .progress(f64::from(step), Some(f64::from(steps)), Some(&format!("{remaining} to go")))
                        .await?;
                    context
                        .log(types::LoggingLevel::Info, Some("count_down"), json!({ "remaining": remaining }))
                        .await?;
                }
                Ok::<_, ToolError>(format!("counted down {steps} steps"))
            })
            .title("Count down")
            .description(
                "Counts down, reporting progress and logging each step; can run as a task and \
                 be cancelled.",
            )
            .task_support(types::ToolExecutionTaskSupport::Optional),
        )
        .resource(
            Resource::new("mcpwire://about", "about", |uri: String, _: Context| async move {
                let text = format!(
                    "# {SERVER_NAME} {}\n\nThe reference server of mcpwire, a Rust \
                     implementation of the Model Context Protocol.\n",
                    env!("CARGO_PKG_VERSION")
                );
                Ok::<_, HandlerError>(vec![text_contents(uri, Some("text/markdown"), text)])
            })
            .title("About this server")
            .mime_type("text/markdown"),
        )
        .prompt(
            Prompt::new("explain", |arguments, _: Context| async move {
                let audience = arguments.get("audience").map_or("a newcomer", String::as_str);
                let text = format!("Explain {} to {audience}, briefly.", arguments["topic"]);
                let content = types::ContentBlock::TextContent(types::TextContent {
                    meta: None,
                    annotations: None,
                    text,
                    r#type: types::tags::Text,
                });
                Ok::<_, HandlerError>(vec![types::PromptMessage {
                    content,
                    role: types::Role::User,
                }])
            })
            .title("Explain a topic")
            .description("Asks the model to explain a topic briefly, for a chosen audience")
            .argument("topic", "What to explain", true)
            .argument("audience", "Who the explanation is for", false),
        )
}
