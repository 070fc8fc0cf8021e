//! The client scenarios, each run against an in-memory server that plays the suite's mock
//! and records what the suite's checks look at.

use std::sync::{Arc, Mutex};

use mcpwire_client::{Client, ErrorObject, ProtocolVersion};
use mcpwire_conformance_fixtures::scenarios::Scenario;
use mcpwire_jsonrpc::{ErrorResponse, Message, Response};
use mcpwire_server::{Context, HandlerError, Prompt, Resource, Server, Tool, ToolError, types};
use mcpwire_transport::{
    Inbound, MemoryTransport, MessageReceiver as _, MessageSender as _, SendOptions, Transport as _,
};
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
    run_at(scenario, server, ProtocolVersion::LATEST_LEGACY).await
}

/// Runs `scenario` with the client the binary makes when the suite asks for `version`.
async fn run_at(
    scenario: Scenario,
    server: &Server,
    version: ProtocolVersion,
) -> anyhow::Result<()> {
    let (client_end, server_end) = mcpwire_transport::duplex(64);
    let _session = server.serve(server_end);
    let client: Client = scenario.client_builder(version).connect(client_end).await?;
    anyhow::ensure!(
        client.protocol_version() == version,
        "connected at {}, not at {version}",
        client.protocol_version()
    );
    let outcome = scenario.run(&client).await;
    client.close().await;
    outcome
}

/// A tool that records the answer of the form it asks the client to fill in.
fn confirming_tool(name: &str, answers: &Recorded) -> mcpwire_server::ToolBuilder {
    let answers = Arc::clone(answers);
    Tool::raw(
        name,
        schema(json!({"type": "object", "properties": {}})),
        move |_, context: Context| {
            let answers = Arc::clone(&answers);
            async move {
                let params = serde_json::from_value(json!({
                    "message": "Please confirm to continue",
                    "requestedSchema": {"type": "object", "properties": {
                        "confirmed": {"type": "boolean", "description": "Confirm?"}
                    }}
                }))
                .map_err(|error| ToolError::new(error.to_string()))?;
                let answer: types::ElicitResult = context.elicit(params).await?;
                answers
                    .lock()
                    .expect("answers")
                    .push(serde_json::to_value(&answer).expect("encodes"));
                Ok::<_, ToolError>("confirmed")
            }
        },
    )
    .description("asks for a confirmation")
}

#[test]
fn names_round_trip_and_other_scenarios_are_refused_with_a_reason() {
    for scenario in Scenario::ALL {
        assert_eq!(Scenario::from_name(scenario.name()), Ok(scenario));
    }
    assert_eq!(
        Scenario::from_name("auth/metadata-default"),
        Ok(Scenario::Authorization)
    );
    assert!(Scenario::Authorization.auth_layer(None).unwrap().is_some());
    assert!(Scenario::ToolsCall.auth_layer(None).unwrap().is_none());
    // The extensions need the suite's data, and say which they lack.
    let missing = Scenario::ClientCredentialsJwt
        .auth_layer(Some(
            &json!({"client_id": "c", "signing_algorithm": "ES256"}),
        ))
        .expect_err("no key");
    assert!(missing.to_string().contains("private_key_pem"), "{missing}");
    assert!(Scenario::WorkloadIdentity.auth_layer(None).is_err());
    let basic = json!({"client_id": "c", "client_secret": "s"});
    assert!(
        Scenario::ClientCredentialsBasic
            .auth_layer(Some(&basic))
            .unwrap()
            .is_some()
    );
    let wif = json!({"client_id": "w", "valid_jwt": "a.b.c"});
    assert!(
        Scenario::WorkloadIdentity
            .auth_layer(Some(&wif))
            .unwrap()
            .is_some()
    );
    let enterprise = json!({
        "client_id": "c",
        "client_secret": "s",
        "idp_client_id": "i",
        "idp_id_token": "a.b.c",
        "idp_issuer": "http://localhost:3000",
    });
    for scenario in [
        Scenario::EnterpriseManagedAuthorization,
        Scenario::CrossAppAccess,
    ] {
        assert!(scenario.auth_layer(Some(&enterprise)).unwrap().is_some());
        let missing = scenario
            .auth_layer(Some(&json!({
                "client_id": "c",
                "idp_client_id": "i",
                "idp_issuer": "http://localhost:3000",
            })))
            .expect_err("no ID token");
        assert!(missing.to_string().contains("idp_id_token"), "{missing}");
    }
    // Every auth extension of the suites is implemented: none is refused, and none is taken
    // for the core authorization.
    for (name, scenario) in [
        ("auth/dpop", Scenario::Dpop),
        (
            "auth/enterprise-managed-authorization",
            Scenario::EnterpriseManagedAuthorization,
        ),
        (
            "auth/cross-app-access-complete-flow",
            Scenario::CrossAppAccess,
        ),
    ] {
        assert_eq!(Scenario::from_name(name), Ok(scenario));
    }
    assert!(Scenario::from_name("auth/").is_err());
    let skills = Scenario::from_name("sep-2640-skills").expect_err("skills");
    assert!(skills.to_string().contains("SEP-2640"), "{skills}");
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
            Value::Object(mcpwire_conformance_fixtures::fixtures::json_schema_2020_12()),
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
        [
            json!({"schema": Value::Object(mcpwire_conformance_fixtures::fixtures::json_schema_2020_12())})
        ]
    );
    assert!(focal.lock().expect("focal").is_empty());
}

