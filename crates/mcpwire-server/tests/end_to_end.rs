//! The server and the client together, through their public APIs: every method and
//! notification of 2025-11-25, tasks in both directions included, each scenario
//! run over the in-memory transport, over stdio framing, over Streamable HTTP and over the
//! legacy HTTP+SSE transport of 2024-11-05.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcpwire_client::{CallOptions, Client, ClientBuilder, EraChoice, ServerNotification};
use mcpwire_jsonrpc::{ErrorCode, ErrorObject};
use mcpwire_server::{
    AskOptions, ClientProgress, Context, HandlerError, Prompt, Resource, ResourceTemplate, Server,
    Session, Structured, Tool, ToolError, blob_contents, text_contents, types,
};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

/// The transport a scenario runs over.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Memory,
    Stdio,
    Http,
    LegacySse,
}

/// A connected client, the server session, and what the client was notified of.
struct Harness {
    client: Client,
    session: Session,
    notifications: mpsc::UnboundedReceiver<ServerNotification>,
}

async fn start(kind: Kind, server: &Server, builder: ClientBuilder) -> Harness {
    let (sender, notifications) = mpsc::unbounded_channel();
    let builder = builder.on_notification(move |notification| {
        let _ = sender.send(notification);
    });
    let (client, session) = match kind {
        Kind::Memory => {
            let (client_end, server_end) = mcpwire_transport::duplex(64);
            let session = server.serve(server_end);
            (builder.connect(client_end).await, session)
        }
        Kind::Stdio => {
            let (client_pipe, server_pipe) = tokio::io::duplex(64 * 1024);
            let (server_read, server_write) = tokio::io::split(server_pipe);
            let (client_read, client_write) = tokio::io::split(client_pipe);
            let session = server.serve(mcpwire_stdio::StdioTransport::new(
                server_read,
                server_write,
            ));
            (
                builder
                    .connect(mcpwire_stdio::StdioTransport::new(
                        client_read,
                        client_write,
                    ))
                    .await,
                session,
            )
        }
        Kind::Http | Kind::LegacySse => {
            let (sessions, mut served) = mpsc::unbounded_channel();
            let serving = server.clone();
            // Both transports are served; each kind of client finds its own. A short `retry`
            // keeps the reconnection after a closed stream quick.
            let config = mcpwire_http::server::Config::default()
                .sse_retry(Duration::from_millis(20))
                .legacy_sse_endpoints("/sse", "/messages");
            let service =
                mcpwire_http::server::StreamableHttpService::new(config, move |transport| {
                    let _ = sessions.send(serving.serve(transport));
                });
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a loopback port");
            let address = listener.local_addr().expect("bound");
            // The server runs until the test's runtime ends.
            tokio::spawn(mcpwire_http::server::serve(
                listener,
                service,
                std::future::pending(),
            ));
            let client = if let Kind::LegacySse = kind {
                let transport =
                    mcpwire_http::client::HttpClientBuilder::new(format!("http://{address}/sse"))
                        .legacy_sse()
                        .await
                        .expect("the legacy stream opens");
                builder.connect(transport).await
            } else {
                let transport =
                    mcpwire_http::client::HttpClientBuilder::new(format!("http://{address}/mcp"))
                        .streamable()
                        .expect("an HTTP transport");
                builder.connect(transport).await
            };
            let session = served.recv().await.expect("the session was served");
            (client, session)
        }
    };
    Harness {
        client: client.expect("the handshake succeeds"),
        session,
        notifications,
    }
}

/// A client of the legacy era: this suite covers the session-based revisions, which every
/// transport carries; the modern era has its own suite (`tests/modern.rs`).
fn client_builder() -> ClientBuilder {
    Client::builder("e2e-client", "1.0.0").era(EraChoice::Legacy)
}

