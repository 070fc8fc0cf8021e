//! The official suite's server scenarios (0.1.16, and `server-session-lifecycle`,
//! `sep-2164-resource-not-found` and `caching` of 0.2.0-alpha.12), one check each, for
//! servers that implement its fixtures.
//!
//! Each check gives the verdict the official suite gives its scenario: a pass when the
//! scenario would have at least one success and no failure or warning. Like the official
//! suite, each opens a session of its own as a client declaring `sampling` and
//! `elicitation`, and a result that the official suite's client library would refuse (a
//! JSON-RPC error, a result of the wrong shape) fails the scenario. A missing fixture fails
//! it too: these checks skip nothing.

use std::time::Duration;

use serde_json::{Value, json};

use crate::answering::{
    Answer, error_response, only_ping, request_answering, result_response, send_answering,
};
use crate::check::{Area, Check, Checked, EraNeed, Outcome, Requirement, must};
use crate::context::Ctx;
use crate::run_fn;
use crate::session::{Exchange, LegacySession, request_body};
use crate::target::Transport;
use crate::wire::http::{HttpReply, HttpRequest, HttpWire, Until};

/// The versions the official suite's client (TypeScript SDK 1.32) accepts in `initialize`.
const CLIENT_VERSIONS: [&str; 5] = [
    "2025-11-25",
    "2025-06-18",
    "2025-03-26",
    "2024-11-05",
    "2024-10-07",
];

/// The protocol version header the two SSE scenarios send, whatever the session negotiated.
const SSE_SCENARIO_VERSION: &str = "2025-03-26";

/// How long the official suite waits after `test_tool_with_logging` returns before counting
/// its log messages.
const LOGGING_LINGER: Duration = Duration::from_millis(200);

/// How long the official suite reads the stream of `test_reconnection` at most.
const POLLING_STREAM_LIMIT: Duration = Duration::from_secs(10);

/// How long the official suite reads the resumed stream of `test_reconnection` at most.
const RESUMED_STREAM_LIMIT: Duration = Duration::from_secs(5);

/// The `$schema` that `json_schema_2020_12_tool` must keep.
const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// One check of the area, one of the official suite's scenarios.
fn scenario(
    id: &'static str,
    title: &'static str,
    requirement: Requirement,
    run: crate::check::RunFn,
) -> Check {
    Check::new(id, Area::Fixtures, EraNeed::Legacy, title, requirement, run).official()
}

/// One check of the area for a scenario of the modern era (2026-07-28), which the official
/// suite runs with its stateless client.
fn modern_scenario(
    id: &'static str,
    title: &'static str,
    requirement: Requirement,
    run: crate::check::RunFn,
) -> Check {
    Check::new(id, Area::Fixtures, EraNeed::Modern, title, requirement, run).official()
}

/// A requirement of the official suite's scenario, at the revision it tests.
const fn official(revision: &'static str, page: &'static str, text: &'static str) -> Requirement {
    must(revision, page, None, text)
}

/// The checks of the area, in the official suite's order.
pub(crate) fn checks() -> Vec<Check> {
    vec![
        scenario(
            "fixtures/server-initialize",
            "`initialize` and `notifications/initialized` succeed for the official client",
            official("2025-11-25", "basic/lifecycle §Initialization", "Accept `initialize` and return a valid result with server info, protocol version and capabilities; accept `notifications/initialized`."),
            run_fn!(server_initialize),
        ),
        scenario(
            "fixtures/logging-set-level",
            "`logging/setLevel` answers exactly `{}`",
            official("2025-11-25", "server/utilities/logging", "Accept `logging/setLevel` and return an empty object."),
            run_fn!(logging_set_level),
        ),
        scenario(
            "fixtures/ping",
            "`ping` answers exactly `{}`",
            official("2025-11-25", "basic/utilities/ping", "Respond promptly to `ping` with an empty object."),
            run_fn!(ping),
        ),
        scenario(
            "fixtures/completion-complete",
            "`completion/complete` for `test_prompt_with_arguments` has `completion.values`",
            official("2025-11-25", "server/utilities/completion", "Answer `completion/complete` with a `completion` whose `values` is an array."),
            run_fn!(completion_complete),
        ),
        scenario(
            "fixtures/tools-list",
            "every listed tool has a `name`, a `description` and an `inputSchema`",
            official("2025-11-25", "server/tools §Listing Tools", "Each tool has `name`, `description` and `inputSchema`."),
            run_fn!(tools_list),
        ),
        scenario(
            "fixtures/tools-call-simple-text",
            "`test_simple_text` returns text content",
            official("2025-11-25", "server/tools §Calling Tools", "Tool `test_simple_text` returns a text content item."),
            run_fn!(tools_call_simple_text),
        )
        .calling_tools(),
        scenario(
            "fixtures/tools-call-image",
            "`test_image_content` returns image content",
            official("2025-11-25", "server/tools §Calling Tools", "Tool `test_image_content` returns an image content item with `data` and `mimeType`."),
            run_fn!(tools_call_image),
        )
        .calling_tools(),
        scenario(
            "fixtures/tools-call-audio",
            "`test_audio_content` returns `audio/wav` content",
            official("2025-11-25", "server/tools §Calling Tools", "Tool `test_audio_content` returns an audio content item with `data` and `mimeType` `audio/wav`."),
            run_fn!(tools_call_audio),
        )
        .calling_tools(),
        scenario(
            "fixtures/tools-call-embedded-resource",
            "`test_embedded_resource` returns an embedded resource",
            official("2025-11-25", "server/tools §Calling Tools", "Tool `test_embedded_resource` returns a resource item with `uri`, `mimeType` and `text` or `blob`."),
            run_fn!(tools_call_embedded_resource),
        )
        .calling_tools(),
        scenario(
            "fixtures/tools-call-mixed-content",
            "`test_multiple_content_types` returns text, image and resource content",
            official("2025-11-25", "server/tools §Calling Tools", "Tool `test_multiple_content_types` returns several items: text, image and resource."),
            run_fn!(tools_call_mixed_content),
        )
        .calling_tools(),
        scenario(
            "fixtures/tools-call-with-logging",
            "`test_tool_with_logging` sends at least 3 log messages during the call",
            official("2025-11-25", "server/utilities/logging", "During `test_tool_with_logging`, send 3 `notifications/message` at level info."),
            run_fn!(tools_call_with_logging),
        )
        .calling_tools(),
        scenario(
            "fixtures/tools-call-error",
            "`test_error_handling` returns a result with `isError: true` and a message",
            official("2025-11-25", "server/tools §Error Handling", "Tool `test_error_handling` returns a result with `isError: true` and an error text."),
            run_fn!(tools_call_error),
        )
        .calling_tools(),
        scenario(
            "fixtures/tools-call-with-progress",
            "`test_tool_with_progress` sends at least 3 non-decreasing progress notifications",
            official("2025-11-25", "basic/utilities/progress", "With a `progressToken`, `test_tool_with_progress` sends progress 0, 50 and 100 of 100 before its result."),
            run_fn!(tools_call_with_progress),
        )
        .calling_tools(),
        scenario(
            "fixtures/tools-call-sampling",
            "`test_sampling` asks the client for `sampling/createMessage` during the call",
            official("2025-11-25", "client/sampling", "Tool `test_sampling` requests `sampling/createMessage` from the client and returns content."),
            run_fn!(tools_call_sampling),
        )
        .calling_tools(),
        scenario(
            "fixtures/tools-call-elicitation",
            "`test_elicitation` asks the client for `elicitation/create` during the call",
            official("2025-11-25", "client/elicitation", "Tool `test_elicitation` requests `elicitation/create` from the client and returns content."),
            run_fn!(tools_call_elicitation),
        )
        .calling_tools(),
        scenario(
            "fixtures/json-schema-2020-12",
            "`json_schema_2020_12_tool` is listed with its 2020-12 keywords kept",
            official("2025-11-25", "basic §JSON Schema Usage (SEP-1613)", "The listed `inputSchema` keeps `$schema` (2020-12), `$defs.address` and `additionalProperties: false`."),
            run_fn!(json_schema_2020_12),
        ),
        scenario(
            "fixtures/elicitation-sep1034-defaults",
            "`test_elicitation_sep1034_defaults` elicits with a default for each primitive type",
            official("2025-11-25", "client/elicitation (SEP-1034)", "The requested schema has `name`, `age`, `score`, `status` and `verified` with their exact types and defaults."),
            run_fn!(elicitation_sep1034_defaults),
        )
        .calling_tools(),
        scenario(
            "fixtures/server-sse-polling",
            "`test_reconnection`'s stream starts with a priming event and a `retry`, and its result comes",
            official("2025-11-25", "basic/transports §Resumability (SEP-1699)", "The server SHOULD send a priming event (an id and empty data) first on a POST's SSE stream, with a `retry` field; a closed stream resumes with `Last-Event-ID`."),
            run_fn!(server_sse_polling),
        )
        .over(Transport::Http)
        .calling_tools(),
        scenario(
            "fixtures/server-sse-multiple-streams",
            "three concurrent POSTs on one session are all accepted, and their streams work",
            official("2025-11-25", "basic/transports §Multiple Connections (SEP-1699)", "Concurrent POSTs on one session (which must have an id) are each answered 2xx, and each SSE stream is readable."),
            run_fn!(server_sse_multiple_streams),
        )
        .over(Transport::Http),
        scenario(
            "fixtures/elicitation-sep1330-enums",
            "`test_elicitation_sep1330_enums` elicits with the five enum forms",
            official("2025-11-25", "client/elicitation (SEP-1330)", "The requested schema has the untitled, titled and legacy single-select enums and the untitled and titled multi-select enums, each in its exact form."),
            run_fn!(elicitation_sep1330_enums),
        )
        .calling_tools(),
        scenario(
            "fixtures/resources-list",
            "every listed resource has a `uri` and a `name`",
            official("2025-11-25", "server/resources §Listing Resources", "Each resource has `uri` and `name`."),
            run_fn!(resources_list),
        ),
        scenario(
            "fixtures/resources-read-text",
            "`test://static-text` reads as text with a `uri` and a `mimeType`",
            official("2025-11-25", "server/resources §Reading Resources", "Resource `test://static-text` returns contents with `uri`, `mimeType` and `text`."),
            run_fn!(resources_read_text),
        ),
        scenario(
            "fixtures/resources-read-binary",
            "`test://static-binary` reads as a blob with a `uri` and a `mimeType`",
            official("2025-11-25", "server/resources §Reading Resources", "Resource `test://static-binary` returns contents with `uri`, `mimeType` and `blob`."),
            run_fn!(resources_read_binary),
        ),
        scenario(
            "fixtures/resources-templates-read",
            "`test://template/123/data` reads as text that contains `123`",
            official("2025-11-25", "server/resources §Resource Templates", "Reading `test://template/123/data` from template `test://template/{id}/data` returns text with the parameter substituted."),
            run_fn!(resources_templates_read),
        ),
        scenario(
            "fixtures/resources-subscribe",
            "`resources/subscribe` to `test://watched-resource` succeeds",
            official("2025-11-25", "server/resources §Subscriptions", "Subscribing to `test://watched-resource` succeeds with an empty result."),
            run_fn!(resources_subscribe),
        ),
        scenario(
            "fixtures/resources-unsubscribe",
            "subscribing to `test://watched-resource` and unsubscribing both succeed",
            official("2025-11-25", "server/resources §Subscriptions", "Subscribing to and unsubscribing from `test://watched-resource` both succeed with an empty result."),
            run_fn!(resources_unsubscribe),
        ),
        scenario(
            "fixtures/prompts-list",
            "every listed prompt has a `name` and a `description`",
            official("2025-11-25", "server/prompts §Listing Prompts", "Each prompt has `name` and `description`."),
            run_fn!(prompts_list),
        ),
        scenario(
            "fixtures/prompts-get-simple",
            "`test_simple_prompt` returns messages with a role and content",
            official("2025-11-25", "server/prompts §Getting a Prompt", "Prompt `test_simple_prompt` returns a non-empty list of messages, each with `role` and `content`."),
            run_fn!(prompts_get_simple),
        ),
        scenario(
            "fixtures/prompts-get-with-args",
            "`test_prompt_with_arguments` puts both arguments in its messages",
            official("2025-11-25", "server/prompts §Getting a Prompt", "Prompt `test_prompt_with_arguments` substitutes `arg1` and `arg2` into its messages."),
            run_fn!(prompts_get_with_args),
        ),
        scenario(
            "fixtures/prompts-get-embedded-resource",
            "`test_prompt_with_embedded_resource` returns an embedded resource",
            official("2025-11-25", "server/prompts §Embedded Resources", "Prompt `test_prompt_with_embedded_resource` returns a message whose content is a resource."),
            run_fn!(prompts_get_embedded_resource),
        ),
        scenario(
            "fixtures/prompts-get-with-image",
            "`test_prompt_with_image` returns image content",
            official("2025-11-25", "server/prompts §Image Content", "Prompt `test_prompt_with_image` returns a message whose content is an image with `data` and `mimeType`."),
            run_fn!(prompts_get_with_image),
        ),
        scenario(
            "fixtures/dns-rebinding-protection",
            "a foreign `Host`/`Origin` gets a 4xx, a loopback one a 2xx",
            official("2025-11-25", "basic/security_best_practices §Local MCP Server Compromise", "A local server rejects requests whose Host and Origin are not its own (4xx) and accepts its own (2xx); its URL is a loopback one."),
            run_fn!(dns_rebinding_protection),
        )
        .over(Transport::Http),
        scenario(
            "fixtures/server-session-lifecycle",
            "a session ended with `DELETE` answers 404 afterwards (0.2.0-alpha.12)",
            official("2025-11-25", "basic/transports §Session Management", "The server accepts `notifications/initialized` on the issued session (2xx), accepts `DELETE` of it (or refuses with 405), and answers 404 to requests on it afterwards."),
            run_fn!(server_session_lifecycle),
        )
        .over(Transport::Http),
        modern_scenario(
            "fixtures/sep-2164-resource-not-found",
            "reading an unknown resource gets -32602 with the `uri` in `data` (0.2.0-alpha.12)",
            official("2026-07-28", "server/resources §Error Handling", "Reading a URI that names no resource MUST NOT return an empty `contents`; it SHOULD get -32602 (Invalid Params) with the requested `uri` in the error's `data`."),
            run_fn!(resource_not_found),
        ),
        modern_scenario(
            "fixtures/caching",
            "lists and `resources/read` carry `ttlMs` (an integer ≥ 0) and `cacheScope` (0.2.0-alpha.12)",
            official("2026-07-28", "server/utilities/caching", "Results of `tools/list`, `prompts/list`, `resources/list`, `resources/templates/list` and `resources/read` include `ttlMs` (an integer >= 0) and `cacheScope` (`public` or `private`)."),
            run_fn!(caching),
        ),
    ]
}

