//! A server that exercises every feature of the server role, over stdio (or over Streamable
//! HTTP with `--http 127.0.0.1:0`, announcing its URL on stderr, and with the `legacy-sse`
//! feature the HTTP+SSE transport of 2024-11-05 at `/sse` beside it): typed tools with
//! structured output, progress, logging, cancellation, sampling, elicitation and roots;
//! resources, a resource template with completion, and a prompt with arguments.
//!
//! The interop tests drive it with other SDKs' clients.

use std::time::Duration;

use mcpwire_server::{
    Context, HandlerError, Prompt, Resource, ResourceTemplate, Server, Structured, Tool, ToolError,
    blob_contents, text_contents, types,
};
use serde_json::{Map, Value, json};

/// The arguments of `add`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Add {
    /// The first number.
    a: f64,
    /// The second number.
    b: f64,
}

/// The structured result of `add`.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct Sum {
    /// `a + b`.
    sum: f64,
}

/// The arguments of `count_down`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct CountDown {
    /// How many steps (at most 20).
    steps: u8,
}

fn text_block(text: String) -> types::ContentBlock {
    types::ContentBlock::TextContent(types::TextContent {
        meta: None,
        annotations: None,
        text,
        r#type: types::tags::Text,
    })
}

fn server() -> Result<Server, mcpwire_server::Error> {
    Server::builder("mcpwire-everything", env!("CARGO_PKG_VERSION"))
        .title("mcpwire everything server")
        .instructions("A demonstration server: every tool, resource and prompt is safe to call.")
        .tool(
            Tool::typed("add", |arguments: Add| async move {
                Ok::<_, ToolError>(Structured(Sum { sum: arguments.a + arguments.b }))
            })
            .description("Adds two numbers")
            .output::<Sum>(),
        )
        .tool(
            Tool::typed("count_down", |arguments: CountDown, context: Context| async move {
                let steps = arguments.steps.min(20);
                for step in 1..=steps {
                    if context.is_cancelled() {
                        return Err(ToolError::new("cancelled"));
                    }
                    context.progress(f64::from(step), Some(f64::from(steps)), Some("counting")).await?;
                    context.log(types::LoggingLevel::Info, Some("count_down"), json!({ "step": step })).await?;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Ok::<_, ToolError>(format!("counted down {steps} steps"))
            })
            .description("Counts down, reporting progress and logging each step"),
        )
        .tool(
            Tool::typed("ask_name", |_: Map<String, Value>, context: Context| async move {
                let params = serde_json::from_value(json!({
                    "message": "What is your name?",
                    "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
                }))
                .map_err(|error| ToolError::new(error.to_string()))?;
                let answer = context.elicit(types::ElicitRequestParams::ElicitRequestFormParams(params)).await?;
                let name = answer.content.as_ref().and_then(|content| content.get("name")).map(|name| format!("{name:?}"));
                Ok::<_, ToolError>(format!("{}: {}", answer.action, name.unwrap_or_default()))
            })
            .description("Asks the user for their name (elicitation)"),
        )
        .tool(
            Tool::typed("haiku", |_: Map<String, Value>, context: Context| async move {
                let params = serde_json::from_value(json!({
                    "messages": [{"role": "user", "content": {"type": "text", "text": "Write a haiku about Rust."}}],
                    "maxTokens": 100
                }))
                .map_err(|error| ToolError::new(error.to_string()))?;
                let result = context.create_message(params).await?;
                Ok::<_, ToolError>(format!("{} wrote: {}", result.model, serde_json::to_string(&result.content).unwrap_or_default()))
            })
            .description("Asks the client's model for a haiku (sampling)"),
        )
        .tool(
            Tool::typed("roots", |_: Map<String, Value>, context: Context| async move {
                let roots = context.list_roots().await?;
                Ok::<_, ToolError>(roots.roots.into_iter().map(|root| root.uri).collect::<Vec<_>>().join("\n"))
            })
            .description("Lists the client's roots"),
        )
        .resource(
            Resource::new("mcpwire://readme", "readme", |uri: String, _: Context| async move {
                Ok::<_, HandlerError>(vec![text_contents(uri, Some("text/markdown"), "# mcpwire\nA Rust MCP implementation.")])
            })
            .mime_type("text/markdown")
            .description("What this server is"),
        )
        .resource(
            Resource::new("mcpwire://pixel", "pixel", |uri: String, _: Context| async move {
                Ok::<_, HandlerError>(vec![blob_contents(uri, Some("application/octet-stream"), &[0, 1, 2, 3])])
            })
            .description("Four bytes"),
        )
        .resource_template(
            ResourceTemplate::new("mcpwire://greeting/{name}", "greeting", |uri: String, variables, _: Context| async move {
                Ok::<_, HandlerError>(vec![text_contents(uri, Some("text/plain"), format!("Hello, {}!", variables["name"]))])
            })
            .map(|template| {
                template.description("A greeting for anyone").complete("name", |prefix: String, _| async move {
                    ["Ada", "Alan", "Grace"].into_iter().filter(|name| name.starts_with(&prefix)).map(String::from).collect()
                })
            }),
        )
        .prompt(
            Prompt::new("review_code", |arguments, _: Context| async move {
                let language = arguments.get("language").map_or("code", String::as_str);
                let text = format!("Please review this {language}:\n\n{}", arguments["code"]);
                Ok::<_, HandlerError>(vec![types::PromptMessage { content: text_block(text), role: types::Role::User }])
            })
            .description("Asks for a code review")
            .argument("code", "The code to review", true)
            .argument("language", "The programming language", false)
            .complete("language", |prefix: String, _| async move {
                ["rust", "python", "typescript"].into_iter().filter(|name| name.starts_with(&prefix)).map(String::from).collect()
            }),
        )
        .build()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = server()?;
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    match arguments.as_slice() {
        [] => server.serve_stdio().await,
        [flag, address] if flag == "--http" => {
            let listener = tokio::net::TcpListener::bind(address.as_str()).await?;
            let bound = listener.local_addr()?;
            eprintln!("listening on http://{bound}/mcp");
            let config = mcpwire_server::HttpConfig::default();
            // The interop tests read only the first line of stderr, and close it: nothing more
            // is printed.
            #[cfg(feature = "legacy-sse")]
            let config = config.legacy_sse_endpoints("/sse", "/messages");
            server.serve_http(listener).config(config).await?;
        }
        _ => return Err("usage: everything [--http ADDRESS]".into()),
    }
    Ok(())
}