/// A client that answers every kind of server request.
fn full_client() -> ClientBuilder {
    client_builder()
        .sampling(|params: types::CreateMessageRequestParams, context: mcpwire_client::RequestContext| async move {
            // Progress goes out only when the server asked for it.
            context.progress(1.0, Some(2.0), Some("reading")).await.map_err(|error| ErrorObject::internal_error(error.to_string()))?;
            context.progress(2.0, Some(2.0), Some("writing")).await.map_err(|error| ErrorObject::internal_error(error.to_string()))?;
            let text = format!("{} messages seen", params.messages.len());
            let model = if context.task_id().is_some() { "e2e-model as task" } else { "e2e-model" };
            let content = types::CreateMessageResultContent::Object(
                types::SamplingMessageContentBlock::TextContent(types::TextContent {
                    meta: None,
                    annotations: None,
                    text,
                    r#type: types::tags::Text,
                }),
            );
            Ok::<_, ErrorObject>(types::CreateMessageResult {
                meta: None,
                content,
                model: model.to_owned(),
                role: types::Role::Assistant,
                stop_reason: None,
            })
        })
        .elicitation(|params: types::ElicitRequestParams, context: mcpwire_client::RequestContext| async move {
            if let types::ElicitRequestParams::ElicitRequestFormParams(form) = &params
                && form.message == "Wait for the cancel"
            {
                context.cancellation().cancelled().await;
                return Err(ErrorObject::internal_error("cancelled"));
            }
            let content = match params {
                types::ElicitRequestParams::ElicitRequestFormParams(_) => Some(BTreeMap::from([(
                    "name".to_owned(),
                    types::ElicitResultContentValue::String("Ada".to_owned()),
                )])),
                _ => None,
            };
            Ok::<_, ErrorObject>(types::ElicitResult {
                meta: None,
                action: types::ElicitResultAction::Accept,
                content,
            })
        })
        .elicitation_modes(mcpwire_client::ElicitationModes::FORM_AND_URL)
        .roots(|_| async {
            Ok::<_, ErrorObject>(vec![types::Root {
                meta: None,
                name: Some("work".to_owned()),
                uri: "file:///work".to_owned(),
            }])
        })
        .roots_list_changed(true)
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Add {
    a: f64,
    b: f64,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Sum {
    sum: f64,
}

/// What the server's and the client's handlers report, in order, and a signal for waiting
/// on the next report.
#[derive(Clone, Default)]
struct Events(Arc<EventLog>);

#[derive(Default)]
struct EventLog {
    seen: Mutex<Vec<String>>,
    changed: tokio::sync::Notify,
}

impl Events {
    fn seen(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.0.seen.lock().expect("events")
    }

    fn contains(&self, event: &str) -> bool {
        self.seen().iter().any(|seen| seen == event)
    }

    /// Waits until `event` has been reported; panics with `failure` and what was reported
    /// when it is not within a few seconds.
    async fn wait_for(&self, event: &str, failure: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let changed = self.0.changed.notified();
            tokio::pin!(changed);
            // Registered before looking, so that a report in between is not missed.
            changed.as_mut().enable();
            if self.contains(event) {
                return;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!("{failure}: {:?}", self.seen());
            }
        }
    }
}

fn record(events: &Events, event: impl Into<String>) {
    events.seen().push(event.into());
    events.0.changed.notify_waiters();
}

fn server(events: Events) -> Server {
    let started = events.clone();
    let cancelled = events.clone();
    let roots_changed = events.clone();
    let task_statuses = events.clone();
    Server::builder("e2e-server", "2.0.0")
        .on_client_task_status(move |_, task| record(&task_statuses, format!("client task {}", task.status)))
        .tool(Tool::typed("sample_with_progress", |_: Map<String, Value>, context: Context| async move {
            let sampling = serde_json::from_value(json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}], "maxTokens": 10}))
                .map_err(|error| ToolError::new(error.to_string()))?;
            let updates = Arc::new(Mutex::new(Vec::new()));
            let seen = updates.clone();
            let options = AskOptions::new().on_progress(move |progress: ClientProgress| {
                seen.lock().expect("updates").push(format!("{}/{:?} {:?}", progress.progress, progress.total, progress.message));
            });
            let message = context.create_message(sampling).options(options).await?;
            let updates = updates.lock().expect("updates").join(", ");
            Ok::<_, ToolError>(format!("{}: {updates}", message.model))
        }))
        .tool(Tool::typed("client_tasks", |_: Map<String, Value>, context: Context| async move {
            let session = context.session().ok_or("a legacy session")?;
            let sampling = serde_json::from_value(json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}], "maxTokens": 10}))
                .map_err(|error| ToolError::new(error.to_string()))?;
            let created = context.create_message_as_task(sampling, Some(60_000)).await?;
            let sampling_task = created.task.task_id;
            let message: types::CreateMessageResult = session.client_task_result(&sampling_task).await?;
            let polled = session.client_task(&sampling_task).await?;
            let form = serde_json::from_value(json!({"message": "Name?", "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}}))
                .map_err(|error| ToolError::new(error.to_string()))?;
            let elicitation = context.elicit_as_task(types::ElicitRequestParams::ElicitRequestFormParams(form), None).await?;
            let answer: types::ElicitResult = session.finish_client_task(&elicitation.task.task_id).await?;
            let form = serde_json::from_value(json!({"message": "Wait for the cancel", "requestedSchema": {"type": "object", "properties": {}}}))
                .map_err(|error| ToolError::new(error.to_string()))?;
            let waiting = context.elicit_as_task(types::ElicitRequestParams::ElicitRequestFormParams(form), None).await?;
            let listed = session.list_client_tasks().await?;
            let cancelled = session.cancel_client_task(&waiting.task.task_id).await?;
            let gone = session.client_task("no-such-task").await.expect_err("unknown task");
            Ok::<_, ToolError>(format!(
                "{} {} {} {} {} {}",
                message.model, polled.status, answer.action, listed.len(), cancelled.status,
                gone.remote().map_or(0, |error| error.code.0),
            ))
        }))
        .tool(Tool::typed("add", |arguments: Add| async move { Ok::<_, ToolError>(Structured(Sum { sum: arguments.a + arguments.b })) }).output::<Sum>())
        .tool(Tool::typed("steps", |_: Map<String, Value>, context: Context| async move {
            for step in 1..=3 {
                context.log(types::LoggingLevel::Info, Some("steps"), json!({ "step": step })).await?;
                context.progress(f64::from(step), Some(3.0), Some("stepping")).await?;
            }
            Ok::<_, ToolError>("stepped")
        }))
        .tool(Tool::typed("poll", |_: Map<String, Value>, context: Context| async move {
            // The stream closes between the two steps; over HTTP the rest arrives on the
            // stream the client resumes.
            for step in 1..=2 {
                context.log(types::LoggingLevel::Info, Some("poll"), json!({ "step": step })).await?;
                context.progress(f64::from(step), Some(2.0), None).await?;
                if step == 1 {
                    context.close_stream().await?;
                }
            }
            Ok::<_, ToolError>("polled")
        }))
        .tool(Tool::typed("wait", move |_: Map<String, Value>, context: Context| {
            let started = started.clone();
            let cancelled = cancelled.clone();
            async move {
                record(&started, "wait started");
                context.cancellation().cancelled().await;
                record(&cancelled, "wait cancelled");
                Ok::<_, ToolError>("too late")
            }
        }))
        .tool(Tool::typed("ask_everything", |_: Map<String, Value>, context: Context| async move {
            context.ping().await?;
            let form = serde_json::from_value(json!({"message": "Name?", "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}}))
                .map_err(|error| ToolError::new(error.to_string()))?;
            let answer = context.elicit(types::ElicitRequestParams::ElicitRequestFormParams(form)).await?;
            let sampling = serde_json::from_value(json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}], "maxTokens": 10}))
                .map_err(|error| ToolError::new(error.to_string()))?;
            let message = context.create_message(sampling).await?;
            let roots = context.list_roots().await?;
            Ok::<_, ToolError>(format!("{} {:?} {} {}", answer.action, answer.content.and_then(|content| content.get("name").cloned()), message.model, roots.roots[0].uri))
        }))
        .tool(Tool::typed("authorize", |_: Map<String, Value>, context: Context| async move {
            let url = serde_json::from_value(json!({"mode": "url", "message": "Sign in", "elicitationId": "login-1", "url": "https://example.com/login"}))
                .map_err(|error| ToolError::new(error.to_string()))?;
            let answer = context.elicit(types::ElicitRequestParams::ElicitRequestURLParams(url)).await?;
            // The user finished the flow out of band: tell the client.
            context.session().ok_or("a legacy session")?.notify_elicitation_complete("login-1").await?;
            Ok::<_, ToolError>(answer.action.to_string())
        }))
        .tool(Tool::typed("needs_login", |_: Map<String, Value>| async move {
            let url = serde_json::from_value(json!({"mode": "url", "message": "Sign in first", "elicitationId": "login-2", "url": "https://example.com/login"}))
                .map_err(|error| ToolError::new(error.to_string()))?;
            Err::<String, _>(ToolError::url_elicitation_required("authorization required", vec![url]))
        }))
        .resource(Resource::new("mem://text", "text", |uri: String, _: Context| async move { Ok::<_, HandlerError>(vec![text_contents(uri, Some("text/plain"), "hello")]) }))
        .resource(Resource::new("mem://bytes", "bytes", |uri: String, _: Context| async move { Ok::<_, HandlerError>(vec![blob_contents(uri, None, b"\x00\x01")]) }))
        .resource_template(ResourceTemplate::new("mem://items/{id}", "item", |uri: String, variables, _: Context| async move {
            Ok::<_, HandlerError>(vec![text_contents(uri, None, format!("item {}", variables["id"]))])
        }).map(|template| template.complete("id", |prefix: String, _| async move { ["10", "11", "20"].into_iter().filter(|id| id.starts_with(&prefix)).map(String::from).collect() })))
        .prompt(Prompt::new("greet", |arguments, _: Context| async move {
            let text = format!("Greet {}", arguments["name"]);
            let content = types::ContentBlock::TextContent(types::TextContent { meta: None, annotations: None, text, r#type: types::tags::Text });
            Ok::<_, HandlerError>(vec![types::PromptMessage { content, role: types::Role::User }])
        }).argument("name", "Who", true).complete("name", |_: String, _| async { vec!["Ada".to_owned(), "Alan".to_owned()] }))
        .tool(Tool::typed("ask_then_wait", |_: Map<String, Value>, context: Context| async move {
            let form = serde_json::from_value(json!({"message": "Still there?", "requestedSchema": {"type": "object", "properties": {}}}))
                .map_err(|error| ToolError::new(error.to_string()))?;
            let answer = context.elicit(types::ElicitRequestParams::ElicitRequestFormParams(form)).await;
            Ok::<_, ToolError>(format!("cancelled while asking: {}", answer.is_err_and(|error| error.is_cancelled())))
        }))
        .tasks()
        .tool(
            Tool::typed("long_job", |_: Map<String, Value>, context: Context| async move {
                context.ping().await?;
                Ok::<_, ToolError>(format!("done as task {}", context.task_id().unwrap_or_default()))
            })
            .task_support(types::ToolExecutionTaskSupport::Optional),
        )
        .tool(
            Tool::typed("endless_job", |_: Map<String, Value>, context: Context| async move {
                context.cancellation().cancelled().await;
                Ok::<_, ToolError>("stopped")
            })
            .task_support(types::ToolExecutionTaskSupport::Required),
        )
        .on_roots_list_changed(move |_session| record(&roots_changed, "roots changed"))
        .build()
        .expect("valid server")
}

fn text_of(result: &types::CallToolResult) -> &str {
    match &result.content[0] {
        types::ContentBlock::TextContent(text) => &text.text,
        other => panic!("expected text, got {other:?}"),
    }
}

async fn lifecycle_and_ping(kind: Kind) {
    let harness = start(kind, &server(Events::default()), client_builder()).await;
    assert_eq!(
        harness.client.protocol_version(),
        mcpwire_schema::ProtocolVersion::V2025_11_25
    );
    assert_eq!(harness.client.server_info().name, "e2e-server");
    let capabilities = harness.client.server_capabilities();
    assert!(
        capabilities.tools.is_some()
            && capabilities.resources.is_some()
            && capabilities.prompts.is_some()
    );
    harness.client.ping().await.expect("ping");
    assert!(harness.session.is_initialized());
    assert_eq!(
        harness.session.client_info().expect("client info").name,
        "e2e-client"
    );
}

async fn tools_are_listed_and_called(kind: Kind) {
    let harness = start(kind, &server(Events::default()), client_builder()).await;
    let names: Vec<String> = harness
        .client
        .list_tools()
        .await
        .expect("list")
        .into_iter()
        .map(|tool| tool.name)
        .collect();
    assert_eq!(
        names,
        [
            "add",
            "ask_everything",
            "ask_then_wait",
            "authorize",
            "client_tasks",
            "endless_job",
            "long_job",
            "needs_login",
            "poll",
            "sample_with_progress",
            "steps",
            "wait"
        ]
    );
    let result = harness
        .client
        .call_tool("add", json!({"a": 20, "b": 22}))
        .await
        .expect("call");
    assert_eq!(
        result.structured_content,
        Some(json!({"sum": 42.0}).as_object().cloned().expect("object"))
    );
    let result = harness
        .client
        .call_tool("add", json!({"a": "x"}))
        .await
        .expect("call");
    assert_eq!(result.is_error, Some(true));
}

/// Calls `tool` with info-level logging on and a progress callback, and returns its text, the
/// progress values and the `step` of every log message, in the order they arrived.
async fn call_observing(kind: Kind, tool: &str) -> (String, Vec<f64>, Vec<Value>) {
    let mut harness = start(kind, &server(Events::default()), client_builder()).await;
    harness
        .client
        .set_logging_level(types::LoggingLevel::Info)
        .await
        .expect("set level");
    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = progress.clone();
    let options = CallOptions::new()
        .on_progress(move |update| seen.lock().expect("progress").push(update.progress));
    let result = harness
        .client
        .call_tool(tool, json!({}))
        .options(options)
        .await
        .expect("call");
    let mut steps = Vec::new();
    while let Ok(notification) = harness.notifications.try_recv() {
        if let ServerNotification::LoggingMessage(message) = notification {
            steps.push(message.data["step"].clone());
        }
    }
    let progress = progress.lock().expect("progress").clone();
    (text_of(&result).to_owned(), progress, steps)
}

async fn progress_and_log_messages_arrive_before_the_result(kind: Kind) {
    let (text, progress, steps) = call_observing(kind, "steps").await;
    assert_eq!(text, "stepped");
    assert_eq!(progress, [1.0, 2.0, 3.0]);
    assert_eq!(steps, [json!(1), json!(2), json!(3)]);
}

async fn a_tool_that_closes_its_stream_still_delivers_everything(kind: Kind) {
    let (text, progress, steps) = call_observing(kind, "poll").await;
    assert_eq!(text, "polled");
    assert_eq!(progress, [1.0, 2.0]);
    assert_eq!(steps, [json!(1), json!(2)], "no message lost or repeated");
}

async fn dropping_a_call_cancels_the_tool(kind: Kind) {
    let events = Events::default();
    let harness = start(kind, &server(events.clone()), client_builder()).await;
    let call = {
        let client = harness.client.clone();
        tokio::spawn(async move { client.call_tool("wait", json!({})).await })
    };
    events
        .wait_for("wait started", "the tool did not start")
        .await;
    call.abort();
    events
        .wait_for("wait cancelled", "the tool's token did not fire")
        .await;
}

async fn the_server_asks_the_client(kind: Kind) {
    let harness = start(kind, &server(Events::default()), full_client()).await;
    let result = harness
        .client
        .call_tool("ask_everything", json!({}))
        .await
        .expect("call");
    assert_eq!(
        text_of(&result),
        r#"accept Some(String("Ada")) e2e-model file:///work"#
    );
}

async fn url_elicitation_and_its_completion(kind: Kind) {
    let mut harness = start(kind, &server(Events::default()), full_client()).await;
    let result = harness
        .client
        .call_tool("authorize", json!({}))
        .await
        .expect("call");
    assert_eq!(text_of(&result), "accept");
    let mut completed = None;
    while let Ok(notification) = harness.notifications.try_recv() {
        if let ServerNotification::ElicitationComplete(params) = notification {
            completed = Some(params.elicitation_id);
        }
    }
    assert_eq!(completed.as_deref(), Some("login-1"));

    let error = harness
        .client
        .call_tool("needs_login", json!({}))
        .await
        .expect_err("-32042");
    let remote = error.remote().expect("error object");
    assert_eq!(remote.code, ErrorCode::URL_ELICITATION_REQUIRED);
    let data: Value =
        serde_json::from_str(remote.data.as_ref().expect("data").get()).expect("json");
    assert_eq!(data["elicitations"][0]["elicitationId"], "login-2");
}

async fn resources_templates_and_subscriptions(kind: Kind) {
    let events = Events::default();
    let server = server(events);
    let mut harness = start(kind, &server, client_builder()).await;
    let uris: Vec<String> = harness
        .client
        .list_resources()
        .await
        .expect("list")
        .into_iter()
        .map(|resource| resource.uri)
        .collect();
    assert_eq!(uris, ["mem://bytes", "mem://text"]);
    let templates = harness
        .client
        .list_resource_templates()
        .await
        .expect("templates");
    assert_eq!(templates[0].uri_template, "mem://items/{id}");
    let read = harness
        .client
        .read_resource("mem://items/7")
        .await
        .expect("read");
    assert!(
        matches!(&read.contents[0], types::ReadResourceResultContentsItem::TextResourceContents(text) if text.text == "item 7")
    );
    let read = harness
        .client
        .read_resource("mem://bytes")
        .await
        .expect("read");
    assert!(
        matches!(&read.contents[0], types::ReadResourceResultContentsItem::BlobResourceContents(blob) if blob.blob == "AAE=")
    );
    let error = harness
        .client
        .read_resource("mem://missing")
        .await
        .expect_err("not found");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::RESOURCE_NOT_FOUND
    );

    harness
        .client
        .subscribe("mem://text")
        .await
        .expect("subscribe");
    server.notify_resource_updated("mem://text").await;
    harness.client.ping().await.expect("ping");
    let updated =
        std::iter::from_fn(|| harness.notifications.try_recv().ok()).find_map(|notification| {
            match notification {
                ServerNotification::ResourceUpdated(params) => Some(params.uri),
                _ => None,
            }
        });
    assert_eq!(updated.as_deref(), Some("mem://text"));
    harness
        .client
        .unsubscribe("mem://text")
        .await
        .expect("unsubscribe");
}

