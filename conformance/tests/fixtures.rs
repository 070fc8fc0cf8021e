//! The fixture server, driven by mcpwire's own client over the in-memory transport: each test
//! asserts what the official suite checks of one fixture (the scenario is named on each test),
//! and more where the suite's checks are shallow.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use mcpwire_client::{CallOptions, Client, EraChoice, ErrorObject, ServerNotification};
use mcpwire_schema::v2025_11_25::{
    CompleteRequestParamsRef, CreateMessageRequestParams, CreateMessageResult,
    CreateMessageResultContent, ElicitRequestParams, ElicitResult, ElicitResultAction,
    ElicitResultContentValue, Implementation, LoggingLevel, PromptReference, Role,
    SamplingMessageContentBlock, TextContent, tags,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const WAV: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

/// What the client's sampling and elicitation handlers were asked, as JSON.
type Asked = Arc<Mutex<Vec<Value>>>;

struct Harness {
    client: Client,
    notifications: mpsc::UnboundedReceiver<ServerNotification>,
    asked: Asked,
    _session: mcpwire_server::Session,
}

fn client_info() -> Implementation {
    Implementation::new("fixture-tests", "1.0.0")
}

/// A client that declares sampling and elicitation, as the suite's client does, and answers
/// them the way the suite does.
async fn connect() -> Harness {
    let server = mcpwire_conformance_fixtures::fixtures::server().expect("the fixtures are valid");
    let (client_end, server_end) = mcpwire_transport::duplex(64);
    let session = server.serve(server_end);
    let (sender, notifications) = mpsc::unbounded_channel();
    let asked: Asked = Arc::default();
    let sampling_asked = Arc::clone(&asked);
    let elicitation_asked = Arc::clone(&asked);
    let client = mcpwire_client::ClientBuilder::new(client_info())
        .era(EraChoice::Legacy)
        .on_notification(move |notification| {
            let _ = sender.send(notification);
        })
        .sampling(move |params: CreateMessageRequestParams, _| {
            let asked = Arc::clone(&sampling_asked);
            async move {
                asked
                    .lock()
                    .expect("asked")
                    .push(serde_json::to_value(&params).expect("encodes"));
                Ok::<_, ErrorObject>(CreateMessageResult {
                    meta: None,
                    content: CreateMessageResultContent::Object(
                        SamplingMessageContentBlock::TextContent(TextContent {
                            meta: None,
                            annotations: None,
                            text: "a sampled answer".to_owned(),
                            r#type: tags::Text,
                        }),
                    ),
                    model: "test-model".to_owned(),
                    role: Role::Assistant,
                    stop_reason: None,
                })
            }
        })
        .elicitation(move |params: ElicitRequestParams, _| {
            let asked = Arc::clone(&elicitation_asked);
            async move {
                let params = serde_json::to_value(&params).expect("encodes");
                let asks_username = params["requestedSchema"]["properties"]
                    .get("username")
                    .is_some();
                asked.lock().expect("asked").push(params);
                // The suite answers `test_elicitation` with a username and an email, and the
                // others with nothing, for the defaults to fill in.
                let content = asks_username.then(|| {
                    BTreeMap::from([
                        (
                            "username".to_owned(),
                            ElicitResultContentValue::String("alice".to_owned()),
                        ),
                        (
                            "email".to_owned(),
                            ElicitResultContentValue::String("alice@example.com".to_owned()),
                        ),
                    ])
                });
                Ok::<_, ErrorObject>(ElicitResult {
                    meta: None,
                    action: ElicitResultAction::Accept,
                    content,
                })
            }
        })
        .connect(client_end)
        .await
        .expect("the handshake succeeds");
    Harness {
        client,
        notifications,
        asked,
        _session: session,
    }
}

async fn call(harness: &Harness, tool: &str, arguments: Value) -> Value {
    let result = harness
        .client
        .call_tool(tool, arguments)
        .await
        .unwrap_or_else(|error| panic!("calling {tool}: {error}"));
    serde_json::to_value(&result).expect("encodes")
}

fn asked(harness: &Harness) -> Vec<Value> {
    harness.asked.lock().expect("asked").clone()
}

const TOOLS: &[&str] = &[
    "confirm_delete",
    "failing_job",
    "greet",
    "json_schema_2020_12_tool",
    "multi_input",
    "protocol_error_job",
    "slow_compute",
    "test_audio_content",
    "test_custom_header",
    "test_elicitation",
    "test_elicitation_sep1034_defaults",
    "test_elicitation_sep1330_enums",
    "test_embedded_resource",
    "test_error_handling",
    "test_image_content",
    "test_input_required_result_capabilities",
    "test_input_required_result_elicitation",
    "test_input_required_result_list_roots",
    "test_input_required_result_multi_round",
    "test_input_required_result_multiple_inputs",
    "test_input_required_result_request_state",
    "test_input_required_result_sampling",
    "test_input_required_result_tampered_state",
    "test_logging_tool",
    "test_missing_capability",
    "test_multiple_content_types",
    "test_reconnection",
    "test_sampling",
    "test_simple_text",
    "test_streaming_elicitation",
    "test_tool_with_logging",
    "test_tool_with_progress",
    "test_tool_with_task",
    "test_trigger_prompt_change",
    "test_trigger_tool_change",
];

#[tokio::test]
async fn server_initialize_declares_every_capability_the_scenarios_use() {
    let harness = connect().await;
    let capabilities = serde_json::to_value(harness.client.server_capabilities()).expect("encodes");
    assert_eq!(capabilities["tools"], json!({"listChanged": true}));
    assert_eq!(
        capabilities["resources"],
        json!({"listChanged": true, "subscribe": true})
    );
    assert_eq!(capabilities["prompts"], json!({"listChanged": true}));
    assert_eq!(capabilities["logging"], json!({}));
    assert_eq!(capabilities["completions"], json!({}));
    assert_eq!(
        capabilities["tasks"]["requests"]["tools"]["call"],
        json!({}),
        "the task fixtures run as tasks of 2025-11-25 too"
    );
    assert_eq!(harness.client.protocol_version().as_str(), "2025-11-25");
}

// ping, logging-set-level
#[tokio::test]
async fn ping_and_set_level_answer_empty_results() {
    let harness = connect().await;
    harness.client.ping().await.expect("ping");
    let result = harness
        .client
        .request_raw("logging/setLevel", json!({"level": "info"}))
        .await
        .expect("logging/setLevel");
    assert_eq!(result, json!({}));
    let result = harness
        .client
        .request_raw("ping", Value::Null)
        .await
        .expect("ping");
    assert_eq!(result, json!({}));
}

// tools-list
#[tokio::test]
async fn tools_list_has_every_fixture_with_name_description_and_schema() {
    let harness = connect().await;
    let tools = harness.client.list_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_str()).collect();
    assert_eq!(names, TOOLS);
    for tool in &tools {
        assert!(
            (1..=64).contains(&tool.name.len())
                && tool
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c)),
            "{}",
            tool.name
        );
        assert!(
            tool.description.as_deref().is_some_and(|d| !d.is_empty()),
            "{} has no description",
            tool.name
        );
        assert_eq!(tool.input_schema["type"], "object", "{}", tool.name);
    }
    for name in [
        "test_simple_text",
        "test_image_content",
        "test_error_handling",
        "test_tool_with_progress",
        "test_reconnection",
    ] {
        let tool = tools.iter().find(|tool| tool.name == name).expect(name);
        assert_eq!(
            Value::Object(tool.input_schema.clone()),
            json!({"type": "object", "properties": {}}),
            "{name}"
        );
    }
}

