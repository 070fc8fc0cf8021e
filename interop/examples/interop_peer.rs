//! The server the dual-era interop clients drive (`interop/ts2_client.mjs`,
//! `interop/py2_client.py`): the same surface as `interop/ts2_server.mjs` and
//! `interop/py2_server.py`, so that one script runs against any of them.
//!
//! Usage: `interop_peer [--era both|modern|legacy] [--http 127.0.0.1:0]`: stdio by default;
//! with `--http`, Streamable HTTP, announcing `listening on http://…/mcp` on stderr. `--era`
//! restricts the eras served (default: both). As one instance of several behind a load
//! balancer (`deploy/run.sh` with `SERVER`), with `--http`: `--redis URL` shares the sessions,
//! their SSE events and a bus with the other instances in one Redis, and `--request-state-key-file PATH` reads the `requestState` key that
//! every instance shares.
//!
//! The tools that ask the client (`elicit_name`, `sample_text`, `list_roots`) use the same
//! [`Context`] calls in both eras: real requests to a legacy client, an `InputRequiredResult`
//! and its retry for a modern one.

use mcpwire_cli::deployment::read_request_state_key;
use mcpwire_server::{
    Context, Era, HandlerError, ListKind, Prompt, Resource, Server, Tool, ToolError, text_contents,
    types,
};
use serde_json::{Map, Value, json};

/// The arguments of `echo`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Echo {
    /// The text to echo.
    text: String,
}

/// The arguments of `add`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Add {
    /// The first number.
    a: f64,
    /// The second number.
    b: f64,
}

/// The arguments of `sample_text`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct SampleText {
    /// What the client's model is asked.
    prompt: String,
}

/// Decodes a value written as JSON into a wire type.
fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, ToolError> {
    serde_json::from_value(value).map_err(|error| ToolError::new(error.to_string()))
}

/// The text of every text block in `content` (one block or an array of them), joined.
fn text_of(content: &Value) -> String {
    let blocks = match content {
        Value::Array(blocks) => blocks.iter().collect(),
        block => vec![block],
    };
    blocks
        .into_iter()
        .filter_map(|block| block["text"].as_str())
        .collect()
}

