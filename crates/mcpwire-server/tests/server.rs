//! The server role through its public API, driven by a raw JSON-RPC client over the in-memory
//! transport: lifecycle and negotiation, tools, progress, logging, cancellation, and requests
//! to the client.

use std::time::Duration;

use mcpwire_jsonrpc::{ErrorCode, ErrorObject, Notification};
use mcpwire_rpc::{Config, Handler, Peer, RequestContext, RequestOptions};
use mcpwire_server::{Context, Server, Structured, Tool, ToolError, types};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::sync::mpsc;

fn raw(value: Value) -> Box<RawValue> {
    RawValue::from_string(value.to_string()).expect("valid JSON")
}

fn value(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).expect("valid JSON")
}

/// The client side: answers the server's requests and records its notifications in order.
struct ClientSide {
    notifications: mpsc::UnboundedSender<(String, Value)>,
}

impl Handler for ClientSide {
    async fn request(
        &self,
        params: Option<Box<RawValue>>,
        context: RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let params = params.map(|params| value(&params)).unwrap_or(Value::Null);
        match context.method() {
            "ping" => Ok(raw(json!({}))),
            "elicitation/create" => Ok(raw(
                json!({"action": "accept", "content": {"name": "Ada", "asked": params["message"]}}),
            )),
            "sampling/createMessage" => Ok(raw(
                json!({"role": "assistant", "content": {"type": "text", "text": "a poem"}, "model": "test-model"}),
            )),
            "roots/list" => Ok(raw(
                json!({"roots": [{"uri": "file:///project", "name": "project"}]}),
            )),
            other => Err(ErrorObject::method_not_found(other)),
        }
    }

    async fn notification(&self, notification: Notification, _peer: &Peer) {
        let params = notification
            .params
            .as_deref()
            .map(value)
            .unwrap_or(Value::Null);
        let _ = self.notifications.send((notification.method, params));
    }
}

struct Connection {
    client: Peer,
    notifications: mpsc::UnboundedReceiver<(String, Value)>,
    initialize_result: Value,
}

impl Connection {
    async fn call(&self, method: &str, params: Value) -> Result<Value, mcpwire_rpc::Error> {
        self.client
            .request_raw(method, Some(raw(params)), RequestOptions::default())
            .await
            .map(|result| value(&result))
    }

    async fn call_tool(&self, name: &str, arguments: Value) -> Value {
        self.call("tools/call", json!({"name": name, "arguments": arguments}))
            .await
            .expect("tools/call answers")
    }
}