async fn prompts_and_completion(kind: Kind) {
    let harness = start(kind, &server(Events::default()), client_builder()).await;
    let prompts = harness.client.list_prompts().await.expect("list");
    assert_eq!(prompts[0].name, "greet");
    let prompt = harness
        .client
        .get_prompt(
            "greet",
            BTreeMap::from([("name".to_owned(), "Ada".to_owned())]),
        )
        .await
        .expect("get");
    assert!(
        matches!(&prompt.messages[0].content, types::ContentBlock::TextContent(text) if text.text == "Greet Ada")
    );
    let reference = types::CompleteRequestParamsRef::ResourceTemplateReference(
        serde_json::from_value(json!({"type": "ref/resource", "uri": "mem://items/{id}"}))
            .expect("reference"),
    );
    let completed = harness
        .client
        .complete(reference, "id", "1")
        .await
        .expect("complete");
    assert_eq!(completed.completion.values, ["10", "11"]);
    let reference = types::CompleteRequestParamsRef::PromptReference(
        serde_json::from_value(json!({"type": "ref/prompt", "name": "greet"})).expect("reference"),
    );
    let completed = harness
        .client
        .complete(reference, "name", "")
        .await
        .expect("complete");
    assert_eq!(completed.completion.values, ["Ada", "Alan"]);
}

