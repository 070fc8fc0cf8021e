//! Interop with real servers: our client drives, over stdio, the TypeScript SDK's reference
//! server `@modelcontextprotocol/server-everything` and a Python SDK (FastMCP) server,
//! `interop/py_server.py`.
//!
//! Each test answers the server's sampling, elicitation and roots requests, calls tools
//! (structured output, progress, every kind of content block), reads resources, gets prompts
//! and asks for completions, checking what comes back through our typed API. The peers are
//! installed by `cargo xtask interop-setup`, which the tests run first (it does nothing when
//! they are current); they need node, npm and python3.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcpwire_client::{
    CallOptions, Client, ClientBuilder, ElicitationModes, ErrorCode, ErrorObject, Progress,
    ProtocolVersion, RequestContext, ServerNotification,
};
use mcpwire_interop::peers::{peers, workspace_root};
use mcpwire_interop::results::{call_ok, texts};
use mcpwire_schema::v2025_11_25::methods::Complete;
use mcpwire_schema::v2025_11_25::{
    CompleteRequestParamsRef, ContentBlock, CreateMessageRequestParams, CreateMessageResult,
    ElicitRequestParams, ElicitResult, LoggingLevel, PromptReference,
    ReadResourceResultContentsItem, ResourceTemplateReference, Root,
};
use mcpwire_stdio::{ChildProcess, Stderr};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

/// How long one test may take, from spawning the server to its exit.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The model our sampling handler answers as, and what it says.
const MODEL: &str = "mcpwire-interop-model";
const SAMPLED_TEXT: &str =
    "Zero-cost abstractions, / fearless threads hum in the night; / the borrow holds.";

/// The root our roots provider lists.
const ROOT_URI: &str = "file:///interop/workspace";

#[tokio::test]
async fn client_drives_the_typescript_server_everything() {
    let peers = peers().await;
    let (process, server) = Server::spawn(
        "server-everything",
        Path::new("node"),
        &[peers.server_everything.as_os_str(), OsStr::new("stdio")],
    );
    tokio::time::timeout(TEST_TIMEOUT, server_everything(process, server))
        .await
        .expect("the server-everything scenario finishes in time");
}

#[tokio::test]
async fn client_drives_a_python_sdk_server() {
    let peers = peers().await;
    let script = peers.scripts.join("py_server.py");
    let (process, server) = Server::spawn("py_server.py", &peers.python, &[script.as_os_str()]);
    tokio::time::timeout(TEST_TIMEOUT, python_server(process, server))
        .await
        .expect("the Python server scenario finishes in time");
}

#[tokio::test]
async fn client_negotiates_every_legacy_revision_with_server_everything() {
    let peers = peers().await;
    tokio::time::timeout(TEST_TIMEOUT, async {
        for version in [
            ProtocolVersion::V2024_11_05,
            ProtocolVersion::V2025_03_26,
            ProtocolVersion::V2025_06_18,
            ProtocolVersion::V2025_11_25,
        ] {
            let (process, server) = Server::spawn(
                "server-everything",
                Path::new("node"),
                &[peers.server_everything.as_os_str(), OsStr::new("stdio")],
            );
            let client = Seen::default()
                .builder()
                .protocol_version(version)
                .connect(process)
                .await
                .unwrap_or_else(|error| panic!("initialize at {version}: {error}"));
            assert_eq!(client.protocol_version(), version);
            let echo = call_ok(&client, "echo", json!({"message": version.as_str()})).await;
            assert_eq!(texts(&echo), [format!("Echo: {version}")]);
            let weather = call_ok(
                &client,
                "get-structured-content",
                json!({"location": "New York"}),
            )
            .await;
            assert_eq!(
                weather.structured_content.map(Value::Object),
                Some(json!({"temperature": 33, "conditions": "Cloudy", "humidity": 82})),
                "at {version}"
            );
            server.finish(client).await;
        }
    })
    .await
    .expect("the revisions scenario finishes in time");
}