/// Connects a raw client to `server`, runs the handshake offering `version` with
/// `capabilities`, and returns the connection.
async fn connect(server: &Server, version: &str, capabilities: Value) -> Connection {
    let (client_end, server_end) = mcpwire_transport::duplex(64);
    let _session = server.serve(server_end);
    let (sender, notifications) = mpsc::unbounded_channel();
    let client = Peer::start(
        client_end,
        ClientSide {
            notifications: sender,
        },
        Config::default(),
    );
    let params = json!({"protocolVersion": version, "capabilities": capabilities, "clientInfo": {"name": "test-client", "version": "0.0.1"}});
    let result = client
        .request_raw("initialize", Some(raw(params)), RequestOptions::default())
        .await
        .expect("initialize");
    client
        .notify_raw("notifications/initialized", None, Default::default())
        .await
        .expect("initialized");
    Connection {
        client,
        notifications,
        initialize_result: value(&result),
    }
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct AddArguments {
    a: f64,
    b: f64,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Sum {
    sum: f64,
}

fn server() -> Server {
    Server::builder("test-server", "1.2.3")
        .title("Test Server")
        .instructions("Use the tools.")
        .tool(
            Tool::typed("add", |arguments: AddArguments| async move {
                Ok::<_, ToolError>(Structured(Sum { sum: arguments.a + arguments.b }))
            })
            .description("Adds two numbers")
            .output::<Sum>(),
        )
        .tool(Tool::typed("fail", |_: serde_json::Map<String, Value>| async move {
            Err::<String, _>(ToolError::new("the backend is down"))
        }))
        .tool(
            Tool::typed("bad_output", |_: serde_json::Map<String, Value>| async move {
                Ok::<_, ToolError>(Structured(json!({"sum": "not a number"})))
            })
            .output::<Sum>(),
        )
        .tool(Tool::typed("progress", |_: serde_json::Map<String, Value>, context: Context| async move {
            for step in 1..=3 {
                context.progress(f64::from(step), Some(3.0), Some("working")).await?;
            }
            // Not increasing: not sent.
            context.progress(2.0, Some(3.0), None).await?;
            Ok::<_, ToolError>("done")
        }))
        .tool(Tool::typed("wait_for_cancel", |_: serde_json::Map<String, Value>, context: Context| async move {
            context.cancellation().cancelled().await;
            context.log(types::LoggingLevel::Info, Some("test"), "cancelled").await.ok();
            Ok::<_, ToolError>("cancelled")
        }))
        .tool(Tool::typed("log", |_: serde_json::Map<String, Value>, context: Context| async move {
            context.log(types::LoggingLevel::Info, Some("test"), json!({"said": "info"})).await?;
            context.log(types::LoggingLevel::Error, Some("test"), json!({"said": "error"})).await?;
            Ok::<_, ToolError>("logged")
        }))
        .tool(Tool::typed("ask_name", |_: serde_json::Map<String, Value>, context: Context| async move {
            let schema = json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]});
            let params = types::ElicitRequestParams::ElicitRequestFormParams(
                serde_json::from_value(json!({"message": "Your name?", "requestedSchema": schema})).expect("params"),
            );
            let answer = context.elicit(params).await?;
            Ok::<_, ToolError>(format!("{:?}:{}", answer.action, serde_json::to_string(&answer.content).expect("json")))
        }))
        .tool(Tool::typed("write_poem", |_: serde_json::Map<String, Value>, context: Context| async move {
            let params = serde_json::from_value(json!({"messages": [{"role": "user", "content": {"type": "text", "text": "a poem"}}], "maxTokens": 50})).expect("params");
            let result = context.create_message(params).await?;
            Ok::<_, ToolError>(result.model)
        }))
        .tool(Tool::typed("roots", |_: serde_json::Map<String, Value>, context: Context| async move {
            let roots = context.list_roots().await?;
            Ok::<_, ToolError>(roots.roots.into_iter().map(|root| root.uri).collect::<Vec<_>>().join(","))
        }))
        .build()
        .expect("valid server")
}

fn text_of(result: &Value) -> &str {
    result["content"][0]["text"].as_str().expect("a text block")
}

#[tokio::test]
async fn each_legacy_revision_is_negotiated_and_an_unknown_one_gets_the_latest() {
    let server = server();
    for version in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let connection = connect(&server, version, json!({})).await;
        let result = &connection.initialize_result;
        assert_eq!(result["protocolVersion"], version);
        assert_eq!(result["serverInfo"]["name"], "test-server");
        assert_eq!(result["instructions"], "Use the tools.");
        assert_eq!(result["capabilities"]["tools"]["listChanged"], true);
        // `title` in serverInfo arrived with 2025-06-18: older sessions never see it.
        let has_title = result["serverInfo"].get("title").is_some();
        assert_eq!(has_title, version >= "2025-06-18", "{version}: {result}");
    }
    let connection = connect(&server, "1999-01-01", json!({})).await;
    assert_eq!(
        connection.initialize_result["protocolVersion"],
        "2025-11-25"
    );
}