async fn list_changes_reach_the_client(kind: Kind) {
    let events = Events::default();
    let server = server(events);
    let mut harness = start(kind, &server, client_builder()).await;
    harness.client.ping().await.expect("ping");
    server
        .add_tool(
            Tool::typed("late", |_: Map<String, Value>| async {
                Ok::<_, ToolError>("late")
            })
            .build()
            .expect("valid"),
        )
        .await
        .expect("add tool");
    server
        .add_resource(Resource::new(
            "mem://late",
            "late",
            |uri: String, _: Context| async move {
                Ok::<_, HandlerError>(vec![text_contents(uri, None, "late")])
            },
        ))
        .await
        .expect("add resource");
    server
        .add_prompt(Prompt::new("late", |_, _: Context| async {
            Ok::<_, HandlerError>(Vec::new())
        }))
        .await
        .expect("add prompt");
    harness.client.ping().await.expect("ping");
    let changes: Vec<ServerNotification> =
        std::iter::from_fn(|| harness.notifications.try_recv().ok()).collect();
    assert_eq!(
        changes,
        [
            ServerNotification::ToolListChanged,
            ServerNotification::ResourceListChanged,
            ServerNotification::PromptListChanged
        ]
    );
}

async fn roots_changes_reach_the_server(kind: Kind) {
    let events = Events::default();
    let harness = start(kind, &server(events.clone()), full_client()).await;
    harness
        .client
        .notify_roots_list_changed()
        .await
        .expect("notify");
    harness.client.ping().await.expect("ping");
    assert!(events.contains("roots changed"));
}

