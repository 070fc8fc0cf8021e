//! The client scenarios: what each one's mock server does, and what its checks make of the
//! requests the client sent.
//!
//! The scenarios are the official suite's core client scenarios, with the same names, mock
//! behaviour and expectations; each adds the stricter checks of [`super::generic`].

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::check::{Outcome, must, should};
use crate::client::mock::{
    Answer, AnswerFuture, Behaviour, Seen, Shared, json as json_answer, lock, message_event, sse,
    sse_once, status, with_session,
};
use crate::client::{ClientCheck, Evaluated};

/// The revision most requirements are cited from.
const REVISION: &str = "2025-11-25";
/// The revisions the `initialize` scenario accepts, as the official suite does.
const INITIALIZE_VERSIONS: [&str; 2] = ["2025-06-18", "2025-11-25"];
/// The revisions the SDK-based mocks accept.
const SDK_VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];
/// The `retry` the `sse-retry` mock announces, in milliseconds.
const RETRY_MILLIS: u64 = 500;
/// How long after its priming event the `sse-retry` mock closes the tool call's stream.
const CLOSE_AFTER: Duration = Duration::from_millis(50);
/// The earliest acceptable reconnection, before `retry`, as the official suite allows.
const EARLY_TOLERANCE: u64 = 50;
/// The latest reconnection that passes, after `retry`, as the official suite allows.
const LATE_TOLERANCE: u64 = 200;
/// The most sessions a mock issues; a client that initializes more often gets no new one.
const SESSION_LIMIT: usize = 100;
/// How long the elicitation mock waits for the client's answer.
const ELICITATION_LIMIT: Duration = Duration::from_secs(10);

/// A client scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `initialize`: a plain JSON mock with no path and no session.
    Initialize,
    /// `tools_call`: a stateless mock at `/mcp` that answers with SSE and lists `add_numbers`.
    ToolsCall,
    /// `elicitation-sep1034-client-defaults`: a stateful mock that elicits with defaults.
    ElicitationDefaults,
    /// `sse-retry`: closes the tool call's stream after a priming event with `retry: 500`.
    SseRetry,
}

impl Kind {
    /// Every scenario, in run order.
    pub(crate) const ALL: [Kind; 4] = [
        Kind::Initialize,
        Kind::ToolsCall,
        Kind::ElicitationDefaults,
        Kind::SseRetry,
    ];

    /// The scenario's name, as the official suite spells it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Initialize => "initialize",
            Kind::ToolsCall => "tools_call",
            Kind::ElicitationDefaults => "elicitation-sep1034-client-defaults",
            Kind::SseRetry => "sse-retry",
        }
    }

    /// The path of the mock's URL (empty: the URL has no path).
    pub(crate) fn path(self) -> &'static str {
        match self {
            Kind::Initialize | Kind::SseRetry => "",
            Kind::ToolsCall | Kind::ElicitationDefaults => "/mcp",
        }
    }

    /// The data the scenario gives the client in `MCP_CONFORMANCE_CONTEXT`, if any.
    pub(crate) fn context(self) -> Option<Value> {
        None
    }

    /// Whether the mock issues a session id.
    fn issues_session(self) -> bool {
        matches!(self, Kind::ElicitationDefaults | Kind::SseRetry)
    }

    /// Whether the mock answers requests as SSE (as the official suite's SDK-based mocks do).
    fn answers_with_sse(self) -> bool {
        matches!(self, Kind::ToolsCall | Kind::ElicitationDefaults)
    }
}

/// What a scenario's mock remembers beyond the request log.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Every session id issued, in order.
    pub(crate) sessions: Vec<String>,
    /// Session ids ended by DELETE.
    ended: Vec<String>,
    /// The version of the last `initialize` result.
    pub(crate) negotiated: Option<String>,
    /// The JSON-RPC message that answered `elicitation/create`.
    elicitation_answer: Option<Value>,
    /// Where to pass the answer to `elicitation/create` while the tool call waits for it.
    elicitation_waiter: Option<oneshot::Sender<Value>>,
    /// The tool call whose result waits for a reconnection (`sse-retry`).
    pending_call: Option<Value>,
    /// The last SSE event id given.
    event_counter: u64,
    /// The id of the priming event of the tool call's stream (`sse-retry`).
    tool_event_id: Option<String>,
    /// When the tool call's stream was closed (`sse-retry`).
    tool_stream_closed: Option<Instant>,
}