#[tokio::test]
async fn results_carry_only_what_the_negotiated_revision_defines() {
    let server = server();
    let old = connect(&server, "2024-11-05", json!({})).await;
    let result = old.call_tool("add", json!({"a": 1, "b": 2})).await;
    assert!(result.get("structuredContent").is_none(), "{result}");
    assert_eq!(text_of(&result), r#"{"sum":3.0}"#);
    let tools = old.call("tools/list", json!({})).await.expect("list");
    assert!(
        tools["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .all(|tool| tool.get("outputSchema").is_none())
    );

    let newer = connect(&server, "2025-06-18", json!({})).await;
    let result = newer.call_tool("add", json!({"a": 1, "b": 2})).await;
    assert_eq!(result["structuredContent"], json!({"sum": 3.0}));
}

#[tokio::test]
async fn requests_before_initialize_and_a_second_initialize_are_refused() {
    let server = server();
    let (client_end, server_end) = mcpwire_transport::duplex(8);
    let _session = server.serve(server_end);
    let (sender, _notifications) = mpsc::unbounded_channel();
    let client = Peer::start(
        client_end,
        ClientSide {
            notifications: sender,
        },
        Config::default(),
    );
    let error = client
        .request_raw("tools/list", None, RequestOptions::default())
        .await
        .expect_err("not initialized");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::INVALID_REQUEST
    );
    // Ping works in every phase.
    client
        .request_raw("ping", None, RequestOptions::default())
        .await
        .expect("ping");
    let params = json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}});
    client
        .request_raw(
            "initialize",
            Some(raw(params.clone())),
            RequestOptions::default(),
        )
        .await
        .expect("initialize");
    let error = client
        .request_raw("initialize", Some(raw(params)), RequestOptions::default())
        .await
        .expect_err("twice");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::INVALID_REQUEST
    );
    let error = client
        .request_raw("no/such/method", None, RequestOptions::default())
        .await
        .expect_err("unknown");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::METHOD_NOT_FOUND
    );
}

#[tokio::test]
async fn tools_list_pages_with_opaque_cursors() {
    let mut builder = Server::builder("pager", "1").page_size(2);
    for name in ["e", "d", "c", "b", "a"] {
        builder = builder.tool(Tool::typed(
            name,
            |_: serde_json::Map<String, Value>| async { Ok::<_, ToolError>("ok") },
        ));
    }
    let server = builder.build().expect("valid");
    let connection = connect(&server, "2025-11-25", json!({})).await;
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let params = match &cursor {
            Some(cursor) => json!({"cursor": cursor}),
            None => json!({}),
        };
        let page = connection.call("tools/list", params).await.expect("page");
        let tools = page["tools"].as_array().expect("tools");
        assert!(tools.len() <= 2);
        names.extend(
            tools
                .iter()
                .map(|tool| tool["name"].as_str().expect("name").to_owned()),
        );
        match page.get("nextCursor").and_then(Value::as_str) {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(names, ["a", "b", "c", "d", "e"]);
    let error = connection
        .call("tools/list", json!({"cursor": "forged"}))
        .await
        .expect_err("invalid cursor");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::INVALID_PARAMS
    );
}

#[tokio::test]
async fn tool_calls_validate_arguments_and_report_failures_as_tool_errors() {
    let server = server();
    let connection = connect(&server, "2025-11-25", json!({})).await;
    let result = connection.call_tool("add", json!({"a": 2, "b": 3.5})).await;
    assert_eq!(result["structuredContent"], json!({"sum": 5.5}));
    assert!(result.get("isError").is_none());

    let result = connection.call_tool("add", json!({"a": "two"})).await;
    assert_eq!(result["isError"], true);
    assert!(text_of(&result).contains("invalid arguments"), "{result}");

    let result = connection.call_tool("fail", json!({})).await;
    assert_eq!(result["isError"], true);
    assert_eq!(text_of(&result), "the backend is down");

    let error = connection
        .call("tools/call", json!({"name": "nope"}))
        .await
        .expect_err("unknown tool");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::INVALID_PARAMS
    );

    let error = connection
        .call("tools/call", json!({"name": "bad_output"}))
        .await
        .expect_err("output violates its schema");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::INTERNAL_ERROR
    );
}