async fn tools_run_as_tasks(kind: Kind) {
    let mut harness = start(kind, &server(Events::default()), client_builder()).await;
    let created = harness
        .client
        .call_tool_as_task("long_job", json!({}), Some(30_000))
        .await
        .expect("task");
    let task_id = created.task.task_id.clone();
    let result = harness
        .client
        .tool_task_result(task_id.clone())
        .await
        .expect("result");
    assert_eq!(text_of(&result), format!("done as task {task_id}"));
    let polled = harness.client.get_task(task_id.clone()).await.expect("get");
    assert_eq!(polled.status, types::TaskStatus::Completed);
    assert_eq!(harness.client.list_tasks().await.expect("list").len(), 1);
    let statuses: Vec<types::TaskStatus> =
        std::iter::from_fn(|| harness.notifications.try_recv().ok())
            .filter_map(|notification| match notification {
                ServerNotification::TaskStatus(params) if params.task_id == task_id => {
                    Some(params.status)
                }
                _ => None,
            })
            .collect();
    assert_eq!(
        statuses,
        [
            types::TaskStatus::InputRequired,
            types::TaskStatus::Working,
            types::TaskStatus::Completed
        ]
    );

    let endless = harness
        .client
        .call_tool_as_task("endless_job", json!({}), None)
        .await
        .expect("task");
    let cancelled = harness
        .client
        .cancel_task(endless.task.task_id.clone())
        .await
        .expect("cancel");
    assert_eq!(cancelled.status, types::TaskStatus::Cancelled);
    let error = harness
        .client
        .cancel_task(endless.task.task_id)
        .await
        .expect_err("already cancelled");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::INVALID_PARAMS
    );
}

