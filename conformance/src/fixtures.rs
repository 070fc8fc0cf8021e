//! The fixtures of the official suite's server scenarios, built with the public
//! `mcpwire-server` API only.
//!
//! Every name, text and schema here is one the suite (`@modelcontextprotocol/conformance`
//! 0.1.16 and 0.2.0-alpha.12, requirements of 2025-11-25 and 2026-07-28) looks for; the
//! scenario each fixture serves is named in its doc comment. Each fixture is written once for
//! both protocol eras: what it asks the client is a request in the legacy era and an input
//! request of a multi round-trip request in the modern era.
//!
//! | kind | fixtures |
//! |---|---|
//! | tools | `test_simple_text`, `test_image_content`, `test_audio_content`, `test_embedded_resource`, `test_multiple_content_types`, `test_tool_with_logging`, `test_tool_with_progress`, `test_error_handling`, `test_sampling`, `test_elicitation`, `test_elicitation_sep1034_defaults`, `test_elicitation_sep1330_enums`, `json_schema_2020_12_tool`, `test_reconnection` |
//! | tools (tasks extension) | `greet`, `slow_compute`, `failing_job`, `protocol_error_job`, `confirm_delete`, `multi_input`, `test_tool_with_task` |
//! | tools (2026-07-28) | `test_missing_capability`, `test_streaming_elicitation`, `test_logging_tool`, `test_trigger_tool_change`, `test_trigger_prompt_change`, `test_input_required_result_elicitation`, `test_input_required_result_sampling`, `test_input_required_result_list_roots`, `test_input_required_result_request_state`, `test_input_required_result_multiple_inputs`, `test_input_required_result_multi_round`, `test_input_required_result_tampered_state`, `test_input_required_result_capabilities` |
//! | resources | `test://static-text`, `test://static-binary`, `test://watched-resource` (subscribable) |
//! | resource template | `test://template/{id}/data` |
//! | prompts | `test_simple_prompt`, `test_prompt_with_arguments` (completes `arg1` and `arg2`), `test_prompt_with_embedded_resource`, `test_prompt_with_image`, `test_input_required_result_prompt` (2026-07-28) |
//!
//! Logging, completion and resource subscriptions are capabilities the server declares by
//! itself once it has resources and prompts; tasks, of both eras, it declares for the task
//! fixtures.

use std::collections::BTreeMap;
use std::time::Duration;

use mcpwire_server::types::{self, ContentBlock, ElicitRequestParams, LoggingLevel};
use mcpwire_server::{
    AskOptions, Context, Error, HandlerError, ListKind, Prompt, Resource, ResourceTemplate, Server,
    ServerBuilder, Tool, ToolError, text_contents,
};
use serde_json::{Map, Value, json};

/// A 1×1 PNG, base64-encoded: the image of every image fixture.
pub const PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

/// A minimal WAV file, base64-encoded: the sound of the audio fixture.
pub const WAV_BASE64: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

/// The pause between the notifications of the logging and progress tools, so that a client
/// sees them arrive one by one during the call.
const STEP: Duration = Duration::from_millis(50);

/// The name the fixture server reports in `serverInfo`.
pub const SERVER_NAME: &str = "mcpwire-conformance-server";

/// The fixture server: every tool, resource, template and prompt of the server scenarios.
///
/// # Errors
///
/// Fails only if a fixture definition is invalid, which the tests rule out.
pub fn server() -> Result<Server, Error> {
    register(builder()).build()
}

/// A builder with the fixture server's identity and nothing registered, for a server that
/// configures more than [`server`] does (a shared `requestState` key, say).
pub fn builder() -> ServerBuilder {
    Server::builder(SERVER_NAME, env!("CARGO_PKG_VERSION"))
        .title("mcpwire conformance fixtures")
        .instructions("The fixtures of the MCP conformance suite's server scenarios.")
}

/// Registers every fixture on `builder`, and serves tasks for the task fixtures; the
/// reference server adds them to its own tools.
pub fn register(mut builder: ServerBuilder) -> ServerBuilder {
    builder = builder.tasks();
    for tool in tools()
        .into_iter()
        .chain(modern_tools())
        .chain(task_tools())
    {
        builder = builder.tool(tool);
    }
    for resource in resources() {
        builder = builder.resource(resource);
    }
    builder = builder.resource_template(template());
    for prompt in prompts() {
        builder = builder.prompt(prompt);
    }
    builder.prompt(input_required_prompt())
}