#[tokio::test]
async fn progress_arrives_before_the_result_and_only_when_asked_for() {
    let server = server();
    let mut connection = connect(&server, "2025-11-25", json!({})).await;
    let params = json!({"name": "progress", "arguments": {}, "_meta": {"progressToken": "p-1"}});
    let result = connection.call("tools/call", params).await.expect("result");
    assert_eq!(text_of(&result), "done");
    let mut progress = Vec::new();
    while let Ok((method, params)) = connection.notifications.try_recv() {
        assert_eq!(method, "notifications/progress");
        assert_eq!(params["progressToken"], "p-1");
        progress.push(params["progress"].as_f64().expect("progress"));
    }
    assert_eq!(progress, [1.0, 2.0, 3.0]);

    connection.call_tool("progress", json!({})).await;
    assert!(
        connection.notifications.try_recv().is_err(),
        "no token, no progress"
    );
}

#[tokio::test]
async fn a_cancelled_call_fires_the_tools_token_and_gets_no_response() {
    let server = server();
    let mut connection = connect(&server, "2025-11-25", json!({})).await;
    let call = {
        let client = connection.client.clone();
        tokio::spawn(async move {
            client
                .request_raw(
                    "tools/call",
                    Some(raw(json!({"name": "wait_for_cancel"}))),
                    RequestOptions::default(),
                )
                .await
        })
    };
    // Let the call reach the tool, then send notifications/cancelled for its id (1 is initialize).
    tokio::task::yield_now().await;
    let cancel = json!({"requestId": 2, "reason": "user pressed stop"});
    for _ in 0..1000 {
        if connection.client.pending_requests() == 1 {
            break;
        }
        tokio::task::yield_now().await;
    }
    connection
        .client
        .notify_raw(
            "notifications/cancelled",
            Some(raw(cancel)),
            Default::default(),
        )
        .await
        .expect("cancel");
    // The tool saw its token fire (it logs when it does).
    let (method, params) =
        tokio::time::timeout(Duration::from_secs(5), connection.notifications.recv())
            .await
            .expect("in time")
            .expect("a notification");
    assert_eq!(
        (method.as_str(), &params["data"]),
        ("notifications/message", &json!("cancelled"))
    );
    // No response arrives: after a later round trip, the call is still pending.
    connection.call("ping", json!({})).await.expect("ping");
    assert_eq!(connection.client.pending_requests(), 1);
    call.abort();
}

#[tokio::test]
async fn set_level_filters_log_messages() {
    let server = server();
    let mut connection = connect(&server, "2025-11-25", json!({})).await;
    connection.call_tool("log", json!({})).await;
    let mut levels = Vec::new();
    while let Ok((_, params)) = connection.notifications.try_recv() {
        levels.push(params["level"].as_str().expect("level").to_owned());
    }
    assert_eq!(levels, ["info", "error"]);

    connection
        .call("logging/setLevel", json!({"level": "warning"}))
        .await
        .expect("set level");
    connection.call_tool("log", json!({})).await;
    let (_, params) = connection
        .notifications
        .try_recv()
        .expect("the error message");
    assert_eq!(params["level"], "error");
    assert!(connection.notifications.try_recv().is_err());
    let error = connection
        .call("logging/setLevel", json!({"level": "loud"}))
        .await
        .expect_err("unknown level");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::INVALID_PARAMS
    );
}

#[tokio::test]
async fn tools_ask_the_client_when_it_declared_the_capability() {
    let server = server();
    let capabilities = json!({"elicitation": {}, "sampling": {}, "roots": {"listChanged": true}});
    let connection = connect(&server, "2025-11-25", capabilities).await;
    let result = connection.call_tool("ask_name", json!({})).await;
    assert_eq!(
        text_of(&result),
        r#"Accept:{"asked":"Your name?","name":"Ada"}"#
    );
    assert_eq!(
        text_of(&connection.call_tool("write_poem", json!({})).await),
        "test-model"
    );
    assert_eq!(
        text_of(&connection.call_tool("roots", json!({})).await),
        "file:///project"
    );
}