/// A scenario's mock behaviour and its state.
#[derive(Debug)]
pub(crate) struct ScenarioMock {
    kind: Kind,
    state: Arc<Mutex<State>>,
}

impl ScenarioMock {
    /// The mock of `kind`, fresh.
    pub(crate) fn new(kind: Kind) -> ScenarioMock {
        ScenarioMock {
            kind,
            state: Arc::default(),
        }
    }

    /// Its state.
    pub(crate) fn state(&self) -> &Arc<Mutex<State>> {
        &self.state
    }
}

impl Behaviour for ScenarioMock {
    fn answer(&self, seen: Seen, shared: Arc<Shared>) -> AnswerFuture {
        let kind = self.kind;
        let state = Arc::clone(&self.state);
        Box::pin(async move { answer(kind, &state, seen, &shared) })
    }
}

/// Answers one request of the client.
fn answer(kind: Kind, state: &Arc<Mutex<State>>, seen: Seen, shared: &Arc<Shared>) -> Answer {
    if let Some(refusal) = session_refusal(kind, state, &seen) {
        return refusal;
    }
    let session = lock(state).sessions.last().cloned();
    let answer = match seen.method {
        Method::POST => post(kind, state, &seen),
        Method::GET => get(kind, state, shared),
        Method::DELETE => delete(kind, state, &seen),
        _ => status(StatusCode::METHOD_NOT_ALLOWED),
    };
    match (kind.issues_session(), session) {
        (true, Some(session)) if seen.rpc_method() != Some("initialize") => {
            with_session(answer, &session)
        }
        _ => answer,
    }
}

/// The refusal of a request whose session the stateful mock does not know, as the official
/// suite's SDK mock refuses it: 400 without a session id, 404 with an unknown or ended one.
fn session_refusal(kind: Kind, state: &Arc<Mutex<State>>, seen: &Seen) -> Option<Answer> {
    if kind != Kind::ElicitationDefaults {
        return None;
    }
    let state = lock(state);
    match seen.header("mcp-session-id") {
        None if seen.method == Method::POST && seen.rpc_method() == Some("initialize") => None,
        None => Some(json_answer(
            StatusCode::BAD_REQUEST,
            &json!({"jsonrpc": "2.0", "id": null,
                    "error": {"code": -32000, "message": "Invalid or missing session ID"}}),
        )),
        Some(id)
            if state.sessions.iter().any(|known| known == id)
                && !state.ended.iter().any(|ended| ended == id) =>
        {
            None
        }
        Some(_) => Some(status(StatusCode::NOT_FOUND)),
    }
}

/// Answers a POST.
fn post(kind: Kind, state: &Arc<Mutex<State>>, seen: &Seen) -> Answer {
    let Some(body) = seen.body.as_ref().filter(|body| body.is_object()) else {
        return json_answer(
            StatusCode::BAD_REQUEST,
            &json!({"jsonrpc": "2.0", "id": null,
                    "error": {"code": -32600, "message": "Invalid Request"}}),
        );
    };
    let id = body.get("id").cloned();
    let Some(method) = body.get("method").and_then(Value::as_str) else {
        // A response: the answer to `elicitation/create`, if one is awaited.
        let waiter = lock(state).elicitation_waiter.take();
        if let Some(waiter) = waiter {
            let _ = waiter.send(body.clone());
        }
        return status(StatusCode::ACCEPTED);
    };
    let Some(id) = id else {
        return status(StatusCode::ACCEPTED);
    };
    let params = body.get("params").cloned().unwrap_or(Value::Null);
    let result = match method {
        "initialize" => initialize(kind, state, &params),
        "tools/list" => json!({"tools": tools(kind)}),
        "tools/call" => return tools_call(kind, state, id, &params),
        _ => json!({}),
    };
    reply(
        kind,
        &json!({"jsonrpc": "2.0", "id": id, "result": result}),
        state,
        method,
    )
}

/// Sends `message` as JSON or SSE, as the scenario's mock does; `initialize` gets a new
/// session id when the mock issues them.
fn reply(kind: Kind, message: &Value, state: &Arc<Mutex<State>>, method: &str) -> Answer {
    let answer = if kind.answers_with_sse() {
        sse_once(message)
    } else {
        json_answer(StatusCode::OK, message)
    };
    if method == "initialize" && kind.issues_session() {
        let mut state = lock(state);
        if state.sessions.len() < SESSION_LIMIT {
            let session = new_session_id();
            state.sessions.push(session.clone());
            return with_session(answer, &session);
        }
    }
    answer
}