// tools-call-simple-text
#[tokio::test]
async fn simple_text() {
    let harness = connect().await;
    assert_eq!(
        call(&harness, "test_simple_text", json!({})).await,
        json!({"content": [{"type": "text", "text": "This is a simple text response for testing."}]})
    );
}

// tools-call-image
#[tokio::test]
async fn image_content() {
    let harness = connect().await;
    assert_eq!(
        call(&harness, "test_image_content", json!({})).await,
        json!({"content": [{"type": "image", "data": PNG, "mimeType": "image/png"}]})
    );
}

// tools-call-audio
#[tokio::test]
async fn audio_content() {
    let harness = connect().await;
    assert_eq!(
        call(&harness, "test_audio_content", json!({})).await,
        json!({"content": [{"type": "audio", "data": WAV, "mimeType": "audio/wav"}]})
    );
}

// tools-call-embedded-resource
#[tokio::test]
async fn embedded_resource() {
    let harness = connect().await;
    assert_eq!(
        call(&harness, "test_embedded_resource", json!({})).await,
        json!({"content": [{"type": "resource", "resource": {
            "uri": "test://embedded-resource",
            "mimeType": "text/plain",
            "text": "This is an embedded resource content."
        }}]})
    );
}

// tools-call-mixed-content
#[tokio::test]
async fn multiple_content_types() {
    let harness = connect().await;
    assert_eq!(
        call(&harness, "test_multiple_content_types", json!({})).await,
        json!({"content": [
            {"type": "text", "text": "Multiple content types test:"},
            {"type": "image", "data": PNG, "mimeType": "image/png"},
            {"type": "resource", "resource": {
                "uri": "test://mixed-content-resource",
                "mimeType": "application/json",
                "text": "{\"test\":\"data\",\"value\":123}"
            }}
        ]})
    );
}