/// The input schema of a tool without arguments, as the suite's reference servers list it.
fn no_arguments() -> Map<String, Value> {
    object(json!({"type": "object", "properties": {}}))
}

/// The object inside `value`; only called with object literals.
fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(object) => object,
        _ => Map::new(),
    }
}

/// Decodes wire data written as a JSON literal, reporting a mismatch as a tool error.
fn decode<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, ToolError> {
    serde_json::from_value(value)
        .map_err(|error| ToolError::new(format!("a fixture literal does not decode: {error}")))
}

fn text(text: impl Into<String>) -> ContentBlock {
    ContentBlock::TextContent(types::TextContent {
        meta: None,
        annotations: None,
        text: text.into(),
        r#type: types::tags::Text,
    })
}

fn image() -> ContentBlock {
    ContentBlock::ImageContent(types::ImageContent {
        meta: None,
        annotations: None,
        data: PNG_BASE64.to_owned(),
        mime_type: "image/png".to_owned(),
        r#type: types::tags::Image,
    })
}

fn embedded_text(uri: impl Into<String>, mime_type: &str, text: impl Into<String>) -> ContentBlock {
    ContentBlock::EmbeddedResource(types::EmbeddedResource {
        meta: None,
        annotations: None,
        resource: types::EmbeddedResourceResource::TextResourceContents(
            types::TextResourceContents {
                meta: None,
                mime_type: Some(mime_type.to_owned()),
                text: text.into(),
                uri: uri.into(),
            },
        ),
        r#type: types::tags::Resource,
    })
}

fn content_result(content: Vec<ContentBlock>) -> types::CallToolResult {
    types::CallToolResult {
        meta: None,
        content,
        is_error: None,
        structured_content: None,
    }
}

/// A tool without arguments.
fn simple<F, Fut, R>(name: &str, description: &str, handler: F) -> mcpwire_server::ToolBuilder
where
    F: Fn(Context) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, ToolError>> + Send + 'static,
    R: mcpwire_server::IntoToolResult,
{
    Tool::raw(name, no_arguments(), move |_, context| handler(context)).description(description)
}

/// The string argument `name`, which the input schema requires.
fn string_argument(arguments: &Map<String, Value>, name: &str) -> Result<String, ToolError> {
    arguments
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ToolError::new(format!("the argument `{name}` must be a string")))
}

