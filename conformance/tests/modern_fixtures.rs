//! The conformance fixtures in the modern era (2026-07-28), served in memory and driven the
//! way the official suite's `server-stateless` and `input-required-result-*` scenarios drive
//! them; and the same fixtures answered by a legacy client.

use std::time::Duration;

use mcpwire_conformance_fixtures::fixtures;
use mcpwire_jsonrpc::{ErrorCode, ErrorObject, Notification};
use mcpwire_rpc::{Config, Handler, Peer, RequestContext, RequestOptions};
use mcpwire_schema::{meta, v2026_07_28};
use mcpwire_server::types;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

fn raw(value: &Value) -> Box<RawValue> {
    RawValue::from_string(value.to_string()).expect("valid JSON")
}

/// Records the server's notifications in order.
struct Recorder(mpsc::UnboundedSender<Value>);

impl Handler for Recorder {
    async fn request(
        &self,
        _: Option<Box<RawValue>>,
        context: RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        Err(ErrorObject::method_not_found(context.method()))
    }

    async fn notification(&self, notification: Notification, _: &Peer) {
        let params: Value = notification
            .params
            .as_deref()
            .map(|params| serde_json::from_str(params.get()).expect("JSON"))
            .unwrap_or(Value::Null);
        let _ = self
            .0
            .send(json!({"method": notification.method, "params": params}));
    }
}

/// A stateless client of the fixture server, as the suite's.
struct Suite {
    peer: Peer,
    notifications: mpsc::UnboundedReceiver<Value>,
    server: mcpwire_server::Server,
    _session: mcpwire_server::Session,
}

impl Suite {
    fn start() -> Suite {
        let server = fixtures::server().expect("the fixtures are valid");
        let (client_end, server_end) = mcpwire_transport::duplex(64);
        let session = server.serve(server_end);
        let (sender, notifications) = mpsc::unbounded_channel();
        Suite {
            peer: Peer::start(client_end, Recorder(sender), Config::default()),
            notifications,
            server,
            _session: session,
        }
    }

    /// Sends `method` with the suite's `_meta` declaring `capabilities`.
    async fn call(
        &self,
        method: &str,
        params: Value,
        capabilities: Value,
    ) -> Result<Value, ErrorObject> {
        let mut params = params;
        let mut request_meta = Map::new();
        request_meta.insert(meta::PROTOCOL_VERSION.to_owned(), json!("2026-07-28"));
        request_meta.insert(meta::CLIENT_CAPABILITIES.to_owned(), capabilities);
        request_meta.insert(
            meta::CLIENT_INFO.to_owned(),
            json!({"name": "conformance-test-client", "version": "1.0.0"}),
        );
        params["_meta"] = Value::Object(request_meta);
        let options = RequestOptions::with_timeout(Duration::from_secs(30));
        match self
            .peer
            .request_raw(method, Some(raw(&params)), options)
            .await
        {
            Ok(result) => Ok(serde_json::from_str(result.get()).expect("JSON")),
            Err(error) => Err(error.remote().cloned().expect("the server answers")),
        }
    }

    /// Calls a tool as the suite's `input-required-result-*` scenarios do.
    async fn tool(&self, name: &str, extra: Value) -> Result<Value, ErrorObject> {
        let mut params = json!({"name": name, "arguments": {}});
        if let Value::Object(extra) = extra {
            for (key, value) in extra {
                params[key] = value;
            }
        }
        self.call("tools/call", params, all()).await
    }

    fn received(&mut self) -> Vec<Value> {
        let mut received = Vec::new();
        while let Ok(notification) = self.notifications.try_recv() {
            received.push(notification);
        }
        received
    }
}

/// The capabilities the suite declares: `roots.listChanged` included, which 2026-07-28 no
/// longer defines.
fn all() -> Value {
    json!({"sampling": {}, "elicitation": {}, "roots": {"listChanged": true}})
}

/// Checks an `InputRequiredResult` the way the suite does, and returns its requests and state.
fn input_required(method: &str, result: &Value) -> (Map<String, Value>, Value) {
    assert_eq!(result["resultType"], "input_required", "{result}");
    assert!(matches!(
        v2026_07_28::ServerResult::decode(method, &raw(result)).expect("the schema's shape"),
        v2026_07_28::ServerResult::CallToolResultResponseResult(
            v2026_07_28::CallToolResultResponseResult::InputRequiredResult(_)
        ) | v2026_07_28::ServerResult::GetPromptResultResponseResult(
            v2026_07_28::GetPromptResultResponseResult::InputRequiredResult(_)
        )
    ));
    assert!(result["requestState"].is_string(), "{result}");
    let requests = result["inputRequests"].as_object().expect("inputRequests");
    assert!(!requests.is_empty(), "{result}");
    (requests.clone(), result["requestState"].clone())
}