// tools-call-with-logging
#[tokio::test]
async fn logging_sends_three_info_messages_before_the_result() {
    let mut harness = connect().await;
    harness
        .client
        .set_logging_level(LoggingLevel::Debug)
        .await
        .expect("logging/setLevel");
    let result = call(&harness, "test_tool_with_logging", json!({})).await;
    assert_eq!(result["content"][0]["type"], "text");
    assert_ne!(result["isError"], true);
    // Notifications are delivered before the result they precede.
    let mut messages = Vec::new();
    while let Ok(notification) = harness.notifications.try_recv() {
        if let ServerNotification::LoggingMessage(message) = notification {
            assert_eq!(message.level, LoggingLevel::Info);
            messages.push(message.data);
        }
    }
    assert_eq!(
        messages,
        [
            "Tool execution started",
            "Tool processing data",
            "Tool execution completed"
        ]
    );
}

// tools-call-with-progress
#[tokio::test]
async fn progress_reports_0_50_100_of_100_before_the_result() {
    let harness = connect().await;
    let reports = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&reports);
    let result = harness
        .client
        .call_tool("test_tool_with_progress", json!({}))
        .options(CallOptions::new().on_progress(move |progress| {
            recorded
                .lock()
                .expect("reports")
                .push((progress.progress, progress.total));
        }))
        .await
        .expect("tools/call");
    assert_ne!(result.is_error, Some(true));
    assert_eq!(
        *reports.lock().expect("reports"),
        [
            (0.0, Some(100.0)),
            (50.0, Some(100.0)),
            (100.0, Some(100.0))
        ]
    );
}

// tools-call-error
#[tokio::test]
async fn error_handling_is_a_tool_result_not_a_protocol_error() {
    let harness = connect().await;
    assert_eq!(
        call(&harness, "test_error_handling", json!({})).await,
        json!({
            "content": [{"type": "text", "text": "This tool intentionally returns an error for testing"}],
            "isError": true
        })
    );
}

// tools-call-sampling
#[tokio::test]
async fn sampling_asks_the_client_and_returns_its_answer() {
    let harness = connect().await;
    let result = call(&harness, "test_sampling", json!({"prompt": "Say hi"})).await;
    assert_eq!(
        result,
        json!({"content": [{"type": "text", "text": "LLM response: a sampled answer"}]})
    );
    assert_eq!(
        asked(&harness),
        [json!({
            "messages": [{"role": "user", "content": {"type": "text", "text": "Say hi"}}],
            "maxTokens": 100
        })]
    );
}

// tools-call-elicitation
#[tokio::test]
async fn elicitation_asks_for_username_and_email() {
    let harness = connect().await;
    let result = call(
        &harness,
        "test_elicitation",
        json!({"message": "Who are you?"}),
    )
    .await;
    assert_eq!(
        result["content"][0]["text"],
        "User response: action=accept, content={\"email\":\"alice@example.com\",\"username\":\"alice\"}"
    );
    assert_eq!(
        asked(&harness),
        [json!({
            "message": "Who are you?",
            "requestedSchema": {
                "type": "object",
                "properties": {
                    "username": {"type": "string", "description": "User's response"},
                    "email": {"type": "string", "description": "User's email address"}
                },
                "required": ["username", "email"]
            }
        })]
    );
}