/// A session id nobody can guess from the outside: the time and the process, hashed by the
/// standard library's random hasher keys.
fn new_session_id() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos())
            .unwrap_or_default(),
    );
    format!("session-{:016x}", hasher.finish())
}

/// The `initialize` result, recording the version chosen.
fn initialize(kind: Kind, state: &Arc<Mutex<State>>, params: &Value) -> Value {
    let offered = params.get("protocolVersion").and_then(Value::as_str);
    let version = match kind {
        Kind::SseRetry => "2025-03-26",
        Kind::Initialize => offered
            .filter(|offered| INITIALIZE_VERSIONS.contains(offered))
            .unwrap_or(REVISION),
        Kind::ToolsCall | Kind::ElicitationDefaults => offered
            .filter(|offered| SDK_VERSIONS.contains(offered))
            .unwrap_or(REVISION),
    };
    lock(state).negotiated = Some(version.to_owned());
    let capabilities = match kind {
        Kind::Initialize => json!({}),
        _ => json!({"tools": {}}),
    };
    json!({
        "protocolVersion": version,
        "capabilities": capabilities,
        "serverInfo": {"name": format!("mcpwire-conformance-{}", kind.name()), "version": env!("CARGO_PKG_VERSION")},
    })
}

/// The tools the scenario's mock lists.
fn tools(kind: Kind) -> Value {
    match kind {
        Kind::Initialize => json!([]),
        Kind::ToolsCall => json!([{
            "name": "add_numbers",
            "description": "Add two numbers together",
            "inputSchema": add_numbers_schema(),
        }]),
        Kind::ElicitationDefaults => json!([{
            "name": "test_client_elicitation_defaults",
            "description": "Tests that client applies defaults for omitted elicitation fields",
            "inputSchema": {"type": "object", "properties": {}, "required": []},
        }]),
        Kind::SseRetry => json!([{
            "name": "test_reconnection",
            "description": "A tool that triggers SSE stream closure to test client reconnection behavior",
            "inputSchema": {"type": "object", "properties": {}, "required": []},
        }]),
    }
}

/// The input schema of `add_numbers`.
fn add_numbers_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "a": {"type": "number", "description": "First number"},
            "b": {"type": "number", "description": "Second number"},
        },
        "required": ["a", "b"],
    })
}

/// The schema the elicitation mock asks for, every field with a default.
fn elicitation_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "User name", "default": "John Doe"},
            "age": {"type": "integer", "description": "User age", "default": 30},
            "score": {"type": "number", "description": "User score", "default": 95.5},
            "status": {"type": "string", "description": "User status",
                       "enum": ["active", "inactive", "pending"], "default": "active"},
            "verified": {"type": "boolean", "description": "Verification status", "default": true},
        },
        "required": [],
    })
}

/// A text result.
fn text_result(text: &str) -> Value {
    json!({"content": [{"type": "text", "text": text}]})
}

/// Answers `tools/call`.
fn tools_call(kind: Kind, state: &Arc<Mutex<State>>, id: Value, params: &Value) -> Answer {
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match (kind, name) {
        (Kind::ToolsCall, "add_numbers") => {
            let arguments = params.get("arguments");
            let number = |key| {
                arguments
                    .and_then(|arguments| arguments.get(key))
                    .and_then(Value::as_f64)
            };
            let text = match (number("a"), number("b")) {
                (Some(a), Some(b)) => format!("The sum of {a} and {b} is {}", a + b),
                _ => "The arguments a and b must be numbers".to_owned(),
            };
            sse_once(&json!({"jsonrpc": "2.0", "id": id, "result": text_result(&text)}))
        }
        (Kind::ElicitationDefaults, "test_client_elicitation_defaults") => {
            let (sender, answer) = sse();
            let (waiter, answered) = oneshot::channel();
            lock(state).elicitation_waiter = Some(waiter);
            tokio::spawn(elicit(sender, answered, id, Arc::clone(state)));
            answer
        }
        (Kind::SseRetry, _) => {
            let (sender, answer) = sse();
            let event_id = {
                let mut state = lock(state);
                state.pending_call = Some(id);
                state.event_counter += 1;
                let event_id = format!("event-{}", state.event_counter);
                state.tool_event_id = Some(event_id.clone());
                event_id
            };
            tokio::spawn(prime_then_close(sender, event_id, Arc::clone(state)));
            answer
        }
        _ => reply(
            kind,
            &json!({"jsonrpc": "2.0", "id": id,
                    "error": {"code": -32602, "message": format!("Unknown tool: {name}")}}),
            state,
            "tools/call",
        ),
    }
}