// ----- The official suite's client -----

/// A fresh session as the official suite's client opens it: declaring `sampling` and
/// `elicitation`, and refusing what its client library refuses.
async fn connect(ctx: &Ctx) -> Result<LegacySession, Outcome> {
    let session = ctx
        .fresh_legacy_with(json!({"sampling": {}, "elicitation": {}}))
        .await
        .map_err(|error| {
            Outcome::Violated(format!("the official client cannot connect: {error}"))
        })?;
    match handshake_problem(&session) {
        None => Ok(session),
        Some(problem) => {
            session.close().await;
            Err(Outcome::Violated(format!(
                "the official client cannot connect: {problem}"
            )))
        }
    }
}

/// What the official client refuses in a handshake, if anything.
fn handshake_problem(session: &LegacySession) -> Option<String> {
    if !CLIENT_VERSIONS.contains(&session.version.as_str()) {
        return Some(format!(
            "the server chose protocol version `{}`, which the client does not support",
            session.version
        ));
    }
    let result = &session.initialize;
    if !result.get("capabilities").is_some_and(Value::is_object) {
        return Some("the `initialize` result has no `capabilities` object".to_owned());
    }
    let info = result.get("serverInfo");
    let named = |field: &str| {
        info.and_then(|info| info.get(field))
            .is_some_and(Value::is_string)
    };
    if !named("name") || !named("version") {
        return Some("`serverInfo` lacks a string `name` or `version`".to_owned());
    }
    if let Some(http) = &session.handshake.http {
        let kind = http.content_type().unwrap_or_default();
        if kind != "application/json" && kind != "text/event-stream" {
            return Some(format!("the `initialize` answer has Content-Type `{kind}`"));
        }
    }
    match session.initialized_status {
        Some(status) if !(200..300).contains(&status) => Some(format!(
            "`notifications/initialized` was answered HTTP {status}"
        )),
        _ => None,
    }
}

/// The result of `exchange`, or a violation when the official client's call would throw:
/// an error, no response, or a result that is not an object.
fn result_of(exchange: &Exchange, what: &str) -> Result<Value, Outcome> {
    if let Some(error) = exchange.error() {
        return Err(Outcome::Violated(format!(
            "{what} failed with a JSON-RPC error: {}",
            crate::clip(&error.to_string())
        )));
    }
    match exchange.result() {
        Some(result) if result.is_object() => Ok(result.clone()),
        Some(result) => Err(Outcome::Violated(format!(
            "{what}: the result is {}, not an object",
            super::kind(result)
        ))),
        None => Err(Outcome::Violated(format!(
            "{what}: no response: {}",
            exchange.seen()
        ))),
    }
}

/// Sends one request in a fresh session of the official client and returns its result.
async fn one_request(ctx: &Ctx, method: &str, params: Option<Value>) -> Result<Value, Outcome> {
    let mut session = connect(ctx).await?;
    let exchange = session.request(method, params).await;
    session.close().await;
    result_of(&exchange?, &format!("`{method}`"))
}

/// Whether `result` is an empty result as the official client's strict schema has it: an
/// object with nothing but an optional `_meta` object.
fn empty_result_problem(result: &Value) -> Option<String> {
    let Some(map) = result.as_object() else {
        return Some("the result is not an object".to_owned());
    };
    let extra: Vec<&String> = map.keys().filter(|key| *key != "_meta").collect();
    if !extra.is_empty() || map.get("_meta").is_some_and(|meta| !meta.is_object()) {
        return Some(format!(
            "the official client refuses a non-empty result: {}",
            crate::clip(&result.to_string())
        ));
    }
    None
}

/// A tool call's result and the messages the server sent during it.
struct Called {
    /// The result.
    result: Value,
    /// The other messages, the server's requests among them.
    others: Vec<Value>,
}

/// Calls tool `name` in a fresh session of the official client, answering the server's
/// requests with `answer`, and checks the result's shape as the client's library does.
async fn call_tool(
    ctx: &Ctx,
    name: &str,
    arguments: Option<Value>,
    answer: Answer,
) -> Result<Called, Outcome> {
    let mut params = json!({"name": name});
    if let Some(arguments) = arguments {
        params["arguments"] = arguments;
    }
    let mut session = connect(ctx).await?;
    let exchange = request_answering(
        &mut session,
        "tools/call",
        Some(params),
        answer,
        ctx.step_limit(),
        Duration::ZERO,
    )
    .await;
    session.close().await;
    let exchange = exchange?;
    let result = result_of(&exchange, &format!("calling `{name}`"))?;
    if let Some(problem) = call_result_problem(&result) {
        return Err(Outcome::Violated(format!("calling `{name}`: {problem}")));
    }
    Ok(Called {
        result,
        others: exchange.others,
    })
}

/// What the official client's schema of a tool result refuses, if anything.
fn call_result_problem(result: &Value) -> Option<String> {
    match result.get("content") {
        None => None,
        Some(Value::Array(blocks)) => blocks.iter().find_map(content_block_problem),
        Some(other) => Some(format!("`content` is {}, not an array", super::kind(other))),
    }
}