async fn a_cancelled_tool_withdraws_its_question_to_the_client(kind: Kind) {
    let events = Events::default();
    let asked = events.clone();
    let withdrawn = events.clone();
    /// Records when the client's dialog ends, however it ends: the client drops a withdrawn
    /// handler at once.
    struct DialogOpen(Events);
    impl Drop for DialogOpen {
        fn drop(&mut self) {
            record(&self.0, "withdrawn");
        }
    }
    let builder = client_builder().elicitation(
        move |_: types::ElicitRequestParams, context: mcpwire_client::RequestContext| {
            let asked = asked.clone();
            let open = DialogOpen(withdrawn.clone());
            async move {
                record(&asked, "asked");
                // The user never answers; the server withdraws the question.
                context.cancellation().cancelled().await;
                drop(open);
                Err::<types::ElicitResult, _>(ErrorObject::internal_error("withdrawn"))
            }
        },
    );
    let harness = start(kind, &server(Events::default()), builder).await;
    let call = {
        let client = harness.client.clone();
        tokio::spawn(async move { client.call_tool("ask_then_wait", json!({})).await })
    };
    events.wait_for("asked", "the client was not asked").await;
    // Cancelling the tool call cancels the tool, which withdraws its question
    // (`notifications/cancelled` from the server to the client).
    call.abort();
    events
        .wait_for("withdrawn", "the client's dialog was not withdrawn")
        .await;
}