/// Sends `elicitation/create` on the tool call's stream, waits for the client's answer and
/// ends the call.
async fn elicit(
    sender: mpsc::Sender<Bytes>,
    answered: oneshot::Receiver<Value>,
    call_id: Value,
    state: Arc<Mutex<State>>,
) {
    let request = json!({
        "jsonrpc": "2.0",
        "id": 0,
        "method": "elicitation/create",
        "params": {
            "message": "Test client default value handling - please accept with defaults",
            "requestedSchema": elicitation_schema(),
        },
    });
    if sender.send(message_event(&request, None)).await.is_err() {
        return;
    }
    let text = match tokio::time::timeout(ELICITATION_LIMIT, answered).await {
        Ok(Ok(answer)) => {
            let text = format!("Elicitation completed: {answer}");
            lock(&state).elicitation_answer = Some(answer);
            text
        }
        _ => "Elicitation was not answered".to_owned(),
    };
    let result = json!({"jsonrpc": "2.0", "id": call_id, "result": text_result(&text)});
    let _ = sender.send(message_event(&result, None)).await;
}

/// Sends the priming event with `retry`, then closes the stream without a result.
async fn prime_then_close(sender: mpsc::Sender<Bytes>, event_id: String, state: Arc<Mutex<State>>) {
    let priming = format!("id: {event_id}\nretry: {RETRY_MILLIS}\ndata: \n\n");
    if sender.send(Bytes::from(priming)).await.is_err() {
        return;
    }
    tokio::time::sleep(CLOSE_AFTER).await;
    lock(&state).tool_stream_closed = Some(Instant::now());
    drop(sender);
}

/// Answers a GET.
fn get(kind: Kind, state: &Arc<Mutex<State>>, shared: &Arc<Shared>) -> Answer {
    match kind {
        Kind::Initialize => status(StatusCode::BAD_REQUEST),
        Kind::ToolsCall => status(StatusCode::NOT_FOUND),
        Kind::ElicitationDefaults => {
            let (sender, answer) = sse();
            shared.keep_open(sender);
            answer
        }
        Kind::SseRetry => {
            let (sender, answer) = sse();
            let mut events = Vec::new();
            {
                let mut state = lock(state);
                state.event_counter += 1;
                events.push(Bytes::from(format!(
                    "id: event-{}\nretry: {RETRY_MILLIS}\ndata: \n\n",
                    state.event_counter
                )));
                if let Some(id) = state.pending_call.take() {
                    state.event_counter += 1;
                    let result = json!({"jsonrpc": "2.0", "id": id,
                        "result": text_result("Reconnection test completed successfully")});
                    events.push(message_event(
                        &result,
                        Some(&format!("event-{}", state.event_counter)),
                    ));
                }
            }
            for event in events {
                // A fresh channel holds more than these two events.
                let _ = sender.try_send(event);
            }
            shared.keep_open(sender);
            answer
        }
    }
}

/// Answers a DELETE.
fn delete(kind: Kind, state: &Arc<Mutex<State>>, seen: &Seen) -> Answer {
    match (kind, seen.header("mcp-session-id")) {
        (Kind::ElicitationDefaults, Some(session)) => {
            let mut state = lock(state);
            if state.ended.len() < SESSION_LIMIT {
                state.ended.push(session.to_owned());
            }
            status(StatusCode::OK)
        }
        _ => status(StatusCode::METHOD_NOT_ALLOWED),
    }
}

// ---------------------------------------------------------------------------------------
// The scenarios' own checks.

/// The official `initialize` check.
const CLIENT_INITIALIZATION: ClientCheck = ClientCheck {
    name: "mcp-client-initialization",
    title: "initialize offers a known revision and names the client",
    requirement: must(
        REVISION,
        "basic/lifecycle §Initialization",
        Some(15),
        "The client MUST initiate this phase by sending an initialize request containing the protocol version supported, client capabilities and client implementation information.",
    ),
    official: true,
};