/// The `content` of a tool result as the official client reads it (absent: empty).
fn content(result: &Value) -> Vec<Value> {
    result
        .get("content")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// What the official client's schema of a content block refuses, if anything.
fn content_block_problem(block: &Value) -> Option<String> {
    let string = |name: &str| block.get(name).and_then(Value::as_str);
    match block.get("type").and_then(Value::as_str) {
        Some("text") => string("text")
            .is_none()
            .then(|| "a text block has no string `text`".to_owned()),
        Some(kind @ ("image" | "audio")) => match (string("data"), string("mimeType")) {
            (Some(data), Some(_)) if base64_accepted(data) => None,
            (Some(_), Some(_)) => Some(format!("an {kind} block's `data` is not base64")),
            _ => Some(format!(
                "an {kind} block lacks a string `data` or `mimeType`"
            )),
        },
        Some("resource_link") => (string("uri").is_none() || string("name").is_none())
            .then(|| "a resource link lacks a string `uri` or `name`".to_owned()),
        Some("resource") => resource_contents_problem(block.get("resource")),
        _ => Some(format!(
            "a content block of unknown type: {}",
            crate::clip(&block.to_string())
        )),
    }
}

/// What the official client's schema of resource contents refuses, if anything.
fn resource_contents_problem(contents: Option<&Value>) -> Option<String> {
    let Some(contents) = contents.filter(|contents| contents.is_object()) else {
        return Some("resource contents are not an object".to_owned());
    };
    if !contents.get("uri").is_some_and(Value::is_string) {
        return Some("resource contents have no string `uri`".to_owned());
    }
    if contents
        .get("mimeType")
        .is_some_and(|kind| !kind.is_string())
    {
        return Some("resource contents have a `mimeType` that is not a string".to_owned());
    }
    if contents.get("text").is_some_and(Value::is_string) {
        return None;
    }
    match contents.get("blob").and_then(Value::as_str) {
        Some(blob) if base64_accepted(blob) => None,
        Some(_) => Some("a resource's `blob` is not base64".to_owned()),
        None => Some("resource contents have neither a string `text` nor a `blob`".to_owned()),
    }
}

/// Whether the browser's `atob` accepts `text`, as the official client's base64 check
/// does: whitespace ignored, up to two `=` of padding, and no length of the form 4n + 1.
fn base64_accepted(text: &str) -> bool {
    let mut bytes: Vec<u8> = text
        .bytes()
        .filter(|byte| !matches!(byte, b'\t' | b'\n' | 0x0c | b'\r' | b' '))
        .collect();
    if bytes.len().is_multiple_of(4) {
        if bytes.ends_with(b"==") {
            bytes.truncate(bytes.len() - 2);
        } else if bytes.ends_with(b"=") {
            bytes.truncate(bytes.len() - 1);
        }
    }
    bytes.len() % 4 != 1
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || *byte == b'+' || *byte == b'/')
}

/// JavaScript's truthiness of a field, as the official suite's `if (x.field)` tests it.
fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(Value::Number(number)) => number.as_f64().is_some_and(|number| number != 0.0),
        Some(Value::String(text)) => !text.is_empty(),
        Some(Value::Array(_) | Value::Object(_)) => true,
    }
}

/// The outcome of a list of problems: a pass with `seen` when there are none.
fn judged(problems: Vec<String>, seen: impl FnOnce() -> String) -> Checked {
    if problems.is_empty() {
        Ok(Outcome::Pass(seen()))
    } else {
        Err(Outcome::Violated(problems.join("; ")))
    }
}

// ----- Lifecycle and utilities -----

/// `server-initialize`.
async fn server_initialize(ctx: &mut Ctx) -> Checked {
    let session = connect(ctx).await?;
    let seen = format!(
        "`initialize` chose {} and `notifications/initialized` was accepted",
        session.version
    );
    session.close().await;
    Ok(Outcome::Pass(seen))
}

/// `logging-set-level`.
async fn logging_set_level(ctx: &mut Ctx) -> Checked {
    let result = one_request(ctx, "logging/setLevel", Some(json!({"level": "info"}))).await?;
    empty_or_violated(&result, "`logging/setLevel`")
}

/// `ping`.
async fn ping(ctx: &mut Ctx) -> Checked {
    let result = one_request(ctx, "ping", None).await?;
    empty_or_violated(&result, "`ping`")
}

/// A pass when `result` is exactly `{}`, as the official scenarios want.
fn empty_or_violated(result: &Value, what: &str) -> Checked {
    if let Some(problem) = empty_result_problem(result) {
        return Err(Outcome::Violated(format!("{what}: {problem}")));
    }
    if result.as_object().is_some_and(|map| !map.is_empty()) {
        return Err(Outcome::Violated(format!(
            "{what}: expected an empty object, saw {}",
            crate::clip(&result.to_string())
        )));
    }
    Ok(Outcome::Pass(format!("{what} answered {{}}")))
}

/// `completion-complete`.
async fn completion_complete(ctx: &mut Ctx) -> Checked {
    let params = json!({
        "ref": {"type": "ref/prompt", "name": "test_prompt_with_arguments"},
        "argument": {"name": "arg1", "value": "test"},
    });
    let result = one_request(ctx, "completion/complete", Some(params)).await?;
    let Some(completion) = result.get("completion").filter(|value| value.is_object()) else {
        return Err(Outcome::Violated(format!(
            "no `completion` object: {}",
            crate::clip(&result.to_string())
        )));
    };
    let values = completion.get("values").and_then(Value::as_array);
    let shaped = values
        .is_some_and(|values| values.len() <= 100 && values.iter().all(Value::is_string))
        && completion
            .get("total")
            .is_none_or(|total| total.is_i64() || total.is_u64())
        && completion.get("hasMore").is_none_or(Value::is_boolean);
    if !shaped {
        return Err(Outcome::Violated(format!(
            "the official client refuses the completion: {}",
            crate::clip(&completion.to_string())
        )));
    }
    Ok(Outcome::Pass(format!(
        "{} completion values",
        values.map_or(0, Vec::len)
    )))
}

// ----- Tools -----

/// `tools/list` (its first page, as the official client reads it), with the tools' shape
/// checked as its library checks it.
async fn list_tools(ctx: &Ctx) -> Result<Vec<Value>, Outcome> {
    let result = one_request(ctx, "tools/list", None).await?;
    let Some(tools) = result.get("tools").and_then(Value::as_array) else {
        return Err(Outcome::Violated(
            "`tools/list` has no `tools` array".to_owned(),
        ));
    };
    for tool in tools {
        let schema_is_object = |field: &str| {
            tool.get(field)
                .is_some_and(|schema| schema.get("type").and_then(Value::as_str) == Some("object"))
        };
        let shaped = tool.get("name").is_some_and(Value::is_string)
            && tool.get("description").is_none_or(Value::is_string)
            && schema_is_object("inputSchema")
            && (tool.get("outputSchema").is_none() || schema_is_object("outputSchema"));
        if !shaped {
            return Err(Outcome::Violated(format!(
                "the official client refuses the tool list for this tool: {}",
                crate::clip(&tool.to_string())
            )));
        }
    }
    Ok(tools.clone())
}

/// `tools-list`.
async fn tools_list(ctx: &mut Ctx) -> Checked {
    let tools = list_tools(ctx).await?;
    let mut problems = Vec::new();
    for (index, tool) in tools.iter().enumerate() {
        for field in ["name", "description", "inputSchema"] {
            if !truthy(tool.get(field)) {
                problems.push(format!("tool {index}: missing {field}"));
            }
        }
    }
    judged(problems, || {
        format!("{} tools, each well formed", tools.len())
    })
}

/// The first content item of `kind`.
fn find_kind<'a>(content: &'a [Value], kind: &str) -> Option<&'a Value> {
    content
        .iter()
        .find(|block| block.get("type").and_then(Value::as_str) == Some(kind))
}

/// `tools-call-simple-text`.
async fn tools_call_simple_text(ctx: &mut Ctx) -> Checked {
    let called = call_tool(ctx, "test_simple_text", None, only_ping).await?;
    let content = content(&called.result);
    let mut problems = Vec::new();
    if content.is_empty() {
        problems.push("content array is empty".to_owned());
    }
    match find_kind(&content, "text") {
        None => problems.push("no text content found".to_owned()),
        Some(text) if !truthy(text.get("text")) => {
            problems.push("text content missing text field".to_owned());
        }
        Some(_) => {}
    }
    judged(problems, || "a text item".to_owned())
}

/// `tools-call-image`.
async fn tools_call_image(ctx: &mut Ctx) -> Checked {
    let called = call_tool(ctx, "test_image_content", Some(json!({})), only_ping).await?;
    let content = content(&called.result);
    let mut problems = Vec::new();
    match find_kind(&content, "image") {
        None => problems.push("no image content found".to_owned()),
        Some(image) => {
            if !truthy(image.get("data")) {
                problems.push("image content missing data field".to_owned());
            }
            if !truthy(image.get("mimeType")) {
                problems.push("image content missing mimeType".to_owned());
            }
        }
    }
    judged(problems, || {
        "an image item with data and mimeType".to_owned()
    })
}

/// `tools-call-audio`.
async fn tools_call_audio(ctx: &mut Ctx) -> Checked {
    let called = call_tool(ctx, "test_audio_content", Some(json!({})), only_ping).await?;
    let content = content(&called.result);
    let mut problems = Vec::new();
    if content.is_empty() {
        problems.push("content array is empty".to_owned());
    }
    match find_kind(&content, "audio") {
        None => problems.push("no audio content found".to_owned()),
        Some(audio) => {
            if !truthy(audio.get("data")) {
                problems.push("audio content missing data field".to_owned());
            }
            if !truthy(audio.get("mimeType")) {
                problems.push("audio content missing mimeType field".to_owned());
            }
            if audio.get("mimeType").and_then(Value::as_str) != Some("audio/wav") {
                problems.push(format!(
                    "expected mimeType 'audio/wav', got {}",
                    audio.get("mimeType").unwrap_or(&Value::Null)
                ));
            }
        }
    }
    judged(problems, || "an audio/wav item".to_owned())
}