async fn the_client_reports_progress_on_server_requests(kind: Kind) {
    let harness = start(kind, &server(Events::default()), full_client()).await;
    let result = harness
        .client
        .call_tool("sample_with_progress", json!({}))
        .await
        .expect("call");
    assert_eq!(
        text_of(&result),
        "e2e-model: 1/Some(2.0) Some(\"reading\"), 2/Some(2.0) Some(\"writing\")",
        "both updates reached the server before the result"
    );
}

async fn the_client_runs_server_requests_as_tasks(kind: Kind) {
    let events = Events::default();
    let server = server(events.clone());
    let builder = full_client().task_requests(mcpwire_client::TaskLimits::default());
    let capabilities = builder.capabilities().tasks.expect("tasks declared");
    assert!(capabilities.list.is_some() && capabilities.cancel.is_some());
    let harness = start(kind, &server, builder).await;
    let result = harness
        .client
        .call_tool("client_tasks", json!({}))
        .await
        .expect("call");
    assert_eq!(result.is_error, None, "{}", text_of(&result));
    assert_eq!(
        text_of(&result),
        "e2e-model as task completed accept 3 cancelled -32602"
    );
    let statuses: Vec<String> = events
        .seen()
        .iter()
        .filter(|event| event.starts_with("client task"))
        .cloned()
        .collect();
    assert_eq!(
        statuses,
        [
            "client task completed",
            "client task completed",
            "client task cancelled"
        ]
    );

    // Without the client's task capability the server's handler gets a clear error and
    // nothing is sent.
    let plain = start(kind, &server, full_client()).await;
    let result = plain
        .client
        .call_tool("client_tasks", json!({}))
        .await
        .expect("call");
    assert_eq!(result.is_error, Some(true));
    assert!(
        text_of(&result).contains("tasks.requests.sampling.createMessage"),
        "{}",
        text_of(&result)
    );
}