/// The capabilities of `initialize`.
const CAPABILITIES: ClientCheck = ClientCheck {
    name: "capabilities",
    title: "initialize carries a capabilities object",
    requirement: must(
        REVISION,
        "basic/lifecycle §Initialization",
        Some(15),
        "`InitializeRequest.params.capabilities` is required: the capabilities the client supports.",
    ),
    official: false,
};

/// The official `tools_call` check.
const TOOL_ADD_NUMBERS: ClientCheck = ClientCheck {
    name: "tool-add-numbers",
    title: "the client calls add_numbers with two numbers",
    requirement: must(
        REVISION,
        "server/tools §Calling Tools",
        None,
        "To invoke a tool, clients send a `tools/call` request with the tool's name and arguments.",
    ),
    official: true,
};

/// The arguments against the input schema.
const ARGUMENTS_VALID: ClientCheck = ClientCheck {
    name: "arguments-valid",
    title: "tool arguments are valid against the tool's inputSchema",
    requirement: should(
        REVISION,
        "server/tools §Tool",
        None,
        "`inputSchema` is a JSON Schema defining the expected parameters for the tool; the arguments of a call follow it.",
    ),
    official: false,
};

/// SSE answers understood.
const SSE_RESPONSE: ClientCheck = ClientCheck {
    name: "sse-response",
    title: "the client reads answers sent as an SSE stream",
    requirement: must(
        REVISION,
        "basic/transports §Sending Messages to the Server",
        Some(51),
        "The server MUST either return `Content-Type: text/event-stream` or `Content-Type: application/json`. The client MUST support both these cases.",
    ),
    official: false,
};

/// The official elicitation checks: one per field, its name and the JSON type it needs.
const ELICITATION_FIELDS: [(ClientCheck, &str, &str); 5] = [
    (
        elicitation_check(
            "client-elicitation-sep1034-string-default",
            "the string default (name) is applied",
        ),
        "name",
        "string",
    ),
    (
        elicitation_check(
            "client-elicitation-sep1034-integer-default",
            "the integer default (age) is applied",
        ),
        "age",
        "number",
    ),
    (
        elicitation_check(
            "client-elicitation-sep1034-number-default",
            "the number default (score) is applied",
        ),
        "score",
        "number",
    ),
    (
        elicitation_check(
            "client-elicitation-sep1034-enum-default",
            "the enum default (status) is applied",
        ),
        "status",
        "enum",
    ),
    (
        elicitation_check(
            "client-elicitation-sep1034-boolean-default",
            "the boolean default (verified) is applied",
        ),
        "verified",
        "boolean",
    ),
];

/// One of the official elicitation checks.
const fn elicitation_check(name: &'static str, title: &'static str) -> ClientCheck {
    ClientCheck {
        name,
        title,
        requirement: must(
            REVISION,
            "client/elicitation §Requested Schema (SEP-1034)",
            None,
            "A client that accepts a form elicitation applies each field's `default` to the fields the user left out, so that every field is present with its schema's type.",
        ),
        official: true,
    }
}

/// The elicitation capability.
const ELICITATION_CAPABILITY: ClientCheck = ClientCheck {
    name: "elicitation-capability",
    title: "the client declares the elicitation capability",
    requirement: must(
        REVISION,
        "client/elicitation §Capabilities",
        Some(30),
        "Clients that support elicitation MUST declare the `elicitation` capability during initialization.",
    ),
    official: false,
};

/// The accepted content against the requested schema.
const CONTENT_VALID: ClientCheck = ClientCheck {
    name: "content-valid",
    title: "the accepted content is valid against the requested schema",
    requirement: should(
        REVISION,
        "client/elicitation §Response Actions",
        None,
        "`ElicitResult.content` holds the submitted form data, with values matching the requested schema.",
    ),
    official: false,
};

/// The official reconnection check.
const GRACEFUL_RECONNECT: ClientCheck = ClientCheck {
    name: "client-sse-graceful-reconnect",
    title: "the client reconnects with GET after the server closes an SSE stream",
    requirement: must(
        REVISION,
        "basic/transports §Sending Messages to the Server",
        Some(52),
        "After the server closes the connection of an SSE stream, the client SHOULD poll the stream by reconnecting, and MUST respect the `retry` field, waiting the given number of milliseconds before attempting to reconnect (SEP-1699).",
    ),
    official: true,
};