#[tokio::test]
async fn asking_without_the_capability_fails_inside_the_tool() {
    let server = server();
    let connection = connect(&server, "2025-11-25", json!({})).await;
    for (tool, capability) in [
        ("ask_name", "elicitation"),
        ("write_poem", "sampling"),
        ("roots", "roots"),
    ] {
        let result = connection.call_tool(tool, json!({})).await;
        assert_eq!(result["isError"], true);
        assert!(
            text_of(&result).contains(&format!("`{capability}`")),
            "{result}"
        );
    }
}

#[tokio::test]
async fn adding_a_tool_tells_initialized_sessions() {
    let server = server();
    let mut connection = connect(&server, "2025-11-25", json!({})).await;
    // Make sure `notifications/initialized` has been processed.
    connection.call("ping", json!({})).await.expect("ping");
    server
        .add_tool(
            Tool::typed("late", |_: serde_json::Map<String, Value>| async {
                Ok::<_, ToolError>("here")
            })
            .build()
            .expect("valid"),
        )
        .await
        .expect("added");
    let (method, _) = connection
        .notifications
        .recv()
        .await
        .expect("a notification");
    assert_eq!(method, "notifications/tools/list_changed");
    assert_eq!(
        text_of(&connection.call_tool("late", json!({})).await),
        "here"
    );
    assert!(server.remove_tool("late").await);
    let (method, _) = connection
        .notifications
        .recv()
        .await
        .expect("a notification");
    assert_eq!(method, "notifications/tools/list_changed");
}