// elicitation-sep1034-defaults
#[tokio::test]
async fn sep1034_defaults_are_requested_with_exact_types_and_values() {
    let harness = connect().await;
    let result = call(&harness, "test_elicitation_sep1034_defaults", json!({})).await;
    let asked = asked(&harness);
    assert_eq!(asked.len(), 1);
    let properties = &asked[0]["requestedSchema"]["properties"];
    let expected = [
        ("name", "string", json!("John Doe")),
        ("age", "integer", json!(30)),
        ("score", "number", json!(95.5)),
        ("status", "string", json!("active")),
        ("verified", "boolean", json!(true)),
    ];
    for (name, kind, default) in expected {
        assert_eq!(properties[name]["type"], kind, "{name}");
        // The suite compares with `===` in JavaScript, where 30.0 is 30.
        assert_eq!(
            properties[name]["default"].as_f64(),
            default.as_f64(),
            "{name}"
        );
        if default.is_string() || default.is_boolean() {
            assert_eq!(properties[name]["default"], default, "{name}");
        }
    }
    assert_eq!(
        properties["status"]["enum"],
        json!(["active", "inactive", "pending"])
    );
    // The client filled the defaults into its empty answer.
    let text = result["content"][0]["text"].as_str().expect("text");
    assert!(
        text.starts_with("Elicitation completed: action=accept"),
        "{text}"
    );
    for field in [
        "John Doe",
        "\"age\":30",
        "95.5",
        "active",
        "\"verified\":true",
    ] {
        assert!(text.contains(field), "{field} in {text}");
    }
}

// elicitation-sep1330-enums
#[tokio::test]
async fn sep1330_enums_request_all_five_enum_shapes() {
    let harness = connect().await;
    let result = call(&harness, "test_elicitation_sep1330_enums", json!({})).await;
    assert!(
        result["content"][0]["text"]
            .as_str()
            .is_some_and(|text| text.starts_with("Elicitation completed: action=accept"))
    );
    let asked = asked(&harness);
    let properties = &asked[0]["requestedSchema"]["properties"];
    let untitled = &properties["untitledSingle"];
    assert_eq!(untitled["type"], "string");
    assert_eq!(untitled["enum"], json!(["option1", "option2", "option3"]));
    assert!(untitled.get("oneOf").is_none() && untitled.get("enumNames").is_none());
    let titled = &properties["titledSingle"];
    assert_eq!(titled["type"], "string");
    assert!(titled.get("enum").is_none());
    let options = titled["oneOf"].as_array().expect("oneOf");
    assert_eq!(options.len(), 3);
    assert!(
        options
            .iter()
            .all(|option| option["const"].is_string() && option["title"].is_string())
    );
    let legacy = &properties["legacyEnum"];
    assert_eq!(legacy["type"], "string");
    assert_eq!(legacy["enum"], json!(["opt1", "opt2", "opt3"]));
    assert_eq!(
        legacy["enumNames"],
        json!(["Option One", "Option Two", "Option Three"])
    );
    let untitled_multi = &properties["untitledMulti"];
    assert_eq!(untitled_multi["type"], "array");
    assert_eq!(untitled_multi["items"]["type"], "string");
    assert_eq!(
        untitled_multi["items"]["enum"],
        json!(["option1", "option2", "option3"])
    );
    assert!(untitled_multi["items"].get("anyOf").is_none());
    let titled_multi = &properties["titledMulti"];
    assert_eq!(titled_multi["type"], "array");
    assert!(titled_multi["items"].get("enum").is_none());
    let choices = titled_multi["items"]["anyOf"].as_array().expect("anyOf");
    assert_eq!(choices.len(), 3);
    assert!(
        choices
            .iter()
            .all(|choice| choice["const"].is_string() && choice["title"].is_string())
    );
}

