//! The modern era (2026-07-28) through the server's public API, driven by a raw JSON-RPC
//! client over the in-memory transport and over stdio framing: `server/discover`, every
//! method's result shaped for 2026-07-28, the errors of the era with their data, per-request
//! logging and progress, and legacy and modern requests on one connection.

use std::collections::BTreeSet;
use std::time::Duration;

use mcpwire_jsonrpc::{ErrorCode, ErrorObject, Notification};
use mcpwire_rpc::{Config, Handler, Peer, RequestContext, RequestOptions};
use mcpwire_schema::meta;
use mcpwire_schema::v2026_07_28;
use mcpwire_server::{
    CacheHints, CacheScope, Context, Era, HandlerError, Prompt, Resource, ResourceTemplate, Server,
    Session, Structured, Tool, ToolError, text_contents, types,
};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

fn raw(value: &Value) -> Box<RawValue> {
    RawValue::from_string(value.to_string()).expect("valid JSON")
}

fn value(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).expect("valid JSON")
}

/// The transport a scenario runs over.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Memory,
    Stdio,
}

const KINDS: [Kind; 2] = [Kind::Memory, Kind::Stdio];

/// The client end of a stdio connection in memory.
type StdioEnd = mcpwire_stdio::StdioTransport<
    tokio::io::ReadHalf<tokio::io::DuplexStream>,
    tokio::io::WriteHalf<tokio::io::DuplexStream>,
>;

/// Serves `server` over a fresh in-memory connection; returns the client's end.
fn memory_end(server: &Server) -> (mcpwire_transport::MemoryTransport, Session) {
    let (client_end, server_end) = mcpwire_transport::duplex(64);
    (client_end, server.serve(server_end))
}

/// Serves `server` with stdio framing over an in-memory pipe; returns the client's end.
fn stdio_end(server: &Server) -> (StdioEnd, Session) {
    let (client_pipe, server_pipe) = tokio::io::duplex(64 * 1024);
    let (server_read, server_write) = tokio::io::split(server_pipe);
    let (client_read, client_write) = tokio::io::split(client_pipe);
    let session = server.serve(mcpwire_stdio::StdioTransport::new(
        server_read,
        server_write,
    ));
    (
        mcpwire_stdio::StdioTransport::new(client_read, client_write),
        session,
    )
}

/// The client side: records notifications in order and answers the legacy server's requests.
struct ClientSide {
    notifications: mpsc::UnboundedSender<(String, Value)>,
}