fn library() -> Server {
    use mcpwire_server::{
        HandlerError, Prompt, Resource, ResourceTemplate, blob_contents, text_contents,
    };
    Server::builder("library", "1")
        .resource(
            Resource::new(
                "file:///notes.txt",
                "notes",
                |uri: String, _: Context| async move {
                    Ok::<_, HandlerError>(vec![text_contents(
                        uri,
                        Some("text/plain"),
                        "remember the milk",
                    )])
                },
            )
            .mime_type("text/plain"),
        )
        .resource(Resource::new(
            "file:///logo.png",
            "logo",
            |uri: String, _: Context| async move {
                Ok::<_, HandlerError>(vec![blob_contents(
                    uri,
                    Some("image/png"),
                    &[0x89, b'P', b'N', b'G'],
                )])
            },
        ))
        .resource(Resource::new(
            "file:///gone",
            "gone",
            |uri: String, _: Context| async move {
                Err::<Vec<_>, _>(HandlerError::resource_not_found(uri))
            },
        ))
        .resource_template(
            ResourceTemplate::new(
                "books://{author}/{+title}",
                "books",
                |uri: String, variables, _: Context| async move {
                    let text = format!("{} by {}", variables["title"], variables["author"]);
                    Ok::<_, HandlerError>(vec![text_contents(uri, None, text)])
                },
            )
            .map(|template| {
                template.complete("author", |prefix: String, _| async move {
                    ["austen", "asimov", "borges"]
                        .into_iter()
                        .filter(|name| name.starts_with(&prefix))
                        .map(String::from)
                        .collect()
                })
            }),
        )
        .prompt(
            Prompt::new("summarize", |arguments, _: Context| async move {
                let text = format!(
                    "Summarize in {} words: {}",
                    arguments.get("words").map_or("50", String::as_str),
                    arguments["text"]
                );
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
            .description("Summarizes a text")
            .argument("text", "The text", true)
            .argument("words", "How many words", false)
            .complete("words", |_: String, _| async {
                (1..=150).map(|count| count.to_string()).collect()
            }),
        )
        .build()
        .expect("valid server")
}

#[tokio::test]
async fn resources_are_listed_read_and_missing_ones_are_not_found() {
    let server = library();
    let connection = connect(&server, "2025-11-25", json!({})).await;
    let capabilities = &connection.initialize_result["capabilities"];
    assert_eq!(
        capabilities["resources"],
        json!({"listChanged": true, "subscribe": true})
    );
    assert_eq!(capabilities["prompts"], json!({"listChanged": true}));
    assert_eq!(capabilities["completions"], json!({}));

    let listed = connection
        .call("resources/list", json!({}))
        .await
        .expect("list");
    let uris: Vec<&str> = listed["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|resource| resource["uri"].as_str().expect("uri"))
        .collect();
    assert_eq!(
        uris,
        ["file:///gone", "file:///logo.png", "file:///notes.txt"]
    );
    let templates = connection
        .call("resources/templates/list", json!({}))
        .await
        .expect("templates");
    assert_eq!(
        templates["resourceTemplates"][0]["uriTemplate"],
        "books://{author}/{+title}"
    );

    let read = connection
        .call("resources/read", json!({"uri": "file:///notes.txt"}))
        .await
        .expect("read");
    assert_eq!(
        read["contents"],
        json!([{"uri": "file:///notes.txt", "mimeType": "text/plain", "text": "remember the milk"}])
    );
    let read = connection
        .call("resources/read", json!({"uri": "file:///logo.png"}))
        .await
        .expect("read");
    assert_eq!(read["contents"][0]["blob"], "iVBORw==");
    let read = connection
        .call(
            "resources/read",
            json!({"uri": "books://borges/ficciones/vol1"}),
        )
        .await
        .expect("read");
    assert_eq!(read["contents"][0]["text"], "ficciones/vol1 by borges");

    for uri in ["file:///nowhere", "file:///gone"] {
        let error = connection
            .call("resources/read", json!({"uri": uri}))
            .await
            .expect_err("not found");
        let error = error.remote().expect("error object");
        assert_eq!(error.code, ErrorCode::RESOURCE_NOT_FOUND);
        assert_eq!(
            serde_json::from_str::<Value>(error.data.as_ref().expect("data").get()).expect("json"),
            json!({"uri": uri})
        );
    }
}

#[tokio::test]
async fn only_subscribed_sessions_hear_about_updates() {
    let server = library();
    let mut subscribed = connect(&server, "2025-11-25", json!({})).await;
    let mut other = connect(&server, "2025-11-25", json!({})).await;
    subscribed
        .call("resources/subscribe", json!({"uri": "file:///notes.txt"}))
        .await
        .expect("subscribe");
    server.notify_resource_updated("file:///notes.txt").await;
    let (method, params) = subscribed
        .notifications
        .recv()
        .await
        .expect("a notification");
    assert_eq!(
        (method.as_str(), &params),
        (
            "notifications/resources/updated",
            &json!({"uri": "file:///notes.txt"})
        )
    );
    other.call("ping", json!({})).await.expect("ping");
    assert!(
        other.notifications.try_recv().is_err(),
        "the other session did not subscribe"
    );

    subscribed
        .call("resources/unsubscribe", json!({"uri": "file:///notes.txt"}))
        .await
        .expect("unsubscribe");
    server.notify_resource_updated("file:///notes.txt").await;
    subscribed.call("ping", json!({})).await.expect("ping");
    assert!(subscribed.notifications.try_recv().is_err(), "unsubscribed");
}

#[tokio::test]
async fn prompts_render_and_check_their_arguments() {
    let server = library();
    let connection = connect(&server, "2025-11-25", json!({})).await;
    let listed = connection
        .call("prompts/list", json!({}))
        .await
        .expect("list");
    assert_eq!(listed["prompts"][0]["name"], "summarize");
    assert_eq!(
        listed["prompts"][0]["arguments"][0],
        json!({"name": "text", "description": "The text", "required": true})
    );
    let prompt = connection
        .call(
            "prompts/get",
            json!({"name": "summarize", "arguments": {"text": "a long story", "words": "10"}}),
        )
        .await
        .expect("get");
    assert_eq!(prompt["description"], "Summarizes a text");
    assert_eq!(
        prompt["messages"][0]["content"]["text"],
        "Summarize in 10 words: a long story"
    );
    let error = connection
        .call("prompts/get", json!({"name": "summarize"}))
        .await
        .expect_err("missing argument");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::INVALID_PARAMS
    );
    let error = connection
        .call("prompts/get", json!({"name": "nope"}))
        .await
        .expect_err("unknown prompt");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::INVALID_PARAMS
    );
}

#[tokio::test]
async fn completion_covers_prompt_arguments_and_template_variables() {
    let server = library();
    let connection = connect(&server, "2025-11-25", json!({})).await;
    let completed = connection
        .call("completion/complete", json!({"ref": {"type": "ref/resource", "uri": "books://{author}/{+title}"}, "argument": {"name": "author", "value": "a"}}))
        .await
        .expect("complete");
    assert_eq!(
        completed["completion"],
        json!({"values": ["austen", "asimov"], "total": 2, "hasMore": false})
    );
    let completed = connection
        .call("completion/complete", json!({"ref": {"type": "ref/prompt", "name": "summarize"}, "argument": {"name": "words", "value": ""}}))
        .await
        .expect("complete");
    assert_eq!(
        completed["completion"]["values"]
            .as_array()
            .expect("values")
            .len(),
        100
    );
    assert_eq!(completed["completion"]["total"], 150);
    assert_eq!(completed["completion"]["hasMore"], true);
    let error = connection
        .call("completion/complete", json!({"ref": {"type": "ref/prompt", "name": "summarize"}, "argument": {"name": "nope", "value": ""}}))
        .await
        .expect_err("unknown argument");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::INVALID_PARAMS
    );
}

