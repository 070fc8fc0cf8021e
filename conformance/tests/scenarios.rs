//! The client scenarios, each run against an in-memory server that plays the suite's mock
//! and records what the suite's checks look at.

use std::sync::{Arc, Mutex};

use mcpwire_client::{Client, ProtocolVersion};
use mcpwire_conformance::scenarios::Scenario;
use mcpwire_server::{Context, Server, Tool, ToolError, types};
use serde_json::{Map, Value, json};

type Recorded = Arc<Mutex<Vec<Value>>>;

fn schema(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(object) => object,
        _ => panic!("a schema is an object"),
    }
}

/// A tool that records its arguments and answers with text.
fn recording_tool(
    name: &str,
    input_schema: Value,
    recorded: &Recorded,
) -> mcpwire_server::ToolBuilder {
    let recorded = Arc::clone(recorded);
    Tool::raw(name, schema(input_schema), move |arguments, _: Context| {
        let recorded = Arc::clone(&recorded);
        async move {
            recorded
                .lock()
                .expect("recorded")
                .push(Value::Object(arguments));
            Ok::<_, ToolError>("done")
        }
    })
    .description("records its arguments")
}

async fn run(scenario: Scenario, server: &Server) -> anyhow::Result<()> {
    let (client_end, server_end) = mcpwire_transport::duplex(64);
    let _session = server.serve(server_end);
    let client: Client = scenario
        .client_builder(ProtocolVersion::LATEST_LEGACY)
        .connect(client_end)
        .await?;
    let outcome = scenario.run(&client).await;
    client.close().await;
    outcome
}

#[test]
fn names_round_trip_and_other_scenarios_are_refused_with_a_reason() {
    for scenario in Scenario::ALL {
        assert_eq!(Scenario::from_name(scenario.name()), Ok(scenario));
    }
    let auth = Scenario::from_name("auth/metadata-default").expect_err("auth");
    assert_eq!(
        auth.to_string(),
        "scenario `auth/metadata-default`: auth scenarios are not implemented"
    );
    let modern = Scenario::from_name("request-metadata").expect_err("2026-07-28");
    assert!(modern.to_string().contains("2026-07-28"), "{modern}");
    let unknown = Scenario::from_name("no-such-scenario").expect_err("unknown");
    assert!(
        unknown.to_string().contains("unknown scenario"),
        "{unknown}"
    );
}

#[tokio::test]
async fn initialize_accepts_a_server_without_capabilities() {
    let server = Server::builder("bare", "1.0.0")
        .without_logging()
        .build()
        .expect("valid");
    run(Scenario::Initialize, &server)
        .await
        .expect("initialize");
}

#[tokio::test]
async fn tools_call_calls_add_numbers_with_two_numbers() {
    let recorded = Recorded::default();
    let server = Server::builder("mock", "1.0.0")
        .tool(recording_tool(
            "add_numbers",
            json!({
                "type": "object",
                "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                "required": ["a", "b"]
            }),
            &recorded,
        ))
        .build()
        .expect("valid");
    run(Scenario::ToolsCall, &server).await.expect("tools_call");
    assert_eq!(
        *recorded.lock().expect("recorded"),
        [json!({"a": 5, "b": 3})]
    );
}

#[tokio::test]
async fn tools_call_fails_when_the_tool_is_missing() {
    let server = Server::builder("mock", "1.0.0")
        .tools()
        .build()
        .expect("valid");
    let error = run(Scenario::ToolsCall, &server)
        .await
        .expect_err("no add_numbers");
    assert!(error.to_string().contains("add_numbers"), "{error}");
}

#[tokio::test]
async fn elicitation_defaults_answers_with_every_default_filled_in() {
    let answers = Recorded::default();
    let recorded = Arc::clone(&answers);
    let tool = Tool::raw(
        "test_client_elicitation_defaults",
        schema(json!({"type": "object", "properties": {}})),
        move |_, context: Context| {
            let recorded = Arc::clone(&recorded);
            async move {
                let params = serde_json::from_value(json!({
                    "message": "accept with defaults",
                    "requestedSchema": {"type": "object", "properties": {
                        "name": {"type": "string", "default": "John Doe"},
                        "age": {"type": "integer", "default": 30},
                        "score": {"type": "number", "default": 95.5},
                        "status": {"type": "string", "enum": ["active", "inactive", "pending"], "default": "active"},
                        "verified": {"type": "boolean", "default": true}
                    }}
                }))
                .map_err(|error| ToolError::new(error.to_string()))?;
                let answer: types::ElicitResult = context.elicit(params).await?;
                recorded
                    .lock()
                    .expect("recorded")
                    .push(serde_json::to_value(&answer).expect("encodes"));
                Ok::<_, ToolError>("recorded")
            }
        },
    )
    .description("elicits with defaults");
    let server = Server::builder("mock", "1.0.0")
        .tool(tool)
        .build()
        .expect("valid");
    run(Scenario::ElicitationDefaults, &server)
        .await
        .expect("elicitation-sep1034-client-defaults");
    assert_eq!(
        *answers.lock().expect("answers"),
        [json!({"action": "accept", "content": {
            "name": "John Doe",
            "age": 30,
            "score": 95.5,
            "status": "active",
            "verified": true
        }})]
    );
}

#[tokio::test]
async fn sse_retry_calls_test_reconnection() {
    let recorded = Recorded::default();
    let server = Server::builder("mock", "1.0.0")
        .tool(recording_tool(
            "test_reconnection",
            json!({"type": "object", "properties": {}}),
            &recorded,
        ))
        .build()
        .expect("valid");
    run(Scenario::SseRetry, &server).await.expect("sse-retry");
    assert_eq!(recorded.lock().expect("recorded").len(), 1);
}

#[tokio::test]
async fn json_schema_preservation_echoes_the_schema_unchanged() {
    let focal = Recorded::default();
    let echoed = Recorded::default();
    let server = Server::builder("mock", "1.0.0")
        .tool(recording_tool(
            "json_schema_2020_12_tool",
            Value::Object(mcpwire_conformance::fixtures::json_schema_2020_12()),
            &focal,
        ))
        .tool(recording_tool(
            "json_schema_echo",
            json!({
                "type": "object",
                "properties": {"schema": {"type": "object"}},
                "required": ["schema"]
            }),
            &echoed,
        ))
        .build()
        .expect("valid");
    run(Scenario::JsonSchemaPreservation, &server)
        .await
        .expect("json-schema-2020-12-preservation");
    assert_eq!(
        *echoed.lock().expect("echoed"),
        [json!({"schema": Value::Object(mcpwire_conformance::fixtures::json_schema_2020_12())})]
    );
    assert!(focal.lock().expect("focal").is_empty());
}