fn complete(method: &str, result: &Value) {
    assert_eq!(result["resultType"], "complete", "{result}");
    assert!(!matches!(
        v2026_07_28::ServerResult::decode(method, &raw(result)).expect("the schema's shape"),
        v2026_07_28::ServerResult::Unknown(_)
    ));
}

fn text(result: &Value) -> &str {
    result["content"][0]["text"].as_str().expect("a text block")
}

fn accept(content: Value) -> Value {
    json!({"action": "accept", "content": content})
}

fn sampled(text: &str) -> Value {
    json!({"role": "assistant", "content": {"type": "text", "text": text}, "model": "test-model", "stopReason": "endTurn"})
}

#[tokio::test]
async fn input_required_result_scenarios() {
    let suite = Suite::start();

    // basic-elicitation, result-type
    let first = suite
        .tool("test_input_required_result_elicitation", json!({}))
        .await
        .expect("r1");
    let (requests, state) = input_required("tools/call", &first);
    assert_eq!(requests["user_name"]["method"], "elicitation/create");
    assert_eq!(
        requests["user_name"]["params"]["message"],
        "What is your name?"
    );
    let retry = json!({"inputResponses": {"user_name": accept(json!({"name": "Alice"}))}, "requestState": state});
    let done = suite
        .tool("test_input_required_result_elicitation", retry)
        .await
        .expect("r2");
    complete("tools/call", &done);
    assert_eq!(text(&done), "Hello, Alice!");

    // basic-sampling
    let first = suite
        .tool("test_input_required_result_sampling", json!({}))
        .await
        .expect("r1");
    let (requests, state) = input_required("tools/call", &first);
    let (key, request) = requests.iter().next().expect("one request");
    assert_eq!(request["method"], "sampling/createMessage");
    assert_eq!(
        request["params"]["messages"][0]["content"]["text"],
        "What is the capital of France?"
    );
    let retry = json!({"inputResponses": {key.clone(): sampled("The capital of France is Paris.")}, "requestState": state});
    let done = suite
        .tool("test_input_required_result_sampling", retry)
        .await
        .expect("r2");
    assert_eq!(text(&done), "The capital of France is Paris.");

    // basic-list-roots
    let first = suite
        .tool("test_input_required_result_list_roots", json!({}))
        .await
        .expect("r1");
    let (requests, state) = input_required("tools/call", &first);
    assert_eq!(requests["client_roots"], json!({"method": "roots/list"}));
    let retry = json!({"inputResponses": {"client_roots": {"roots": [{"uri": "file:///test/root", "name": "Test Root"}]}}, "requestState": state});
    let done = suite
        .tool("test_input_required_result_list_roots", retry)
        .await
        .expect("r2");
    assert_eq!(text(&done), "Client roots: file:///test/root");

    // request-state
    let first = suite
        .tool("test_input_required_result_request_state", json!({}))
        .await
        .expect("r1");
    let (requests, state) = input_required("tools/call", &first);
    assert!(requests.contains_key("confirm"));
    let retry =
        json!({"inputResponses": {"confirm": accept(json!({"ok": true}))}, "requestState": state});
    let done = suite
        .tool("test_input_required_result_request_state", retry)
        .await
        .expect("r2");
    assert!(text(&done).contains("state-ok"), "{done}");

    // multiple-input-requests
    let first = suite
        .tool("test_input_required_result_multiple_inputs", json!({}))
        .await
        .expect("r1");
    let (requests, state) = input_required("tools/call", &first);
    let mut methods: Vec<&str> = requests
        .values()
        .map(|request| request["method"].as_str().expect("a method"))
        .collect();
    methods.sort_unstable();
    assert_eq!(
        methods,
        ["elicitation/create", "roots/list", "sampling/createMessage"]
    );
    let retry = json!({"inputResponses": {
        "user_name": accept(json!({"name": "Alice"})),
        "greeting": sampled("Hello there"),
        "client_roots": {"roots": [{"uri": "file:///test/root"}]}
    }, "requestState": state});
    let done = suite
        .tool("test_input_required_result_multiple_inputs", retry)
        .await
        .expect("r2");
    assert_eq!(
        text(&done),
        "Name: Alice, greeting: Hello there, roots: file:///test/root"
    );

    // multi-round
    let first = suite
        .tool("test_input_required_result_multi_round", json!({}))
        .await
        .expect("r1");
    let (_, first_state) = input_required("tools/call", &first);
    let retry = json!({"inputResponses": {"step1": accept(json!({"name": "Alice"}))}, "requestState": first_state});
    let second = suite
        .tool("test_input_required_result_multi_round", retry)
        .await
        .expect("r2");
    let (requests, second_state) = input_required("tools/call", &second);
    assert_eq!(
        requests["step2"]["params"]["message"],
        "Step 2: What is your favorite color?"
    );
    assert_ne!(first_state, second_state);
    let retry = json!({"inputResponses": {"step2": accept(json!({"color": "blue"}))}, "requestState": second_state});
    let done = suite
        .tool("test_input_required_result_multi_round", retry)
        .await
        .expect("r3");
    assert_eq!(text(&done), "Alice likes blue");

    // missing-input-response
    let wrong = json!({"inputResponses": {"wrong_key": accept(json!({"name": "Alice"}))}});
    let again = suite
        .tool("test_input_required_result_elicitation", wrong)
        .await
        .expect("a result");
    input_required("tools/call", &again);

    // non-tool-request
    let first = suite
        .call(
            "prompts/get",
            json!({"name": "test_input_required_result_prompt"}),
            all(),
        )
        .await
        .expect("r1");
    let (requests, state) = input_required("prompts/get", &first);
    assert!(requests.contains_key("user_context"));
    let retry = json!({
        "name": "test_input_required_result_prompt",
        "inputResponses": {"user_context": accept(json!({"context": "test context"}))},
        "requestState": state
    });
    let done = suite.call("prompts/get", retry, all()).await.expect("r2");
    complete("prompts/get", &done);
    assert!(!done["messages"].as_array().expect("messages").is_empty());

    // unsupported-methods
    for method in ["tools/list", "prompts/list"] {
        let list = suite.call(method, json!({}), all()).await.expect("a list");
        complete(method, &list);
    }

    // tampered-state
    let first = suite
        .tool("test_input_required_result_tampered_state", json!({}))
        .await
        .expect("r1");
    let (_, state) = input_required("tools/call", &first);
    let tampered = json!({
        "inputResponses": {"confirm": accept(json!({"ok": true}))},
        "requestState": format!("{}-TAMPERED", state.as_str().expect("a string"))
    });
    let error = suite
        .tool("test_input_required_result_tampered_state", tampered)
        .await
        .expect_err("refused");
    assert_eq!(error.code, ErrorCode::INVALID_PARAMS);

    // capability-check
    let first = suite
        .call(
            "tools/call",
            json!({"name": "test_input_required_result_capabilities", "arguments": {}}),
            json!({"sampling": {}}),
        )
        .await
        .expect("r1");
    let (requests, _) = input_required("tools/call", &first);
    let methods: Vec<&Value> = requests
        .values()
        .map(|request| &request["method"])
        .collect();
    assert_eq!(methods, [&json!("sampling/createMessage")]);
    let nothing = suite
        .call(
            "tools/call",
            json!({"name": "test_input_required_result_capabilities", "arguments": {}}),
            json!({}),
        )
        .await
        .expect("a result");
    complete("tools/call", &nothing);

    // ignore-extra-params
    let extra = json!({"inputResponses": {
        "user_name": accept(json!({"name": "Alice"})),
        "unknown_extra_key": {"action": "accept", "content": {"x": "y"}},
        "another_unexpected": {"action": "decline"}
    }});
    let done = suite
        .tool("test_input_required_result_elicitation", extra)
        .await
        .expect("a result");
    assert_eq!(text(&done), "Hello, Alice!");

    // validate-input
    for invalid in [json!({"user_name": 12345}), Value::Null] {
        let error = suite
            .tool(
                "test_input_required_result_elicitation",
                json!({"inputResponses": invalid}),
            )
            .await
            .expect_err("refused");
        assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
    }
}