/// The official timing check.
const RETRY_TIMING: ClientCheck = ClientCheck {
    name: "client-sse-retry-timing",
    title: "the client waits the retry interval before reconnecting",
    requirement: must(
        REVISION,
        "basic/transports §Sending Messages to the Server",
        Some(52),
        "The client MUST respect the `retry` field, waiting the given number of milliseconds before attempting to reconnect.",
    ),
    official: true,
};

/// The official `Last-Event-ID` check.
const LAST_EVENT_ID: ClientCheck = ClientCheck {
    name: "client-sse-last-event-id",
    title: "the reconnection carries Last-Event-ID of the closed stream",
    requirement: should(
        REVISION,
        "basic/transports §Resumability and Redelivery",
        None,
        "If the client wishes to resume after a disconnection, it SHOULD issue an HTTP GET to the MCP endpoint, and include the `Last-Event-ID` header to indicate the last event ID it received.",
    ),
    official: true,
};

/// The first `initialize` request the client sent.
fn first_initialize(log: &[Seen]) -> Option<&Seen> {
    log.iter()
        .find(|seen| seen.method == Method::POST && seen.rpc_method() == Some("initialize"))
}

/// The scenario's own checks over what the client sent.
/// The checks of scenario `kind`'s own, in the order [`evaluate`] makes them.
pub(crate) fn checks_of(kind: Kind) -> Vec<ClientCheck> {
    match kind {
        Kind::Initialize => vec![CLIENT_INITIALIZATION, CAPABILITIES],
        Kind::ToolsCall => vec![TOOL_ADD_NUMBERS, ARGUMENTS_VALID, SSE_RESPONSE],
        Kind::ElicitationDefaults => ELICITATION_FIELDS
            .iter()
            .map(|(check, _, _)| *check)
            .chain([ELICITATION_CAPABILITY, CONTENT_VALID])
            .collect(),
        Kind::SseRetry => vec![GRACEFUL_RECONNECT, RETRY_TIMING, LAST_EVENT_ID],
    }
}

pub(crate) fn evaluate(kind: Kind, log: &[Seen], state: &State) -> Vec<Evaluated> {
    match kind {
        Kind::Initialize => {
            let params = first_initialize(log).and_then(|seen| seen.body.as_ref()?.get("params"));
            vec![
                (CLIENT_INITIALIZATION, client_initialization(params)),
                (CAPABILITIES, capabilities(params)),
            ]
        }
        Kind::ToolsCall => {
            let calls: Vec<&Value> = log
                .iter()
                .filter(|seen| seen.rpc_method() == Some("tools/call"))
                .filter_map(|seen| seen.body.as_ref()?.get("params"))
                .filter(|params| params.get("name").and_then(Value::as_str) == Some("add_numbers"))
                .collect();
            vec![
                (TOOL_ADD_NUMBERS, add_numbers_called(&calls)),
                (ARGUMENTS_VALID, arguments_valid(&calls)),
                (SSE_RESPONSE, sse_understood(log)),
            ]
        }
        Kind::ElicitationDefaults => {
            let mut checks: Vec<Evaluated> = ELICITATION_FIELDS
                .iter()
                .map(|(check, field, expected)| {
                    (
                        *check,
                        elicitation_field(state.elicitation_answer.as_ref(), field, expected),
                    )
                })
                .collect();
            let params = first_initialize(log).and_then(|seen| seen.body.as_ref()?.get("params"));
            checks.push((ELICITATION_CAPABILITY, elicitation_capability(params)));
            checks.push((
                CONTENT_VALID,
                content_valid(state.elicitation_answer.as_ref()),
            ));
            checks
        }
        Kind::SseRetry => sse_retry(log, state),
    }
}

/// The official `initialize` check, on the first `initialize`'s params.
fn client_initialization(params: Option<&Value>) -> Outcome {
    let Some(params) = params else {
        return Outcome::Violated("the client sent no initialize request".to_owned());
    };
    let mut problems = Vec::new();
    let version = params.get("protocolVersion").and_then(Value::as_str);
    match version {
        None => problems.push("protocolVersion is missing".to_owned()),
        Some(version) if !INITIALIZE_VERSIONS.contains(&version) => problems.push(format!(
            "protocolVersion `{version}` is not one of {}",
            INITIALIZE_VERSIONS.join(", ")
        )),
        Some(_) => {}
    }
    let info = params.get("clientInfo");
    for field in ["name", "version"] {
        let present = info
            .and_then(|info| info.get(field))
            .and_then(Value::as_str)
            .is_some_and(|value| !value.is_empty());
        if !present {
            problems.push(format!("clientInfo.{field} is missing"));
        }
    }
    if problems.is_empty() {
        Outcome::Pass(format!(
            "protocolVersion {}, clientInfo {}",
            version.unwrap_or_default(),
            info.map(Value::to_string).unwrap_or_default()
        ))
    } else {
        Outcome::Violated(problems.join("; "))
    }
}