macro_rules! over_every_transport {
    ($($scenario:ident),* $(,)?) => {
        mod in_memory {
            $(#[tokio::test] async fn $scenario() { super::$scenario(super::Kind::Memory).await })*
        }
        mod stdio {
            $(#[tokio::test] async fn $scenario() { super::$scenario(super::Kind::Stdio).await })*
        }
        mod http {
            $(#[tokio::test] async fn $scenario() { super::$scenario(super::Kind::Http).await })*
        }
        mod legacy_sse {
            $(#[tokio::test] async fn $scenario() { super::$scenario(super::Kind::LegacySse).await })*
        }
    };
}

over_every_transport!(
    lifecycle_and_ping,
    tools_are_listed_and_called,
    progress_and_log_messages_arrive_before_the_result,
    a_tool_that_closes_its_stream_still_delivers_everything,
    dropping_a_call_cancels_the_tool,
    the_server_asks_the_client,
    url_elicitation_and_its_completion,
    resources_templates_and_subscriptions,
    prompts_and_completion,
    list_changes_reach_the_client,
    roots_changes_reach_the_server,
    tools_run_as_tasks,
    a_cancelled_tool_withdraws_its_question_to_the_client,
    the_client_reports_progress_on_server_requests,
    the_client_runs_server_requests_as_tasks,
);