#[tokio::test]
async fn server_stateless_scenario() {
    let mut suite = Suite::start();
    let discover = suite
        .call("server/discover", json!({}), json!({}))
        .await
        .expect("discover");
    complete("server/discover", &discover);
    assert_eq!(
        discover["_meta"][meta::SERVER_INFO]["name"],
        fixtures::SERVER_NAME
    );
    assert_eq!(discover["capabilities"]["tools"]["listChanged"], true);
    assert_eq!(discover["capabilities"]["prompts"]["listChanged"], true);

    let error = suite
        .call(
            "tools/call",
            json!({"name": "test_missing_capability", "arguments": {}}),
            json!({}),
        )
        .await
        .expect_err("-32021");
    assert_eq!(error.code, ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY);
    let data: Value =
        serde_json::from_str(error.data.as_deref().expect("data").get()).expect("JSON");
    assert!(
        data["requiredCapabilities"]["sampling"].is_object(),
        "{data}"
    );

    let streaming = suite
        .call(
            "tools/call",
            json!({"name": "test_streaming_elicitation", "arguments": {}}),
            json!({"elicitation": {}}),
        )
        .await
        .expect("a result");
    input_required("tools/call", &streaming);

    let logged = suite
        .call(
            "tools/call",
            json!({"name": "test_logging_tool", "arguments": {}}),
            json!({}),
        )
        .await
        .expect("a result");
    complete("tools/call", &logged);
    assert_eq!(
        suite.received(),
        Vec::<Value>::new(),
        "no logLevel, no log message"
    );

    // Every tool has a description, and the list is the same each time.
    let tools = suite
        .call("tools/list", json!({}), json!({}))
        .await
        .expect("tools");
    for tool in tools["tools"].as_array().expect("tools") {
        assert!(
            tool["description"]
                .as_str()
                .is_some_and(|text| !text.is_empty()),
            "{tool}"
        );
    }
    let again = suite
        .call("tools/list", json!({}), json!({}))
        .await
        .expect("tools");
    assert_eq!(tools["tools"], again["tools"]);

    // The triggers reach the subscriptions that asked, and change nothing.
    let listen = {
        let peer = suite.peer.clone();
        let params = json!({
            "notifications": {"toolsListChanged": true},
            "_meta": {meta::PROTOCOL_VERSION: "2026-07-28", meta::CLIENT_CAPABILITIES: {}}
        });
        tokio::spawn(async move {
            peer.request_raw(
                "subscriptions/listen",
                Some(raw(&params)),
                RequestOptions::default(),
            )
            .await
        })
    };
    let ack = suite
        .notifications
        .recv()
        .await
        .expect("the acknowledgement");
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    let id = ack["params"]["_meta"][meta::SUBSCRIPTION_ID].clone();
    suite
        .call(
            "tools/call",
            json!({"name": "test_trigger_prompt_change", "arguments": {}}),
            json!({}),
        )
        .await
        .expect("a result");
    assert_eq!(
        suite.received(),
        Vec::<Value>::new(),
        "prompts were not asked for"
    );
    suite
        .call(
            "tools/call",
            json!({"name": "test_trigger_tool_change", "arguments": {}}),
            json!({}),
        )
        .await
        .expect("a result");
    let change = suite.notifications.recv().await.expect("a change");
    assert_eq!(change["method"], "notifications/tools/list_changed");
    assert_eq!(change["params"]["_meta"][meta::SUBSCRIPTION_ID], id);
    let after = suite
        .call("tools/list", json!({}), json!({}))
        .await
        .expect("tools");
    assert_eq!(tools["tools"], after["tools"]);
    suite.server.close_subscriptions();
    let closed = listen.await.expect("the task").expect("a complete result");
    let closed: Value = serde_json::from_str(closed.get()).expect("JSON");
    assert_eq!(closed["_meta"][meta::SUBSCRIPTION_ID], id);
}