/// `initialize` carries a capabilities object.
fn capabilities(params: Option<&Value>) -> Outcome {
    match params.and_then(|params| params.get("capabilities")) {
        None if params.is_none() => {
            Outcome::Violated("the client sent no initialize request".to_owned())
        }
        Some(Value::Object(capabilities)) => Outcome::Pass(format!(
            "capabilities {}",
            Value::Object(capabilities.clone())
        )),
        Some(other) => Outcome::Violated(format!("capabilities is {other}")),
        None => Outcome::Violated("capabilities is missing".to_owned()),
    }
}

/// `add_numbers` was called with two numbers.
fn add_numbers_called(calls: &[&Value]) -> Outcome {
    let Some(first) = calls.first() else {
        return Outcome::Violated("the client did not call add_numbers".to_owned());
    };
    let arguments = first.get("arguments").cloned().unwrap_or(Value::Null);
    let numbers = ["a", "b"]
        .iter()
        .all(|key| arguments.get(key).is_some_and(Value::is_number));
    if numbers {
        Outcome::Pass(format!("add_numbers called with {arguments}"))
    } else {
        Outcome::Violated(format!(
            "add_numbers called with {arguments}, not two numbers a and b"
        ))
    }
}

/// Every call's arguments are valid against the input schema.
fn arguments_valid(calls: &[&Value]) -> Outcome {
    if calls.is_empty() {
        return Outcome::Skip("the client did not call add_numbers".to_owned());
    }
    let schema = add_numbers_schema();
    let validator = match jsonschema::validator_for(&schema) {
        Ok(validator) => validator,
        Err(error) => {
            return Outcome::Skip(format!("the suite's schema does not compile: {error}"));
        }
    };
    for call in calls {
        let arguments = call.get("arguments").cloned().unwrap_or(Value::Null);
        if let Err(error) = validator.validate(&arguments) {
            return Outcome::Violated(format!("arguments {arguments}: {error}"));
        }
    }
    Outcome::Pass(format!("{} call(s) with valid arguments", calls.len()))
}

/// The client went on after answers sent as SSE.
fn sse_understood(log: &[Seen]) -> Outcome {
    let listed = log
        .iter()
        .position(|seen| seen.rpc_method() == Some("tools/list"));
    let called = log
        .iter()
        .rposition(|seen| seen.rpc_method() == Some("tools/call"));
    match (listed, called) {
        (Some(listed), Some(called)) if called > listed => Outcome::Pass(
            "initialize, tools/list and tools/call were answered as SSE; the client used each answer"
                .to_owned(),
        ),
        (None, _) => Outcome::Violated(
            "the client never listed the tools after the SSE answer to initialize".to_owned(),
        ),
        _ => Outcome::Violated(
            "the client did not call a tool after the SSE answer to tools/list".to_owned(),
        ),
    }
}