#[tokio::test]
async fn a_server_without_a_capability_does_not_serve_its_methods() {
    let server = Server::builder("bare", "1")
        .without_logging()
        .build()
        .expect("valid");
    let connection = connect(&server, "2025-11-25", json!({})).await;
    assert_eq!(connection.initialize_result["capabilities"], json!({}));
    for method in [
        "tools/list",
        "resources/list",
        "prompts/list",
        "completion/complete",
        "logging/setLevel",
    ] {
        let error = connection
            .call(method, json!({}))
            .await
            .expect_err("not offered");
        assert_eq!(
            error.remote().expect("error object").code,
            ErrorCode::METHOD_NOT_FOUND,
            "{method}"
        );
    }
}

fn tasks_server() -> Server {
    Server::builder("tasker", "1")
        .tasks()
        .tool(
            Tool::typed("slow_add", |arguments: AddArguments, context: Context| async move {
                // Waits for the client's go-ahead through elicitation, as a task would for input.
                let params = serde_json::from_value(json!({"message": "Go?", "requestedSchema": {"type": "object", "properties": {}}})).expect("params");
                context.elicit(types::ElicitRequestParams::ElicitRequestFormParams(params)).await?;
                Ok::<_, ToolError>(format!("{}", arguments.a + arguments.b))
            })
            .task_support(types::ToolExecutionTaskSupport::Optional),
        )
        .tool(
            Tool::typed("forever", |_: serde_json::Map<String, Value>, context: Context| async move {
                context.cancellation().cancelled().await;
                context.log(types::LoggingLevel::Info, None, "task cancelled").await.ok();
                Ok::<_, ToolError>("stopped")
            })
            .task_support(types::ToolExecutionTaskSupport::Required),
        )
        .tool(Tool::typed("plain", |_: serde_json::Map<String, Value>| async { Ok::<_, ToolError>("plain") }))
        .build()
        .expect("valid server")
}