/// `tools-call-embedded-resource`.
async fn tools_call_embedded_resource(ctx: &mut Ctx) -> Checked {
    let called = call_tool(ctx, "test_embedded_resource", Some(json!({})), only_ping).await?;
    let content = content(&called.result);
    let mut problems = Vec::new();
    if content.is_empty() {
        problems.push("content array is empty".to_owned());
    }
    match find_kind(&content, "resource") {
        None => problems.push("no resource content found".to_owned()),
        Some(block) => match block
            .get("resource")
            .filter(|resource| truthy(Some(resource)))
        {
            None => problems.push("resource content missing resource field".to_owned()),
            Some(resource) => {
                if !truthy(resource.get("uri")) {
                    problems.push("resource missing uri field".to_owned());
                }
                if !truthy(resource.get("mimeType")) {
                    problems.push("resource missing mimeType field".to_owned());
                }
                if !truthy(resource.get("text")) && !truthy(resource.get("blob")) {
                    problems.push("resource missing both text and blob fields".to_owned());
                }
            }
        },
    }
    judged(problems, || "an embedded resource".to_owned())
}

/// `tools-call-mixed-content`.
async fn tools_call_mixed_content(ctx: &mut Ctx) -> Checked {
    let called = call_tool(
        ctx,
        "test_multiple_content_types",
        Some(json!({})),
        only_ping,
    )
    .await?;
    let content = content(&called.result);
    let mut problems = Vec::new();
    if content.len() < 2 {
        problems.push("expected multiple content items".to_owned());
    }
    for kind in ["text", "image", "resource"] {
        if find_kind(&content, kind).is_none() {
            problems.push(format!("missing {kind} content"));
        }
    }
    judged(problems, || {
        format!("{} items: text, image and resource", content.len())
    })
}