/// One official elicitation check: `field` present with the `expected` type.
fn elicitation_field(answer: Option<&Value>, field: &str, expected: &str) -> Outcome {
    let Some(answer) = answer else {
        return Outcome::Violated(
            "the client did not answer elicitation/create (was the tool called?)".to_owned(),
        );
    };
    let Some(result) = answer.get("result") else {
        return Outcome::Violated(format!("elicitation/create was answered with {answer}"));
    };
    let action = result.get("action").and_then(Value::as_str);
    if action != Some("accept") {
        return Outcome::Violated(format!(
            "expected action `accept`, got {}",
            result
                .get("action")
                .map(Value::to_string)
                .unwrap_or_else(|| "none".to_owned())
        ));
    }
    let Some(value) = result.get("content").and_then(|content| content.get(field)) else {
        return Outcome::Violated(format!(
            "field `{field}` is missing; its default was not applied"
        ));
    };
    let typed = match expected {
        "string" => value.is_string(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => value
            .as_str()
            .is_some_and(|status| ["active", "inactive", "pending"].contains(&status)),
    };
    if typed {
        Outcome::Pass(format!("`{field}` is {value}"))
    } else {
        Outcome::Violated(format!("`{field}` is {value}, not a valid {expected}"))
    }
}

/// The client declared the elicitation capability.
fn elicitation_capability(params: Option<&Value>) -> Outcome {
    let Some(params) = params else {
        return Outcome::Violated("the client sent no initialize request".to_owned());
    };
    match params
        .get("capabilities")
        .and_then(|capabilities| capabilities.get("elicitation"))
    {
        Some(Value::Object(elicitation)) => Outcome::Pass(format!(
            "elicitation {}",
            Value::Object(elicitation.clone())
        )),
        Some(other) => Outcome::Violated(format!("elicitation is {other}, not an object")),
        None => Outcome::Violated(
            "the client answered elicitation/create but did not declare `elicitation`".to_owned(),
        ),
    }
}

/// The accepted content is valid against the requested schema.
fn content_valid(answer: Option<&Value>) -> Outcome {
    let Some(content) = answer
        .and_then(|answer| answer.get("result"))
        .filter(|result| result.get("action").and_then(Value::as_str) == Some("accept"))
        .and_then(|result| result.get("content"))
    else {
        return Outcome::Skip("the client did not accept with content".to_owned());
    };
    let schema = elicitation_schema();
    match jsonschema::validator_for(&schema) {
        Ok(validator) => match validator.validate(content) {
            Ok(()) => Outcome::Pass(format!("content {content}")),
            Err(error) => Outcome::Violated(format!("content {content}: {error}")),
        },
        Err(error) => Outcome::Skip(format!("the suite's schema does not compile: {error}")),
    }
}

/// The `sse-retry` checks: a GET after the close, its delay, and its `Last-Event-ID`.
fn sse_retry(log: &[Seen], state: &State) -> Vec<Evaluated> {
    let Some(closed) = state.tool_stream_closed else {
        let why = "the client did not call test_reconnection, so no stream was closed".to_owned();
        return vec![
            (GRACEFUL_RECONNECT, Outcome::Violated(why.clone())),
            (RETRY_TIMING, Outcome::Skip(why.clone())),
            (LAST_EVENT_ID, Outcome::Skip(why)),
        ];
    };
    let Some(reconnection) = log
        .iter()
        .find(|seen| seen.method == Method::GET && seen.at >= closed)
    else {
        let why = "no GET came after the tool call's stream was closed".to_owned();
        return vec![
            (GRACEFUL_RECONNECT, Outcome::Violated(why.clone())),
            (RETRY_TIMING, Outcome::Skip(why.clone())),
            (LAST_EVENT_ID, Outcome::Skip(why)),
        ];
    };
    let delay =
        u64::try_from(reconnection.at.duration_since(closed).as_millis()).unwrap_or(u64::MAX);
    let timing = if delay < RETRY_MILLIS - EARLY_TOLERANCE {
        Outcome::Violated(format!(
            "the client reconnected after {delay} ms, before the retry of {RETRY_MILLIS} ms"
        ))
    } else if delay > RETRY_MILLIS * 2 {
        Outcome::Violated(format!(
            "the client reconnected after {delay} ms, long after the retry of {RETRY_MILLIS} ms: it seems to ignore `retry`"
        ))
    } else if delay > RETRY_MILLIS + LATE_TOLERANCE {
        Outcome::Warn(format!(
            "the client reconnected after {delay} ms, a little after the retry of {RETRY_MILLIS} ms"
        ))
    } else {
        Outcome::Pass(format!(
            "the client reconnected after {delay} ms (retry {RETRY_MILLIS} ms)"
        ))
    };
    let expected_id = state.tool_event_id.as_deref().unwrap_or_default();
    let last_event_id = match reconnection.header("last-event-id") {
        Some(id) if id == expected_id => Outcome::Pass(format!("Last-Event-ID: {id}")),
        Some(id) => Outcome::Violated(format!(
            "Last-Event-ID is `{id}`, but the closed stream's last event was `{expected_id}`"
        )),
        None => Outcome::Violated("the reconnection GET carries no Last-Event-ID".to_owned()),
    };
    vec![
        (
            GRACEFUL_RECONNECT,
            Outcome::Pass(format!("GET {} after the stream closed", reconnection.path)),
        ),
        (RETRY_TIMING, timing),
        (LAST_EVENT_ID, last_event_id),
    ]
}