// json-schema-2020-12 (0.1.16 checks and the SEP-2106 checks of 0.2.x)
#[tokio::test]
async fn json_schema_2020_12_tool_is_listed_with_its_schema_unchanged() {
    let harness = connect().await;
    let tools = harness.client.list_tools().await.expect("tools/list");
    let tool = tools
        .iter()
        .find(|tool| tool.name == "json_schema_2020_12_tool")
        .expect("listed");
    assert_eq!(
        tool.description.as_deref(),
        Some("Tool with JSON Schema 2020-12 features")
    );
    assert_eq!(
        Value::Object(tool.input_schema.clone()),
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {"address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": {"street": {"type": "string"}, "city": {"type": "string"}}
            }},
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
        })
    );
    // The schema is enforced, 2020-12 keywords included.
    let valid = call(
        &harness,
        "json_schema_2020_12_tool",
        json!({"name": "Ada", "contactMethod": "email", "email": "ada@example.com"}),
    )
    .await;
    assert_ne!(valid["isError"], true, "{valid}");
    let invalid = call(
        &harness,
        "json_schema_2020_12_tool",
        json!({"contactMethod": "phone", "email": "ada@example.com"}),
    )
    .await;
    assert_eq!(invalid["isError"], true, "{invalid}");
}

// server-sse-polling (the tool's part; the stream's part is the transport's)
#[tokio::test]
async fn reconnection_tool_answers() {
    let harness = connect().await;
    assert_eq!(
        call(&harness, "test_reconnection", json!({})).await,
        json!({"content": [{"type": "text", "text": "Reconnection test completed successfully"}]})
    );
}

// resources-list
#[tokio::test]
async fn resources_and_the_template_are_listed() {
    let harness = connect().await;
    let resources = harness.client.list_resources().await.expect("list");
    let listed: Vec<(&str, &str, Option<&str>)> = resources
        .iter()
        .map(|resource| {
            (
                resource.uri.as_str(),
                resource.name.as_str(),
                resource.mime_type.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("test://static-binary", "static-binary", Some("image/png")),
            ("test://static-text", "static-text", Some("text/plain")),
            (
                "test://watched-resource",
                "watched-resource",
                Some("text/plain")
            ),
        ]
    );
    let templates = harness
        .client
        .list_resource_templates()
        .await
        .expect("templates");
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0].uri_template, "test://template/{id}/data");
    assert_eq!(templates[0].mime_type.as_deref(), Some("application/json"));
}

async fn read(harness: &Harness, uri: &str) -> Value {
    let result = harness
        .client
        .read_resource(uri)
        .await
        .unwrap_or_else(|error| panic!("reading {uri}: {error}"));
    serde_json::to_value(&result).expect("encodes")
}

// resources-read-text, resources-read-binary, resources-templates-read
#[tokio::test]
async fn resources_read_with_their_exact_contents() {
    let harness = connect().await;
    assert_eq!(
        read(&harness, "test://static-text").await,
        json!({"contents": [{
            "uri": "test://static-text",
            "mimeType": "text/plain",
            "text": "This is the content of the static text resource."
        }]})
    );
    assert_eq!(
        read(&harness, "test://static-binary").await,
        json!({"contents": [{"uri": "test://static-binary", "mimeType": "image/png", "blob": PNG}]})
    );
    let data = read(&harness, "test://template/123/data").await;
    assert_eq!(data["contents"][0]["uri"], "test://template/123/data");
    assert_eq!(data["contents"][0]["mimeType"], "application/json");
    let text: Value =
        serde_json::from_str(data["contents"][0]["text"].as_str().expect("text contents"))
            .expect("the template's text is JSON");
    assert_eq!(
        text,
        json!({"id": "123", "templateTest": true, "data": "Data for ID: 123"})
    );
    let watched = read(&harness, "test://watched-resource").await;
    assert_eq!(watched["contents"][0]["mimeType"], "text/plain");
}

// resources-subscribe, resources-unsubscribe
#[tokio::test]
async fn the_watched_resource_can_be_subscribed_and_unsubscribed() {
    let harness = connect().await;
    harness
        .client
        .subscribe("test://watched-resource")
        .await
        .expect("resources/subscribe");
    harness
        .client
        .unsubscribe("test://watched-resource")
        .await
        .expect("resources/unsubscribe");
}