/// The levels of `notifications/message`.
const LOGGING_LEVELS: [&str; 8] = [
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

/// Whether `message` is a log message the official client accepts.
fn is_log_message(message: &Value) -> bool {
    message.get("method").and_then(Value::as_str) == Some("notifications/message")
        && message
            .get("params")
            .and_then(|params| params.get("level"))
            .and_then(Value::as_str)
            .is_some_and(|level| LOGGING_LEVELS.contains(&level))
        && message
            .get("params")
            .and_then(|params| params.get("logger"))
            .is_none_or(Value::is_string)
}

/// `tools-call-with-logging`.
async fn tools_call_with_logging(ctx: &mut Ctx) -> Checked {
    let mut session = connect(ctx).await?;
    let set = session
        .request("logging/setLevel", Some(json!({"level": "debug"})))
        .await;
    let call = match &set {
        Ok(exchange) if exchange.result().is_some() => Some(
            request_answering(
                &mut session,
                "tools/call",
                Some(json!({"name": "test_tool_with_logging", "arguments": {}})),
                only_ping,
                ctx.step_limit(),
                LOGGING_LINGER,
            )
            .await,
        ),
        _ => None,
    };
    session.close().await;
    let set = set?;
    let level = result_of(&set, "`logging/setLevel`")?;
    if let Some(problem) = empty_result_problem(&level) {
        return Err(Outcome::Violated(format!("`logging/setLevel`: {problem}")));
    }
    let Some(call) = call else {
        return Err(Outcome::Violated(
            "`logging/setLevel` did not succeed".to_owned(),
        ));
    };
    let call = call?;
    let result = result_of(&call, "calling `test_tool_with_logging`")?;
    if let Some(problem) = call_result_problem(&result) {
        return Err(Outcome::Violated(format!(
            "calling `test_tool_with_logging`: {problem}"
        )));
    }
    let count = set
        .others
        .iter()
        .chain(&call.others)
        .filter(|message| is_log_message(message))
        .count();
    match count {
        0 => Err(Outcome::Violated(
            "no log notifications received".to_owned(),
        )),
        1 | 2 => Err(Outcome::Violated(format!(
            "expected at least 3 log messages, got {count}"
        ))),
        _ => Ok(Outcome::Pass(format!("{count} log messages"))),
    }
}

/// `tools-call-error`.
async fn tools_call_error(ctx: &mut Ctx) -> Checked {
    let called = call_tool(ctx, "test_error_handling", Some(json!({})), only_ping).await?;
    let is_error = called.result.get("isError") == Some(&Value::Bool(true));
    let message = content(&called.result)
        .first()
        .is_some_and(|first| truthy(first.get("text")));
    match (is_error, message) {
        (true, true) => Ok(Outcome::Pass(
            "a result with `isError: true` and an error text".to_owned(),
        )),
        (true, false) => Err(Outcome::Violated(
            "error result missing error message".to_owned(),
        )),
        (false, _) => Err(Outcome::Violated(format!(
            "tool did not return isError: true: {}",
            crate::clip(&called.result.to_string())
        ))),
    }
}

/// JavaScript's `Number(value)` of a progress token, as the official client matches tokens.
fn token_number(token: &Value) -> Option<f64> {
    match token {
        Value::Number(number) => number.as_f64(),
        Value::String(text) if text.trim().is_empty() => Some(0.0),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// `tools-call-with-progress`.
async fn tools_call_with_progress(ctx: &mut Ctx) -> Checked {
    let mut session = connect(ctx).await?;
    // The official client replaces the scenario's token with its request id.
    let id = session.next_id();
    let params = json!({
        "name": "test_tool_with_progress",
        "arguments": {},
        "_meta": {"progressToken": id},
    });
    let body = request_body(&id, "tools/call", Some(params));
    let exchange = send_answering(
        &mut session,
        &id,
        &body,
        only_ping,
        ctx.step_limit(),
        Duration::ZERO,
    )
    .await;
    session.close().await;
    let exchange = exchange?;
    let result = result_of(&exchange, "calling `test_tool_with_progress`")?;
    if let Some(problem) = call_result_problem(&result) {
        return Err(Outcome::Violated(format!(
            "calling `test_tool_with_progress`: {problem}"
        )));
    }
    let wanted = id.as_f64();
    let progress: Vec<f64> = exchange
        .others
        .iter()
        .filter(|message| {
            message.get("method").and_then(Value::as_str) == Some("notifications/progress")
        })
        .filter_map(|message| {
            let params = message.get("params")?;
            if token_number(params.get("progressToken")?) != wanted
                || params.get("total").is_some_and(|total| !total.is_number())
                || params.get("message").is_some_and(|text| !text.is_string())
            {
                return None;
            }
            params.get("progress")?.as_f64()
        })
        .collect();
    match progress.as_slice() {
        [] => Err(Outcome::Violated(
            "no progress notifications received".to_owned(),
        )),
        [_] | [_, _] => Err(Outcome::Violated(format!(
            "expected at least 3 progress notifications, got {}",
            progress.len()
        ))),
        [first, second, third, ..] if first <= second && second <= third => Ok(Outcome::Pass(
            format!("{} progress notifications: {progress:?}", progress.len()),
        )),
        _ => Err(Outcome::Violated(format!(
            "progress values should be increasing: {progress:?}"
        ))),
    }
}

/// Whether `message` is a `sampling/createMessage` request the official client handles.
fn is_sampling_request(message: &Value) -> bool {
    message.get("method").and_then(Value::as_str) == Some("sampling/createMessage")
        && message.get("params").is_some_and(|params| {
            params.get("messages").is_some_and(Value::is_array)
                && params.get("maxTokens").is_some_and(Value::is_number)
        })
}

/// The official client's answer to `sampling/createMessage`.
fn answer_sampling(request: &Value) -> Value {
    if is_sampling_request(request) {
        return result_response(
            request,
            json!({
                "role": "assistant",
                "content": {"type": "text", "text": "This is a test response from the client"},
                "model": "test-model",
                "stopReason": "endTurn",
            }),
        );
    }
    only_ping(request)
}

/// `tools-call-sampling`.
async fn tools_call_sampling(ctx: &mut Ctx) -> Checked {
    let called = call_tool(
        ctx,
        "test_sampling",
        Some(json!({"prompt": "Test prompt for sampling"})),
        answer_sampling,
    )
    .await?;
    let mut problems = Vec::new();
    if !called.others.iter().any(is_sampling_request) {
        problems.push("server did not request sampling from client".to_owned());
    }
    if content(&called.result).is_empty() {
        problems.push("tool did not return content".to_owned());
    }
    judged(problems, || {
        "the server asked for sampling and the tool returned content".to_owned()
    })
}

/// Whether `message` is an `elicitation/create` request in form mode that the official
/// client hands to its handler.
fn is_elicitation_request(message: &Value) -> bool {
    message.get("method").and_then(Value::as_str) == Some("elicitation/create")
        && message.get("params").is_some_and(|params| {
            params.get("mode").is_none_or(|mode| mode == "form")
                && params.get("message").is_some_and(Value::is_string)
                && params.get("requestedSchema").is_some_and(Value::is_object)
        })
}

/// The official client's answer to `elicitation/create`: `accept` with `content`, which
/// its library first validates against the requested schema (an invalid one is answered
/// with an error, as the library does).
fn answer_elicitation(request: &Value, content: Value) -> Value {
    if !is_elicitation_request(request) {
        return only_ping(request);
    }
    let schema = request
        .get("params")
        .and_then(|params| params.get("requestedSchema"))
        .cloned()
        .unwrap_or(Value::Null);
    let valid = jsonschema::validator_for(&schema)
        .map(|validator| validator.is_valid(&content))
        .unwrap_or(true);
    if !valid {
        return error_response(
            request,
            -32602,
            "Elicitation response content does not match requested schema",
        );
    }
    result_response(request, json!({"action": "accept", "content": content}))
}

/// The answer of the `tools-call-elicitation` scenario.
fn answer_user(request: &Value) -> Value {
    answer_elicitation(
        request,
        json!({"username": "testuser", "email": "test@example.com"}),
    )
}

/// The answer of the `elicitation-sep1034-defaults` scenario.
fn answer_defaults(request: &Value) -> Value {
    answer_elicitation(
        request,
        json!({"name": "Jane Smith", "age": 25, "score": 88, "status": "inactive", "verified": false}),
    )
}

/// The answer of the `elicitation-sep1330-enums` scenario.
fn answer_enums(request: &Value) -> Value {
    answer_elicitation(
        request,
        json!({
            "untitledSingle": "option1",
            "titledSingle": "value1",
            "legacyEnum": "opt1",
            "untitledMulti": ["option1", "option2"],
            "titledMulti": ["value1", "value2"],
        }),
    )
}

/// `tools-call-elicitation`.
async fn tools_call_elicitation(ctx: &mut Ctx) -> Checked {
    let called = call_tool(
        ctx,
        "test_elicitation",
        Some(json!({"message": "Please provide your information"})),
        answer_user,
    )
    .await?;
    let mut problems = Vec::new();
    if !called.others.iter().any(is_elicitation_request) {
        problems.push("server did not request elicitation from client".to_owned());
    }
    if content(&called.result).is_empty() {
        problems.push("tool did not return content".to_owned());
    }
    judged(problems, || {
        "the server asked for elicitation and the tool returned content".to_owned()
    })
}

/// `json-schema-2020-12`.
async fn json_schema_2020_12(ctx: &mut Ctx) -> Checked {
    let tools = list_tools(ctx).await?;
    let name = "json_schema_2020_12_tool";
    let Some(tool) = tools
        .iter()
        .find(|tool| tool.get("name").and_then(Value::as_str) == Some(name))
    else {
        return Err(Outcome::Violated(format!("tool `{name}` not found")));
    };
    let schema = tool.get("inputSchema").cloned().unwrap_or(Value::Null);
    let mut problems = Vec::new();
    match schema.get("$schema") {
        None => problems.push("`$schema` field missing from inputSchema".to_owned()),
        Some(value) if value != DRAFT_2020_12 => {
            problems.push(format!("`$schema` has unexpected value: {value}"));
        }
        Some(_) => {}
    }
    match schema.get("$defs") {
        None => problems.push("`$defs` field missing from inputSchema".to_owned()),
        Some(defs) if !(truthy(Some(defs)) && defs.get("address").is_some()) => {
            problems.push("`$defs` exists but lacks the `address` definition".to_owned());
        }
        Some(_) => {}
    }
    match schema.get("additionalProperties") {
        None => problems.push("`additionalProperties` missing from inputSchema".to_owned()),
        Some(Value::Bool(false)) => {}
        Some(value) => problems.push(format!(
            "`additionalProperties` has unexpected value: {value}"
        )),
    }
    judged(problems, || {
        "`$schema`, `$defs.address` and `additionalProperties: false` kept".to_owned()
    })
}

/// Calls an elicitation fixture and returns the properties of the schema its last
/// elicitation (as the official client's handler saw it) requested.
async fn elicited_properties(ctx: &Ctx, tool: &str, answer: Answer) -> Result<Value, Outcome> {
    let called = call_tool(ctx, tool, Some(json!({})), answer).await?;
    let Some(request) = called
        .others
        .iter()
        .rev()
        .find(|message| is_elicitation_request(message))
    else {
        return Err(Outcome::Violated(
            "server did not request elicitation from client".to_owned(),
        ));
    };
    Ok(request
        .get("params")
        .and_then(|params| params.get("requestedSchema"))
        .and_then(|schema| schema.get("properties"))
        .cloned()
        .unwrap_or(Value::Null))
}

/// The type of a property schema, for a report.
fn type_of(property: &Value) -> String {
    property
        .get("type")
        .map_or_else(|| "undefined".to_owned(), Value::to_string)
}

/// The problems of a property with a default: its `type` and its exact `default`.
fn default_problems(
    properties: &Value,
    field: &str,
    kind: &str,
    expected: &Value,
    problems: &mut Vec<String>,
) {
    let Some(property) = properties
        .get(field)
        .filter(|property| truthy(Some(property)))
    else {
        problems.push(format!("missing {kind} field `{field}`"));
        return;
    };
    if property.get("type").and_then(Value::as_str) != Some(kind) {
        problems.push(format!(
            "`{field}`: expected type \"{kind}\", got {}",
            type_of(property)
        ));
    }
    match property.get("default") {
        None => problems.push(format!("`{field}`: missing default field")),
        Some(default) if !same_json(default, expected) => problems.push(format!(
            "`{field}`: expected default {expected}, got {default}"
        )),
        Some(_) => {}
    }
}

/// JavaScript's `===` on JSON values that are numbers, strings or booleans.
fn same_json(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(left), Value::Number(right)) => left.as_f64() == right.as_f64(),
        _ => left == right,
    }
}

/// `elicitation-sep1034-defaults`.
async fn elicitation_sep1034_defaults(ctx: &mut Ctx) -> Checked {
    let properties =
        elicited_properties(ctx, "test_elicitation_sep1034_defaults", answer_defaults).await?;
    let mut problems = Vec::new();
    default_problems(
        &properties,
        "name",
        "string",
        &json!("John Doe"),
        &mut problems,
    );
    default_problems(&properties, "age", "integer", &json!(30), &mut problems);
    default_problems(&properties, "score", "number", &json!(95.5), &mut problems);
    default_problems(
        &properties,
        "verified",
        "boolean",
        &json!(true),
        &mut problems,
    );
    match properties
        .get("status")
        .filter(|status| truthy(Some(status)))
    {
        None => problems.push("missing enum field `status`".to_owned()),
        Some(status) => {
            if status.get("type").and_then(Value::as_str) != Some("string") {
                problems.push(format!(
                    "`status`: expected type \"string\", got {}",
                    type_of(status)
                ));
            }
            let members = status.get("enum").and_then(Value::as_array);
            if members.is_none() {
                problems.push("`status`: missing or invalid enum array".to_owned());
            }
            match status.get("default") {
                None => problems.push("`status`: missing default field".to_owned()),
                Some(default) => {
                    if default != "active" {
                        problems.push(format!(
                            "`status`: expected default \"active\", got {default}"
                        ));
                    }
                    if members.is_some_and(|members| !members.contains(default)) {
                        problems.push(format!(
                            "`status`: default {default} is not a valid enum member"
                        ));
                    }
                }
            }
        }
    }
    judged(problems, || {
        "string, integer, number, enum and boolean properties with their defaults".to_owned()
    })
}

/// Whether every entry of `options` has a string `const` and a string `title`.
fn titled(options: &[Value]) -> bool {
    options.iter().all(|option| {
        option.get("const").is_some_and(Value::is_string)
            && option.get("title").is_some_and(Value::is_string)
    })
}

/// `elicitation-sep1330-enums`.
async fn elicitation_sep1330_enums(ctx: &mut Ctx) -> Checked {
    let properties =
        elicited_properties(ctx, "test_elicitation_sep1330_enums", answer_enums).await?;
    let mut problems = Vec::new();
    let field = |name: &str| properties.get(name).filter(|field| truthy(Some(field)));
    let is_type =
        |value: &Value, kind: &str| value.get("type").and_then(Value::as_str) == Some(kind);
    match field("untitledSingle") {
        None => {
            problems.push("missing untitled single-select enum field `untitledSingle`".to_owned())
        }
        Some(schema) => {
            if !is_type(schema, "string") {
                problems.push("`untitledSingle`: expected type \"string\"".to_owned());
            }
            if !schema.get("enum").is_some_and(Value::is_array) {
                problems.push("`untitledSingle`: missing or invalid enum array".to_owned());
            }
            if truthy(schema.get("oneOf")) {
                problems
                    .push("`untitledSingle`: an untitled enum should not have oneOf".to_owned());
            }
            if truthy(schema.get("enumNames")) {
                problems.push(
                    "`untitledSingle`: an untitled enum should not have enumNames".to_owned(),
                );
            }
        }
    }
    match field("titledSingle") {
        None => problems.push("missing titled single-select enum field `titledSingle`".to_owned()),
        Some(schema) => {
            if !is_type(schema, "string") {
                problems.push("`titledSingle`: expected type \"string\"".to_owned());
            }
            match schema.get("oneOf").and_then(Value::as_array) {
                None => problems.push("`titledSingle`: missing or invalid oneOf array".to_owned()),
                Some(options) if !titled(options) => problems.push(
                    "`titledSingle`: oneOf items must have a string const and title".to_owned(),
                ),
                Some(_) => {}
            }
            if truthy(schema.get("enum")) {
                problems
                    .push("`titledSingle`: a titled enum should use oneOf, not enum".to_owned());
            }
        }
    }
    match field("legacyEnum") {
        None => problems.push("missing legacy titled enum field `legacyEnum`".to_owned()),
        Some(schema) => {
            if !is_type(schema, "string") {
                problems.push("`legacyEnum`: expected type \"string\"".to_owned());
            }
            let members = schema.get("enum").and_then(Value::as_array);
            if members.is_none() {
                problems.push("`legacyEnum`: missing or invalid enum array".to_owned());
            }
            match schema.get("enumNames").and_then(Value::as_array) {
                None => {
                    problems.push("`legacyEnum`: missing or invalid enumNames array".to_owned())
                }
                Some(names) if members.is_some_and(|members| members.len() != names.len()) => {
                    problems
                        .push("`legacyEnum`: enumNames length must match enum length".to_owned());
                }
                Some(_) => {}
            }
        }
    }
    match field("untitledMulti") {
        None => {
            problems.push("missing untitled multi-select enum field `untitledMulti`".to_owned())
        }
        Some(schema) => {
            if !is_type(schema, "array") {
                problems.push("`untitledMulti`: expected type \"array\"".to_owned());
            }
            match schema.get("items").filter(|items| truthy(Some(items))) {
                None => problems.push("`untitledMulti`: missing items".to_owned()),
                Some(items) => {
                    if !is_type(items, "string") {
                        problems.push("`untitledMulti`: expected items.type \"string\"".to_owned());
                    }
                    if !items.get("enum").is_some_and(Value::is_array) {
                        problems.push(
                            "`untitledMulti`: missing or invalid items.enum array".to_owned(),
                        );
                    }
                    if truthy(items.get("anyOf")) {
                        problems.push(
                            "`untitledMulti`: should use items.enum, not items.anyOf".to_owned(),
                        );
                    }
                }
            }
        }
    }
    match field("titledMulti") {
        None => problems.push("missing titled multi-select enum field `titledMulti`".to_owned()),
        Some(schema) => {
            if !is_type(schema, "array") {
                problems.push("`titledMulti`: expected type \"array\"".to_owned());
            }
            match schema.get("items").filter(|items| truthy(Some(items))) {
                None => problems.push("`titledMulti`: missing items".to_owned()),
                Some(items) => {
                    match items.get("anyOf").and_then(Value::as_array) {
                        None => problems
                            .push("`titledMulti`: missing or invalid items.anyOf array".to_owned()),
                        Some(options) if !titled(options) => problems.push(
                            "`titledMulti`: items.anyOf entries must have a string const and title"
                                .to_owned(),
                        ),
                        Some(_) => {}
                    }
                    if truthy(items.get("enum")) {
                        problems.push(
                            "`titledMulti`: should use items.anyOf, not items.enum".to_owned(),
                        );
                    }
                }
            }
        }
    }
    judged(problems, || {
        "the five enum forms, each as SEP-1330 writes it".to_owned()
    })
}

// ----- Streamable HTTP -----

/// A POST of `body` with the session's id and the SSE scenarios' version header.
fn scenario_post(body: &Value, session_id: &str) -> HttpRequest {
    HttpRequest::post(body.to_string())
        .header("accept", "text/event-stream, application/json")
        .header("mcp-session-id", session_id)
        .header("mcp-protocol-version", SSE_SCENARIO_VERSION)
}

/// What the official suite's SSE parser makes of a stream: the events it dispatches (those
/// with a `data` line), and whether any valid `retry` field came.
struct ParsedStream {
    /// `(id, data)` of each dispatched event.
    events: Vec<(Option<String>, String)>,
    /// Whether a `retry:` field with only digits came.
    retry: bool,
}

/// Parses an SSE body the way the official suite's parser (eventsource-parser) does.
fn parse_stream(body: &[u8]) -> ParsedStream {
    let text = String::from_utf8_lossy(body);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut parsed = ParsedStream {
        events: Vec::new(),
        retry: false,
    };
    let mut id: Option<String> = None;
    let mut data: Option<String> = None;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            if let Some(data) = data.take() {
                parsed.events.push((id.take(), data));
            }
            id = None;
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => {
                data = Some(match data.take() {
                    None => value.to_owned(),
                    Some(before) => format!("{before}\n{value}"),
                });
            }
            "id" if !value.contains('\0') => id = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) => {
                parsed.retry = true;
            }
            _ => {}
        }
    }
    parsed
}