fn tools() -> Vec<mcpwire_server::ToolBuilder> {
    vec![
        // tools-call-simple-text
        simple("test_simple_text", "Returns a simple text response", |_| async {
            Ok::<_, ToolError>("This is a simple text response for testing.")
        }),
        // tools-call-image
        simple("test_image_content", "Returns an image (a 1x1 PNG)", |_| async {
            Ok::<_, ToolError>(content_result(vec![image()]))
        }),
        // tools-call-audio
        simple("test_audio_content", "Returns audio (a minimal WAV)", |_| async {
            let audio = ContentBlock::AudioContent(types::AudioContent {
                meta: None,
                annotations: None,
                data: WAV_BASE64.to_owned(),
                mime_type: "audio/wav".to_owned(),
                r#type: types::tags::Audio,
            });
            Ok::<_, ToolError>(content_result(vec![audio]))
        }),
        // tools-call-embedded-resource
        simple(
            "test_embedded_resource",
            "Returns an embedded text resource",
            |_| async {
                Ok::<_, ToolError>(content_result(vec![embedded_text(
                    "test://embedded-resource",
                    "text/plain",
                    "This is an embedded resource content.",
                )]))
            },
        ),
        // tools-call-mixed-content
        simple(
            "test_multiple_content_types",
            "Returns text, an image and an embedded resource together",
            |_| async {
                Ok::<_, ToolError>(content_result(vec![
                    text("Multiple content types test:"),
                    image(),
                    embedded_text(
                        "test://mixed-content-resource",
                        "application/json",
                        r#"{"test":"data","value":123}"#,
                    ),
                ]))
            },
        ),
        // tools-call-with-logging
        simple(
            "test_tool_with_logging",
            "Sends three info log messages while it runs",
            |context| async move {
                let steps = [
                    "Tool execution started",
                    "Tool processing data",
                    "Tool execution completed",
                ];
                for (index, message) in steps.into_iter().enumerate() {
                    if index > 0 {
                        tokio::time::sleep(STEP).await;
                    }
                    context
                        .log(LoggingLevel::Info, Some("test_tool_with_logging"), message)
                        .await?;
                }
                Ok::<_, ToolError>("Tool with logging executed successfully")
            },
        ),
        // tools-call-with-progress
        simple(
            "test_tool_with_progress",
            "Reports progress 0, 50 and 100 of 100 while it runs",
            |context| async move {
                for (index, progress) in [0.0, 50.0, 100.0].into_iter().enumerate() {
                    if index > 0 {
                        tokio::time::sleep(STEP).await;
                    }
                    context.progress(progress, Some(100.0), None).await?;
                }
                Ok::<_, ToolError>("Tool with progress executed successfully")
            },
        ),
        // tools-call-error: a tool execution error is a result with `isError`, not a JSON-RPC error.
        simple(
            "test_error_handling",
            "Always fails, with a tool execution error",
            |_| async {
                Err::<String, _>(ToolError::new(
                    "This tool intentionally returns an error for testing",
                ))
            },
        ),
        // tools-call-sampling
        Tool::raw(
            "test_sampling",
            object(json!({
                "type": "object",
                "properties": {"prompt": {"type": "string", "description": "The prompt to send to the LLM"}},
                "required": ["prompt"]
            })),
            |arguments, context: Context| async move {
                let prompt = string_argument(&arguments, "prompt")?;
                let params = decode(json!({
                    "messages": [{"role": "user", "content": {"type": "text", "text": prompt}}],
                    "maxTokens": 100
                }))?;
                let result = context.create_message(params).await?;
                let answer = match &result.content {
                    types::CreateMessageResultContent::Object(
                        types::SamplingMessageContentBlock::TextContent(content),
                    ) => content.text.clone(),
                    other => serde_json::to_string(other).unwrap_or_default(),
                };
                Ok::<_, ToolError>(format!("LLM response: {answer}"))
            },
        )
        .description("Asks the client's model for a completion of the prompt (sampling)"),
        // tools-call-elicitation
        Tool::raw(
            "test_elicitation",
            object(json!({
                "type": "object",
                "properties": {"message": {"type": "string", "description": "The message to show the user"}},
                "required": ["message"]
            })),
            |arguments, context: Context| async move {
                let message = string_argument(&arguments, "message")?;
                let schema = json!({
                    "type": "object",
                    "properties": {
                        "username": {"type": "string", "description": "User's response"},
                        "email": {"type": "string", "description": "User's email address"}
                    },
                    "required": ["username", "email"]
                });
                let answer = elicit(&context, message, schema).await?;
                Ok::<_, ToolError>(format!("User response: {answer}"))
            },
        )
        .description("Asks the user for a username and an email address (elicitation)"),
        // elicitation-sep1034-defaults
        simple(
            "test_elicitation_sep1034_defaults",
            "Asks the user for input with a default for every field (SEP-1034)",
            |context| async move {
                let schema = json!({
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "description": "User name", "default": "John Doe"},
                        "age": {"type": "integer", "description": "User age", "default": 30},
                        "score": {"type": "number", "description": "User score", "default": 95.5},
                        "status": {
                            "type": "string",
                            "description": "User status",
                            "enum": ["active", "inactive", "pending"],
                            "default": "active"
                        },
                        "verified": {"type": "boolean", "description": "Verification status", "default": true}
                    }
                });
                let message = "Please review and update the form fields with defaults";
                let answer = elicit(&context, message.to_owned(), schema).await?;
                Ok::<_, ToolError>(format!("Elicitation completed: {answer}"))
            },
        ),
        // elicitation-sep1330-enums
        simple(
            "test_elicitation_sep1330_enums",
            "Asks the user to choose from every kind of enum field (SEP-1330)",
            |context| async move {
                let schema = json!({
                    "type": "object",
                    "properties": {
                        "untitledSingle": {
                            "type": "string",
                            "description": "Choose one option",
                            "enum": ["option1", "option2", "option3"]
                        },
                        "titledSingle": {
                            "type": "string",
                            "description": "Choose one titled option",
                            "oneOf": [
                                {"const": "value1", "title": "First Option"},
                                {"const": "value2", "title": "Second Option"},
                                {"const": "value3", "title": "Third Option"}
                            ]
                        },
                        "legacyEnum": {
                            "type": "string",
                            "description": "Choose one option (legacy enumNames)",
                            "enum": ["opt1", "opt2", "opt3"],
                            "enumNames": ["Option One", "Option Two", "Option Three"]
                        },
                        "untitledMulti": {
                            "type": "array",
                            "description": "Choose any options",
                            "items": {"type": "string", "enum": ["option1", "option2", "option3"]}
                        },
                        "titledMulti": {
                            "type": "array",
                            "description": "Choose any titled options",
                            "items": {
                                "anyOf": [
                                    {"const": "value1", "title": "First Choice"},
                                    {"const": "value2", "title": "Second Choice"},
                                    {"const": "value3", "title": "Third Choice"}
                                ]
                            }
                        }
                    }
                });
                let message = "Please choose from the enum fields";
                let answer = elicit(&context, message.to_owned(), schema).await?;
                Ok::<_, ToolError>(format!("Elicitation completed: {answer}"))
            },
        ),
        // json-schema-2020-12: the schema is listed as written, keywords of 2020-12 included.
        Tool::raw(
            "json_schema_2020_12_tool",
            json_schema_2020_12(),
            |arguments, _: Context| async move {
                Ok::<_, ToolError>(format!(
                    "Received arguments: {}",
                    Value::Object(arguments)
                ))
            },
        )
        .description("Tool with JSON Schema 2020-12 features"),
        // server-sse-polling: the tool ends its request's stream at once (SEP-1699) and
        // answers a little later, on the stream the client resumes with `Last-Event-ID`.
        simple(
            "test_reconnection",
            "Closes its SSE stream, then answers on the stream the client resumes",
            |context: Context| async move {
                context.close_stream().await?;
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok::<_, ToolError>("Reconnection test completed successfully")
            },
        ),
    ]
}