// prompts-list
#[tokio::test]
async fn prompts_are_listed_with_descriptions_and_arguments() {
    let harness = connect().await;
    let prompts = harness.client.list_prompts().await.expect("prompts/list");
    let names: Vec<&str> = prompts.iter().map(|prompt| prompt.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "test_input_required_result_prompt",
            "test_prompt_with_arguments",
            "test_prompt_with_embedded_resource",
            "test_prompt_with_image",
            "test_simple_prompt",
        ]
    );
    assert!(
        prompts
            .iter()
            .all(|prompt| prompt.description.as_deref().is_some_and(|d| !d.is_empty()))
    );
    let arguments = |name: &str| -> Vec<(String, Option<bool>)> {
        prompts
            .iter()
            .find(|prompt| prompt.name == name)
            .and_then(|prompt| prompt.arguments.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|argument| (argument.name, argument.required))
            .collect()
    };
    assert_eq!(
        arguments("test_prompt_with_arguments"),
        [
            ("arg1".to_owned(), Some(true)),
            ("arg2".to_owned(), Some(true))
        ]
    );
    assert_eq!(
        arguments("test_prompt_with_embedded_resource"),
        [("resourceUri".to_owned(), Some(true))]
    );
}

async fn prompt(harness: &Harness, name: &str, arguments: &[(&str, &str)]) -> Value {
    let arguments = arguments
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    let result = harness
        .client
        .get_prompt(name, arguments)
        .await
        .unwrap_or_else(|error| panic!("prompts/get {name}: {error}"));
    serde_json::to_value(&result).expect("encodes")["messages"].clone()
}

// prompts-get-simple, prompts-get-with-args, prompts-get-embedded-resource, prompts-get-with-image
#[tokio::test]
async fn prompts_render_their_exact_messages() {
    let harness = connect().await;
    assert_eq!(
        prompt(&harness, "test_simple_prompt", &[]).await,
        json!([{"role": "user", "content": {"type": "text", "text": "This is a simple prompt for testing."}}])
    );
    assert_eq!(
        prompt(
            &harness,
            "test_prompt_with_arguments",
            &[("arg1", "testValue1"), ("arg2", "testValue2")]
        )
        .await,
        json!([{"role": "user", "content": {
            "type": "text",
            "text": "Prompt with arguments: arg1='testValue1', arg2='testValue2'"
        }}])
    );
    assert_eq!(
        prompt(
            &harness,
            "test_prompt_with_embedded_resource",
            &[("resourceUri", "test://example-resource")]
        )
        .await,
        json!([
            {"role": "user", "content": {"type": "resource", "resource": {
                "uri": "test://example-resource",
                "mimeType": "text/plain",
                "text": "Embedded resource content for testing."
            }}},
            {"role": "user", "content": {"type": "text", "text": "Please process the embedded resource above."}}
        ])
    );
    assert_eq!(
        prompt(&harness, "test_prompt_with_image", &[]).await,
        json!([
            {"role": "user", "content": {"type": "image", "data": PNG, "mimeType": "image/png"}},
            {"role": "user", "content": {"type": "text", "text": "Please analyze the image above."}}
        ])
    );
}

// completion-complete
#[tokio::test]
async fn completion_suggests_values_for_the_prompt_arguments() {
    let harness = connect().await;
    let reference = CompleteRequestParamsRef::PromptReference(PromptReference {
        name: "test_prompt_with_arguments".to_owned(),
        title: None,
        r#type: tags::RefPrompt,
    });
    let result = harness
        .client
        .complete(reference.clone(), "arg1", "test")
        .await
        .expect("completion/complete");
    assert_eq!(
        result.completion.values,
        ["test", "testValue1", "testValue2"]
    );
    let result = harness
        .client
        .complete(reference, "arg2", "par")
        .await
        .expect("completion/complete");
    assert_eq!(result.completion.values, ["paris", "park", "party"]);
}

// A client without sampling gets a tool error, as the suite's description asks.
#[tokio::test]
async fn sampling_without_the_capability_is_a_tool_error() {
    let server = mcpwire_conformance_fixtures::fixtures::server().expect("valid");
    let (client_end, server_end) = mcpwire_transport::duplex(16);
    let _session = server.serve(server_end);
    let client = mcpwire_client::ClientBuilder::new(client_info())
        .era(EraChoice::Legacy)
        .connect(client_end)
        .await
        .expect("handshake");
    let result = client
        .call_tool("test_sampling", json!({"prompt": "hi"}))
        .await
        .expect("tools/call");
    assert_eq!(result.is_error, Some(true));
}