/// Whether the JSON text `data` is the response with id 1 and a result; with the result.
fn response_one(data: &str) -> Option<Value> {
    let message: Value = serde_json::from_str(data).ok()?;
    (message.get("id") == Some(&json!(1)) && truthy(message.get("result")))
        .then(|| message.get("result").cloned().unwrap_or(Value::Null))
}

/// The server's HTTP endpoint, for the checks that only apply over HTTP.
fn endpoint(ctx: &Ctx) -> Result<HttpWire, Outcome> {
    ctx.http()
        .ok_or_else(|| Outcome::Skip("the server is not reached over HTTP".to_owned()))
}

/// `server-sse-polling`: warnings fail it, as they fail the scenario under a baseline.
async fn server_sse_polling(ctx: &mut Ctx) -> Checked {
    let wire = endpoint(ctx)?;
    let session = connect(ctx).await?;
    let session_id = session.session_id.clone();
    let outcome = sse_polling(ctx, &wire, session_id.as_deref()).await;
    session.close().await;
    outcome
}

/// The body of `server-sse-polling`, in the open session `session_id`.
async fn sse_polling(ctx: &Ctx, wire: &HttpWire, session_id: Option<&str>) -> Checked {
    let mut problems = Vec::new();
    if session_id.is_none() {
        problems.push("the server did not provide a session id (a warning)".to_owned());
    }
    let body = request_body(
        &json!(1),
        "tools/call",
        Some(json!({"name": "test_reconnection", "arguments": {}})),
    );
    let mut request = HttpRequest::post(body.to_string())
        .header("accept", "text/event-stream, application/json")
        .header("mcp-protocol-version", SSE_SCENARIO_VERSION);
    if let Some(session_id) = session_id {
        request = request.header("mcp-session-id", session_id);
    }
    let limit = ctx.step_limit().min(POLLING_STREAM_LIMIT);
    let reply = wire.send(request, Until::TimeLimit, limit).await?;
    let status = reply.status.as_u16();
    if !reply.status.is_success() {
        problems.push(if status == 400 || status == 404 {
            format!("`test_reconnection` was refused with HTTP {status} (a warning)")
        } else {
            format!("the POST was answered HTTP {status}")
        });
        return Err(Outcome::Violated(problems.join("; ")));
    }
    if !reply.is_sse() {
        problems.push(format!(
            "the POST was answered {}, not an SSE stream, so nothing succeeds",
            reply.content_type().unwrap_or_default()
        ));
        return Err(Outcome::Violated(problems.join("; ")));
    }
    if let Some(error) = reply
        .malformed
        .iter()
        .find(|problem| problem.starts_with("the body ended in an error"))
    {
        problems.push(error.clone());
        return Err(Outcome::Violated(problems.join("; ")));
    }
    let stream = parse_stream(&reply.body);
    let priming = |(id, data): &(Option<String>, String)| {
        id.as_deref().is_some_and(|id| !id.is_empty()) && (data.trim().is_empty() || data == "{}")
    };
    if !stream.events.first().is_some_and(priming) {
        problems.push(if stream.events.iter().any(priming) {
            "the priming event was not sent first (a warning)".to_owned()
        } else {
            "no priming event (an id and empty data) on the POST stream (a warning)".to_owned()
        });
    }
    if !stream.retry {
        problems.push("no `retry` field on the POST stream (a warning)".to_owned());
    }
    let mut answered = false;
    for (_, data) in &stream.events {
        if let Some(result) = response_one(data) {
            answered = true;
            if result.get("isError") == Some(&Value::Bool(true)) {
                problems.push("the tool call failed (`isError: true`)".to_owned());
            }
        }
    }
    let last_id = stream
        .events
        .iter()
        .rev()
        .find_map(|(id, _)| id.clone().filter(|id| !id.is_empty()));
    let mut seen = if answered {
        "the result came on the POST stream itself".to_owned()
    } else {
        "no result on the POST stream and nothing to resume from".to_owned()
    };
    if let (false, Some(last_id), Some(session_id)) = (answered, &last_id, session_id) {
        let request = HttpRequest::get()
            .header("mcp-session-id", session_id)
            .header("mcp-protocol-version", SSE_SCENARIO_VERSION)
            .header("last-event-id", last_id);
        let limit = ctx.step_limit().min(RESUMED_STREAM_LIMIT);
        match wire.send(request, Until::Response(json!(1)), limit).await {
            Ok(resumed) if resumed.status.is_success() => {
                let stream = parse_stream(&resumed.body);
                if stream
                    .events
                    .iter()
                    .any(|(_, data)| response_one(data).is_some())
                {
                    seen = format!("the result came on the stream resumed after `{last_id}`");
                } else {
                    problems.push(format!(
                        "no result on the stream resumed with Last-Event-ID `{last_id}` (a warning)"
                    ));
                }
            }
            Ok(resumed) if resumed.status.as_u16() == 405 => {
                seen = "the server has no standalone stream (405)".to_owned();
            }
            Ok(resumed) => problems.push(format!(
                "resuming with Last-Event-ID was answered HTTP {} (a warning)",
                resumed.status.as_u16()
            )),
            Err(error) => problems.push(format!("resuming failed: {error}")),
        }
    }
    judged(problems, || {
        format!("a priming event first, a `retry` field; {seen}")
    })
}

/// `server-sse-multiple-streams`.
async fn server_sse_multiple_streams(ctx: &mut Ctx) -> Checked {
    let wire = endpoint(ctx)?;
    let session = connect(ctx).await?;
    let session_id = session.session_id.clone();
    let outcome = multiple_streams(ctx, &wire, session_id.as_deref()).await;
    session.close().await;
    outcome
}

/// The body of `server-sse-multiple-streams`, in the open session `session_id`.
async fn multiple_streams(ctx: &Ctx, wire: &HttpWire, session_id: Option<&str>) -> Checked {
    let Some(session_id) = session_id else {
        return Err(Outcome::Violated(
            "the server did not provide a session id, so the scenario has only a warning"
                .to_owned(),
        ));
    };
    let limit = ctx.step_limit();
    let send = |index: i64| {
        let body = request_body(&json!(1000 + index), "tools/list", Some(json!({})));
        wire.send(scenario_post(&body, session_id), Until::Events(1), limit)
    };
    let (first, second, third) = tokio::join!(send(0), send(1), send(2));
    let replies: Vec<HttpReply> = vec![first?, second?, third?];
    let statuses: Vec<u16> = replies.iter().map(|reply| reply.status.as_u16()).collect();
    if !replies.iter().all(|reply| reply.status.is_success()) {
        return Err(Outcome::Violated(format!(
            "the server rejected some of the concurrent requests: statuses {statuses:?}"
        )));
    }
    let broken = replies
        .iter()
        .filter(|reply| reply.is_sse())
        .filter(|reply| {
            reply
                .malformed
                .iter()
                .any(|problem| problem.starts_with("the body ended in an error"))
        })
        .count();
    if broken > 0 {
        return Err(Outcome::Violated(format!(
            "{broken} of the SSE streams failed while being read"
        )));
    }
    let streams = replies.iter().filter(|reply| reply.is_sse()).count();
    Ok(Outcome::Pass(format!(
        "three concurrent POSTs answered {statuses:?}, {streams} as SSE streams"
    )))
}

// ----- Resources -----

/// `resources/read` of `uri`, with its contents checked as the official client checks them;
/// the first contents item.
async fn read_first(ctx: &Ctx, uri: &str) -> Result<Value, Outcome> {
    let result = one_request(ctx, "resources/read", Some(json!({"uri": uri}))).await?;
    let Some(contents) = result.get("contents").and_then(Value::as_array) else {
        return Err(Outcome::Violated(format!(
            "reading `{uri}`: no `contents` array"
        )));
    };
    if let Some(problem) = contents
        .iter()
        .find_map(|item| resource_contents_problem(Some(item)))
    {
        return Err(Outcome::Violated(format!("reading `{uri}`: {problem}")));
    }
    contents
        .first()
        .cloned()
        .ok_or_else(|| Outcome::Violated(format!("reading `{uri}`: contents array is empty")))
}