#[tokio::test]
async fn tools_run_as_tasks_that_are_polled_and_answered() {
    let server = tasks_server();
    let mut connection = connect(&server, "2025-11-25", json!({"elicitation": {}})).await;
    assert_eq!(
        connection.initialize_result["capabilities"]["tasks"],
        json!({"cancel": {}, "list": {}, "requests": {"tools": {"call": {}}}})
    );
    let tools = connection
        .call("tools/list", json!({}))
        .await
        .expect("list");
    assert_eq!(tools["tools"][2]["name"], "slow_add");
    assert_eq!(
        tools["tools"][2]["execution"],
        json!({"taskSupport": "optional"})
    );

    let created = connection
        .call(
            "tools/call",
            json!({"name": "slow_add", "arguments": {"a": 1, "b": 2}, "task": {"ttl": 60000}}),
        )
        .await
        .expect("created");
    let task = &created["task"];
    let task_id = task["taskId"].as_str().expect("task id").to_owned();
    assert_eq!(task["ttl"], 60000);
    assert!(task["createdAt"].is_string() && task["lastUpdatedAt"].is_string());

    // The result waits for the task; meanwhile the tool's elicitation reaches the client,
    // carrying the related task, and the task waits for input.
    let result = connection
        .call("tasks/result", json!({"taskId": task_id}))
        .await
        .expect("result");
    assert_eq!(text_of(&result), "3");
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/related-task"],
        json!({"taskId": task_id})
    );
    let statuses: Vec<String> = std::iter::from_fn(|| connection.notifications.try_recv().ok())
        .filter(|(method, _)| method == "notifications/tasks/status")
        .map(|(_, params)| params["status"].as_str().expect("status").to_owned())
        .collect();
    assert_eq!(statuses, ["input_required", "working", "completed"]);

    let fetched = connection
        .call("tasks/get", json!({"taskId": task_id}))
        .await
        .expect("get");
    assert_eq!(fetched["status"], "completed");
    let listed = connection
        .call("tasks/list", json!({}))
        .await
        .expect("list");
    assert_eq!(listed["tasks"][0]["taskId"], task_id.as_str());
    let error = connection
        .call("tasks/cancel", json!({"taskId": task_id}))
        .await
        .expect_err("terminal");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::INVALID_PARAMS
    );
    let error = connection
        .call("tasks/get", json!({"taskId": "no-such-task"}))
        .await
        .expect_err("unknown");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::INVALID_PARAMS
    );
}

#[tokio::test]
async fn cancelling_a_task_stops_its_tool_and_it_stays_cancelled() {
    let server = tasks_server();
    let mut connection = connect(&server, "2025-11-25", json!({})).await;
    let created = connection
        .call("tools/call", json!({"name": "forever", "task": {}}))
        .await
        .expect("created");
    let task_id = created["task"]["taskId"]
        .as_str()
        .expect("task id")
        .to_owned();
    let cancelled = connection
        .call("tasks/cancel", json!({"taskId": task_id}))
        .await
        .expect("cancel");
    assert_eq!(cancelled["status"], "cancelled");
    // The tool saw its token fire.
    let logged = loop {
        let (method, params) = connection
            .notifications
            .recv()
            .await
            .expect("a notification");
        if method == "notifications/message" {
            break params;
        }
    };
    assert_eq!(logged["data"], "task cancelled");
    let fetched = connection
        .call("tasks/get", json!({"taskId": task_id}))
        .await
        .expect("get");
    assert_eq!(fetched["status"], "cancelled");
    let error = connection
        .call("tasks/result", json!({"taskId": task_id}))
        .await
        .expect_err("cancelled");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::INTERNAL_ERROR
    );
}

#[tokio::test]
async fn task_support_is_enforced_per_tool() {
    let server = tasks_server();
    let connection = connect(&server, "2025-11-25", json!({})).await;
    let error = connection
        .call("tools/call", json!({"name": "plain", "task": {}}))
        .await
        .expect_err("forbidden");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::METHOD_NOT_FOUND
    );
    let error = connection
        .call("tools/call", json!({"name": "forever"}))
        .await
        .expect_err("required");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::METHOD_NOT_FOUND
    );

    // Before 2025-11-25 there are no tasks: the capability is not shown, and the param is ignored.
    let old = connect(&server, "2025-06-18", json!({})).await;
    assert!(old.initialize_result["capabilities"].get("tasks").is_none());
    let result = old.call_tool("plain", json!({})).await;
    assert_eq!(text_of(&result), "plain");
    let error = old
        .call("tasks/list", json!({}))
        .await
        .expect_err("no tasks");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::METHOD_NOT_FOUND
    );
}