/// The input schema of `json_schema_2020_12_tool`: the 0.2.x fixture, a superset of the
/// 0.1.16 one (`$anchor`, `allOf`/`anyOf` and `if`/`then`/`else` added).
pub fn json_schema_2020_12() -> Map<String, Value> {
    object(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": {"street": {"type": "string"}, "city": {"type": "string"}}
            }
        },
        "properties": {
            "name": {"type": "string"},
            "address": {"$ref": "#/$defs/address"},
            "contactMethod": {"type": "string", "enum": ["phone", "email"]},
            "phone": {"type": "string"},
            "email": {"type": "string"}
        },
        "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
        "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
        "then": {"required": ["phone"]},
        "else": {"required": ["email"]},
        "additionalProperties": false
    }))
}

/// Sends a form elicitation and describes the answer as `action=…, content=…`.
async fn elicit(context: &Context, message: String, schema: Value) -> Result<String, ToolError> {
    let params: ElicitRequestParams = decode(json!({
        "message": message,
        "requestedSchema": schema
    }))?;
    let answer = context.elicit(params).await?;
    let content = serde_json::to_string(&answer.content.unwrap_or_default()).unwrap_or_default();
    Ok(format!("action={}, content={content}", answer.action))
}

/// The text of a sampling answer, or its JSON when it is not text.
fn sampled_text(result: &types::CreateMessageResult) -> String {
    match &result.content {
        types::CreateMessageResultContent::Object(
            types::SamplingMessageContentBlock::TextContent(content),
        ) => content.text.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// The type of the one field of a fixture's form.
#[derive(Clone, Copy)]
enum Field {
    Text,
    Flag,
}

/// A form elicitation of one required field.
fn one_field_form(message: &str, field: &str, kind: Field) -> ElicitRequestParams {
    let schema = match kind {
        Field::Text => types::PrimitiveSchemaDefinition::StringSchema(types::StringSchema {
            default: None,
            description: None,
            format: None,
            max_length: None,
            min_length: None,
            title: None,
            r#type: types::tags::String,
        }),
        Field::Flag => types::PrimitiveSchemaDefinition::BooleanSchema(types::BooleanSchema {
            default: None,
            description: None,
            title: None,
            r#type: types::tags::Boolean,
        }),
    };
    ElicitRequestParams::ElicitRequestFormParams(types::ElicitRequestFormParams {
        meta: None,
        message: message.to_owned(),
        mode: None,
        requested_schema: types::ElicitRequestFormParamsRequestedSchema {
            schema: None,
            properties: BTreeMap::from([(field.to_owned(), schema)]),
            required: Some(vec![field.to_owned()]),
            r#type: types::tags::Object,
        },
        task: None,
    })
}

/// Asks a one-field form under `key` and returns the field's answer as text (the action when
/// there is none).
async fn ask_field(
    context: &Context,
    key: &str,
    message: &str,
    field: &str,
    kind: Field,
) -> Result<String, Error> {
    let params = one_field_form(message, field, kind);
    let answer = context
        .elicit(params)
        .options(AskOptions::new().key(key))
        .await?;
    let value = answer
        .content
        .as_ref()
        .and_then(|content| content.get(field));
    Ok(match value {
        Some(types::ElicitResultContentValue::String(text)) => text.clone(),
        Some(other) => serde_json::to_string(other).unwrap_or_default(),
        None => answer.action.to_string(),
    })
}

/// Asks the user's name under `user_name`.
async fn ask_name(context: &Context) -> Result<String, Error> {
    ask_field(
        context,
        "user_name",
        "What is your name?",
        "name",
        Field::Text,
    )
    .await
}

/// Asks the client's model under `key`.
async fn ask_model(
    context: &Context,
    key: &str,
    question: &str,
    max_tokens: i64,
) -> Result<String, ToolError> {
    let params = decode(json!({
        "messages": [{"role": "user", "content": {"type": "text", "text": question}}],
        "maxTokens": max_tokens
    }))?;
    let answer = context
        .create_message(params)
        .options(AskOptions::new().key(key))
        .await?;
    Ok(sampled_text(&answer))
}

/// Asks the client for its roots under `key`, as a list of URIs.
async fn ask_roots(context: &Context, key: &str) -> Result<String, Error> {
    let roots = context
        .list_roots()
        .options(AskOptions::new().key(key))
        .await?;
    let uris: Vec<&str> = roots.roots.iter().map(|root| root.uri.as_str()).collect();
    Ok(uris.join(", "))
}

/// The fixtures of the 2026-07-28 scenarios (`server-stateless`, `input-required-result-*`).
fn modern_tools() -> Vec<mcpwire_server::ToolBuilder> {
    vec![
        // http-custom-header-server-validation: the `region` argument travels in the
        // `Mcp-Param-Region` header too, which the server compares with the body.
        Tool::raw(
            "test_custom_header",
            object(json!({
                "type": "object",
                "properties": {
                    "region": {
                        "type": "string",
                        "description": "The region to run the query in",
                        "x-mcp-header": "Region"
                    },
                    "query": {"type": "string", "description": "The query to run"}
                },
                "required": ["region"]
            })),
            |arguments, _: Context| async move {
                let region = string_argument(&arguments, "region")?;
                Ok::<_, ToolError>(format!("Region: {region}"))
            },
        )
        .description("Echoes the region, which is mirrored into the Mcp-Param-Region header"),
        // server-stateless: without `sampling` in the request's capabilities the error goes
        // out with `?`, and the modern era answers -32021 naming `sampling`.
        simple(
            "test_missing_capability",
            "Asks the client's model, which needs the sampling capability",
            |context| async move {
                let answer = ask_model(&context, "question", "Say hello", 20).await?;
                Ok::<_, ToolError>(format!("Sampled: {answer}"))
            },
        ),
        // server-stateless: the first answer is an input request, at once.
        simple(
            "test_streaming_elicitation",
            "Asks the user to confirm (elicitation)",
            |context| async move {
                let confirmed = ask_field(
                    &context,
                    "confirm",
                    "Please confirm",
                    "confirm",
                    Field::Flag,
                )
                .await?;
                Ok::<_, ToolError>(format!("Confirmed: {confirmed}"))
            },
        ),
        // server-stateless: without a log level in `_meta`, the message is not sent.
        simple(
            "test_logging_tool",
            "Sends one info log message and answers at once",
            |context| async move {
                context
                    .log(
                        LoggingLevel::Info,
                        Some("test_logging_tool"),
                        "Logging tool called",
                    )
                    .await?;
                Ok::<_, ToolError>("Logged one message")
            },
        ),
        // server-stateless: subscriptions hear of a change; the list itself stays the same.
        simple(
            "test_trigger_tool_change",
            "Announces that the tool list changed",
            |context| async move {
                context.server().notify_list_changed(ListKind::Tools).await;
                Ok::<_, ToolError>("Announced a tools list change")
            },
        ),
        simple(
            "test_trigger_prompt_change",
            "Announces that the prompt list changed",
            |context| async move {
                context
                    .server()
                    .notify_list_changed(ListKind::Prompts)
                    .await;
                Ok::<_, ToolError>("Announced a prompts list change")
            },
        ),
        // input-required-result-basic-elicitation, -result-type, -missing-input-response,
        // -ignore-extra-params, -validate-input
        simple(
            "test_input_required_result_elicitation",
            "Asks the user for their name (input request `user_name`)",
            |context| async move {
                let name = ask_name(&context).await?;
                Ok::<_, ToolError>(format!("Hello, {name}!"))
            },
        ),
        // input-required-result-basic-sampling
        simple(
            "test_input_required_result_sampling",
            "Asks the client's model a question (input request `capital_question`)",
            |context| async move {
                ask_model(
                    &context,
                    "capital_question",
                    "What is the capital of France?",
                    100,
                )
                .await
            },
        ),
        // input-required-result-basic-list-roots
        simple(
            "test_input_required_result_list_roots",
            "Asks the client for its roots (input request `client_roots`)",
            |context| async move {
                let roots = ask_roots(&context, "client_roots").await?;
                Ok::<_, ToolError>(format!("Client roots: {roots}"))
            },
        ),
        // input-required-result-request-state
        simple(
            "test_input_required_result_request_state",
            "Asks for a confirmation and carries it through requestState",
            |context| async move {
                let ok =
                    ask_field(&context, "confirm", "Please confirm", "ok", Field::Flag).await?;
                Ok::<_, ToolError>(format!("state-ok: confirmed={ok}"))
            },
        ),
        // input-required-result-multiple-input-requests: three asks share one round.
        simple(
            "test_input_required_result_multiple_inputs",
            "Asks the user, the model and the client at once",
            |context| async move {
                let (name, greeting, roots) = tokio::join!(
                    ask_name(&context),
                    ask_model(&context, "greeting", "Generate a greeting", 50),
                    ask_roots(&context, "client_roots"),
                );
                Ok::<_, ToolError>(format!(
                    "Name: {}, greeting: {}, roots: {}",
                    name?, greeting?, roots?
                ))
            },
        ),
        // input-required-result-multi-round: the second question comes in a second round.
        simple(
            "test_input_required_result_multi_round",
            "Asks two questions, one after the other",
            |context| async move {
                let name = ask_field(
                    &context,
                    "step1",
                    "Step 1: What is your name?",
                    "name",
                    Field::Text,
                )
                .await?;
                let color = ask_field(
                    &context,
                    "step2",
                    "Step 2: What is your favorite color?",
                    "color",
                    Field::Text,
                )
                .await?;
                Ok::<_, ToolError>(format!("{name} likes {color}"))
            },
        ),
        // input-required-result-tampered-state: a changed requestState is refused (-32602).
        simple(
            "test_input_required_result_tampered_state",
            "Asks for a confirmation; its requestState is signed",
            |context| async move {
                let ok =
                    ask_field(&context, "confirm", "Please confirm", "ok", Field::Flag).await?;
                Ok::<_, ToolError>(format!("Confirmed: {ok}"))
            },
        ),
        // input-required-result-capability-check: only what the request declared is asked.
        simple(
            "test_input_required_result_capabilities",
            "Asks the model and the user, each only when the client declared it",
            |context| async move {
                let capabilities = context.client_capabilities();
                let mut answers = Vec::new();
                if capabilities.sampling.is_some() {
                    answers.push(ask_model(&context, "sampling", "Say hello", 20).await?);
                }
                if capabilities.elicitation.is_some() {
                    answers.push(
                        ask_field(
                            &context,
                            "elicitation",
                            "What is your name?",
                            "name",
                            Field::Text,
                        )
                        .await?,
                    );
                }
                if answers.is_empty() {
                    return Ok::<_, ToolError>(
                        "The client declared neither sampling nor elicitation".to_owned(),
                    );
                }
                Ok(format!("Answers: {}", answers.join(", ")))
            },
        ),
    ]
}

/// The longest `slow_compute` works, whatever it is asked.
const MAX_COMPUTE: Duration = Duration::from_secs(600);

/// An object schema with `properties`, of which `required` are required.
fn schema(properties: Value, required: &[&str]) -> Map<String, Value> {
    object(json!({"type": "object", "properties": properties, "required": required}))
}

/// The fixtures of the `tasks-*` scenarios (the `io.modelcontextprotocol/tasks` extension of
/// 2026-07-28). Each tool that allows tasks becomes one when the request declared the
/// extension and the handler waits; the same handlers run as tasks of 2025-11-25 for a
/// legacy client that asks for one.
fn task_tools() -> Vec<mcpwire_server::ToolBuilder> {
    use types::ToolExecutionTaskSupport::{Optional, Required};
    vec![
        // tasks-lifecycle, tasks-dispatch-and-envelope: never a task.
        Tool::raw(
            "greet",
            schema(json!({"name": {"type": "string"}}), &["name"]),
            |arguments, _: Context| async move {
                let name = string_argument(&arguments, "name")?;
                Ok::<_, ToolError>(format!("Hello, {name}!"))
            },
        )
        .description("Greets by name, at once (never a task)"),
        // tasks-*: a task once it sleeps; `seconds: 0` answers at once.
        Tool::raw(
            "slow_compute",
            schema(
                json!({
                    "seconds": {"type": "number", "minimum": 0},
                    "label": {"type": "string"}
                }),
                &["seconds"],
            ),
            |arguments: Map<String, Value>, _: Context| async move {
                let seconds = arguments
                    .get("seconds")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0);
                let label = arguments
                    .get("label")
                    .and_then(Value::as_str)
                    .unwrap_or("compute")
                    .to_owned();
                let duration = Duration::try_from_secs_f64(seconds)
                    .unwrap_or(MAX_COMPUTE)
                    .min(MAX_COMPUTE);
                if !duration.is_zero() {
                    tokio::time::sleep(duration).await;
                }
                Ok::<_, ToolError>(format!("Computed {label} in {seconds}s"))
            },
        )
        .description("Works for `seconds` seconds, as a task when the client can take one")
        .task_support(Optional),
        // tasks-lifecycle, tasks-required-task-error: a task only; a tool execution error.
        simple(
            "failing_job",
            "Fails with a tool execution error after a second (task required)",
            |_| async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                Err::<String, _>(ToolError::new("The job failed, as it always does"))
            },
        )
        .task_support(Required),
        // tasks-lifecycle: a task only; the work crashes, which fails the task with a
        // protocol error (-32603), not a tool error.
        simple(
            "protocol_error_job",
            "Crashes while it runs as a task, which fails the task (task required)",
            |context| async move {
                if !context.continue_as_task().await {
                    return Err::<String, _>(ToolError::new(
                        "protocol_error_job runs only as a task",
                    ));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                panic!("protocol_error_job crashes on purpose");
            },
        )
        .task_support(Required),
        // tasks-mrtr-input, tasks-dispatch-and-envelope: the task asks its requestor.
        Tool::raw(
            "confirm_delete",
            schema(json!({"filename": {"type": "string"}}), &["filename"]),
            |arguments, context: Context| async move {
                let filename = string_argument(&arguments, "filename")?;
                context.continue_as_task().await;
                let message = format!("Delete {filename}?");
                let confirmed =
                    ask_field(&context, "confirm_delete", &message, "confirm", Field::Flag).await?;
                Ok::<_, ToolError>(if confirmed == "true" {
                    format!("Deleted {filename}")
                } else {
                    format!("Kept {filename}")
                })
            },
        )
        .description("Asks the user to confirm a deletion, as a task")
        .task_support(Optional),
        // tasks-mrtr-input: two questions open at once, answered one by one.
        simple(
            "multi_input",
            "Asks the user two questions at once, as a task",
            |context| async move {
                context.continue_as_task().await;
                let (name, confirmed) = tokio::join!(
                    ask_field(&context, "name", "What is your name?", "name", Field::Text),
                    ask_field(
                        &context,
                        "confirm",
                        "Please confirm",
                        "confirm",
                        Field::Flag
                    ),
                );
                Ok::<_, ToolError>(format!("name={}, confirm={}", name?, confirmed?))
            },
        )
        .task_support(Optional),
        // tasks-mrtr-composition: a round of input first, then a task.
        simple(
            "test_tool_with_task",
            "Asks the user's name in a round of input, then goes on as a task (task required)",
            |context| async move {
                let name = ask_name(&context).await?;
                context.continue_as_task().await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok::<_, ToolError>(format!("Hello, {name}! (from a task)"))
            },
        )
        .task_support(Required),
    ]
}

/// input-required-result-non-tool-request: `prompts/get` asks too.
fn input_required_prompt() -> Prompt {
    Prompt::new(
        "test_input_required_result_prompt",
        |_, context: Context| async move {
            let context_text = ask_field(
                &context,
                "user_context",
                "What context should the prompt use?",
                "context",
                Field::Text,
            )
            .await?;
            Ok::<_, HandlerError>(vec![user_message(text(format!(
                "Use this context: {context_text}"
            )))])
        },
    )
    .description("A prompt that asks the user for its context first")
}

fn resources() -> Vec<Resource> {
    vec![
        // resources-read-text
        Resource::new(
            "test://static-text",
            "static-text",
            |uri: String, _: Context| async move {
                Ok::<_, HandlerError>(vec![text_contents(
                    uri,
                    Some("text/plain"),
                    "This is the content of the static text resource.",
                )])
            },
        )
        .mime_type("text/plain")
        .description("A static text resource"),
        // resources-read-binary: the bytes go out as the base64 of the PNG fixture.
        Resource::new(
            "test://static-binary",
            "static-binary",
            |uri: String, _: Context| async move {
                let blob = types::BlobResourceContents {
                    meta: None,
                    blob: PNG_BASE64.to_owned(),
                    mime_type: Some("image/png".to_owned()),
                    uri,
                };
                Ok::<_, HandlerError>(vec![
                    types::ReadResourceResultContentsItem::BlobResourceContents(blob),
                ])
            },
        )
        .mime_type("image/png")
        .description("A static binary resource (a 1x1 PNG)"),
        // resources-subscribe, resources-unsubscribe
        Resource::new(
            "test://watched-resource",
            "watched-resource",
            |uri: String, _: Context| async move {
                Ok::<_, HandlerError>(vec![text_contents(
                    uri,
                    Some("text/plain"),
                    "This is a watched resource that can be subscribed to.",
                )])
            },
        )
        .mime_type("text/plain")
        .description("A resource to subscribe to"),
    ]
}

/// resources-templates-read
fn template() -> Result<ResourceTemplate, Error> {
    ResourceTemplate::new(
        "test://template/{id}/data",
        "template-data",
        |uri: String, variables: BTreeMap<String, String>, _: Context| async move {
            let id = variables.get("id").cloned().unwrap_or_default();
            let data = json!({
                "id": id,
                "templateTest": true,
                "data": format!("Data for ID: {id}")
            });
            Ok::<_, HandlerError>(vec![text_contents(
                uri,
                Some("application/json"),
                data.to_string(),
            )])
        },
    )
    .map(|template| {
        template
            .mime_type("application/json")
            .description("Data for any id")
    })
}

fn user_message(content: ContentBlock) -> types::PromptMessage {
    types::PromptMessage {
        content,
        role: types::Role::User,
    }
}

/// Suggestions for the arguments of `test_prompt_with_arguments` (completion-complete).
async fn complete_argument(prefix: String, _: BTreeMap<String, String>) -> Vec<String> {
    ["paris", "park", "party", "test", "testValue1", "testValue2"]
        .into_iter()
        .filter(|value| value.starts_with(&prefix))
        .map(str::to_owned)
        .collect()
}

fn prompts() -> Vec<Prompt> {
    vec![
        // prompts-get-simple
        Prompt::new("test_simple_prompt", |_, _: Context| async {
            Ok::<_, HandlerError>(vec![user_message(text(
                "This is a simple prompt for testing.",
            ))])
        })
        .description("A simple prompt without arguments"),
        // prompts-get-with-args, completion-complete
        Prompt::new(
            "test_prompt_with_arguments",
            |arguments: BTreeMap<String, String>, _: Context| async move {
                let argument = |name: &str| arguments.get(name).cloned().unwrap_or_default();
                Ok::<_, HandlerError>(vec![user_message(text(format!(
                    "Prompt with arguments: arg1='{}', arg2='{}'",
                    argument("arg1"),
                    argument("arg2")
                )))])
            },
        )
        .description("A prompt with two required arguments")
        .argument("arg1", "First test argument", true)
        .argument("arg2", "Second test argument", true)
        .complete("arg1", complete_argument)
        .complete("arg2", complete_argument),
        // prompts-get-embedded-resource
        Prompt::new(
            "test_prompt_with_embedded_resource",
            |arguments: BTreeMap<String, String>, _: Context| async move {
                let uri = arguments.get("resourceUri").cloned().unwrap_or_default();
                Ok::<_, HandlerError>(vec![
                    user_message(embedded_text(
                        uri,
                        "text/plain",
                        "Embedded resource content for testing.",
                    )),
                    user_message(text("Please process the embedded resource above.")),
                ])
            },
        )
        .description("A prompt that embeds a resource")
        .argument("resourceUri", "URI of the resource to embed", true),
        // prompts-get-with-image
        Prompt::new("test_prompt_with_image", |_, _: Context| async {
            Ok::<_, HandlerError>(vec![
                user_message(image()),
                user_message(text("Please analyze the image above.")),
            ])
        })
        .description("A prompt with an image"),
    ]
}