#[tokio::test]
async fn request_metadata_connects_at_2026_07_28() {
    let server = Server::builder("bare", "1.0.0")
        .without_logging()
        .build()
        .expect("valid");
    run_at(
        Scenario::RequestMetadata,
        &server,
        ProtocolVersion::V2026_07_28,
    )
    .await
    .expect("request-metadata");
}

#[tokio::test]
async fn client_request_state_answers_the_input_rounds_of_every_mrtr_tool() {
    let answers = Recorded::default();
    let called = Recorded::default();
    let plain = json!({"type": "object", "properties": {}});
    let server = Server::builder("mrtr-mock", "1.0.0")
        .tool(confirming_tool("test_mrtr_echo_state", &answers))
        .tool(confirming_tool("test_mrtr_no_state", &answers))
        .tool(recording_tool(
            "test_mrtr_unrelated",
            plain.clone(),
            &called,
        ))
        .tool(recording_tool("test_mrtr_no_result_type", plain, &called))
        .build()
        .expect("valid");
    run_at(
        Scenario::ClientRequestState,
        &server,
        ProtocolVersion::V2026_07_28,
    )
    .await
    .expect("sep-2322-client-request-state");
    let confirmed = json!({"action": "accept", "content": {"confirmed": true}});
    assert_eq!(
        *answers.lock().expect("answers"),
        [confirmed.clone(), confirmed]
    );
    assert_eq!(called.lock().expect("called").len(), 2);
}

#[tokio::test]
async fn http_standard_headers_uses_every_tool_resource_and_prompt_listed() {
    let called = Recorded::default();
    let used = Recorded::default();
    let plain = json!({"type": "object", "properties": {}});
    let read = |uri: &str| {
        let used = Arc::clone(&used);
        Resource::new(uri, uri, move |uri: String, _: Context| {
            used.lock().expect("used").push(json!({"read": uri}));
            // An empty read is an answer, not an error.
            async { Ok::<_, HandlerError>(Vec::new()) }
        })
    };
    let prompt_used = Arc::clone(&used);
    let prompt = Prompt::new("test_prompt", move |_, _: Context| {
        prompt_used
            .lock()
            .expect("used")
            .push(json!({"get": "test_prompt"}));
        async { Ok::<_, HandlerError>(Vec::new()) }
    });
    let server = Server::builder("headers-mock", "1.0.0")
        .tool(recording_tool("test_headers", plain.clone(), &called))
        .tool(recording_tool("my-hyphenated-tool", plain, &called))
        .resource(read("file:///path/to/file%20name.txt"))
        .resource(read("https://example.com/resource?id=123"))
        .prompt(prompt)
        .build()
        .expect("valid");
    run_at(
        Scenario::HttpStandardHeaders,
        &server,
        ProtocolVersion::V2026_07_28,
    )
    .await
    .expect("http-standard-headers");
    assert_eq!(called.lock().expect("called").len(), 2);
    let mut used = used.lock().expect("used").clone();
    used.sort_by_key(Value::to_string);
    assert_eq!(
        used,
        [
            json!({"get": "test_prompt"}),
            json!({"read": "file:///path/to/file%20name.txt"}),
            json!({"read": "https://example.com/resource?id=123"}),
        ]
    );
}

/// A modern server that answers `server/discover` and `tools/list` with `tools`, and any
/// other request with `-32601`, until the client closes the transport.
async fn serve_tools(transport: MemoryTransport, tools: Value) {
    let (mut sender, mut receiver) = transport.split();
    while let Some(Ok(inbound)) = receiver.receive().await {
        let Inbound::Message(Message::Request(request)) = inbound else {
            continue;
        };
        let result = match request.method.as_str() {
            "server/discover" => json!({
                "resultType": "complete",
                "supportedVersions": ["2026-07-28"],
                "capabilities": {"tools": {}},
                "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "mock", "version": "1"}},
            }),
            "tools/list" => json!({"resultType": "complete", "tools": tools}),
            _ => {
                let error = ErrorObject::method_not_found(&request.method);
                let response = ErrorResponse::new(Some(request.id), error);
                let _ = sender.send(response.into(), SendOptions::default()).await;
                continue;
            }
        };
        let result = serde_json::value::to_raw_value(&result).expect("JSON values encode");
        let response = Response::new(request.id, result);
        if sender
            .send(response.into(), SendOptions::default())
            .await
            .is_err()
        {
            return;
        }
    }
}

#[tokio::test]
async fn json_schema_ref_no_deref_lists_the_tools_without_fetching_the_ref() {
    // The canary: a listener whose URL the schema references and that nobody may connect to.
    let canary = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    canary.set_nonblocking(true).expect("non-blocking");
    let address = canary.local_addr().expect("an address");
    let tools = json!([{
        "name": "lookup_user",
        "inputSchema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {"userId": {"type": "string", "pattern": "^[a-z0-9-]+$"}},
            "properties": {
                "id": {"$ref": "#/$defs/userId"},
                "profile": {"$ref": format!("http://{address}/canary/profile-schema.json")}
            },
            "required": ["id"]
        }
    }]);
    let (client_end, server_end) = mcpwire_transport::duplex(64);
    let server = tokio::spawn(serve_tools(server_end, tools));
    let scenario = Scenario::JsonSchemaRefNoDeref;
    let client = scenario
        .client_builder(ProtocolVersion::V2026_07_28)
        .connect(client_end)
        .await
        .expect("connects");
    scenario
        .run(&client)
        .await
        .expect("json-schema-ref-no-deref");
    client.close().await;
    server.await.expect("the mock server ends");
    match canary.accept() {
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the canary was fetched: {other:?}"),
    }
}