fn client_info() -> types::Implementation {
    types::Implementation::new("legacy-client", "1.0.0")
}

#[tokio::test]
async fn the_same_fixtures_ask_a_legacy_client_with_requests() {
    let server = fixtures::server().expect("the fixtures are valid");
    let (client_end, server_end) = mcpwire_transport::duplex(64);
    let _session = server.serve(server_end);
    let client = mcpwire_client::ClientBuilder::new(client_info())
        .sampling(
            |_: types::CreateMessageRequestParams, _: mcpwire_client::RequestContext| async move {
                serde_json::from_value::<types::CreateMessageResult>(sampled("Hi"))
                    .map_err(|error| ErrorObject::internal_error(error.to_string()))
            },
        )
        .elicitation(
            |_: types::ElicitRequestParams, _: mcpwire_client::RequestContext| async move {
                serde_json::from_value::<types::ElicitResult>(accept(json!({"name": "Ada"})))
                    .map_err(|error| ErrorObject::internal_error(error.to_string()))
            },
        )
        .roots(|_| async {
            Ok::<_, ErrorObject>(vec![types::Root {
                meta: None,
                name: None,
                uri: "file:///work".to_owned(),
            }])
        })
        .connect(client_end)
        .await
        .expect("the handshake");
    let result = client
        .call_tool("test_input_required_result_multiple_inputs", json!({}))
        .await
        .expect("a result");
    let types::ContentBlock::TextContent(content) = &result.content[0] else {
        panic!("a text block: {result:?}");
    };
    assert_eq!(content.text, "Name: Ada, greeting: Hi, roots: file:///work");
}