impl Handler for ClientSide {
    async fn request(
        &self,
        _params: Option<Box<RawValue>>,
        context: RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        Err(ErrorObject::method_not_found(context.method()))
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

/// A raw client connected to a server.
struct Client {
    peer: Peer,
    notifications: mpsc::UnboundedReceiver<(String, Value)>,
    _session: Session,
}

impl Client {
    async fn connect(kind: Kind, server: &Server) -> Client {
        let (sender, notifications) = mpsc::unbounded_channel();
        let side = ClientSide {
            notifications: sender,
        };
        let (peer, session) = match kind {
            Kind::Memory => {
                let (transport, session) = memory_end(server);
                (Peer::start(transport, side, Config::default()), session)
            }
            Kind::Stdio => {
                let (transport, session) = stdio_end(server);
                (Peer::start(transport, side, Config::default()), session)
            }
        };
        Client {
            peer,
            notifications,
            _session: session,
        }
    }

    /// Sends a request and returns its result, or the server's error object.
    async fn request(&self, method: &str, params: Value) -> Result<Value, ErrorObject> {
        let options = RequestOptions::with_timeout(Duration::from_secs(30));
        match self
            .peer
            .request_raw(method, Some(raw(&params)), options)
            .await
        {
            Ok(result) => Ok(value(&result)),
            Err(error) => Err(error
                .remote()
                .cloned()
                .unwrap_or_else(|| panic!("{method}: no answer from the server: {error}"))),
        }
    }

    /// Sends a modern request declaring `capabilities`: `params` plus the per-request `_meta`.
    async fn modern(
        &self,
        method: &str,
        params: Value,
        capabilities: Value,
    ) -> Result<Value, ErrorObject> {
        self.request(method, with_meta(params, capabilities)).await
    }

    /// Calls a tool with a modern request and returns its result, which must not be an error.
    async fn tool(&self, params: Value, capabilities: Value, what: &str) -> Value {
        self.modern("tools/call", params, capabilities)
            .await
            .unwrap_or_else(|error| panic!("{what}: {error:?}"))
    }

    /// The notifications received so far. Notifications sent for a request arrive before its
    /// response, so after a response every notification of that request is here.
    fn received(&mut self) -> Vec<(String, Value)> {
        let mut received = Vec::new();
        while let Ok(notification) = self.notifications.try_recv() {
            received.push(notification);
        }
        received
    }
}

/// The per-request `_meta` of a modern client declaring `capabilities`.
fn modern_meta(capabilities: Value) -> Map<String, Value> {
    let mut meta = Map::new();
    meta.insert(meta::PROTOCOL_VERSION.to_owned(), json!("2026-07-28"));
    meta.insert(meta::CLIENT_CAPABILITIES.to_owned(), capabilities);
    meta.insert(
        meta::CLIENT_INFO.to_owned(),
        json!({"name": "modern-test-client", "version": "0.1.0"}),
    );
    meta
}

/// `params` with the modern `_meta` merged into its own `_meta`.
fn with_meta(mut params: Value, capabilities: Value) -> Value {
    let object = params.as_object_mut().expect("params are an object");
    let meta = object.entry("_meta").or_insert_with(|| json!({}));
    let meta = meta.as_object_mut().expect("_meta is an object");
    for (key, value) in modern_meta(capabilities) {
        meta.entry(key).or_insert(value);
    }
    params
}

/// The text of a tool result's first content block.
fn text_of(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_default()
}

fn text(text: impl Into<String>) -> types::ContentBlock {
    types::ContentBlock::TextContent(types::TextContent {
        meta: None,
        annotations: None,
        text: text.into(),
        r#type: types::tags::Text,
    })
}

fn sampling_params(question: &str) -> types::CreateMessageRequestParams {
    serde_json::from_value(json!({
        "messages": [{"role": "user", "content": {"type": "text", "text": question}}],
        "maxTokens": 100
    }))
    .expect("sampling params")
}

fn sampled_text(result: &types::CreateMessageResult) -> String {
    match &result.content {
        types::CreateMessageResultContent::Object(
            types::SamplingMessageContentBlock::TextContent(text),
        ) => text.text.clone(),
        other => format!("{other:?}"),
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

/// A server with something for every method.
fn server() -> Server {
    Server::builder("modern-server", "3.1.4")
        .title("Modern Server")
        .instructions("Try every method.")
        .tasks()
        .tool(
            Tool::typed("add", |arguments: AddArguments| async move {
                Ok::<_, ToolError>(Structured(Sum {
                    sum: arguments.a + arguments.b,
                }))
            })
            .description("Adds two numbers")
            .output::<Sum>()
            .task_support(types::ToolExecutionTaskSupport::Optional),
        )
        .tool(Tool::typed(
            "log",
            |_: Map<String, Value>, context: Context| async move {
                for level in [
                    types::LoggingLevel::Debug,
                    types::LoggingLevel::Info,
                    types::LoggingLevel::Error,
                ] {
                    context
                        .log(level.clone(), Some("test"), json!({"at": level.as_str()}))
                        .await?;
                }
                Ok::<_, ToolError>("logged")
            },
        ))
        .tool(Tool::typed(
            "progress",
            |_: Map<String, Value>, context: Context| async move {
                for step in 1..=3 {
                    context.progress(f64::from(step), Some(3.0), None).await?;
                }
                Ok::<_, ToolError>("done")
            },
        ))
        .tool(Tool::typed(
            "whoami",
            |_: Map<String, Value>, context: Context| async move {
                let client = context
                    .client_info()
                    .map(|info| info.name)
                    .unwrap_or_default();
                let session = if context.session().is_some() {
                    "session"
                } else {
                    "no session"
                };
                Ok::<_, ToolError>(format!(
                    "{client} {} {:?} {session} roots:{}",
                    context.protocol_version(),
                    context.era(),
                    context.client_capabilities().roots.is_some()
                ))
            },
        ))
        .tool(Tool::typed(
            "fail",
            |_: Map<String, Value>| async move {
                Err::<String, _>(ToolError::new("the backend is down"))
            },
        ))
        .tool(Tool::typed("sample", |_: Map<String, Value>, context: Context| async move {
            let answer = context.create_message(sampling_params("What is the capital of France?")).await?;
            Ok::<_, ToolError>(format!("{} said {}", answer.model, sampled_text(&answer)))
        }))
        .tool(Tool::typed("sample_with_tools", |_: Map<String, Value>, context: Context| async move {
            let mut params = sampling_params("Use a tool");
            params.tools = Some(vec![serde_json::from_value(json!({"name": "lookup", "inputSchema": {"type": "object"}})).expect("a tool")]);
            context.create_message(params).await?;
            Ok::<_, ToolError>("sampled")
        }))
        .tool(Tool::typed("authorize", |_: Map<String, Value>, context: Context| async move {
            let url = serde_json::from_value(json!({"mode": "url", "message": "Sign in", "elicitationId": "login-1", "url": "https://example.com/login"})).expect("params");
            let answer = context.elicit(types::ElicitRequestParams::ElicitRequestURLParams(url)).await?;
            Ok::<_, ToolError>(answer.action.to_string())
        }))
        .resource(
            Resource::new(
                "test://static",
                "static",
                |uri: String, _: Context| async move {
                    Ok::<_, HandlerError>(vec![text_contents(
                        uri,
                        Some("text/plain"),
                        "static text",
                    )])
                },
            )
            .mime_type("text/plain"),
        )
        .resource(
            Resource::new(
                "test://cached",
                "cached",
                |uri: String, _: Context| async move {
                    Ok::<_, HandlerError>(vec![text_contents(uri, None, "cached text")])
                },
            )
            .cache_hints(CacheHints::new(Duration::from_secs(60), CacheScope::Public)),
        )
        .resource_template(
            ResourceTemplate::new(
                "test://items/{id}",
                "items",
                |uri: String, variables, _: Context| async move {
                    if variables["id"] == "missing" {
                        return Err(HandlerError::resource_not_found(uri));
                    }
                    let text = format!("item {}", variables["id"]);
                    Ok::<_, HandlerError>(vec![text_contents(uri, None, text)])
                },
            )
            .map(|template| {
                template.complete("id", |prefix: String, _| async move {
                    ["apple", "apricot", "banana"]
                        .into_iter()
                        .filter(|id| id.starts_with(&prefix))
                        .map(String::from)
                        .collect()
                })
            }),
        )
        .resource(Resource::new(
            "test://roots",
            "roots",
            |uri: String, context: Context| async move {
                let roots = context.list_roots().await?;
                let names: Vec<String> = roots.roots.into_iter().map(|root| root.uri).collect();
                Ok::<_, HandlerError>(vec![text_contents(uri, None, names.join(","))])
            },
        ))
        .prompt(Prompt::new("ask_roots", |_, context: Context| async move {
            let roots = context.list_roots().await?;
            Ok::<_, HandlerError>(vec![types::PromptMessage {
                content: text(format!("{} roots", roots.roots.len())),
                role: types::Role::User,
            }])
        }))
        .prompt(
            Prompt::new("greet", |arguments, _: Context| async move {
                Ok::<_, HandlerError>(vec![types::PromptMessage {
                    content: text(format!("Hello, {}!", arguments["name"])),
                    role: types::Role::User,
                }])
            })
            .description("Greets someone")
            .argument("name", "Who to greet", true),
        )
        .build()
        .expect("a valid server")
}

/// Checks the parts every modern result has, and that it decodes as the 2026-07-28 result of
/// `method`.
fn assert_modern_result(method: &str, result: &Value) {
    assert_eq!(result["resultType"], "complete", "{method}: {result}");
    let info = &result["_meta"][meta::SERVER_INFO];
    assert_eq!(info["name"], "modern-server", "{method}: {result}");
    assert_eq!(info["version"], "3.1.4", "{method}: {result}");
    let decoded = v2026_07_28::ServerResult::decode(method, &raw(result))
        .unwrap_or_else(|error| panic!("{method}: {error}: {result}"));
    assert!(
        !matches!(decoded, v2026_07_28::ServerResult::Unknown(_)),
        "{method}: decoded as an unknown result"
    );
    let cacheable = [
        "server/discover",
        "tools/list",
        "prompts/list",
        "resources/list",
        "resources/templates/list",
        "resources/read",
    ]
    .contains(&method);
    assert_eq!(
        result.get("ttlMs").is_some(),
        cacheable,
        "{method}: {result}"
    );
    assert_eq!(
        result.get("cacheScope").is_some(),
        cacheable,
        "{method}: {result}"
    );
}

#[tokio::test]
async fn discover_names_the_versions_capabilities_and_server() {
    let server = server();
    for kind in KINDS {
        let client = Client::connect(kind, &server).await;
        let result = client
            .modern("server/discover", json!({}), json!({}))
            .await
            .expect("discover answers");
        assert_modern_result("server/discover", &result);
        assert_eq!(
            result["supportedVersions"],
            json!(["2026-07-28"]),
            "{kind:?}"
        );
        assert_eq!(result["instructions"], "Try every method.");
        assert_eq!(result["ttlMs"], 0);
        assert_eq!(result["cacheScope"], "private");
        assert_eq!(result["_meta"][meta::SERVER_INFO]["title"], "Modern Server");
        let capabilities = &result["capabilities"];
        assert_eq!(capabilities["tools"], json!({"listChanged": true}));
        assert_eq!(
            capabilities["resources"],
            json!({"listChanged": true, "subscribe": true})
        );
        assert_eq!(capabilities["prompts"], json!({"listChanged": true}));
        assert_eq!(capabilities["completions"], json!({}));
        assert_eq!(capabilities["logging"], json!({}));
        // Core tasks do not exist in the modern era, even on a server that declares them.
        assert!(capabilities.get("tasks").is_none(), "{capabilities}");
        assert!(
            result.get("serverInfo").is_none(),
            "only in _meta: {result}"
        );
    }
}

#[tokio::test]
async fn every_method_answers_with_a_2026_07_28_result() {
    let server = server();
    for kind in KINDS {
        let client = Client::connect(kind, &server).await;
        let calls = [
            ("server/discover", json!({})),
            ("tools/list", json!({})),
            (
                "tools/call",
                json!({"name": "add", "arguments": {"a": 2, "b": 3}}),
            ),
            ("resources/list", json!({})),
            ("resources/templates/list", json!({})),
            ("resources/read", json!({"uri": "test://items/apple"})),
            ("prompts/list", json!({})),
            (
                "prompts/get",
                json!({"name": "greet", "arguments": {"name": "Ada"}}),
            ),
            (
                "completion/complete",
                json!({"ref": {"type": "ref/resource", "uri": "test://items/{id}"}, "argument": {"name": "id", "value": "ap"}}),
            ),
        ];
        for (method, params) in calls {
            let result = client
                .modern(method, params, json!({}))
                .await
                .unwrap_or_else(|error| panic!("{kind:?} {method}: {error:?}"));
            assert_modern_result(method, &result);
        }
        let tools = client
            .modern("tools/list", json!({}), json!({}))
            .await
            .expect("tools");
        let names: Vec<&str> = tools["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .map(|tool| tool["name"].as_str().expect("a name"))
            .collect();
        assert_eq!(
            names,
            [
                "add",
                "authorize",
                "fail",
                "log",
                "progress",
                "sample",
                "sample_with_tools",
                "whoami"
            ],
            "sorted by name"
        );
        // `execution` (task support) does not exist in 2026-07-28.
        assert!(tools["tools"][0].get("execution").is_none(), "{tools}");
        assert!(tools["tools"][0].get("outputSchema").is_some(), "{tools}");
        let call = client
            .tool(
                json!({"name": "add", "arguments": {"a": 2, "b": 3}}),
                json!({}),
                "add",
            )
            .await;
        assert_eq!(call["structuredContent"], json!({"sum": 5.0}));
        let read = client
            .modern(
                "resources/read",
                json!({"uri": "test://items/apple"}),
                json!({}),
            )
            .await
            .expect("read");
        assert_eq!(read["contents"][0]["text"], "item apple");
        let completion = client
            .modern(
                "completion/complete",
                json!({"ref": {"type": "ref/resource", "uri": "test://items/{id}"}, "argument": {"name": "id", "value": "ap"}}),
                json!({}),
            )
            .await
            .expect("complete");
        assert_eq!(
            completion["completion"]["values"],
            json!(["apple", "apricot"])
        );
    }
}

#[tokio::test]
async fn handlers_see_the_request_s_own_version_capabilities_and_client() {
    let server = server();
    let client = Client::connect(Kind::Memory, &server).await;
    let result = client
        .tool(json!({"name": "whoami"}), json!({"roots": {}}), "whoami")
        .await;
    assert_eq!(
        text_of(&result),
        "modern-test-client 2026-07-28 Modern no session roots:true"
    );
    // Nothing carries over from one request to the next.
    let result = client
        .tool(json!({"name": "whoami"}), json!({}), "whoami")
        .await;
    assert_eq!(
        text_of(&result),
        "modern-test-client 2026-07-28 Modern no session roots:false"
    );
}

#[tokio::test]
async fn cache_hints_come_from_the_server_or_the_resource() {
    let server = Server::builder("cached", "1")
        .cache_hints(CacheHints::new(
            Duration::from_millis(1500),
            CacheScope::Public,
        ))
        .resource(
            Resource::new("test://own", "own", |uri: String, _: Context| async move {
                Ok::<_, HandlerError>(vec![text_contents(uri, None, "own")])
            })
            .cache_hints(CacheHints::new(Duration::from_secs(5), CacheScope::Private)),
        )
        .resource(Resource::new(
            "test://default",
            "default",
            |uri: String, _: Context| async move {
                Ok::<_, HandlerError>(vec![text_contents(uri, None, "default")])
            },
        ))
        .build()
        .expect("valid");
    let client = Client::connect(Kind::Memory, &server).await;
    let list = client
        .modern("resources/list", json!({}), json!({}))
        .await
        .expect("list");
    assert_eq!(
        (&list["ttlMs"], &list["cacheScope"]),
        (&json!(1500), &json!("public"))
    );
    let own = client
        .modern("resources/read", json!({"uri": "test://own"}), json!({}))
        .await
        .expect("read");
    assert_eq!(
        (&own["ttlMs"], &own["cacheScope"]),
        (&json!(5000), &json!("private"))
    );
    let default = client
        .modern(
            "resources/read",
            json!({"uri": "test://default"}),
            json!({}),
        )
        .await
        .expect("read");
    assert_eq!(
        (&default["ttlMs"], &default["cacheScope"]),
        (&json!(1500), &json!("public"))
    );
}

#[tokio::test]
async fn a_malformed_meta_is_invalid_params() {
    let server = server();
    for kind in KINDS {
        let client = Client::connect(kind, &server).await;
        let version = meta::PROTOCOL_VERSION;
        let capabilities = meta::CLIENT_CAPABILITIES;
        let cases = [
            // `server/discover` exists only in the modern era: without `_meta` it is malformed.
            ("server/discover", json!({})),
            ("server/discover", json!({"_meta": {capabilities: {}}})),
            ("tools/list", json!({"_meta": {version: "2026-07-28"}})),
            (
                "tools/list",
                json!({"_meta": {version: "2026-07-28", capabilities: "all"}}),
            ),
            (
                "tools/list",
                json!({"_meta": {version: "2026-07-28", capabilities: {"sampling": true}}}),
            ),
            (
                "tools/list",
                json!({"_meta": {version: "2026-07-28", capabilities: {}, meta::LOG_LEVEL: "loud"}}),
            ),
        ];
        for (method, params) in cases {
            let error = client
                .request(method, params.clone())
                .await
                .expect_err("refused");
            assert_eq!(
                error.code,
                ErrorCode::INVALID_PARAMS,
                "{kind:?} {method} {params}: {error:?}"
            );
        }
        // `clientInfo` is only recommended.
        let result = client
            .request(
                "server/discover",
                json!({"_meta": {version: "2026-07-28", capabilities: {}}}),
            )
            .await
            .expect("no clientInfo is fine");
        assert_modern_result("server/discover", &result);
    }
}

#[tokio::test]
async fn an_unsupported_version_names_the_supported_ones() {
    let server = server();
    for kind in KINDS {
        let client = Client::connect(kind, &server).await;
        for requested in ["v999.0.0", "2025-11-25", "2099-01-01"] {
            let params = json!({"_meta": {meta::PROTOCOL_VERSION: requested, meta::CLIENT_CAPABILITIES: {}}});
            let error = client
                .request("server/discover", params)
                .await
                .expect_err("unsupported");
            assert_eq!(
                error.code,
                ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
                "{kind:?}"
            );
            let data = value(error.data.as_deref().expect("data"));
            assert_eq!(
                data,
                json!({"supported": ["2026-07-28"], "requested": requested})
            );
            let response = json!({"jsonrpc": "2.0", "id": 1, "error": error});
            serde_json::from_value::<v2026_07_28::UnsupportedProtocolVersionError>(response)
                .expect("the schema's shape");
        }
    }
}

/// A server of one era (`ServerBuilder::only_era`) answers the other era's opening so that
/// clients can tell: a modern-only server refuses `initialize` with `-32022` naming its
/// versions, a legacy-only one knows no `server/discover` and no `_meta` envelope.
#[tokio::test]
async fn a_server_of_one_era_refuses_the_other_era() {
    let builder = || {
        Server::builder("one-era", "1.0.0").tool(Tool::typed(
            "echo",
            |arguments: Map<String, Value>| async move {
                Ok::<_, ToolError>(Value::Object(arguments).to_string())
            },
        ))
    };
    let modern_only = builder()
        .only_era(Era::Modern)
        .build()
        .expect("a valid server");
    let legacy_only = builder()
        .only_era(Era::Legacy)
        .build()
        .expect("a valid server");
    let initialize = json!({"protocolVersion": "2025-11-25", "capabilities": {},
                            "clientInfo": {"name": "legacy", "version": "1.0.0"}});
    for kind in KINDS {
        let client = Client::connect(kind, &modern_only).await;
        let error = client
            .request("initialize", initialize.clone())
            .await
            .expect_err("a modern-only server refuses initialize");
        assert_eq!(
            error.code,
            ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
            "{kind:?}"
        );
        let data = value(error.data.as_deref().expect("data"));
        assert_eq!(
            data,
            json!({"supported": ["2026-07-28"], "requested": "2025-11-25"})
        );
        assert!(error.message.contains("2026-07-28"), "{error:?}");
        let tools = client.modern("tools/list", json!({}), json!({})).await;
        assert!(tools.is_ok(), "{kind:?}: {tools:?}");

        let client = Client::connect(kind, &legacy_only).await;
        let discover = client
            .modern("server/discover", json!({}), json!({}))
            .await
            .expect_err("a legacy-only server knows no server/discover");
        assert_eq!(discover.code, ErrorCode::METHOD_NOT_FOUND, "{kind:?}");
        let listed = client
            .modern("tools/list", json!({}), json!({}))
            .await
            .expect_err("a legacy request before initialize");
        assert_eq!(
            listed.code,
            ErrorCode::INVALID_REQUEST,
            "{kind:?}: {listed:?}"
        );
        let initialized = client.request("initialize", initialize.clone()).await;
        assert!(initialized.is_ok(), "{kind:?}: {initialized:?}");
    }
}

#[tokio::test]
async fn methods_the_modern_era_removed_are_not_found() {
    let server = server();
    for kind in KINDS {
        let client = Client::connect(kind, &server).await;
        let removed = [
            (
                "initialize",
                json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}),
            ),
            ("ping", json!({})),
            ("logging/setLevel", json!({"level": "debug"})),
            ("resources/subscribe", json!({"uri": "test://static"})),
            ("resources/unsubscribe", json!({"uri": "test://static"})),
            ("tasks/result", json!({"taskId": "t"})),
            ("tasks/list", json!({})),
            ("unknown/method", json!({})),
        ];
        for (method, params) in removed {
            let error = client
                .modern(method, params, json!({}))
                .await
                .expect_err("removed");
            assert_eq!(
                error.code,
                ErrorCode::METHOD_NOT_FOUND,
                "{kind:?} {method}: {error:?}"
            );
        }
        // `tasks/get` is the tasks extension's now, refused to a request that did not
        // declare it.
        let error = client
            .modern("tasks/get", json!({"taskId": "t"}), json!({}))
            .await
            .expect_err("not declared");
        assert_eq!(
            error.code,
            ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn a_missing_resource_is_invalid_params_naming_the_uri() {
    let server = server();
    for kind in KINDS {
        let client = Client::connect(kind, &server).await;
        for uri in [
            "test://nonexistent-resource-for-conformance-testing",
            "test://items/missing",
        ] {
            let error = client
                .modern("resources/read", json!({"uri": uri}), json!({}))
                .await
                .expect_err("not found");
            assert_eq!(error.code, ErrorCode::INVALID_PARAMS, "{kind:?} {uri}");
            assert_eq!(error.message, "Resource not found");
            assert_eq!(
                value(error.data.as_deref().expect("data")),
                json!({"uri": uri})
            );
        }
    }
}

#[tokio::test]
async fn tool_failures_stay_tool_errors() {
    let server = server();
    let client = Client::connect(Kind::Memory, &server).await;
    let result = client
        .tool(json!({"name": "fail"}), json!({}), "a result")
        .await;
    assert_eq!(result["isError"], true);
    assert_eq!(text_of(&result), "the backend is down");
    assert_modern_result("tools/call", &result);
    let invalid = client
        .tool(
            json!({"name": "add", "arguments": {"a": "two"}}),
            json!({}),
            "a result",
        )
        .await;
    assert_eq!(invalid["isError"], true, "{invalid}");
    let unknown = client
        .modern("tools/call", json!({"name": "nope"}), json!({}))
        .await
        .expect_err("unknown tool");
    assert_eq!(unknown.code, ErrorCode::INVALID_PARAMS);
}

#[tokio::test]
async fn log_messages_go_out_only_at_the_request_s_level() {
    let server = server();
    for kind in KINDS {
        let mut client = Client::connect(kind, &server).await;
        client.tool(json!({"name": "log"}), json!({}), "log").await;
        assert_eq!(
            client.received(),
            [],
            "{kind:?}: no logLevel, no log messages"
        );
        let params = json!({"name": "log", "_meta": {meta::LOG_LEVEL: "info"}});
        client.tool(params, json!({}), "log").await;
        let levels: Vec<Value> = client
            .received()
            .into_iter()
            .map(|(method, params)| {
                assert_eq!(method, "notifications/message");
                params["level"].clone()
            })
            .collect();
        assert_eq!(levels, [json!("info"), json!("error")], "{kind:?}");
    }
}

#[tokio::test]
async fn progress_goes_out_for_the_request_s_token() {
    let server = server();
    for kind in KINDS {
        let mut client = Client::connect(kind, &server).await;
        client
            .tool(json!({"name": "progress"}), json!({}), "progress")
            .await;
        assert_eq!(client.received(), [], "{kind:?}: no token, no progress");
        let params = json!({"name": "progress", "_meta": {"progressToken": "p-1"}});
        client.tool(params, json!({}), "progress").await;
        let progress: Vec<(Value, Value)> = client
            .received()
            .into_iter()
            .map(|(method, params)| {
                assert_eq!(method, "notifications/progress");
                (params["progressToken"].clone(), params["progress"].clone())
            })
            .collect();
        assert_eq!(
            progress,
            [
                (json!("p-1"), json!(1.0)),
                (json!("p-1"), json!(2.0)),
                (json!("p-1"), json!(3.0))
            ],
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn legacy_and_modern_requests_share_one_connection() {
    let server = server();
    for kind in KINDS {
        let mut client = Client::connect(kind, &server).await;
        // Modern first: no session is needed.
        let modern = client
            .modern("tools/list", json!({}), json!({}))
            .await
            .expect("modern");
        assert_eq!(modern["resultType"], "complete");
        // A legacy request before `initialize` is refused as before.
        let early = client
            .request("tools/list", json!({}))
            .await
            .expect_err("no session");
        assert_eq!(early.code, ErrorCode::INVALID_REQUEST);
        let initialize = client
            .request(
                "initialize",
                json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "legacy", "version": "1"}}),
            )
            .await
            .expect("initialize");
        assert_eq!(initialize["protocolVersion"], "2025-06-18");
        client
            .peer
            .notify_raw("notifications/initialized", None, Default::default())
            .await
            .expect("initialized");
        client
            .request("logging/setLevel", json!({"level": "error"}))
            .await
            .expect("setLevel");
        let legacy = client
            .request("tools/list", json!({}))
            .await
            .expect("legacy");
        assert!(legacy.get("resultType").is_none(), "{legacy}");
        assert!(legacy.get("ttlMs").is_none(), "{legacy}");
        let whoami = client
            .request("tools/call", json!({"name": "whoami"}))
            .await
            .expect("legacy");
        assert_eq!(
            text_of(&whoami),
            "legacy 2025-06-18 Legacy session roots:false"
        );
        let whoami = client
            .tool(json!({"name": "whoami"}), json!({}), "modern")
            .await;
        assert_eq!(
            text_of(&whoami),
            "modern-test-client 2026-07-28 Modern no session roots:false"
        );
        // Each era keeps its own resource-not-found code on the same connection.
        let legacy_missing = client
            .request("resources/read", json!({"uri": "test://nope"}))
            .await
            .expect_err("missing");
        assert_eq!(legacy_missing.code, ErrorCode::RESOURCE_NOT_FOUND);
        let modern_missing = client
            .modern("resources/read", json!({"uri": "test://nope"}), json!({}))
            .await
            .expect_err("missing");
        assert_eq!(modern_missing.code, ErrorCode::INVALID_PARAMS);
        // The session's level (error) does not reach modern requests, which set their own.
        client
            .request("tools/call", json!({"name": "log"}))
            .await
            .expect("log");
        let legacy_levels: BTreeSet<String> = client
            .received()
            .into_iter()
            .map(|(_, params)| params["level"].as_str().expect("a level").to_owned())
            .collect();
        assert_eq!(
            legacy_levels,
            BTreeSet::from(["error".to_owned()]),
            "{kind:?}"
        );
        let params = json!({"name": "log", "_meta": {meta::LOG_LEVEL: "debug"}});
        client.tool(params, json!({}), "log").await;
        assert_eq!(
            client.received().len(),
            3,
            "{kind:?}: every level from debug up"
        );
        // `ping` stays a legacy method.
        client
            .request("ping", json!({}))
            .await
            .expect("legacy ping");
        let modern_ping = client
            .modern("ping", json!({}), json!({}))
            .await
            .expect_err("removed");
        assert_eq!(modern_ping.code, ErrorCode::METHOD_NOT_FOUND);
    }
}

#[tokio::test]
async fn a_missing_client_capability_is_named_in_32021() {
    let server = server();
    for kind in KINDS {
        let client = Client::connect(kind, &server).await;
        let cases = [
            (
                "tools/call",
                json!({"name": "sample"}),
                json!({}),
                json!({"sampling": {}}),
            ),
            (
                "tools/call",
                json!({"name": "sample_with_tools"}),
                json!({"sampling": {}}),
                json!({"sampling": {"tools": {}}}),
            ),
            (
                "tools/call",
                json!({"name": "authorize"}),
                json!({"elicitation": {}}),
                json!({"elicitation": {"url": {}}}),
            ),
            (
                "resources/read",
                json!({"uri": "test://roots"}),
                json!({"sampling": {}}),
                json!({"roots": {}}),
            ),
            (
                "prompts/get",
                json!({"name": "ask_roots"}),
                json!({}),
                json!({"roots": {}}),
            ),
        ];
        for (method, params, declared, required) in cases {
            let error = client
                .modern(method, params.clone(), declared)
                .await
                .expect_err("a capability is missing");
            assert_eq!(
                error.code,
                ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
                "{kind:?} {method} {params}: {error:?}"
            );
            let data = value(error.data.as_deref().expect("data"));
            assert_eq!(
                data,
                json!({"requiredCapabilities": required}),
                "{kind:?} {params}"
            );
            let response = json!({"jsonrpc": "2.0", "id": 7, "error": error});
            serde_json::from_value::<v2026_07_28::MissingRequiredClientCapabilityError>(response)
                .expect("the schema's shape");
        }
    }
}

#[tokio::test]
async fn a_missing_capability_stays_a_tool_error_in_the_legacy_era() {
    let server = server();
    let client = Client::connect(Kind::Memory, &server).await;
    client
        .request(
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "legacy", "version": "1"}}),
        )
        .await
        .expect("initialize");
    let result = client
        .request("tools/call", json!({"name": "sample"}))
        .await
        .expect("a tool result");
    assert_eq!(result["isError"], true, "{result}");
    assert!(text_of(&result).contains("sampling"), "{result}");
}

// Multi round-trip requests.

fn form(message: &str, field: &str, kind: &str) -> types::ElicitRequestParams {
    types::ElicitRequestParams::ElicitRequestFormParams(
        serde_json::from_value(json!({
            "message": message,
            "requestedSchema": {"type": "object", "properties": {field: {"type": kind}}, "required": [field]}
        }))
        .expect("form params"),
    )
}

fn answered(answer: &types::ElicitResult, field: &str) -> String {
    match answer
        .content
        .as_ref()
        .and_then(|content| content.get(field))
    {
        Some(types::ElicitResultContentValue::String(text)) => text.clone(),
        Some(other) => format!("{other:?}"),
        None => format!("{}", answer.action),
    }
}

/// What the tools below say about their roots.
fn root_uris(roots: &types::ListRootsResult) -> String {
    roots
        .roots
        .iter()
        .map(|root| root.uri.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// A tool that asks the user, the model and the client at once, written once for both eras.
async fn profile(_: Map<String, Value>, context: Context) -> Result<String, ToolError> {
    let (name, greeting, roots) = tokio::join!(
        context
            .elicit(form("What is your name?", "name", "string"))
            .options(mcpwire_server::AskOptions::new().key("user_name")),
        context
            .create_message(sampling_params("Generate a greeting"))
            .options(mcpwire_server::AskOptions::new().key("greeting")),
        context
            .list_roots()
            .options(mcpwire_server::AskOptions::new().key("client_roots")),
    );
    let (name, greeting, roots) = (name?, greeting?, roots?);
    Ok(format!(
        "{} / {} / {}",
        answered(&name, "name"),
        sampled_text(&greeting),
        root_uris(&roots)
    ))
}

/// A tool that asks twice, one question after the other.
async fn two_steps(_: Map<String, Value>, context: Context) -> Result<String, ToolError> {
    let options = |key: &str| mcpwire_server::AskOptions::new().key(key);
    let name = context
        .elicit(form("Step 1: What is your name?", "name", "string"))
        .options(options("step1"))
        .await?;
    let color = context
        .elicit(form(
            "Step 2: What is your favorite color?",
            "color",
            "string",
        ))
        .options(options("step2"))
        .await?;
    Ok(format!(
        "{} likes {}",
        answered(&name, "name"),
        answered(&color, "color")
    ))
}

fn mrtr_server() -> Server {
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Greeting {
        greeting: String,
    }
    Server::builder("modern-server", "3.1.4")
        .max_input_rounds(2)
        .tool(Tool::typed("profile", profile))
        .tool(Tool::typed("two_steps", two_steps))
        .tool(Tool::typed("greet", |arguments: Greeting, context: Context| async move {
            let name = context.elicit(form("What is your name?", "name", "string")).await?;
            Ok::<_, ToolError>(format!("{}, {}!", arguments.greeting, answered(&name, "name")))
        }))
        .tool(Tool::typed("three_steps", |_: Map<String, Value>, context: Context| async move {
            for step in 1..=3 {
                context.elicit(form(&format!("Step {step}?"), "answer", "string")).await?;
            }
            Ok::<_, ToolError>("three answers")
        }))
        .tool(Tool::typed("spawns", |_: Map<String, Value>, context: Context| async move {
            let (stopped, _) = tokio::sync::broadcast::channel::<&'static str>(1);
            let watcher = context.clone();
            let signal = stopped.clone();
            tokio::spawn(async move {
                watcher.cancellation().cancelled().await;
                let _ = signal.send("stopped");
            });
            STOPPED.lock().expect("lock").replace(stopped.subscribe());
            context.elicit(form("Go on?", "ok", "boolean")).await?;
            Ok::<_, ToolError>("went on")
        }))
        .tool(Tool::typed("login", |_: Map<String, Value>| async move {
            let url = serde_json::from_value(json!({"message": "Sign in", "elicitationId": "login-1", "url": "https://example.com/login", "mode": "url"})).expect("params");
            Err::<String, _>(ToolError::url_elicitation_required("sign in first", vec![url]))
        }))
        .resource(Resource::new("test://private", "private", |uri: String, context: Context| async move {
            let answer = context.elicit(form("Unlock?", "ok", "boolean")).await?;
            Ok::<_, HandlerError>(vec![text_contents(uri, None, format!("unlocked: {}", answer.action))])
        }))
        .prompt(Prompt::new("contextual", |_, context: Context| async move {
            let answer = context
                .elicit(form("What context should the prompt use?", "context", "string")).options(mcpwire_server::AskOptions::new().key("user_context"))
                .await?;
            Ok::<_, HandlerError>(vec![types::PromptMessage {
                content: text(format!("Use {}", answered(&answer, "context"))),
                role: types::Role::User,
            }])
        }))
        .build()
        .expect("a valid server")
}

/// The receiver of the `spawns` tool's signal, for the test that calls it.
static STOPPED: std::sync::Mutex<Option<tokio::sync::broadcast::Receiver<&'static str>>> =
    std::sync::Mutex::new(None);

/// The capabilities of a client that answers every kind of input request.
fn every_capability() -> Value {
    json!({"elicitation": {}, "sampling": {}, "roots": {}})
}

/// Checks an `InputRequiredResult` and returns its requests and state.
fn input_required(method: &str, result: &Value) -> (Map<String, Value>, String) {
    assert_eq!(result["resultType"], "input_required", "{result}");
    assert_eq!(result["_meta"][meta::SERVER_INFO]["name"], "modern-server");
    assert!(result.get("ttlMs").is_none(), "never cached: {result}");
    let decoded = v2026_07_28::ServerResult::decode(method, &raw(result)).expect("decodes");
    let is_input_required = matches!(
        decoded,
        v2026_07_28::ServerResult::CallToolResultResponseResult(
            v2026_07_28::CallToolResultResponseResult::InputRequiredResult(_)
        ) | v2026_07_28::ServerResult::GetPromptResultResponseResult(
            v2026_07_28::GetPromptResultResponseResult::InputRequiredResult(_)
        ) | v2026_07_28::ServerResult::ReadResourceResultResponseResult(
            v2026_07_28::ReadResourceResultResponseResult::InputRequiredResult(_)
        )
    );
    assert!(is_input_required, "{method}: {result}");
    let requests = result["inputRequests"]
        .as_object()
        .expect("inputRequests")
        .clone();
    let state = result["requestState"]
        .as_str()
        .expect("a requestState")
        .to_owned();
    (requests, state)
}

fn accept(field: &str, value: Value) -> Value {
    json!({"action": "accept", "content": {field: value}})
}

fn sampled(text: &str) -> Value {
    json!({"role": "assistant", "content": {"type": "text", "text": text}, "model": "test-model", "stopReason": "endTurn"})
}

#[tokio::test]
async fn one_ask_takes_one_retry() {
    let server = mrtr_server();
    for kind in KINDS {
        let client = Client::connect(kind, &server).await;
        let call = json!({"name": "greet", "arguments": {"greeting": "Hello"}});
        let first = client
            .tool(call.clone(), every_capability(), "a result")
            .await;
        let (requests, state) = input_required("tools/call", &first);
        assert_eq!(
            Value::Object(requests.clone()),
            json!({"input-1": {"method": "elicitation/create", "params": {
                "message": "What is your name?",
                "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
            }}}),
            "{kind:?}"
        );
        let mut retry = call.clone();
        retry["inputResponses"] = json!({"input-1": accept("name", json!("Alice"))});
        retry["requestState"] = json!(state);
        let done = client
            .tool(retry.clone(), every_capability(), "a result")
            .await;
        assert_modern_result("tools/call", &done);
        assert_eq!(text_of(&done), "Hello, Alice!");
        // Answers without a state are taken as given, and keys nobody asked for are ignored.
        let mut stateless = call.clone();
        stateless["inputResponses"] = json!({
            "input-1": accept("name", json!("Bob")),
            "unknown_extra_key": {"action": "decline"},
            "another_unexpected": {"anything": true}
        });
        let done = client.tool(stateless, every_capability(), "a result").await;
        assert_eq!(text_of(&done), "Hello, Bob!");
        // An answer under another key is no answer: the question comes again.
        let mut wrong_key = call.clone();
        wrong_key["inputResponses"] = json!({"wrong_key": accept("name", json!("Eve"))});
        let again = client.tool(wrong_key, every_capability(), "a result").await;
        let (requests, _) = input_required("tools/call", &again);
        assert!(requests.contains_key("input-1"), "{again}");
    }
}

#[tokio::test]
async fn joined_asks_share_one_round() {
    let server = mrtr_server();
    for kind in KINDS {
        let client = Client::connect(kind, &server).await;
        let call = json!({"name": "profile"});
        let first = client
            .tool(call.clone(), every_capability(), "a result")
            .await;
        let (requests, state) = input_required("tools/call", &first);
        let methods: Vec<(&str, &str)> = requests
            .iter()
            .map(|(key, request)| (key.as_str(), request["method"].as_str().expect("a method")))
            .collect();
        assert_eq!(
            methods,
            [
                ("client_roots", "roots/list"),
                ("greeting", "sampling/createMessage"),
                ("user_name", "elicitation/create")
            ],
            "{kind:?}"
        );
        assert!(requests["client_roots"].get("params").is_none(), "{first}");
        assert_eq!(requests["greeting"]["params"]["maxTokens"], 100);
        // Answer two of three: the missing one is asked again, alone, with a new state.
        let mut partial = call.clone();
        partial["inputResponses"] = json!({
            "user_name": accept("name", json!("Alice")),
            "greeting": sampled("Bonjour"),
        });
        partial["requestState"] = json!(state);
        let second = client.tool(partial, every_capability(), "a result").await;
        let (requests, second_state) = input_required("tools/call", &second);
        assert_eq!(
            requests.keys().collect::<Vec<_>>(),
            ["client_roots"],
            "{second}"
        );
        assert_ne!(second_state, state);
        let mut last = call.clone();
        last["inputResponses"] =
            json!({"client_roots": {"roots": [{"uri": "file:///test/root", "name": "Test Root"}]}});
        last["requestState"] = json!(second_state);
        let done = client.tool(last, every_capability(), "a result").await;
        assert_eq!(text_of(&done), "Alice / Bonjour / file:///test/root");
    }
}

#[tokio::test]
async fn sequential_asks_take_rounds_with_differing_states() {
    let server = mrtr_server();
    let client = Client::connect(Kind::Memory, &server).await;
    let call = json!({"name": "two_steps"});
    let first = client
        .tool(call.clone(), every_capability(), "a result")
        .await;
    let (requests, first_state) = input_required("tools/call", &first);
    assert_eq!(
        requests["step1"]["params"]["message"],
        "Step 1: What is your name?"
    );
    let mut retry = call.clone();
    retry["inputResponses"] = json!({"step1": accept("name", json!("Alice"))});
    retry["requestState"] = json!(first_state);
    let second = client
        .tool(retry.clone(), every_capability(), "a result")
        .await;
    let (requests, second_state) = input_required("tools/call", &second);
    assert_eq!(requests.keys().collect::<Vec<_>>(), ["step2"]);
    assert_ne!(first_state, second_state);
    // The first state may be retried as it was: nothing is consumed on the server.
    let again = client.tool(retry, every_capability(), "a result").await;
    assert_eq!(
        input_required("tools/call", &again)
            .0
            .keys()
            .collect::<Vec<_>>(),
        ["step2"]
    );
    let mut last = call.clone();
    last["inputResponses"] = json!({"step2": accept("color", json!("blue"))});
    last["requestState"] = json!(second_state);
    let done = client.tool(last, every_capability(), "a result").await;
    assert_eq!(text_of(&done), "Alice likes blue");
}

#[tokio::test]
async fn forged_foreign_and_malformed_input_is_invalid_params() {
    let server = mrtr_server();
    let client = Client::connect(Kind::Memory, &server).await;
    let call = json!({"name": "greet", "arguments": {"greeting": "Hello"}});
    let first = client
        .tool(call.clone(), every_capability(), "a result")
        .await;
    let (_, state) = input_required("tools/call", &first);
    let answer = json!({"input-1": accept("name", json!("Alice"))});
    let retry = |params: Value, state: Value| {
        let mut params = params;
        params["inputResponses"] = answer.clone();
        params["requestState"] = state;
        params
    };
    let refused = [
        retry(call.clone(), json!(format!("{state}-TAMPERED"))),
        retry(call.clone(), json!(format!("x{state}"))),
        retry(call.clone(), json!(12)),
        // The state of one call on another tool, or the same tool with other arguments.
        retry(json!({"name": "two_steps"}), json!(state)),
        retry(
            json!({"name": "greet", "arguments": {"greeting": "Bye"}}),
            json!(state),
        ),
        json!({"name": "greet", "arguments": {"greeting": "Hello"}, "inputResponses": {"input-1": 12345}}),
        json!({"name": "greet", "arguments": {"greeting": "Hello"}, "inputResponses": null}),
        json!({"name": "greet", "arguments": {"greeting": "Hello"}, "inputResponses": []}),
        // An answer that is no elicitation result.
        json!({"name": "greet", "arguments": {"greeting": "Hello"}, "inputResponses": {"input-1": {"roots": []}}}),
    ];
    for params in refused {
        let error = client
            .modern("tools/call", params.clone(), every_capability())
            .await
            .expect_err("refused");
        assert_eq!(error.code, ErrorCode::INVALID_PARAMS, "{params}: {error:?}");
    }
    // A state from a server with another key does not verify either.
    let other = mrtr_server();
    let other_client = Client::connect(Kind::Memory, &other).await;
    let error = other_client
        .modern(
            "tools/call",
            retry(call.clone(), json!(state)),
            every_capability(),
        )
        .await
        .expect_err("another key");
    assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
    // A server given the same key accepts it.
    let keyed = |key| {
        Server::builder("modern-server", "3.1.4")
            .request_state_key(key)
            .tool(Tool::typed(
                "greet",
                |_: Map<String, Value>, context: Context| async move {
                    let name = context
                        .elicit(form("What is your name?", "name", "string"))
                        .await?;
                    Ok::<_, ToolError>(answered(&name, "name"))
                },
            ))
            .build()
            .expect("valid")
    };
    let (one, two) = (keyed([3; 32]), keyed([3; 32]));
    let one = Client::connect(Kind::Memory, &one).await;
    let two = Client::connect(Kind::Memory, &two).await;
    let first = one
        .tool(json!({"name": "greet"}), every_capability(), "a result")
        .await;
    let (_, state) = input_required("tools/call", &first);
    let done = two
        .tool(
            retry(json!({"name": "greet"}), json!(state)),
            every_capability(),
            "the same key verifies",
        )
        .await;
    assert_eq!(text_of(&done), "Alice");
}

#[tokio::test(start_paused = true)]
async fn an_expired_state_is_refused() {
    let server = mrtr_server();
    let client = Client::connect(Kind::Memory, &server).await;
    let call = json!({"name": "greet", "arguments": {"greeting": "Hello"}});
    let first = client
        .tool(call.clone(), every_capability(), "a result")
        .await;
    let (_, state) = input_required("tools/call", &first);
    let mut retry = call;
    retry["inputResponses"] = json!({"input-1": accept("name", json!("Alice"))});
    retry["requestState"] = json!(state);
    tokio::time::advance(Duration::from_secs(9 * 60)).await;
    client
        .tool(retry.clone(), every_capability(), "still valid")
        .await;
    tokio::time::advance(Duration::from_secs(61)).await;
    let error = client
        .modern("tools/call", retry, every_capability())
        .await
        .expect_err("expired");
    assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
    assert!(error.message.contains("expired"), "{}", error.message);
}

#[tokio::test]
async fn rounds_are_limited() {
    let server = mrtr_server();
    let client = Client::connect(Kind::Memory, &server).await;
    let mut call = json!({"name": "three_steps"});
    let mut answers = Map::new();
    for round in 1..=2 {
        let result = client
            .tool(call.clone(), every_capability(), "a result")
            .await;
        let (requests, state) = input_required("tools/call", &result);
        for key in requests.keys() {
            answers.insert(key.clone(), accept("answer", json!(round)));
        }
        call["inputResponses"] = Value::Object(answers.clone());
        call["requestState"] = json!(state);
    }
    let error = client
        .modern("tools/call", call, every_capability())
        .await
        .expect_err("a third round");
    assert_eq!(error.code, ErrorCode::INVALID_PARAMS, "{error:?}");
}

#[tokio::test]
async fn prompts_and_resources_ask_too() {
    let server = mrtr_server();
    for kind in KINDS {
        let client = Client::connect(kind, &server).await;
        let get = json!({"name": "contextual"});
        let first = client
            .modern("prompts/get", get.clone(), every_capability())
            .await
            .expect("a result");
        let (requests, state) = input_required("prompts/get", &first);
        assert!(requests.contains_key("user_context"));
        let mut retry = get;
        retry["inputResponses"] = json!({"user_context": accept("context", json!("test context"))});
        retry["requestState"] = json!(state);
        let done = client
            .modern("prompts/get", retry, every_capability())
            .await
            .expect("a result");
        assert_modern_result("prompts/get", &done);
        assert_eq!(done["messages"][0]["content"]["text"], "Use test context");

        let read = json!({"uri": "test://private"});
        let first = client
            .modern("resources/read", read.clone(), every_capability())
            .await
            .expect("a result");
        let (_, state) = input_required("resources/read", &first);
        let mut retry = read;
        retry["inputResponses"] = json!({"input-1": accept("ok", json!(true))});
        retry["requestState"] = json!(state);
        let done = client
            .modern("resources/read", retry, every_capability())
            .await
            .expect("a result");
        assert_modern_result("resources/read", &done);
        assert_eq!(done["contents"][0]["text"], "unlocked: accept");
    }
}

#[tokio::test]
async fn asks_need_the_request_s_capabilities() {
    let server = mrtr_server();
    let client = Client::connect(Kind::Memory, &server).await;
    let declared = json!({"sampling": {}, "roots": {}});
    // The joined asks the client can answer come first; an undeclared one is never sent.
    let first = client
        .tool(json!({"name": "profile"}), declared.clone(), "a result")
        .await;
    let (requests, state) = input_required("tools/call", &first);
    assert_eq!(
        requests.keys().collect::<Vec<_>>(),
        ["client_roots", "greeting"]
    );
    // Once they are answered, the tool meets the missing capability, and `?` makes it -32021.
    let retry = json!({
        "name": "profile",
        "inputResponses": {"greeting": sampled("Hi"), "client_roots": {"roots": []}},
        "requestState": state
    });
    let error = client
        .modern("tools/call", retry, declared)
        .await
        .expect_err("no elicitation");
    assert_eq!(error.code, ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY);
    assert_eq!(
        value(error.data.as_deref().expect("data")),
        json!({"requiredCapabilities": {"elicitation": {}}})
    );
    // A single ask fails at once.
    let error = client
        .modern(
            "tools/call",
            json!({"name": "two_steps"}),
            json!({"sampling": {}}),
        )
        .await
        .expect_err("no elicitation");
    assert_eq!(error.code, ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY);
}

#[tokio::test]
async fn url_elicitations_become_input_requests() {
    let server = mrtr_server();
    let client = Client::connect(Kind::Memory, &server).await;
    let result = client
        .tool(
            json!({"name": "login"}),
            json!({"elicitation": {"url": {}}}),
            "a result",
        )
        .await;
    let (requests, _) = input_required("tools/call", &result);
    assert_eq!(
        Value::Object(requests),
        json!({"url-1": {"method": "elicitation/create", "params": {"mode": "url", "message": "Sign in", "url": "https://example.com/login"}}})
    );
    let error = client
        .modern(
            "tools/call",
            json!({"name": "login"}),
            json!({"elicitation": {}}),
        )
        .await
        .expect_err("no URL mode");
    assert_eq!(error.code, ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY);
    assert_eq!(
        value(error.data.as_deref().expect("data")),
        json!({"requiredCapabilities": {"elicitation": {"url": {}}}})
    );
}

#[tokio::test]
async fn work_a_handler_spawned_stops_when_the_round_ends() {
    let server = mrtr_server();
    let client = Client::connect(Kind::Memory, &server).await;
    let result = client
        .tool(json!({"name": "spawns"}), every_capability(), "a result")
        .await;
    input_required("tools/call", &result);
    let mut stopped = STOPPED.lock().expect("lock").take().expect("the tool ran");
    assert_eq!(stopped.recv().await.expect("a signal"), "stopped");
}

fn client_info() -> types::Implementation {
    types::Implementation::new("legacy-client", "1.0.0")
}

#[tokio::test]
async fn one_handler_asks_through_requests_in_legacy_and_retries_in_modern() {
    let server = mrtr_server();
    // Legacy: the real client answers the server's requests with its handlers.
    let (client_end, server_end) = mcpwire_transport::duplex(64);
    let _session = server.serve(server_end);
    let legacy = mcpwire_client::ClientBuilder::new(client_info())
        .sampling(
            |_: types::CreateMessageRequestParams, _: mcpwire_client::RequestContext| async move {
                serde_json::from_value::<types::CreateMessageResult>(sampled("Hi there"))
                    .map_err(|error| ErrorObject::internal_error(error.to_string()))
            },
        )
        .elicitation(
            |_: types::ElicitRequestParams, _: mcpwire_client::RequestContext| async move {
                serde_json::from_value::<types::ElicitResult>(accept("name", json!("Ada")))
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
    let result = legacy
        .call_tool("profile", json!({}))
        .await
        .expect("a result");
    let types::ContentBlock::TextContent(content) = &result.content[0] else {
        panic!("a text block: {result:?}");
    };
    assert_eq!(content.text, "Ada / Hi there / file:///work");

    // Modern: the same handler, answered through `inputResponses`.
    let client = Client::connect(Kind::Stdio, &server).await;
    let first = client
        .tool(json!({"name": "profile"}), every_capability(), "a result")
        .await;
    let (_, state) = input_required("tools/call", &first);
    let retry = json!({
        "name": "profile",
        "inputResponses": {
            "user_name": accept("name", json!("Ada")),
            "greeting": sampled("Hi there"),
            "client_roots": {"roots": [{"uri": "file:///work"}]}
        },
        "requestState": state
    });
    let done = client.tool(retry, every_capability(), "a result").await;
    assert_eq!(text_of(&done), "Ada / Hi there / file:///work");
}

#[tokio::test]
async fn lists_never_ask() {
    let server = mrtr_server();
    let client = Client::connect(Kind::Memory, &server).await;
    for method in ["tools/list", "prompts/list", "resources/list"] {
        let result = client
            .modern(method, json!({}), every_capability())
            .await
            .expect("a list");
        assert_modern_result(method, &result);
    }
}

// Subscriptions.

/// A client that writes and reads raw messages, with the ids it chooses.
struct Wire<T: mcpwire_transport::Transport> {
    sender: T::Sender,
    receiver: T::Receiver,
}

impl<T: mcpwire_transport::Transport> Wire<T> {
    fn new(transport: T) -> Self {
        let (sender, receiver) = transport.split();
        Wire { sender, receiver }
    }

    async fn send(&mut self, message: Value) {
        use mcpwire_transport::MessageSender as _;
        let message =
            mcpwire_jsonrpc::Message::parse(message.to_string().as_bytes()).expect("a message");
        self.sender
            .send(message, Default::default())
            .await
            .expect("the server reads");
    }

    /// Sends a modern request with the id `id`.
    async fn request(&mut self, id: Value, method: &str, params: Value) {
        let params = with_meta(params, json!({}));
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
    }

    /// The next message the server sends.
    async fn next(&mut self) -> Value {
        use mcpwire_transport::MessageReceiver as _;
        let inbound = tokio::time::timeout(Duration::from_secs(10), self.receiver.receive())
            .await
            .expect("the server sends a message")
            .expect("the connection is open")
            .expect("a readable message");
        match inbound {
            mcpwire_transport::Inbound::Message(message) => {
                serde_json::from_slice(&message.to_vec()).expect("JSON")
            }
            mcpwire_transport::Inbound::Invalid(error) => panic!("an invalid message: {error}"),
            mcpwire_transport::Inbound::Failed { id, error } => panic!("{id} failed: {error}"),
        }
    }

    /// Sends a request and checks that its response is the next message: nothing else was
    /// sent before it.
    async fn nothing_before_the_next_response(&mut self, id: i64) {
        self.request(json!(id), "tools/list", json!({})).await;
        let next = self.next().await;
        assert_eq!(next["id"], id, "only the response was expected: {next}");
    }
}

/// Serves `server` over a fresh connection of each kind.
fn connections(
    server: &Server,
) -> (
    Wire<mcpwire_transport::MemoryTransport>,
    Wire<StdioEnd>,
    Vec<Session>,
) {
    let (memory, memory_session) = memory_end(server);
    let (stdio, stdio_session) = stdio_end(server);
    (
        Wire::new(memory),
        Wire::new(stdio),
        vec![memory_session, stdio_session],
    )
}

fn subscription_id(message: &Value) -> &Value {
    &message["params"]["_meta"][meta::SUBSCRIPTION_ID]
}

async fn subscriptions_scenario<T: mcpwire_transport::Transport>(
    server: &Server,
    mut wire: Wire<T>,
) {
    // The acknowledgement comes first, with the subset of the filter the server honours.
    wire.request(
        json!("sub-1"),
        "subscriptions/listen",
        json!({"notifications": {"toolsListChanged": true, "resourcesListChanged": true, "resourceSubscriptions": ["test://static"]}}),
    )
    .await;
    let ack = wire.next().await;
    assert_eq!(
        ack["method"], "notifications/subscriptions/acknowledged",
        "{ack}"
    );
    assert_eq!(subscription_id(&ack), "sub-1");
    assert_eq!(
        ack["params"]["notifications"],
        json!({"toolsListChanged": true, "resourcesListChanged": true, "resourceSubscriptions": ["test://static"]})
    );
    serde_json::from_value::<v2026_07_28::SubscriptionsAcknowledgedNotification>(ack.clone())
        .expect("the schema's shape");
    wire.request(
        json!(2),
        "subscriptions/listen",
        json!({"notifications": {"promptsListChanged": true}}),
    )
    .await;
    let ack = wire.next().await;
    assert_eq!(
        (&ack["method"], subscription_id(&ack)),
        (
            &json!("notifications/subscriptions/acknowledged"),
            &json!(2)
        )
    );

    // Each change goes to the subscriptions that asked for it, tagged with their id.
    server
        .notify_list_changed(mcpwire_server::ListKind::Tools)
        .await;
    let change = wire.next().await;
    assert_eq!(
        change["method"], "notifications/tools/list_changed",
        "{change}"
    );
    assert_eq!(subscription_id(&change), "sub-1");
    serde_json::from_value::<v2026_07_28::ToolListChangedNotification>(change.clone())
        .expect("the schema's shape");
    server
        .notify_list_changed(mcpwire_server::ListKind::Prompts)
        .await;
    let change = wire.next().await;
    assert_eq!(
        (&change["method"], subscription_id(&change)),
        (&json!("notifications/prompts/list_changed"), &json!(2))
    );
    server.notify_resource_updated("test://static").await;
    let updated = wire.next().await;
    assert_eq!(updated["method"], "notifications/resources/updated");
    assert_eq!(updated["params"]["uri"], "test://static");
    assert_eq!(subscription_id(&updated), "sub-1");
    server.notify_resource_updated("test://cached").await;
    wire.nothing_before_the_next_response(100).await;

    // A request's own progress and log messages never carry a subscription id.
    let call = json!({"name": "log", "_meta": {meta::LOG_LEVEL: "error", "progressToken": "p"}});
    wire.request(json!(101), "tools/call", call).await;
    let message = wire.next().await;
    assert_eq!(message["method"], "notifications/message");
    assert!(subscription_id(&message).is_null(), "{message}");
    assert_eq!(wire.next().await["id"], 101);

    // Cancelling a subscription stops its notifications, and it gets no response.
    wire.send(json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "sub-1"}}))
        .await;
    wire.nothing_before_the_next_response(102).await;
    server
        .notify_list_changed(mcpwire_server::ListKind::Tools)
        .await;
    server.notify_resource_updated("test://static").await;
    wire.nothing_before_the_next_response(103).await;

    // Closing the server's subscriptions answers each with a complete result.
    server.close_subscriptions();
    let closed = wire.next().await;
    assert_eq!(closed["id"], 2, "{closed}");
    assert_eq!(closed["result"]["resultType"], "complete");
    assert_eq!(closed["result"]["_meta"][meta::SUBSCRIPTION_ID], 2);
    assert_eq!(
        closed["result"]["_meta"][meta::SERVER_INFO]["name"],
        "modern-server"
    );
    v2026_07_28::ServerResult::decode("subscriptions/listen", &raw(&closed["result"]))
        .expect("the schema's shape");
    server
        .notify_list_changed(mcpwire_server::ListKind::Prompts)
        .await;
    wire.nothing_before_the_next_response(104).await;
}

#[tokio::test]
async fn subscriptions_get_only_what_they_asked_for_until_they_end() {
    let server = server();
    let (memory, stdio, _sessions) = connections(&server);
    subscriptions_scenario(&server, memory).await;
    subscriptions_scenario(&server, stdio).await;
}

#[tokio::test]
async fn subscriptions_are_bounded_and_need_a_filter() {
    let server = Server::builder("modern-server", "3.1.4")
        .max_subscriptions_per_connection(1)
        .tools()
        .build()
        .expect("valid");
    let (mut wire, _, _sessions) = connections(&server);
    wire.request(json!(1), "subscriptions/listen", json!({"notifications": {"toolsListChanged": true, "promptsListChanged": true, "resourceSubscriptions": ["x"]}}))
        .await;
    let ack = wire.next().await;
    // A server without prompts or resources leaves them out of what it honours.
    assert_eq!(
        ack["params"]["notifications"],
        json!({"toolsListChanged": true}),
        "{ack}"
    );
    wire.request(
        json!(2),
        "subscriptions/listen",
        json!({"notifications": {"toolsListChanged": true}}),
    )
    .await;
    let refused = wire.next().await;
    assert_eq!(
        (&refused["id"], &refused["error"]["code"]),
        (&json!(2), &json!(-32602)),
        "{refused}"
    );
    wire.request(json!(3), "subscriptions/listen", json!({}))
        .await;
    let refused = wire.next().await;
    assert_eq!(
        (&refused["id"], &refused["error"]["code"]),
        (&json!(3), &json!(-32602)),
        "{refused}"
    );
    // Without tools, resources or prompts there is nothing to listen to.
    let empty = Server::builder("empty", "1").build().expect("valid");
    let (mut wire, _, _sessions) = connections(&empty);
    wire.request(
        json!(1),
        "subscriptions/listen",
        json!({"notifications": {"toolsListChanged": true}}),
    )
    .await;
    let refused = wire.next().await;
    assert_eq!(refused["error"]["code"], -32601, "{refused}");
}

#[tokio::test]
async fn a_handler_can_change_its_server() {
    let server = Server::builder("modern-server", "3.1.4")
        .tool(Tool::typed(
            "grow",
            |_: Map<String, Value>, context: Context| async move {
                let added = Tool::typed("grown", |_: Map<String, Value>| async move {
                    Ok::<_, ToolError>("grown")
                });
                context.server().add_tool(added.build()?).await?;
                Ok::<_, ToolError>("added")
            },
        ))
        .build()
        .expect("valid");
    let (mut wire, _, _sessions) = connections(&server);
    wire.request(
        json!(1),
        "subscriptions/listen",
        json!({"notifications": {"toolsListChanged": true}}),
    )
    .await;
    wire.next().await;
    wire.request(json!(2), "tools/call", json!({"name": "grow"}))
        .await;
    let change = wire.next().await;
    assert_eq!(
        change["method"], "notifications/tools/list_changed",
        "{change}"
    );
    assert_eq!(wire.next().await["id"], 2);
    assert_eq!(server.tool_names(), ["grow", "grown"]);
}