async fn server_everything(process: ChildProcess, server: Server) {
    let seen = Seen::default();
    let client = seen
        .builder()
        .connect(process)
        .await
        .expect("initialize succeeds");
    assert_eq!(client.protocol_version(), ProtocolVersion::V2025_11_25);
    assert_eq!(client.server_info().name, "mcp-servers/everything");
    let capabilities = client.server_capabilities();
    assert!(capabilities.tools.is_some() && capabilities.resources.is_some());
    assert!(capabilities.prompts.is_some() && capabilities.logging.is_some());
    client.ping().await.expect("ping");
    client
        .set_logging_level(LoggingLevel::Error)
        .await
        .expect("logging/setLevel");

    // The tools that need sampling, elicitation or roots are there because we declared them.
    let tools = client.list_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_str()).collect();
    for expected in [
        "echo",
        "get-sum",
        "get-structured-content",
        "trigger-long-running-operation",
        "trigger-sampling-request",
        "trigger-elicitation-request",
        "get-roots-list",
        "get-tiny-image",
        "get-annotated-message",
        "get-resource-links",
        "get-resource-reference",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let structured_tool = tools
        .iter()
        .find(|tool| tool.name == "get-structured-content")
        .expect("listed");
    assert!(
        structured_tool.output_schema.is_some(),
        "{structured_tool:?}"
    );

    let echo = call_ok(&client, "echo", json!({"message": "hello from mcpwire"})).await;
    assert_eq!(texts(&echo), ["Echo: hello from mcpwire"]);
    let sum = call_ok(&client, "get-sum", json!({"a": 2, "b": 3})).await;
    assert_eq!(texts(&sum), ["The sum of 2 and 3 is 5."]);

    let weather = call_ok(
        &client,
        "get-structured-content",
        json!({"location": "Chicago"}),
    )
    .await;
    let expected = json!({"temperature": 36, "conditions": "Light rain / drizzle", "humidity": 82});
    assert_eq!(
        weather.structured_content.clone().map(Value::Object),
        Some(expected.clone())
    );
    let fallback: Value = serde_json::from_str(&texts(&weather)[0]).expect("JSON text");
    assert_eq!(fallback, expected);

    // Progress arrives at the call's callback, in order, before the result.
    let progress = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&progress);
    let options =
        CallOptions::new()
            .timeout(REQUEST_TIMEOUT)
            .on_progress(move |update: Progress| {
                sink.lock().unwrap().push((update.progress, update.total))
            });
    let long = client
        .call_tool(
            "trigger-long-running-operation",
            json!({"duration": 0.3, "steps": 3}),
        )
        .options(options)
        .await
        .expect("tools/call");
    assert_ne!(long.is_error, Some(true), "{long:?}");
    assert_eq!(
        *progress.lock().unwrap(),
        [(1.0, Some(3.0)), (2.0, Some(3.0)), (3.0, Some(3.0))]
    );

    // Sampling: the server asks our handler, and returns its answer.
    let sampled = call_ok(
        &client,
        "trigger-sampling-request",
        json!({"prompt": "Say hi", "maxTokens": 20}),
    )
    .await;
    let request = seen.only("sampling", &seen.sampling);
    assert_eq!(request["maxTokens"], 20);
    assert_eq!(request["systemPrompt"], "You are a helpful test server.");
    assert_eq!(request["temperature"], 0.7);
    assert_eq!(
        request["messages"][0]["content"]["text"],
        "Resource trigger-sampling-request context: Say hi"
    );
    let sampled = texts(&sampled).join("\n");
    assert!(
        sampled.contains(MODEL) && sampled.contains(SAMPLED_TEXT),
        "{sampled}"
    );

    // Elicitation with every kind of field of 2025-11-25; our client fills in the defaults
    // of the fields our answer leaves out.
    let elicited = call_ok(&client, "trigger-elicitation-request", json!({})).await;
    let request = seen.only("elicitation", &seen.elicitation);
    assert_eq!(
        request["message"],
        "Please provide inputs for the following fields:"
    );
    let elicited = texts(&elicited).join("\n");
    for line in [
        "- Name: Ada",
        "- Agreed to terms: true",
        "- Favorite Integer: 42",
        "- Favorite Number: 3.14",
    ] {
        assert!(elicited.contains(line), "{line:?} missing from {elicited}");
    }
    let raw: Value = serde_json::from_str(
        elicited
            .split_once("Raw result: ")
            .expect("the tool shows the raw result")
            .1,
    )
    .expect("the raw result is JSON");
    assert_eq!(raw["action"], "accept");
    assert_eq!(
        raw["content"]["firstLine"],
        "It was a dark and stormy night."
    );
    assert_eq!(
        raw["content"]["untitledMultipleSelectEnum"],
        json!(["Guitar"])
    );
    assert_eq!(raw["content"]["titledSingleSelectEnum"], "hero-1");

    // URL elicitation (2025-11-25): first the error path, -32042 naming the elicitation the
    // call needs, then the request path on the retry, answered by our handler.
    let url_arguments = json!({"url": "https://example.com/authorize", "errorPath": true});
    let error = client
        .call_tool("trigger-url-elicitation", url_arguments.clone())
        .await
        .expect_err("the error path fails the call");
    let remote = error
        .remote()
        .unwrap_or_else(|| panic!("a remote error expected: {error}"));
    assert_eq!(
        remote.code,
        ErrorCode::URL_ELICITATION_REQUIRED,
        "{remote:?}"
    );
    let data: Value = serde_json::from_str(
        remote
            .data
            .as_ref()
            .expect("data names the elicitations")
            .get(),
    )
    .expect("JSON data");
    assert_eq!(data["elicitations"][0]["mode"], "url", "{data}");
    let retried = call_ok(&client, "trigger-url-elicitation", url_arguments).await;
    let request = seen.only("elicitation", &seen.elicitation);
    assert_eq!(request["mode"], "url");
    assert_eq!(request["url"], "https://example.com/authorize");
    let retried = texts(&retried).join("\n");
    assert!(
        retried.contains("User completed the URL elicitation flow"),
        "{retried}"
    );

    let roots = call_ok(&client, "get-roots-list", json!({})).await;
    let roots = texts(&roots).join("\n");
    assert!(
        roots.contains(ROOT_URI) && roots.contains("interop workspace"),
        "{roots}"
    );
    assert!(*seen.roots.lock().unwrap() >= 1);

    // Every kind of content block decodes to its own variant.
    let image = call_ok(&client, "get-tiny-image", json!({})).await;
    let Some(ContentBlock::ImageContent(png)) = image
        .content
        .iter()
        .find(|block| matches!(block, ContentBlock::ImageContent(_)))
    else {
        panic!("an image expected: {image:?}");
    };
    assert_eq!(png.mime_type, "image/png");
    assert!(!png.data.is_empty());
    let annotated = call_ok(
        &client,
        "get-annotated-message",
        json!({"messageType": "success", "includeImage": true}),
    )
    .await;
    let ContentBlock::TextContent(success) = &annotated.content[0] else {
        panic!("a text block expected: {annotated:?}");
    };
    assert!(success.annotations.is_some(), "{success:?}");
    assert!(
        annotated.content[1..]
            .iter()
            .any(|block| matches!(block, ContentBlock::ImageContent(image) if image.annotations.is_some())),
        "{annotated:?}"
    );
    let links = call_ok(&client, "get-resource-links", json!({"count": 2})).await;
    let links: Vec<&str> = links
        .content
        .iter()
        .filter_map(|block| match block {
            ContentBlock::ResourceLink(link) => Some(link.uri.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(links.len(), 2, "{links:?}");
    let reference = call_ok(
        &client,
        "get-resource-reference",
        json!({"resourceType": "Text", "resourceId": 1}),
    )
    .await;
    let embedded = reference
        .content
        .iter()
        .find_map(|block| match block {
            ContentBlock::EmbeddedResource(embedded) => Some(to_json(&embedded.resource)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("an embedded resource expected: {reference:?}"));
    assert_eq!(embedded["uri"], "demo://resource/dynamic/text/1");

    // A resource made during the session: announced with `resources/list_changed`, which
    // the server sends before the call's response, and readable at once.
    let gzip = call_ok(
        &client,
        "gzip-file-as-resource",
        json!({"name": "hello.txt.gz", "data": "data:text/plain;base64,SGVsbG8=", "outputType": "resourceLink"}),
    )
    .await;
    let link = gzip
        .content
        .iter()
        .find_map(|block| match block {
            ContentBlock::ResourceLink(link) => Some(link.uri.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("a resource link expected: {gzip:?}"));
    assert_eq!(link, "demo://resource/session/hello.txt.gz");
    assert!(
        seen.notifications
            .lock()
            .unwrap()
            .contains(&ServerNotification::ResourceListChanged),
        "resources/list_changed expected"
    );
    let read = client.read_resource(&link).await.expect("resources/read");
    let [ReadResourceResultContentsItem::BlobResourceContents(gzipped)] = &read.contents[..] else {
        panic!("one blob expected: {read:?}");
    };
    // Base64 of the gzip magic bytes 1f 8b 08.
    assert!(gzipped.blob.starts_with("H4sI"), "{gzipped:?}");

    // Resources: fixed, and from both templates.
    let resources = client.list_resources().await.expect("resources/list");
    let document = resources
        .iter()
        .find(|resource| resource.uri.starts_with("demo://resource/static/document/"))
        .unwrap_or_else(|| panic!("a static document expected: {resources:?}"));
    let read = client
        .read_resource(&document.uri)
        .await
        .expect("resources/read");
    let [ReadResourceResultContentsItem::TextResourceContents(content)] = &read.contents[..] else {
        panic!("one text expected: {read:?}");
    };
    assert!(!content.text.is_empty());
    let templates = client
        .list_resource_templates()
        .await
        .expect("resources/templates/list");
    let uri_templates: Vec<&str> = templates
        .iter()
        .map(|template| template.uri_template.as_str())
        .collect();
    for expected in [
        "demo://resource/dynamic/text/{resourceId}",
        "demo://resource/dynamic/blob/{resourceId}",
    ] {
        assert!(uri_templates.contains(&expected), "{uri_templates:?}");
    }
    let read = client
        .read_resource("demo://resource/dynamic/text/1")
        .await
        .expect("resources/read");
    let [ReadResourceResultContentsItem::TextResourceContents(text)] = &read.contents[..] else {
        panic!("one text expected: {read:?}");
    };
    assert!(
        text.text
            .starts_with("Resource 1: This is a plaintext resource"),
        "{text:?}"
    );
    let read = client
        .read_resource("demo://resource/dynamic/blob/2")
        .await
        .expect("resources/read");
    let [ReadResourceResultContentsItem::BlobResourceContents(blob)] = &read.contents[..] else {
        panic!("one blob expected: {read:?}");
    };
    // The base64 of "Resource 2: This is a base64 blob".
    assert!(
        blob.blob
            .starts_with("UmVzb3VyY2UgMjogVGhpcyBpcyBhIGJhc2U2NCBibG9i"),
        "{blob:?}"
    );
    client
        .subscribe("demo://resource/dynamic/text/1")
        .await
        .expect("resources/subscribe");
    client
        .unsubscribe("demo://resource/dynamic/text/1")
        .await
        .expect("resources/unsubscribe");

    // Prompts, one of them with an embedded resource.
    let prompts = client.list_prompts().await.expect("prompts/list");
    let names: Vec<&str> = prompts.iter().map(|prompt| prompt.name.as_str()).collect();
    for expected in [
        "simple-prompt",
        "args-prompt",
        "completable-prompt",
        "resource-prompt",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let simple = client
        .get_prompt("simple-prompt", BTreeMap::new())
        .await
        .expect("prompts/get");
    assert_eq!(simple.messages.len(), 1, "{simple:?}");
    let args = client
        .get_prompt(
            "args-prompt",
            arguments(&[("city", "Lisbon"), ("state", "Lisboa")]),
        )
        .await
        .expect("prompts/get");
    let args = to_json(&args.messages[0].content);
    assert!(
        args["text"]
            .as_str()
            .is_some_and(|text| text.contains("Lisbon, Lisboa")),
        "{args}"
    );
    let with_resource = client
        .get_prompt(
            "resource-prompt",
            arguments(&[("resourceType", "Text"), ("resourceId", "1")]),
        )
        .await
        .expect("prompts/get");
    assert!(
        with_resource
            .messages
            .iter()
            .any(|message| matches!(message.content, ContentBlock::EmbeddedResource(_))),
        "{with_resource:?}"
    );

    // Completion: of a prompt argument, with context, and of a template variable.
    let prompt_reference = || {
        CompleteRequestParamsRef::PromptReference(from_json(
            json!({"type": "ref/prompt", "name": "completable-prompt"}),
        ))
    };
    let departments = client
        .complete(prompt_reference(), "department", "E")
        .await
        .expect("completion/complete");
    assert_eq!(departments.completion.values, ["Engineering"]);
    let team = client
        .request::<Complete>(from_json(json!({
            "ref": {"type": "ref/prompt", "name": "completable-prompt"},
            "argument": {"name": "name", "value": ""},
            "context": {"arguments": {"department": "Engineering"}},
        })))
        .await
        .expect("completion/complete");
    assert_eq!(team.completion.values, ["Alice", "Bob", "Charlie"]);
    let identifiers = client
        .complete(
            CompleteRequestParamsRef::ResourceTemplateReference(from_json::<
                ResourceTemplateReference,
            >(
                json!({"type": "ref/resource", "uri": "demo://resource/dynamic/text/{resourceId}"}),
            )),
            "resourceId",
            "3",
        )
        .await
        .expect("completion/complete");
    assert_eq!(identifiers.completion.values, ["3"]);

    server.finish(client).await;
}

async fn python_server(process: ChildProcess, server: Server) {
    let seen = Seen::default();
    let client = seen
        .builder()
        .connect(process)
        .await
        .expect("initialize succeeds");
    assert_eq!(client.protocol_version(), ProtocolVersion::V2025_11_25);
    assert_eq!(client.server_info().name, "py-interop-server");
    assert_eq!(
        client.instructions(),
        Some("A Python SDK server for mcpwire's interop tests.")
    );
    client.ping().await.expect("ping");
    if client.server_capabilities().logging.is_none() {
        // FastMCP does not declare logging: our client must not send the request at all.
        let error = client
            .set_logging_level(LoggingLevel::Debug)
            .await
            .expect_err("logging was not declared");
        assert!(error.is_capability_missing(), "{error}");
    }

    let tools = client.list_tools().await.expect("tools/list");
    let mut names: Vec<&str> = tools.iter().map(|tool| tool.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "add",
            "ask_color",
            "describe_point",
            "list_roots",
            "slow_count",
            "summarize"
        ]
    );
    for tool in &tools {
        assert!(
            tool.output_schema.is_some(),
            "FastMCP declares every output: {tool:?}"
        );
    }

    let sum = call_ok(&client, "add", json!({"a": 2, "b": 3})).await;
    assert_eq!(texts(&sum), ["5"]);
    assert_eq!(
        sum.structured_content.map(Value::Object),
        Some(json!({"result": 5}))
    );
    let point = call_ok(&client, "describe_point", json!({"x": 3, "y": 4})).await;
    assert_eq!(
        point.structured_content.map(Value::Object),
        Some(json!({"x": 3.0, "y": 4.0, "distance": 5.0}))
    );

    // Progress reaches the call's callback; log messages reach the notification callback.
    let progress = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&progress);
    let options =
        CallOptions::new()
            .timeout(REQUEST_TIMEOUT)
            .on_progress(move |update: Progress| {
                sink.lock()
                    .unwrap()
                    .push((update.progress, update.total, update.message))
            });
    let counted = client
        .call_tool("slow_count", json!({"steps": 3}))
        .options(options)
        .await
        .expect("tools/call");
    assert_eq!(texts(&counted), ["counted to 3"]);
    let step = |number: u8| (f64::from(number), Some(3.0), Some(format!("step {number}")));
    assert_eq!(*progress.lock().unwrap(), [step(1), step(2), step(3)]);
    let logs: Vec<Value> = seen
        .notifications
        .lock()
        .unwrap()
        .iter()
        .filter_map(|notification| match notification {
            ServerNotification::LoggingMessage(log) if log.level == LoggingLevel::Info => {
                Some(log.data.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        logs,
        [json!("counted 1"), json!("counted 2"), json!("counted 3")]
    );

    let color = call_ok(&client, "ask_color", json!({})).await;
    assert_eq!(texts(&color), ["accepted: teal"]);
    let request = seen.only("elicitation", &seen.elicitation);
    assert_eq!(request["message"], "What is your favourite colour?");
    assert_eq!(
        request["requestedSchema"]["properties"]["color"]["type"],
        "string"
    );

    let summary = call_ok(&client, "summarize", json!({"text": "Rust is a language."})).await;
    assert_eq!(texts(&summary), [format!("{MODEL}: {SAMPLED_TEXT}")]);
    let request = seen.only("sampling", &seen.sampling);
    assert_eq!(request["systemPrompt"], "You summarize briefly.");
    assert_eq!(request["maxTokens"], 50);
    assert_eq!(
        request["messages"][0]["content"]["text"],
        "Summarize: Rust is a language."
    );

    let roots = call_ok(&client, "list_roots", json!({})).await;
    assert_eq!(texts(&roots), [ROOT_URI]);

    let resources = client.list_resources().await.expect("resources/list");
    let uris: Vec<&str> = resources
        .iter()
        .map(|resource| resource.uri.as_str())
        .collect();
    assert_eq!(uris, ["py://about"]);
    let about = client
        .read_resource("py://about")
        .await
        .expect("resources/read");
    assert_eq!(
        to_json(&about.contents),
        json!([{"uri": "py://about", "mimeType": "text/plain", "text": "A Python SDK server."}])
    );
    let templates = client
        .list_resource_templates()
        .await
        .expect("resources/templates/list");
    let uri_templates: Vec<&str> = templates
        .iter()
        .map(|template| template.uri_template.as_str())
        .collect();
    assert_eq!(uri_templates, ["py://greeting/{name}"]);
    let greeting = client
        .read_resource("py://greeting/Ada")
        .await
        .expect("resources/read");
    assert_eq!(
        to_json(&greeting.contents),
        json!([{"uri": "py://greeting/Ada", "mimeType": "text/plain", "text": "Hi, Ada!"}])
    );

    let prompts = client.list_prompts().await.expect("prompts/list");
    let [greet] = &prompts[..] else {
        panic!("one prompt expected: {prompts:?}");
    };
    assert_eq!(greet.name, "greet");
    assert_eq!(
        to_json(&greet.arguments),
        json!([{"name": "name", "required": true}, {"name": "style", "required": false}])
    );
    let prompt = client
        .get_prompt("greet", arguments(&[("name", "Ada")]))
        .await
        .expect("prompts/get");
    assert_eq!(
        to_json(&prompt.messages),
        json!([{"role": "user", "content": {"type": "text", "text": "Write a friendly greeting for Ada."}}])
    );

    let names = client
        .complete(
            CompleteRequestParamsRef::ResourceTemplateReference(from_json(
                json!({"type": "ref/resource", "uri": "py://greeting/{name}"}),
            )),
            "name",
            "A",
        )
        .await
        .expect("completion/complete");
    assert_eq!(names.completion.values, ["Ada", "Alan"]);
    let styles = client
        .complete(
            CompleteRequestParamsRef::PromptReference(from_json::<PromptReference>(
                json!({"type": "ref/prompt", "name": "greet"}),
            )),
            "style",
            "f",
        )
        .await
        .expect("completion/complete");
    assert_eq!(styles.completion.values, ["formal", "friendly"]);

    server.finish(client).await;
}

/// A server child process's handle, with its stderr kept to show when the test fails.
struct Server {
    handle: mcpwire_stdio::ChildHandle,
    _stderr: StderrLog,
}

impl Server {
    /// Spawns a server: the process is the transport to it.
    fn spawn(name: &'static str, program: &Path, arguments: &[&OsStr]) -> (ChildProcess, Server) {
        let mut process = ChildProcess::builder(program)
            .args(arguments)
            .current_dir(workspace_root())
            .stderr(Stderr::Capture)
            .close_grace(Duration::from_secs(2))
            .terminate_grace(Duration::from_secs(2))
            .spawn()
            .unwrap_or_else(|error| panic!("starting {} for {name}: {error}", program.display()));
        let handle = process.handle();
        let mut lines = process.take_stderr().expect("stderr is captured");
        let stderr = StderrLog {
            name,
            lines: Arc::default(),
        };
        let sink = Arc::clone(&stderr.lines);
        // Ends when the child's stderr closes, at the latest when the child is killed.
        tokio::spawn(async move {
            while let Some(line) = lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        let server = Server {
            handle,
            _stderr: stderr,
        };
        (process, server)
    }

    /// Closes the connection and shuts the server down (stdin closed, then signals).
    async fn finish(self, client: Client) {
        client.close().await;
        self.handle.shutdown().await.expect("the server exits");
    }
}

/// A server's stderr, printed when the test panics.
struct StderrLog {
    name: &'static str,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for StderrLog {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let lines = self
                .lines
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            eprintln!("stderr of {}:\n{}", self.name, lines.join("\n"));
        }
    }
}

/// What our handlers and notification callback saw.
#[derive(Clone, Default)]
struct Seen {
    sampling: Arc<Mutex<Vec<Value>>>,
    elicitation: Arc<Mutex<Vec<Value>>>,
    roots: Arc<Mutex<usize>>,
    notifications: Arc<Mutex<Vec<ServerNotification>>>,
}

impl Seen {
    /// A client builder whose handlers record here and answer with fixed values.
    fn builder(&self) -> ClientBuilder {
        let sampling = Arc::clone(&self.sampling);
        let elicitation = Arc::clone(&self.elicitation);
        let roots = Arc::clone(&self.roots);
        let notifications = Arc::clone(&self.notifications);
        Client::builder("mcpwire-interop", env!("CARGO_PKG_VERSION"))
            .request_timeout(Some(REQUEST_TIMEOUT))
            .sampling(
                move |params: CreateMessageRequestParams, _: RequestContext| {
                    sampling.lock().unwrap().push(to_json(&params));
                    async move {
                        Ok::<CreateMessageResult, ErrorObject>(from_json(json!({
                            "role": "assistant",
                            "content": {"type": "text", "text": SAMPLED_TEXT},
                            "model": MODEL,
                            "stopReason": "endTurn",
                        })))
                    }
                },
            )
            .elicitation_modes(ElicitationModes::FORM_AND_URL)
            .elicitation(move |params: ElicitRequestParams, _: RequestContext| {
                let request = to_json(&params);
                elicitation.lock().unwrap().push(request.clone());
                async move { Ok::<ElicitResult, ErrorObject>(answer(&request)) }
            })
            .roots(move |_: RequestContext| {
                *roots.lock().unwrap() += 1;
                async move {
                    Ok::<_, ErrorObject>(vec![Root {
                        uri: ROOT_URI.to_owned(),
                        name: Some("interop workspace".to_owned()),
                        meta: None,
                    }])
                }
            })
            .on_notification(move |notification| notifications.lock().unwrap().push(notification))
    }

    /// The one request a handler saw since the last call, taken out.
    fn only(&self, what: &str, requests: &Mutex<Vec<Value>>) -> Value {
        let mut requests = requests.lock().unwrap();
        assert_eq!(
            requests.len(),
            1,
            "one {what} request expected: {requests:?}"
        );
        requests.remove(0)
    }
}

/// Accepts an elicitation: a URL as if the user finished there, a form with the fields we
/// know of that it asks for (our client fills in the defaults of the rest).
fn answer(request: &Value) -> ElicitResult {
    if request["mode"] == "url" {
        return from_json(json!({"action": "accept"}));
    }
    let properties = &request["requestedSchema"]["properties"];
    let content: Map<String, Value> = [
        ("name", json!("Ada")),
        ("color", json!("teal")),
        ("check", json!(true)),
    ]
    .into_iter()
    .filter(|(field, _)| properties.get(field).is_some())
    .map(|(field, value)| (field.to_owned(), value))
    .collect();
    from_json(json!({"action": "accept", "content": content}))
}

fn arguments(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

fn to_json(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).expect("our types encode")
}

fn from_json<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("a valid value of the type")
}