/// The capabilities the suite's `tasks-*` scenarios declare.
fn with_tasks() -> Value {
    json!({"elicitation": {}, "sampling": {}, "extensions": {"io.modelcontextprotocol/tasks": {}}})
}

impl Suite {
    /// Polls a task until it is terminal, as the suite does (at most 100 polls).
    async fn settle(&self, task_id: &str) -> Value {
        for _ in 0..100 {
            let task = self
                .call("tasks/get", json!({"taskId": task_id}), with_tasks())
                .await
                .expect("the task is found");
            if ["completed", "failed", "cancelled"].contains(&task["status"].as_str().unwrap_or(""))
            {
                return task;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("task {task_id} never ended");
    }
}

// tasks-lifecycle, tasks-required-task-error, tasks-mrtr-composition
#[tokio::test(start_paused = true)]
async fn task_fixtures_scenarios() {
    let suite = Suite::start();
    let discovered = suite
        .call("server/discover", json!({}), json!({}))
        .await
        .expect("discovered");
    assert_eq!(
        discovered["capabilities"]["extensions"]["io.modelcontextprotocol/tasks"],
        json!({})
    );

    let greeting = suite
        .call(
            "tools/call",
            json!({"name": "greet", "arguments": {"name": "World"}}),
            with_tasks(),
        )
        .await
        .expect("greeted");
    assert_eq!(text(&greeting), "Hello, World!");
    assert!(greeting.get("taskId").is_none());

    // A tool error completes its task; a crash fails it with a protocol error.
    let failing = suite
        .call(
            "tools/call",
            json!({"name": "failing_job", "arguments": {}}),
            with_tasks(),
        )
        .await
        .expect("a task");
    assert_eq!(failing["resultType"], "task");
    let failed = suite
        .settle(failing["taskId"].as_str().expect("an id"))
        .await;
    assert_eq!(failed["status"], "completed");
    assert_eq!(failed["result"]["isError"], true);
    let crashing = suite
        .call(
            "tools/call",
            json!({"name": "protocol_error_job", "arguments": {}}),
            with_tasks(),
        )
        .await
        .expect("a task");
    let crashed = suite
        .settle(crashing["taskId"].as_str().expect("an id"))
        .await;
    assert_eq!(crashed["status"], "failed");
    assert_eq!(crashed["error"]["code"], -32603);
    assert!(crashed.get("result").is_none());

    // A task-only tool and a client without the extension.
    let error = suite
        .call(
            "tools/call",
            json!({"name": "failing_job", "arguments": {}}),
            all(),
        )
        .await
        .expect_err("the extension is required");
    assert_eq!(error.code, ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY);

    // A long computation is cancelled for good.
    let slow = suite
        .call(
            "tools/call",
            json!({"name": "slow_compute", "arguments": {"seconds": 60, "label": "cancel"}}),
            with_tasks(),
        )
        .await
        .expect("a task");
    let slow_id = slow["taskId"].as_str().expect("an id");
    suite
        .call("tasks/cancel", json!({"taskId": slow_id}), with_tasks())
        .await
        .expect("acknowledged");
    assert_eq!(suite.settle(slow_id).await["status"], "cancelled");

    // A round of input, then a task whose result carries the answer.
    let round = suite
        .call(
            "tools/call",
            json!({"name": "test_tool_with_task", "arguments": {}}),
            with_tasks(),
        )
        .await
        .expect("a round");
    let (requests, state) = input_required("tools/call", &round);
    let key = requests.keys().next().expect("a key").clone();
    let created = suite
        .call(
            "tools/call",
            json!({
                "name": "test_tool_with_task",
                "arguments": {},
                "inputResponses": {key: accept(json!({"name": "Alice"}))},
                "requestState": state
            }),
            with_tasks(),
        )
        .await
        .expect("a task");
    assert_eq!(created["resultType"], "task");
    let done = suite
        .settle(created["taskId"].as_str().expect("an id"))
        .await;
    assert_eq!(text(&done["result"]), "Hello, Alice! (from a task)");
}