fn server(options: &Options) -> Result<Server, Box<dyn std::error::Error>> {
    let region_schema = json!({
        "type": "object",
        "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "text": {"type": "string"},
        },
        "required": ["region", "text"],
    });
    let region_schema = region_schema.as_object().cloned().unwrap_or_default();
    let builder = Server::builder("mcpwire-interop-peer", env!("CARGO_PKG_VERSION"))
        .instructions("An mcpwire server for the interop tests.")
        .tool(
            Tool::typed("echo", |arguments: Echo| async move {
                Ok::<_, ToolError>(arguments.text)
            })
            .description("Echoes `text`."),
        )
        .tool(
            Tool::typed("add", |arguments: Add| async move {
                // Rust prints an f64 as JavaScript does for these values: `5.5`, `5`.
                Ok::<_, ToolError>((arguments.a + arguments.b).to_string())
            })
            .description("Adds two numbers."),
        )
        .tool(
            Tool::typed("elicit_name", |_: Map<String, Value>, context: Context| async move {
                let params = from_json(json!({
                    "message": "What is your name?",
                    "requestedSchema": {
                        "type": "object",
                        "properties": {"name": {"type": "string", "description": "Your name"}},
                        "required": ["name"],
                    },
                }))?;
                let answer = context
                    .elicit(types::ElicitRequestParams::ElicitRequestFormParams(params))
                    .await?;
                let answer = serde_json::to_value(&answer).map_err(|error| ToolError::new(error.to_string()))?;
                match (answer["action"].as_str(), answer["content"]["name"].as_str()) {
                    (Some("accept"), Some(name)) => Ok::<_, ToolError>(format!("Hello, {name}!")),
                    (Some(action), _) => Ok(action.to_owned()),
                    (None, _) => Err(ToolError::new(format!("an answer without action: {answer}"))),
                }
            })
            .description("Asks the user for their name (form elicitation)."),
        )
        .tool(
            Tool::typed("sample_text", |arguments: SampleText, context: Context| async move {
                let params = from_json(json!({
                    "messages": [{"role": "user", "content": {"type": "text", "text": arguments.prompt}}],
                    "maxTokens": 50,
                }))?;
                let result = context.create_message(params).await?;
                let content = serde_json::to_value(&result.content).map_err(|error| ToolError::new(error.to_string()))?;
                Ok::<_, ToolError>(format!("{}: {}", result.model, text_of(&content)))
            })
            .description("Asks the client's model to answer `prompt` (sampling)."),
        )
        .tool(
            Tool::typed("list_roots", |_: Map<String, Value>, context: Context| async move {
                let roots = context.list_roots().await?;
                let uris: Vec<String> = roots.roots.into_iter().map(|root| root.uri).collect();
                Ok::<_, ToolError>(uris.join("\n"))
            })
            .description("Lists the client's roots."),
        )
        .tool(
            Tool::raw("region_echo", region_schema, |arguments: Map<String, Value>| async move {
                let region = arguments["region"].as_str().unwrap_or_default();
                let text = arguments["text"].as_str().unwrap_or_default();
                Ok::<_, ToolError>(format!("{region}: {text}"))
            })
            .description("Echoes `text` prefixed with `region`, which travels as the Mcp-Param-Region header."),
        )
        .tool(
            Tool::typed("trigger_tools_changed", |_: Map<String, Value>, context: Context| async move {
                // Legacy sessions get the notification directly, modern clients on their open
                // `subscriptions/listen` streams; the list itself stays the same.
                context.server().notify_list_changed(ListKind::Tools).await;
                Ok::<_, ToolError>("tools changed".to_owned())
            })
            .description("Sends notifications/tools/list_changed (the list itself stays the same)."),
        )
        .resource(
            Resource::new("interop://about", "about", |uri: String, _: Context| async move {
                Ok::<_, HandlerError>(vec![text_contents(uri, Some("text/plain"), "An interop peer of mcpwire.")])
            })
            .mime_type("text/plain")
            .description("What this server is"),
        )
        .prompt(
            Prompt::new("greet", |arguments, _: Context| async move {
                let text = format!("Say hello to {}.", arguments["name"]);
                let content = types::ContentBlock::TextContent(types::TextContent {
                    meta: None,
                    annotations: None,
                    text,
                    r#type: types::tags::Text,
                });
                Ok::<_, HandlerError>(vec![types::PromptMessage { content, role: types::Role::User }])
            })
            .description("Asks for a greeting.")
            .argument("name", "Whom to greet", true),
        );
    let builder = match options.only_era {
        Some(era) => builder.only_era(era),
        None => builder,
    };
    let builder = match &options.request_state_key_file {
        Some(path) => builder.request_state_key(read_request_state_key(path)?),
        None => builder,
    };
    Ok(builder.build()?)
}

/// The command line: the eras to serve, and the address to serve HTTP on.
struct Options {
    only_era: Option<Era>,
    http: Option<String>,
    redis: Option<String>,
    request_state_key_file: Option<std::path::PathBuf>,
}

const USAGE: &str = "usage: interop_peer [--era both|modern|legacy] [--http ADDRESS [--redis URL] [--request-state-key-file PATH]]";

fn options() -> Result<Options, Box<dyn std::error::Error>> {
    let mut options = Options {
        only_era: None,
        http: None,
        redis: None,
        request_state_key_file: None,
    };
    let mut arguments = std::env::args().skip(1);
    while let Some(flag) = arguments.next() {
        let value = arguments.next().ok_or(USAGE)?;
        match (flag.as_str(), value.as_str()) {
            ("--era", "both") => options.only_era = None,
            ("--era", "modern") => options.only_era = Some(Era::Modern),
            ("--era", "legacy") => options.only_era = Some(Era::Legacy),
            ("--http", address) => options.http = Some(address.to_owned()),
            ("--redis", url) => options.redis = Some(url.to_owned()),
            ("--request-state-key-file", path) => {
                options.request_state_key_file = Some(path.into());
            }
            _ => return Err(USAGE.into()),
        }
    }
    if options.http.is_none()
        && (options.redis.is_some() || options.request_state_key_file.is_some())
    {
        return Err(USAGE.into());
    }
    Ok(options)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = options()?;
    let server = server(&options)?;
    match options.http {
        None => server.serve_stdio().await,
        Some(address) => {
            let listener = tokio::net::TcpListener::bind(address.as_str()).await?;
            eprintln!("listening on http://{}/mcp", listener.local_addr()?);
            // The interop tests read only the first line of stderr: nothing more is printed.
            let mut config = mcpwire_server::HttpConfig::default();
            if let Some(url) = &options.redis {
                let deployment =
                    mcpwire_store_redis::RedisDeployment::connect(url, "mcpwire").await?;
                config = deployment.configure(config);
            }
            server.serve_http(listener).config(config).await?;
        }
    }
    Ok(())
}