/// `resources-list`.
async fn resources_list(ctx: &mut Ctx) -> Checked {
    let result = one_request(ctx, "resources/list", None).await?;
    let Some(resources) = result.get("resources").and_then(Value::as_array) else {
        return Err(Outcome::Violated("no `resources` array".to_owned()));
    };
    let mut problems = Vec::new();
    for (index, resource) in resources.iter().enumerate() {
        for field in ["uri", "name"] {
            match resource.get(field) {
                Some(Value::String(text)) if !text.is_empty() => {}
                Some(Value::String(_)) => {
                    problems.push(format!("resource {index}: missing {field}"))
                }
                _ => problems.push(format!(
                    "resource {index}: the official client refuses it without a string `{field}`"
                )),
            }
        }
    }
    judged(problems, || {
        format!("{} resources, each with uri and name", resources.len())
    })
}

/// The problems of a contents item lacking `fields` (as JavaScript's truthiness has it).
fn missing_fields(item: &Value, fields: &[&str]) -> Vec<String> {
    fields
        .iter()
        .filter(|field| !truthy(item.get(**field)))
        .map(|field| format!("content missing {field}"))
        .collect()
}

/// `resources-read-text`.
async fn resources_read_text(ctx: &mut Ctx) -> Checked {
    let item = read_first(ctx, "test://static-text").await?;
    judged(missing_fields(&item, &["uri", "mimeType", "text"]), || {
        "text contents with uri and mimeType".to_owned()
    })
}

/// `resources-read-binary`.
async fn resources_read_binary(ctx: &mut Ctx) -> Checked {
    let item = read_first(ctx, "test://static-binary").await?;
    judged(missing_fields(&item, &["uri", "mimeType", "blob"]), || {
        "blob contents with uri and mimeType".to_owned()
    })
}

/// `resources-templates-read`.
async fn resources_templates_read(ctx: &mut Ctx) -> Checked {
    let item = read_first(ctx, "test://template/123/data").await?;
    let mut problems = missing_fields(&item, &["uri"]);
    // As the official suite reads it: a blob stands as "[binary]", which lacks the id.
    let shown = match (item.get("text"), item.get("blob")) {
        (Some(text), _) => text.as_str().unwrap_or_default().to_owned(),
        (None, Some(_)) => "[binary]".to_owned(),
        (None, None) => {
            problems.push("content missing text or blob".to_owned());
            String::new()
        }
    };
    if !shown.contains("123") {
        problems.push("parameter substitution not reflected in content".to_owned());
    }
    judged(problems, || "the text names the id `123`".to_owned())
}

/// `resources-subscribe`.
async fn resources_subscribe(ctx: &mut Ctx) -> Checked {
    let params = json!({"uri": "test://watched-resource"});
    let result = one_request(ctx, "resources/subscribe", Some(params)).await?;
    if let Some(problem) = empty_result_problem(&result) {
        return Err(Outcome::Violated(format!(
            "`resources/subscribe`: {problem}"
        )));
    }
    Ok(Outcome::Pass("subscribed".to_owned()))
}

/// `resources-unsubscribe`.
async fn resources_unsubscribe(ctx: &mut Ctx) -> Checked {
    let params = json!({"uri": "test://watched-resource"});
    let mut session = connect(ctx).await?;
    let subscribed = session
        .request("resources/subscribe", Some(params.clone()))
        .await;
    let unsubscribed = match &subscribed {
        Ok(exchange) if exchange.result().is_some() => {
            Some(session.request("resources/unsubscribe", Some(params)).await)
        }
        _ => None,
    };
    session.close().await;
    for (exchange, what) in [
        (Some(subscribed), "`resources/subscribe`"),
        (unsubscribed, "`resources/unsubscribe`"),
    ] {
        let Some(exchange) = exchange else {
            return Err(Outcome::Violated(
                "`resources/subscribe` did not succeed".to_owned(),
            ));
        };
        let result = result_of(&exchange?, what)?;
        if let Some(problem) = empty_result_problem(&result) {
            return Err(Outcome::Violated(format!("{what}: {problem}")));
        }
    }
    Ok(Outcome::Pass("subscribed, then unsubscribed".to_owned()))
}

// ----- Prompts -----

/// `prompts-list`.
async fn prompts_list(ctx: &mut Ctx) -> Checked {
    let result = one_request(ctx, "prompts/list", None).await?;
    let Some(prompts) = result.get("prompts").and_then(Value::as_array) else {
        return Err(Outcome::Violated("no `prompts` array".to_owned()));
    };
    let mut problems = Vec::new();
    for (index, prompt) in prompts.iter().enumerate() {
        let shaped = prompt.get("name").is_some_and(Value::is_string)
            && prompt.get("description").is_none_or(Value::is_string)
            && prompt.get("arguments").is_none_or(|arguments| {
                arguments.as_array().is_some_and(|arguments| {
                    arguments
                        .iter()
                        .all(|argument| argument.get("name").is_some_and(Value::is_string))
                })
            });
        if !shaped {
            return Err(Outcome::Violated(format!(
                "the official client refuses prompt {index}: {}",
                crate::clip(&prompt.to_string())
            )));
        }
        for field in ["name", "description"] {
            if !truthy(prompt.get(field)) {
                problems.push(format!("prompt {index}: missing {field}"));
            }
        }
    }
    judged(problems, || {
        format!("{} prompts, each with name and description", prompts.len())
    })
}

/// `prompts/get` of `name`, with its messages checked as the official client checks them.
async fn get_prompt(
    ctx: &Ctx,
    name: &str,
    arguments: Option<Value>,
) -> Result<Vec<Value>, Outcome> {
    let mut params = json!({"name": name});
    if let Some(arguments) = arguments {
        params["arguments"] = arguments;
    }
    let result = one_request(ctx, "prompts/get", Some(params)).await?;
    let Some(messages) = result.get("messages").and_then(Value::as_array) else {
        return Err(Outcome::Violated(format!(
            "prompt `{name}`: no `messages` array"
        )));
    };
    for message in messages {
        let role = message.get("role").and_then(Value::as_str);
        let problem = if !matches!(role, Some("user" | "assistant")) {
            Some("a message's role is neither user nor assistant".to_owned())
        } else {
            message.get("content").map_or_else(
                || Some("a message has no content".to_owned()),
                content_block_problem,
            )
        };
        if let Some(problem) = problem {
            return Err(Outcome::Violated(format!("prompt `{name}`: {problem}")));
        }
    }
    Ok(messages.clone())
}

/// `prompts-get-simple`.
async fn prompts_get_simple(ctx: &mut Ctx) -> Checked {
    let messages = get_prompt(ctx, "test_simple_prompt", None).await?;
    let mut problems = Vec::new();
    if messages.is_empty() {
        problems.push("messages array is empty".to_owned());
    }
    for (index, message) in messages.iter().enumerate() {
        for field in ["role", "content"] {
            if !truthy(message.get(field)) {
                problems.push(format!("message {index}: missing {field}"));
            }
        }
    }
    judged(problems, || format!("{} messages", messages.len()))
}

/// `prompts-get-with-args`.
async fn prompts_get_with_args(ctx: &mut Ctx) -> Checked {
    let arguments = json!({"arg1": "testValue1", "arg2": "testValue2"});
    let messages = get_prompt(ctx, "test_prompt_with_arguments", Some(arguments)).await?;
    let mut problems = Vec::new();
    if messages.is_empty() {
        problems.push("messages array is empty".to_owned());
    }
    let text = Value::Array(messages).to_string();
    for (argument, value) in [("arg1", "testValue1"), ("arg2", "testValue2")] {
        if !text.contains(value) {
            problems.push(format!("{argument} not substituted in prompt"));
        }
    }
    judged(problems, || {
        "both arguments appear in the messages".to_owned()
    })
}

/// `prompts-get-embedded-resource`.
async fn prompts_get_embedded_resource(ctx: &mut Ctx) -> Checked {
    let arguments = json!({"resourceUri": "test://example-resource"});
    let messages = get_prompt(ctx, "test_prompt_with_embedded_resource", Some(arguments)).await?;
    let embedded = messages.iter().any(|message| {
        message.get("content").is_some_and(|content| {
            content.get("type").and_then(Value::as_str) == Some("resource")
                || content.get("resource").is_some()
        })
    });
    if !embedded {
        return Err(Outcome::Violated(
            "no embedded resource found in prompt".to_owned(),
        ));
    }
    Ok(Outcome::Pass("a message embeds a resource".to_owned()))
}

/// `prompts-get-with-image`.
async fn prompts_get_with_image(ctx: &mut Ctx) -> Checked {
    let messages = get_prompt(ctx, "test_prompt_with_image", None).await?;
    let image = messages.iter().any(|message| {
        message.get("content").is_some_and(|content| {
            content.get("type").and_then(Value::as_str) == Some("image")
                && truthy(content.get("data"))
                && truthy(content.get("mimeType"))
        })
    });
    if !image {
        return Err(Outcome::Violated(
            "no image content found in prompt".to_owned(),
        ));
    }
    Ok(Outcome::Pass("a message holds an image".to_owned()))
}

// ----- Security -----

/// The URL's host (with its port when it is not the scheme's default), as the `Host` header
/// names it.
fn host_of(wire: &HttpWire) -> Option<(String, String)> {
    let url = wire.url();
    let host = url.host()?.to_ascii_lowercase();
    let default_port = match url.scheme_str() {
        Some("https") => 443,
        _ => 80,
    };
    let authority = match url.port_u16() {
        Some(port) if port != default_port => format!("{host}:{port}"),
        _ => host.clone(),
    };
    Some((host, authority))
}

/// An `initialize` POST with no session, its `Host` and `Origin` naming `host`.
async fn initialize_as(ctx: &Ctx, wire: &HttpWire, host: &str) -> Result<u16, String> {
    let body = request_body(
        &json!(1),
        "initialize",
        Some(json!({
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "conformance-dns-rebinding-test", "version": "1.0.0"},
        })),
    );
    let request = HttpRequest::post(body.to_string())
        .header("host", host)
        .header("origin", &format!("http://{host}"));
    let reply = wire
        .send(request, Until::Response(json!(1)), ctx.step_limit())
        .await?;
    Ok(reply.status.as_u16())
}

/// `dns-rebinding-protection`.
async fn dns_rebinding_protection(ctx: &mut Ctx) -> Checked {
    let wire = endpoint(ctx)?;
    let Some((host, authority)) = host_of(&wire) else {
        return Err(Outcome::Violated("the URL has no host".to_owned()));
    };
    if !matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]" | "::1") {
        return Err(Outcome::Violated(format!(
            "the scenario needs a localhost URL (localhost, 127.0.0.1 or [::1]), not `{host}`"
        )));
    }
    let mut problems = Vec::new();
    match initialize_as(ctx, &wire, "evil.example.com").await {
        Ok(status) if (400..500).contains(&status) => {}
        Ok(status) => problems.push(format!(
            "expected HTTP 4xx for a foreign Host and Origin, got {status}"
        )),
        Err(error) => problems.push(format!("the foreign request failed: {error}")),
    }
    match initialize_as(ctx, &wire, &authority).await {
        Ok(status) if (200..300).contains(&status) => {}
        Ok(status) => problems.push(format!(
            "expected HTTP 2xx for Host and Origin `{authority}`, got {status}"
        )),
        Err(error) => problems.push(format!("the loopback request failed: {error}")),
    }
    judged(problems, || {
        format!("evil.example.com refused with a 4xx, `{authority}` accepted")
    })
}

/// The protocol version of an `initialize` answer, when it names one.
fn negotiated(reply: &HttpReply) -> Option<String> {
    reply
        .messages
        .first()?
        .get("result")?
        .get("protocolVersion")?
        .as_str()
        .map(str::to_owned)
}

/// `server-session-lifecycle` (0.2.0-alpha.12).
async fn server_session_lifecycle(ctx: &mut Ctx) -> Checked {
    let wire = endpoint(ctx)?;
    let limit = ctx.step_limit();
    let version = ctx.legacy_version().to_owned();
    let body = request_body(
        &json!(1),
        "initialize",
        Some(json!({
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": {"name": "conformance-session-lifecycle-test", "version": "1.0.0"},
        })),
    );
    let reply = wire
        .send(
            HttpRequest::post(body.to_string()),
            Until::Response(json!(1)),
            limit,
        )
        .await?;
    if !reply.status.is_success() {
        return Err(Outcome::Violated(format!(
            "`initialize` was answered HTTP {}",
            reply.status.as_u16()
        )));
    }
    let Some(session_id) = reply.header("mcp-session-id").map(str::to_owned) else {
        return Err(Outcome::Violated(
            "no `Mcp-Session-Id`: the scenario reports the server stateless, with no success"
                .to_owned(),
        ));
    };
    let version = negotiated(&reply).unwrap_or(version);
    let with_session = |request: HttpRequest| {
        request
            .header("mcp-session-id", &session_id)
            .header("mcp-protocol-version", &version)
    };
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let sent = wire
        .send(
            with_session(HttpRequest::post(initialized.to_string())),
            Until::End,
            limit,
        )
        .await?;
    if !sent.status.is_success() {
        return Err(Outcome::Violated(format!(
            "`notifications/initialized` was answered HTTP {}",
            sent.status.as_u16()
        )));
    }
    let deleted = wire
        .send(
            with_session(HttpRequest::bare(http::Method::DELETE)),
            Until::End,
            limit,
        )
        .await?
        .status
        .as_u16();
    if deleted == 405 {
        return Ok(Outcome::Pass(
            "`notifications/initialized` accepted; DELETE refused with 405, which the spec allows"
                .to_owned(),
        ));
    }
    if !(200..300).contains(&deleted) && deleted != 404 {
        return Err(Outcome::Violated(format!(
            "DELETE was answered HTTP {deleted}, not 2xx, 404 or 405 (a warning)"
        )));
    }
    let follow_up = request_body(&json!(2), "tools/list", Some(json!({})));
    let after = wire
        .send(
            with_session(HttpRequest::post(follow_up.to_string())),
            Until::Response(json!(2)),
            limit,
        )
        .await?
        .status
        .as_u16();
    match after {
        404 => Ok(Outcome::Pass(format!(
            "`notifications/initialized` accepted, DELETE answered {deleted}, then 404"
        ))),
        _ if deleted == 404 => Err(Outcome::Violated(format!(
            "DELETE answered 404 but the session still answers (HTTP {after}) (a warning)"
        ))),
        _ => Err(Outcome::Violated(format!(
            "expected 404 on the terminated session, got HTTP {after}"
        ))),
    }
}

// ----- Modern-era scenarios (0.2.0-alpha.12) -----

/// The URI `sep-2164-resource-not-found` reads, which no fixture server serves.
const NONEXISTENT_RESOURCE: &str = "test://nonexistent-resource-for-conformance-testing";

/// The lists whose results `caching` inspects, in the official suite's order.
const CACHED_LISTS: [&str; 4] = [
    "tools/list",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
];

/// Sends one modern request as the official suite's stateless client does, on a connection
/// of its own. Its client throws on a request the server sends on the response stream, so
/// that is a violation here.
async fn modern_request(
    ctx: &Ctx,
    method: &str,
    params: Option<Value>,
) -> Result<Exchange, Outcome> {
    let mut modern = ctx.fresh_modern().map_err(Outcome::Violated)?;
    let exchange = modern.request(method, params).await;
    modern.close().await;
    let exchange = exchange.map_err(Outcome::Violated)?;
    if let Some(request) = exchange
        .others
        .iter()
        .find(|message| message.get("method").is_some() && message.get("id").is_some())
    {
        return Err(Outcome::Violated(format!(
            "`{method}`: the server sent a request on the response stream: {}",
            crate::clip(&request.to_string())
        )));
    }
    Ok(exchange)
}

/// `sep-2164-resource-not-found`: the official suite fails an empty `contents`, and warns
/// unless the error is -32602 with `data.uri` the URI read; its third check fails when no
/// JSON-RPC error came at all.
async fn resource_not_found(ctx: &mut Ctx) -> Checked {
    let exchange = modern_request(
        ctx,
        "resources/read",
        Some(json!({"uri": NONEXISTENT_RESOURCE})),
    )
    .await?;
    if let Some(result) = exchange.result() {
        let contents = result
            .get("contents")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        return Err(Outcome::Violated(format!(
            "reading {NONEXISTENT_RESOURCE} returned a result ({contents} contents) instead of an error: {}",
            crate::clip(&result.to_string())
        )));
    }
    let Some(error) = exchange.error() else {
        return Err(Outcome::Violated(format!(
            "reading {NONEXISTENT_RESOURCE}: no JSON-RPC error: {}",
            exchange.seen()
        )));
    };
    let code = error.get("code").and_then(Value::as_i64);
    let uri = error.get("data").and_then(|data| data.get("uri"));
    let mut problems = Vec::new();
    if code != Some(-32602) {
        problems.push(format!(
            "expected error code -32602, got {}",
            error.get("code").unwrap_or(&Value::Null)
        ));
    }
    if uri.and_then(Value::as_str) != Some(NONEXISTENT_RESOURCE) {
        problems.push(format!(
            "`data.uri` is {}, expected \"{NONEXISTENT_RESOURCE}\"",
            uri.unwrap_or(&Value::Null)
        ));
    }
    if problems.is_empty() {
        Ok(Outcome::Pass(crate::clip(&error.to_string())))
    } else {
        Err(Outcome::Warn(format!(
            "{} in {}",
            problems.join("; "),
            crate::clip(&error.to_string())
        )))
    }
}

/// The caching hints of one result, as `caching` checks them: each of `ttlMs` and
/// `cacheScope` must be present, a present `ttlMs` an integer ≥ 0 and a present
/// `cacheScope` `"public"` or `"private"`.
fn caching_problems(method: &str, result: &Value, problems: &mut Vec<String>) {
    let ttl = result.get("ttlMs");
    let scope = result.get("cacheScope");
    match ttl {
        None => problems.push(format!("{method} response missing ttlMs")),
        Some(Value::Number(number)) => {
            let integer = number.is_i64()
                || number.is_u64()
                || number.as_f64().is_some_and(|value| value.fract() == 0.0);
            let negative = number.as_f64().is_some_and(|value| value < 0.0);
            if !integer {
                problems.push(format!("{method}: ttlMs is {number}, expected integer"));
            } else if negative {
                problems.push(format!("{method}: ttlMs is {number}, must be >= 0"));
            }
        }
        Some(other) => problems.push(format!(
            "{method}: ttlMs is {}, expected number",
            super::kind(other)
        )),
    }
    match scope {
        None => problems.push(format!("{method} response missing cacheScope")),
        Some(Value::String(scope)) if scope == "public" || scope == "private" => {}
        Some(other) => problems.push(format!(
            "{method}: cacheScope is {other}, expected \"public\" or \"private\""
        )),
    }
}

/// `caching`: every list, and the read of the first listed resource (skipped by the
/// official suite when there is none), carries valid caching hints.
async fn caching(ctx: &mut Ctx) -> Checked {
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    let mut first_uri = None;
    for method in CACHED_LISTS {
        let exchange = modern_request(ctx, method, None).await?;
        let result = match result_of(&exchange, &format!("`{method}`")) {
            Ok(result) => result,
            Err(Outcome::Violated(problem)) => {
                problems.push(problem);
                continue;
            }
            Err(other) => return Err(other),
        };
        if method == "resources/list" {
            first_uri = result
                .get("resources")
                .and_then(|resources| resources.get(0))
                .and_then(|resource| resource.get("uri"))
                .filter(|uri| truthy(Some(uri)))
                .cloned();
        }
        caching_problems(method, &result, &mut problems);
        seen.push(format!(
            "{method}: {} {}",
            result.get("ttlMs").unwrap_or(&Value::Null),
            result.get("cacheScope").unwrap_or(&Value::Null)
        ));
    }
    if let Some(uri) = first_uri {
        let exchange = modern_request(ctx, "resources/read", Some(json!({"uri": uri}))).await?;
        match result_of(&exchange, "`resources/read`") {
            Ok(result) => {
                caching_problems("resources/read", &result, &mut problems);
                seen.push(format!(
                    "resources/read: {} {}",
                    result.get("ttlMs").unwrap_or(&Value::Null),
                    result.get("cacheScope").unwrap_or(&Value::Null)
                ));
            }
            Err(Outcome::Violated(problem)) => problems.push(problem),
            Err(other) => return Err(other),
        }
    }
    judged(problems, || seen.join(", "))
}
