//! The modern era's (2026-07-28) own rules: `server/discover`, per-request `_meta`,
//! `resultType`, removed methods and error codes, subscriptions, caching hints.
//!
//! Every check here speaks modern requests at the JSON-RPC level, whatever the transport;
//! the HTTP statuses and headers of the modern era are the `http` area's.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::check::{Area, Check, Checked, EraNeed, Outcome, Requirement, RunFn, must, should};
use crate::checks::lifecycle::verdict;
use crate::checks::{expect_error_code, expect_result, kind};
use crate::context::Ctx;
use crate::run_fn;
use crate::session::{
    Conn, Exchange, META_CAPABILITIES, META_CLIENT_INFO, META_VERSION, MODERN, modern_headers,
    request_body, with_modern_meta,
};
use crate::wire::http::{HttpRequest, Until};
use crate::wire::stdio::Line;

/// The revision of every requirement of this area.
const REVISION: &str = "2026-07-28";
/// The `_meta` key of the server's name and version in a modern result.
const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
/// The `_meta` key of the log level a modern request asks for.
const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
/// The `_meta` key that ties a notification to its `subscriptions/listen`.
const META_SUBSCRIPTION: &str = "io.modelcontextprotocol/subscriptionId";
/// A version no server speaks.
const UNKNOWN_VERSION: &str = "1900-01-01";
/// The client capabilities a request declares when it wants to see everything.
fn every_capability() -> Value {
    json!({"roots": {}, "sampling": {}, "elicitation": {"form": {}, "url": {}}})
}
/// How long a `subscriptions/listen` stream is read.
const LISTEN_WINDOW: Duration = Duration::from_millis(600);
/// The most pages of a list a check reads.
const PAGE_LIMIT: usize = 20;

/// A check of this area.
fn check(id: &'static str, title: &'static str, requirement: Requirement, run: RunFn) -> Check {
    Check::new(id, Area::Modern, EraNeed::Modern, title, requirement, run)
}

/// The checks of this area, in run order.
pub(crate) fn checks() -> Vec<Check> {
    vec![
        check(
            "modern/discover-result",
            "`server/discover` returns `supportedVersions` (strings) and `capabilities`",
            must(
                REVISION,
                "server/discover §Response",
                Some(156),
                "Servers MUST implement `server/discover`; a `DiscoverResult` has `supportedVersions: string[]` and `capabilities: ServerCapabilities`.",
            ),
            run_fn!(discover_result),
        ),
        check(
            "modern/discover-versions",
            "every version of `supportedVersions` is a revision's date, `YYYY-MM-DD`",
            must(
                REVISION,
                "basic/versioning",
                Some(156),
                "The protocol version is a string of the form `YYYY-MM-DD` naming the revision.",
            ),
            run_fn!(discover_versions),
        ),
        check(
            "modern/discover-cache-hints",
            "the `server/discover` result carries `ttlMs` ≥ 0 and `cacheScope`",
            must(
                REVISION,
                "server/utilities/caching §Cacheable Results",
                Some(156),
                "Servers MUST include caching hints on results with `resultType: \"complete\"` returned by `server/discover` (…); servers MUST provide a `ttlMs` value that is >= 0.",
            ),
            run_fn!(discover_cache_hints),
        ),
        check(
            "modern/discover-server-info",
            "the `server/discover` result names the server in `_meta` `io.modelcontextprotocol/serverInfo`",
            should(
                REVISION,
                "server/discover §DiscoverResult",
                Some(156),
                "`_meta['io.modelcontextprotocol/serverInfo']`: Name and version of the server software. Servers SHOULD include this field.",
            ),
            run_fn!(discover_server_info),
        ),
        check(
            "modern/result-type-discover",
            "the `server/discover` result carries `resultType: \"complete\"`",
            must(
                REVISION,
                "basic/index §Result Responses",
                Some(162),
                "The `result` MUST include a `resultType` field to indicate the type of the result.",
            ),
            run_fn!(result_type_discover),
        ),
        check(
            "modern/result-type-lists",
            "the results of `tools/list`, `prompts/list`, `resources/list` and `resources/templates/list` carry `resultType`",
            must(
                REVISION,
                "basic/index §Result Responses",
                Some(162),
                "The `result` MUST include a `resultType` field to indicate the type of the result.",
            ),
            run_fn!(result_type_lists),
        ),
        check(
            "modern/result-type-read",
            "the result of `resources/read` carries `resultType`",
            must(
                REVISION,
                "basic/index §Result Responses",
                Some(162),
                "The `result` MUST include a `resultType` field to indicate the type of the result.",
            ),
            run_fn!(result_type_read),
        ),
        check(
            "modern/result-type-prompt",
            "the result of `prompts/get` carries `resultType`",
            must(
                REVISION,
                "basic/index §Result Responses",
                Some(162),
                "The `result` MUST include a `resultType` field to indicate the type of the result.",
            ),
            run_fn!(result_type_prompt),
        ),
        check(
            "modern/result-type-tool-call",
            "the result of `tools/call` carries `resultType`",
            must(
                REVISION,
                "basic/index §Result Responses",
                Some(162),
                "The `result` MUST include a `resultType` field to indicate the type of the result.",
            ),
            run_fn!(result_type_tool_call),
        )
        .calling_tools(),
        check(
            "modern/result-type-completion",
            "the result of `completion/complete` carries `resultType`",
            must(
                REVISION,
                "basic/index §Result Responses",
                Some(162),
                "The `result` MUST include a `resultType` field to indicate the type of the result.",
            ),
            run_fn!(result_type_completion),
        ),
        check(
            "modern/input-required-methods",
            "`input_required` is never the result of a method other than `tools/call`, `prompts/get` and `resources/read`",
            must(
                REVISION,
                "basic/patterns/mrtr §Supported Requests",
                Some(165),
                "Servers MUST NOT send `InputRequiredResult` responses on any other client requests.",
            ),
            run_fn!(input_required_methods),
        ),
        check(
            "modern/missing-protocol-version",
            "a request without `_meta` `io.modelcontextprotocol/protocolVersion` gets -32602",
            must(
                REVISION,
                "basic/index §_meta",
                Some(159),
                "A request missing any required field is malformed; the server MUST reject it with JSON-RPC error code `-32602` (Invalid params).",
            ),
            run_fn!(missing_protocol_version),
        ),
        check(
            "modern/missing-client-capabilities",
            "a request without `_meta` `io.modelcontextprotocol/clientCapabilities` gets -32602",
            must(
                REVISION,
                "basic/index §_meta",
                Some(159),
                "A request missing any required field is malformed; the server MUST reject it with JSON-RPC error code `-32602` (Invalid params).",
            ),
            run_fn!(missing_client_capabilities),
        ),
        check(
            "modern/client-info-optional",
            "a request without `_meta` `io.modelcontextprotocol/clientInfo` is served",
            must(
                REVISION,
                "basic/index §_meta",
                Some(159),
                "`io.modelcontextprotocol/clientInfo` is not required: only the fields marked as required MUST be included on every request.",
            ),
            run_fn!(client_info_optional),
        ),
        check(
            "modern/malformed-client-capabilities",
            "`_meta` `io.modelcontextprotocol/clientCapabilities` that is not an object gets -32602",
            should(
                REVISION,
                "basic/index §_meta",
                Some(159),
                "`io.modelcontextprotocol/clientCapabilities` is a `ClientCapabilities` object; a malformed request gets `-32602` (Invalid params).",
            ),
            run_fn!(malformed_client_capabilities),
        ),
        check(
            "modern/invalid-log-level",
            "an unknown `io.modelcontextprotocol/logLevel` gets -32602",
            should(
                REVISION,
                "server/utilities/logging §Error Handling",
                None,
                "If the `io.modelcontextprotocol/logLevel` value carried in a request's `_meta` is not a recognized log level, the server SHOULD reject that request with `-32602` (Invalid params).",
            ),
            run_fn!(invalid_log_level),
        ),
        check(
            "modern/unsupported-version",
            "a request in a version the server does not speak gets -32022",
            must(
                REVISION,
                "basic/versioning §Protocol Version Negotiation",
                Some(157),
                "If the server does not support the requested version, it MUST respond with an `UnsupportedProtocolVersionError` listing the versions it does support.",
            ),
            run_fn!(unsupported_version),
        ),
        check(
            "modern/unsupported-version-data",
            "the -32022 error carries `data.supported` (with 2026-07-28) and `data.requested`",
            must(
                REVISION,
                "basic/versioning §Protocol Version Negotiation",
                Some(157),
                "`UnsupportedProtocolVersionError` has `data: {supported: string[], requested: string}`.",
            ),
            run_fn!(unsupported_version_data),
        ),
        check(
            "modern/no-inferred-version",
            "after requests that named a version, one that names none is still refused",
            must(
                REVISION,
                "basic/index §Statelessness",
                Some(160),
                "Servers MUST NOT rely on prior requests over the same connection to establish context (e.g., capabilities, protocol version, client identity).",
            ),
            run_fn!(no_inferred_version),
        ),
        check(
            "modern/no-inferred-capabilities",
            "capabilities declared in one request are not assumed in the next",
            must(
                REVISION,
                "basic/index §Statelessness",
                Some(160),
                "Servers MUST NOT rely on prior requests over the same connection to establish context (e.g., capabilities, protocol version, client identity).",
            ),
            run_fn!(no_inferred_capabilities),
        ),
        check(
            "modern/no-inferred-log-level",
            "a log level asked for in one request is not applied to the next",
            must(
                REVISION,
                "basic/index §Statelessness",
                Some(160),
                "Servers MUST NOT rely on prior requests over the same connection to establish context; the server MUST NOT emit `notifications/message` for a request that does not include `io.modelcontextprotocol/logLevel`.",
            ),
            run_fn!(no_inferred_log_level),
        )
        .calling_tools(),
        check(
            "modern/no-log-without-level",
            "no `notifications/message` for a request without `io.modelcontextprotocol/logLevel`",
            must(
                REVISION,
                "server/utilities/logging §Per-request log level",
                Some(170),
                "The server MUST NOT emit `notifications/message` for a request that does not include this field.",
            ),
            run_fn!(no_log_without_level),
        )
        .calling_tools(),
        check(
            "modern/removed-ping",
            "`ping` is not a method of the modern era (-32601)",
            must(
                REVISION,
                "changelog §Major changes 5",
                None,
                "Remove `ping`, `logging/setLevel`, and `notifications/roots/list_changed`; an unknown method gets `-32601`.",
            ),
            run_fn!(removed_ping),
        ),
        check(
            "modern/removed-set-level",
            "`logging/setLevel` is not a method of the modern era (-32601)",
            must(
                REVISION,
                "changelog §Major changes 5",
                None,
                "Remove `ping`, `logging/setLevel`, and `notifications/roots/list_changed`. Log level is now set per-request; an unknown method gets `-32601`.",
            ),
            run_fn!(removed_set_level),
        ),
        check(
            "modern/removed-subscribe",
            "`resources/subscribe` is not a method of the modern era (-32601)",
            must(
                REVISION,
                "changelog §Major changes 4",
                None,
                "Replace the HTTP GET endpoint and `resources/subscribe`/`resources/unsubscribe` with `subscriptions/listen`; an unknown method gets `-32601`.",
            ),
            run_fn!(removed_subscribe),
        ),
        check(
            "modern/removed-unsubscribe",
            "`resources/unsubscribe` is not a method of the modern era (-32601)",
            must(
                REVISION,
                "changelog §Major changes 4",
                None,
                "Replace the HTTP GET endpoint and `resources/subscribe`/`resources/unsubscribe` with `subscriptions/listen`; an unknown method gets `-32601`.",
            ),
            run_fn!(removed_unsubscribe),
        ),
        check(
            "modern/removed-tasks-list",
            "`tasks/list` is not a method of the modern era (-32601)",
            must(
                REVISION,
                "changelog §Major changes 6",
                None,
                "Move tasks into the extension `io.modelcontextprotocol/tasks`, which removes `tasks/list`; an unknown method gets `-32601`.",
            ),
            run_fn!(removed_tasks_list),
        ),
        check(
            "modern/missing-resource",
            "reading a resource that does not exist gets -32602, not an empty `contents`",
            must(
                REVISION,
                "server/resources §Error Handling",
                Some(179),
                "If the requested resource does not exist, servers MUST return a JSON-RPC error with code `-32602` (Invalid Params). Servers MUST NOT return an empty `contents` array for a non-existent resource.",
            ),
            run_fn!(missing_resource),
        ),
        check(
            "modern/no-retired-codes",
            "errors never use -32002, -32042 or an undefined code of -32020…-32099",
            must(
                REVISION,
                "basic/index §Error Codes",
                Some(179),
                "Implementations of this protocol version MUST NOT emit these codes: `-32002`, `-32042`; implementations MUST NOT emit any code from -32020 to -32099 that is not defined by this specification.",
            ),
            run_fn!(no_retired_codes),
        ),
        check(
            "modern/missing-capability",
            "a tool that needs an undeclared client capability gets -32021 with `data.requiredCapabilities`",
            must(
                REVISION,
                "basic/index §_meta",
                Some(161),
                "If processing a request requires a capability the client did not include in `io.modelcontextprotocol/clientCapabilities`, the server MUST return a `MissingRequiredClientCapabilityError` (`-32021`) whose `data.requiredCapabilities` lists the missing capabilities.",
            ),
            run_fn!(missing_capability),
        )
        .calling_tools(),
        check(
            "modern/input-required-declared",
            "`inputRequests` ask only for what the request's capabilities declare",
            must(
                REVISION,
                "basic/patterns/mrtr §Server Requirements",
                Some(165),
                "Servers MUST NOT send an `inputRequests` that the client has not declared support for in its capabilities.",
            ),
            run_fn!(input_required_declared),
        )
        .calling_tools(),
        check(
            "modern/input-required-has-inputs",
            "every `input_required` result has `inputRequests` or `requestState`",
            must(
                REVISION,
                "basic/patterns/mrtr §Server Requirements",
                Some(165),
                "Servers MUST include at least one of `inputRequests` or `requestState` in every `InputRequiredResult` response.",
            ),
            run_fn!(input_required_has_inputs),
        )
        .calling_tools(),
        check(
            "modern/input-requests-shape",
            "each input request is an elicitation, sampling or roots request without `jsonrpc` or `id`",
            must(
                REVISION,
                "basic/patterns/mrtr §Server Requirements",
                Some(165),
                "`inputRequests` values are request objects that MUST be one of `ElicitRequest`, `CreateMessageRequest`, or `ListRootsRequest`.",
            ),
            run_fn!(input_requests_shape),
        )
        .calling_tools(),
        check(
            "modern/listen-acknowledged-first",
            "`subscriptions/listen` first sends `notifications/subscriptions/acknowledged`",
            must(
                REVISION,
                "basic/patterns/subscriptions §Acknowledgment",
                Some(168),
                "The server MUST send `notifications/subscriptions/acknowledged` as the first message carrying the subscription's ID, and MUST NOT send any notification on the subscription before it.",
            ),
            run_fn!(listen_acknowledged_first),
        ),
        check(
            "modern/listen-subscription-id",
            "every notification of a `subscriptions/listen` stream carries the listen request's id as `subscriptionId`",
            must(
                REVISION,
                "basic/patterns/subscriptions §Receiving Notifications",
                Some(168),
                "All notifications delivered on the stream carry `io.modelcontextprotocol/subscriptionId` in `_meta`; the value is the JSON-RPC ID of the `subscriptions/listen` request.",
            ),
            run_fn!(listen_subscription_id),
        ),
        check(
            "modern/listen-acknowledged-subset",
            "the acknowledged filter holds only what was asked for",
            must(
                REVISION,
                "basic/patterns/subscriptions §Opening a Stream",
                Some(168),
                "The server MUST NOT send notification types the client has not explicitly requested; the `notifications` field in the acknowledgment reflects the subset the server agreed to honor.",
            ),
            run_fn!(listen_acknowledged_subset),
        ),
        check(
            "modern/cache-hints-lists",
            "list results carry `ttlMs` ≥ 0 and `cacheScope`",
            must(
                REVISION,
                "server/utilities/caching §Cacheable Results",
                Some(177),
                "Servers MUST include caching hints on results with `resultType: \"complete\"` returned by `tools/list`, `prompts/list`, `resources/list`, `resources/templates/list`; servers MUST provide a `ttlMs` value that is >= 0.",
            ),
            run_fn!(cache_hints_lists),
        ),
        check(
            "modern/cache-hints-read",
            "the result of `resources/read` carries `ttlMs` ≥ 0 and `cacheScope`",
            must(
                REVISION,
                "server/utilities/caching §Cacheable Results",
                Some(177),
                "Servers MUST include caching hints on results with `resultType: \"complete\"` returned by `resources/read`; servers MUST provide a `ttlMs` value that is >= 0.",
            ),
            run_fn!(cache_hints_read),
        ),
        check(
            "modern/cache-scope-pages",
            "every page of a list has the same `cacheScope`",
            must(
                REVISION,
                "server/utilities/caching §Interaction with Pagination",
                Some(177),
                "Servers MUST apply the same `cacheScope` to all response pages for a given list request.",
            ),
            run_fn!(cache_scope_pages),
        ),
        check(
            "modern/server-info-meta",
            "results name the server in `_meta` `io.modelcontextprotocol/serverInfo`",
            should(
                REVISION,
                "basic/index §_meta",
                None,
                "Servers SHOULD include `io.modelcontextprotocol/serverInfo` in every result's `_meta`, unless specifically configured not to do so.",
            ),
            run_fn!(server_info_meta),
        ),
        check(
            "modern/server-info-shape",
            "`io.modelcontextprotocol/serverInfo`, when present, has a string `name` and `version`",
            must(
                REVISION,
                "basic/index §_meta",
                None,
                "`io.modelcontextprotocol/serverInfo` is an `Implementation`: `name` and `version` are required strings.",
            ),
            run_fn!(server_info_shape),
        ),
        check(
            "modern/no-server-requests",
            "the server sends no JSON-RPC request while answering modern requests",
            must(
                REVISION,
                "basic/patterns/mrtr",
                Some(164),
                "Servers MUST NOT initiate JSON-RPC requests; they return an `InputRequiredResult` instead.",
            ),
            run_fn!(no_server_requests),
        )
        .calling_tools(),
        check(
            "modern/lists-not-per-connection",
            "`tools/list` is the same on a new connection and after other requests",
            must(
                REVISION,
                "server/tools §Listing Tools",
                Some(160),
                "The set MUST NOT vary per-connection or as a side effect of other requests on the connection.",
            ),
            run_fn!(lists_not_per_connection),
        ),
        check(
            "modern/tools-order",
            "`tools/list` gives its tools in the same order each time",
            should(
                REVISION,
                "server/tools §Listing Tools",
                None,
                "Servers SHOULD return tools in a deterministic order (i.e., the same ordering across requests when the underlying set of tools has not changed).",
            ),
            run_fn!(tools_order),
        ),
    ]
}

// ----- Helpers -----

/// Sends a modern request whose params (with their `_meta`) are exactly `params`, with the
/// modern headers over HTTP, `MCP-Protocol-Version` set to `version`.
async fn send_exact(
    ctx: &mut Ctx,
    method: &str,
    params: Value,
    version: &str,
) -> Result<Exchange, String> {
    let modern = ctx.modern()?;
    let id = modern.next_id();
    let mut headers = modern_headers(method, Some(&params));
    for (name, value) in &mut headers {
        if name == "mcp-protocol-version" {
            *value = version.to_owned();
        }
    }
    let body = request_body(&id, method, Some(params));
    modern
        .send_raw(body.to_string().as_bytes(), &id, &headers)
        .await
}

/// The params of a modern request with their `_meta` changed by `adjust`.
fn params_with_meta(
    params: Option<Value>,
    capabilities: Value,
    adjust: impl FnOnce(&mut Map<String, Value>),
) -> Value {
    let mut params = with_modern_meta(params, capabilities);
    if let Some(meta) = params.get_mut("_meta").and_then(Value::as_object_mut) {
        adjust(meta);
    }
    params
}

/// Sends a modern request declaring `capabilities` whose `_meta` also asks for log `level`.
async fn request_logged(
    ctx: &mut Ctx,
    method: &str,
    params: Option<Value>,
    level: &str,
) -> Result<Exchange, String> {
    let params = params_with_meta(params, json!({}), |meta| {
        meta.insert(META_LOG_LEVEL.to_owned(), json!(level));
    });
    send_exact(ctx, method, params, MODERN).await
}

/// Whether `tool` can be called with no arguments.
pub(crate) fn needs_no_arguments(tool: &Value) -> bool {
    tool.get("inputSchema")
        .and_then(|schema| schema.get("required"))
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
}

/// Words that name a tool that takes a while: left out unless asked for.
pub(crate) const SLOW_WORDS: [&str; 5] = ["slow", "wait", "sleep", "long", "delay"];

/// The tools a check may call with no arguments, those whose name or description holds one
/// of `preferred` first; at most `limit`. Tools named as slow are left out unless a word of
/// `preferred` names them.
pub(crate) async fn callable_tools(
    ctx: &mut Ctx,
    preferred: &[&str],
    limit: usize,
) -> Result<Vec<Value>, String> {
    if !ctx.declares("tools") {
        return Ok(Vec::new());
    }
    let tools = ctx.list("tools/list", "tools").await?;
    let mut callable: Vec<Value> = tools
        .into_iter()
        .filter(|tool| ctx.may_call(tool) && needs_no_arguments(tool))
        .filter(|tool| {
            let name = name_of(tool).to_lowercase();
            !SLOW_WORDS.iter().any(|word| name.contains(word))
                || preferred.iter().any(|word| name.contains(word))
        })
        .collect();
    let score = |tool: &Value| {
        let text = format!(
            "{} {}",
            tool.get("name").and_then(Value::as_str).unwrap_or_default(),
            tool.get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
        )
        .to_lowercase();
        usize::from(!preferred.iter().any(|word| text.contains(word)))
    };
    callable.sort_by_key(score);
    callable.truncate(limit);
    Ok(callable)
}

/// The name of a tool, prompt or resource.
pub(crate) fn name_of(item: &Value) -> &str {
    item.get("name").and_then(Value::as_str).unwrap_or_default()
}

/// The params of `tools/call` of `tool` with no arguments.
fn call_params(tool: &Value) -> Value {
    json!({"name": name_of(tool), "arguments": {}})
}

/// The params of `prompts/get` of `prompt`, its required arguments filled with a word.
fn prompt_params(prompt: &Value) -> Value {
    let mut arguments = Map::new();
    for argument in prompt
        .get("arguments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if argument.get("required").and_then(Value::as_bool) == Some(true)
            && let Some(name) = argument.get("name").and_then(Value::as_str)
        {
            arguments.insert(name.to_owned(), json!("Ada"));
        }
    }
    json!({"name": name_of(prompt), "arguments": arguments})
}

/// The first resource the server lists, if it declares resources.
async fn first_resource(ctx: &mut Ctx) -> Result<Option<Value>, String> {
    if !ctx.declares("resources") {
        return Ok(None);
    }
    Ok(ctx
        .list("resources/list", "resources")
        .await?
        .into_iter()
        .next())
}

/// The first prompt the server lists, if it declares prompts.
async fn first_prompt(ctx: &mut Ctx) -> Result<Option<Value>, String> {
    if !ctx.declares("prompts") {
        return Ok(None);
    }
    Ok(ctx
        .list("prompts/list", "prompts")
        .await?
        .into_iter()
        .next())
}

/// What is wrong with the `resultType` of `result`, a result of `method`.
fn result_type_problem(result: &Value, method: &str) -> Option<String> {
    let allowed: &[&str] = if matches!(method, "tools/call" | "prompts/get" | "resources/read") {
        &["complete", "input_required"]
    } else {
        &["complete"]
    };
    match result.get("resultType") {
        None => Some(format!("the result of `{method}` has no `resultType`")),
        Some(Value::String(value)) if allowed.contains(&value.as_str()) => None,
        Some(Value::String(value)) => Some(format!(
            "the result of `{method}` has `resultType` \"{value}\", expected one of {allowed:?}"
        )),
        Some(other) => Some(format!("the `resultType` of `{method}` is {}", kind(other))),
    }
}

/// Judges the `resultType` of the answers to `requests`.
async fn judge_result_types(
    ctx: &mut Ctx,
    requests: Vec<(&'static str, Option<Value>)>,
) -> Checked {
    if requests.is_empty() {
        return Ok(Outcome::Skip("nothing to ask for".to_owned()));
    }
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    let mut refused = Vec::new();
    for (method, params) in requests {
        let exchange = ctx.request(method, params).await?;
        // A request that needs client capabilities the suite did not declare is rightly
        // refused with -32021 (no result to judge).
        if exchange.error_code() == Some(-32021) {
            refused.push(format!("{method}: -32021"));
            continue;
        }
        let result = expect_result(&exchange, method)?;
        match result_type_problem(result, method) {
            Some(problem) => problems.push(problem),
            None => seen.push(format!(
                "{method}: {}",
                result.get("resultType").unwrap_or(&Value::Null)
            )),
        }
    }
    if problems.is_empty() && seen.is_empty() {
        return Ok(Outcome::Skip(format!(
            "every request needed client capabilities: {}",
            refused.join(", ")
        )));
    }
    if problems.is_empty() {
        Ok(Outcome::Pass(seen.join(", ")))
    } else {
        Ok(Outcome::Violated(problems.join("; ")))
    }
}

/// What is wrong with the caching hints of `result`.
fn cache_problems(result: &Value, what: &str) -> Vec<String> {
    let mut problems = Vec::new();
    match result.get("ttlMs") {
        Some(Value::Number(number)) if number.is_u64() => {}
        Some(Value::Number(number)) => {
            problems.push(format!("{what}: `ttlMs` is {number}, not an integer ≥ 0"))
        }
        other => problems.push(format!(
            "{what}: `ttlMs` is {}",
            other.map_or("missing", kind)
        )),
    }
    match result.get("cacheScope") {
        Some(Value::String(scope)) if scope == "public" || scope == "private" => {}
        Some(other) => problems.push(format!(
            "{what}: `cacheScope` is {other}, not \"public\" or \"private\""
        )),
        None => problems.push(format!("{what}: `cacheScope` is missing")),
    }
    problems
}

/// The list methods of the capabilities the server declares: (capability, method, key).
fn declared_lists(ctx: &Ctx) -> Vec<(&'static str, &'static str)> {
    let mut lists = Vec::new();
    if ctx.declares("tools") {
        lists.push(("tools/list", "tools"));
    }
    if ctx.declares("prompts") {
        lists.push(("prompts/list", "prompts"));
    }
    if ctx.declares("resources") {
        lists.push(("resources/list", "resources"));
        lists.push(("resources/templates/list", "resourceTemplates"));
    }
    lists
}

/// Every page of `method` in the modern era, as results; at most [`PAGE_LIMIT`].
async fn pages(ctx: &mut Ctx, method: &str, capabilities: Value) -> Result<Vec<Value>, Outcome> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..PAGE_LIMIT {
        let params = cursor.as_ref().map(|cursor| json!({"cursor": cursor}));
        let exchange = ctx
            .modern()?
            .request_with(method, params, capabilities.clone())
            .await?;
        let result = expect_result(&exchange, method)?.clone();
        let next = result
            .get("nextCursor")
            .and_then(Value::as_str)
            .map(str::to_owned);
        pages.push(result);
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(pages)
}

/// The names of the items under `key` of every page.
fn names(pages: &[Value], key: &str) -> Vec<String> {
    pages
        .iter()
        .filter_map(|page| page.get(key).and_then(Value::as_array))
        .flatten()
        .map(|item| name_of(item).to_owned())
        .collect()
}

/// The JSON-RPC requests among `messages`.
fn requests_among(messages: &[Value]) -> Vec<&Value> {
    messages
        .iter()
        .filter(|message| message.get("method").is_some() && message.get("id").is_some())
        .collect()
}

/// The `notifications/message` among `messages`.
fn log_messages(messages: &[Value]) -> Vec<&Value> {
    messages
        .iter()
        .filter(|message| {
            message.get("method").and_then(Value::as_str) == Some("notifications/message")
        })
        .collect()
}

// ----- server/discover -----

/// The `server/discover` result, asked for anew.
async fn discover(ctx: &mut Ctx) -> Result<Value, Outcome> {
    let exchange = ctx.request("server/discover", None).await?;
    Ok(expect_result(&exchange, "server/discover")?.clone())
}

/// The check `modern/discover-result`.
async fn discover_result(ctx: &mut Ctx) -> Checked {
    let result = discover(ctx).await?;
    let mut problems = Vec::new();
    match result.get("supportedVersions") {
        Some(Value::Array(versions)) => {
            if !versions.iter().all(Value::is_string) {
                problems.push("`supportedVersions` holds a value that is no string".to_owned());
            }
            if !versions.iter().any(|version| version == MODERN) {
                problems.push(format!("`supportedVersions` lacks {MODERN}"));
            }
        }
        other => problems.push(format!(
            "`supportedVersions` is {}",
            other.map_or("missing", kind)
        )),
    }
    match result.get("capabilities") {
        Some(Value::Object(_)) => {}
        other => problems.push(format!(
            "`capabilities` is {}",
            other.map_or("missing", kind)
        )),
    }
    if let Some(instructions) = result.get("instructions")
        && !instructions.is_string()
    {
        problems.push(format!("`instructions` is {}", kind(instructions)));
    }
    Ok(verdict(problems, &result))
}

/// Whether `text` has the form `YYYY-MM-DD`.
fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        })
}

/// The check `modern/discover-versions`.
async fn discover_versions(ctx: &mut Ctx) -> Checked {
    let result = discover(ctx).await?;
    let versions = result
        .get("supportedVersions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let odd: Vec<String> = versions
        .iter()
        .filter(|version| !version.as_str().is_some_and(is_date))
        .map(Value::to_string)
        .collect();
    if odd.is_empty() {
        Ok(Outcome::Pass(format!(
            "supportedVersions: {}",
            Value::Array(versions)
        )))
    } else {
        Ok(Outcome::Violated(format!(
            "versions that are no revision date: {}",
            odd.join(", ")
        )))
    }
}

/// The check `modern/discover-cache-hints`.
async fn discover_cache_hints(ctx: &mut Ctx) -> Checked {
    let result = discover(ctx).await?;
    Ok(verdict(cache_problems(&result, "server/discover"), &result))
}

/// The check `modern/discover-server-info`.
async fn discover_server_info(ctx: &mut Ctx) -> Checked {
    let result = discover(ctx).await?;
    match result
        .get("_meta")
        .and_then(|meta| meta.get(META_SERVER_INFO))
    {
        Some(info) => Ok(Outcome::Pass(crate::clip(&info.to_string()))),
        None => Ok(Outcome::Violated(format!(
            "no `_meta` `{META_SERVER_INFO}` in {}",
            crate::clip(&result.to_string())
        ))),
    }
}

// ----- resultType -----

/// The check `modern/result-type-discover`.
async fn result_type_discover(ctx: &mut Ctx) -> Checked {
    judge_result_types(ctx, vec![("server/discover", None)]).await
}

/// The check `modern/result-type-lists`.
async fn result_type_lists(ctx: &mut Ctx) -> Checked {
    let requests = declared_lists(ctx)
        .into_iter()
        .map(|(method, _)| (method, None))
        .collect();
    judge_result_types(ctx, requests).await
}

/// The check `modern/result-type-read`.
async fn result_type_read(ctx: &mut Ctx) -> Checked {
    let Some(resource) = first_resource(ctx).await? else {
        return Ok(Outcome::Skip("the server lists no resource".to_owned()));
    };
    let uri = resource.get("uri").cloned().unwrap_or(Value::Null);
    judge_result_types(ctx, vec![("resources/read", Some(json!({"uri": uri})))]).await
}

/// The check `modern/result-type-prompt`.
async fn result_type_prompt(ctx: &mut Ctx) -> Checked {
    let Some(prompt) = first_prompt(ctx).await? else {
        return Ok(Outcome::Skip("the server lists no prompt".to_owned()));
    };
    judge_result_types(ctx, vec![("prompts/get", Some(prompt_params(&prompt)))]).await
}

/// The check `modern/result-type-tool-call`.
async fn result_type_tool_call(ctx: &mut Ctx) -> Checked {
    let tools = callable_tools(ctx, &["echo", "add"], 1).await?;
    let Some(tool) = tools.first() else {
        return Ok(Outcome::Skip(
            "no tool may be called with no arguments (none read-only, or `--call-tools` not given)"
                .to_owned(),
        ));
    };
    judge_result_types(ctx, vec![("tools/call", Some(call_params(tool)))]).await
}

/// The check `modern/result-type-completion`.
async fn result_type_completion(ctx: &mut Ctx) -> Checked {
    if !ctx.declares("completions") {
        return Ok(Outcome::Skip(
            "the server does not declare `completions`".to_owned(),
        ));
    }
    let prompt = first_prompt(ctx).await?;
    let argument = prompt.as_ref().and_then(|prompt| {
        prompt
            .get("arguments")
            .and_then(Value::as_array)
            .and_then(|arguments| arguments.first())
            .and_then(|argument| argument.get("name"))
            .cloned()
    });
    let (Some(prompt), Some(argument)) = (prompt, argument) else {
        return Ok(Outcome::Skip(
            "no prompt with an argument to complete".to_owned(),
        ));
    };
    let params = json!({
        "ref": {"type": "ref/prompt", "name": name_of(&prompt)},
        "argument": {"name": argument, "value": ""},
    });
    judge_result_types(ctx, vec![("completion/complete", Some(params))]).await
}

/// The check `modern/input-required-methods`.
async fn input_required_methods(ctx: &mut Ctx) -> Checked {
    let mut requests: Vec<(&'static str, Option<Value>)> = vec![("server/discover", None)];
    requests.extend(
        declared_lists(ctx)
            .into_iter()
            .map(|(method, _)| (method, None)),
    );
    let mut problems = Vec::new();
    for (method, params) in &requests {
        let exchange = ctx.request(method, params.clone()).await?;
        if exchange
            .result()
            .and_then(|result| result.get("resultType"))
            .is_some_and(|value| value == "input_required")
        {
            problems.push(format!("`{method}` answered `input_required`"));
        }
    }
    if problems.is_empty() {
        Ok(Outcome::Pass(format!(
            "no `input_required` from {}",
            requests
                .iter()
                .map(|(method, _)| *method)
                .collect::<Vec<_>>()
                .join(", ")
        )))
    } else {
        Ok(Outcome::Violated(problems.join("; ")))
    }
}

// ----- Per-request _meta -----

/// The check `modern/missing-protocol-version`.
async fn missing_protocol_version(ctx: &mut Ctx) -> Checked {
    let params = params_with_meta(None, json!({}), |meta| {
        meta.remove(META_VERSION);
    });
    let exchange = send_exact(ctx, "server/discover", params, MODERN).await?;
    Ok(expect_error_code(
        &exchange,
        -32602,
        "`server/discover` without a protocol version in `_meta`",
    ))
}

/// The check `modern/missing-client-capabilities`.
async fn missing_client_capabilities(ctx: &mut Ctx) -> Checked {
    let params = params_with_meta(None, json!({}), |meta| {
        meta.remove(META_CAPABILITIES);
    });
    let exchange = send_exact(ctx, "server/discover", params, MODERN).await?;
    Ok(expect_error_code(
        &exchange,
        -32602,
        "`server/discover` without client capabilities in `_meta`",
    ))
}

/// The check `modern/client-info-optional`.
async fn client_info_optional(ctx: &mut Ctx) -> Checked {
    let params = params_with_meta(None, json!({}), |meta| {
        meta.remove(META_CLIENT_INFO);
    });
    let exchange = send_exact(ctx, "server/discover", params, MODERN).await?;
    expect_result(&exchange, "`server/discover` without `clientInfo`")?;
    Ok(Outcome::Pass("served without `clientInfo`".to_owned()))
}

/// The check `modern/malformed-client-capabilities`.
async fn malformed_client_capabilities(ctx: &mut Ctx) -> Checked {
    let params = params_with_meta(None, json!("none"), |_| {});
    let exchange = send_exact(ctx, "server/discover", params, MODERN).await?;
    Ok(expect_error_code(
        &exchange,
        -32602,
        "`server/discover` with the string \"none\" as client capabilities",
    ))
}

/// The check `modern/invalid-log-level`.
async fn invalid_log_level(ctx: &mut Ctx) -> Checked {
    let exchange = request_logged(ctx, "server/discover", None, "chatty").await?;
    Ok(expect_error_code(
        &exchange,
        -32602,
        "`server/discover` with log level \"chatty\"",
    ))
}

/// `server/discover` in a version no server speaks.
async fn ask_unknown_version(ctx: &mut Ctx) -> Result<Exchange, String> {
    let params = params_with_meta(None, json!({}), |meta| {
        meta.insert(META_VERSION.to_owned(), json!(UNKNOWN_VERSION));
    });
    send_exact(ctx, "server/discover", params, UNKNOWN_VERSION).await
}

/// The check `modern/unsupported-version`.
async fn unsupported_version(ctx: &mut Ctx) -> Checked {
    let exchange = ask_unknown_version(ctx).await?;
    Ok(expect_error_code(
        &exchange,
        -32022,
        &format!("`server/discover` in version {UNKNOWN_VERSION}"),
    ))
}

/// The check `modern/unsupported-version-data`.
async fn unsupported_version_data(ctx: &mut Ctx) -> Checked {
    let exchange = ask_unknown_version(ctx).await?;
    if exchange.error_code() != Some(-32022) {
        return Ok(Outcome::Skip(format!(
            "no -32022 to look into: {}",
            exchange.seen()
        )));
    }
    let data = exchange
        .error()
        .and_then(|error| error.get("data"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut problems = Vec::new();
    match data.get("supported") {
        Some(Value::Array(versions)) if versions.iter().all(Value::is_string) => {
            if !versions.iter().any(|version| version == MODERN) {
                problems.push(format!(
                    "`data.supported` lacks {MODERN}, which `server/discover` lists"
                ));
            }
        }
        Some(other) => problems.push(format!(
            "`data.supported` is {}, not an array of strings",
            kind(other)
        )),
        None => problems.push("`data.supported` is missing".to_owned()),
    }
    match data.get("requested") {
        Some(Value::String(requested)) if requested == UNKNOWN_VERSION => {}
        Some(other) => problems.push(format!(
            "`data.requested` is {other}, not \"{UNKNOWN_VERSION}\""
        )),
        None => problems.push("`data.requested` is missing".to_owned()),
    }
    Ok(verdict(problems, &data))
}

// ----- Statelessness -----

/// The check `modern/no-inferred-version`.
async fn no_inferred_version(ctx: &mut Ctx) -> Checked {
    for method in ["server/discover", "tools/list"] {
        ctx.request(method, None).await?;
    }
    let params = params_with_meta(None, json!({}), |meta| {
        meta.remove(META_VERSION);
    });
    let exchange = send_exact(ctx, "server/discover", params, MODERN).await?;
    Ok(expect_error_code(
        &exchange,
        -32602,
        "after two modern requests, `server/discover` without a protocol version",
    ))
}

/// The check `modern/no-inferred-capabilities`.
async fn no_inferred_capabilities(ctx: &mut Ctx) -> Checked {
    if !ctx.declares("tools") {
        return Ok(Outcome::Skip(
            "the server does not declare tools".to_owned(),
        ));
    }
    let bare = names(&pages(ctx, "tools/list", json!({})).await?, "tools");
    let rich = names(
        &pages(ctx, "tools/list", every_capability()).await?,
        "tools",
    );
    let again = names(&pages(ctx, "tools/list", json!({})).await?, "tools");
    let gated: Vec<&String> = rich.iter().filter(|name| !bare.contains(name)).collect();
    let shown: Vec<&&String> = gated.iter().filter(|name| again.contains(name)).collect();
    if !shown.is_empty() {
        return Ok(Outcome::Violated(format!(
            "after a request that declared every client capability, a request with none lists {shown:?}, which a client with none did not see before"
        )));
    }
    if again != bare {
        return Ok(Outcome::Violated(format!(
            "`tools/list` with no capabilities changed after a request that declared them: {bare:?} then {again:?}"
        )));
    }
    Ok(Outcome::Pass(if gated.is_empty() {
        format!(
            "`tools/list` is the same ({} tools) whatever was declared before",
            bare.len()
        )
    } else {
        format!(
            "tools {gated:?} are shown only to a request that declares the capabilities they need"
        )
    }))
}

/// The tools that log, or report progress: the likeliest to send `notifications/message`.
async fn logging_tools(ctx: &mut Ctx) -> Result<Vec<Value>, String> {
    callable_tools(ctx, &["log", "progress"], 2).await
}

/// The check `modern/no-inferred-log-level`.
async fn no_inferred_log_level(ctx: &mut Ctx) -> Checked {
    let tools = logging_tools(ctx).await?;
    let Some(tool) = tools.first() else {
        return Ok(Outcome::Skip(
            "no tool may be called with no arguments".to_owned(),
        ));
    };
    let logged = request_logged(ctx, "tools/call", Some(call_params(tool)), "debug").await?;
    let asked = log_messages(&logged.others).len();
    let exchange = ctx.request("tools/call", Some(call_params(tool))).await?;
    let sent = log_messages(&exchange.others);
    if sent.is_empty() {
        Ok(Outcome::Pass(format!(
            "`{}` logged {asked} messages at level debug, none without a level after it",
            name_of(tool)
        )))
    } else {
        Ok(Outcome::Violated(format!(
            "after a call at log level debug, a call without a level got {} log messages: {}",
            sent.len(),
            crate::clip(&sent[0].to_string())
        )))
    }
}

/// The check `modern/no-log-without-level`.
async fn no_log_without_level(ctx: &mut Ctx) -> Checked {
    let tools = logging_tools(ctx).await?;
    if tools.is_empty() {
        return Ok(Outcome::Skip(
            "no tool may be called with no arguments".to_owned(),
        ));
    }
    let mut called = Vec::new();
    for tool in &tools {
        let exchange = ctx.request("tools/call", Some(call_params(tool))).await?;
        if let Some(message) = log_messages(&exchange.others).first() {
            return Ok(Outcome::Violated(format!(
                "`{}` called without a log level sent {}",
                name_of(tool),
                crate::clip(&message.to_string())
            )));
        }
        called.push(name_of(tool).to_owned());
    }
    Ok(Outcome::Pass(format!(
        "no log message from {}",
        called.join(", ")
    )))
}

// ----- Removed methods -----

/// A violation unless `method` with `params` is answered -32601.
async fn removed(ctx: &mut Ctx, method: &str, params: Option<Value>) -> Checked {
    let exchange = ctx.request(method, params).await?;
    Ok(expect_error_code(
        &exchange,
        -32601,
        &format!("`{method}` in the modern era"),
    ))
}

/// The check `modern/removed-ping`.
async fn removed_ping(ctx: &mut Ctx) -> Checked {
    removed(ctx, "ping", None).await
}

/// The check `modern/removed-set-level`.
async fn removed_set_level(ctx: &mut Ctx) -> Checked {
    removed(ctx, "logging/setLevel", Some(json!({"level": "debug"}))).await
}

/// The check `modern/removed-subscribe`.
async fn removed_subscribe(ctx: &mut Ctx) -> Checked {
    let uri = first_resource(ctx)
        .await?
        .and_then(|resource| resource.get("uri").cloned())
        .unwrap_or_else(|| json!("mcpwire-conformance://missing"));
    removed(ctx, "resources/subscribe", Some(json!({"uri": uri}))).await
}

/// The check `modern/removed-unsubscribe`.
async fn removed_unsubscribe(ctx: &mut Ctx) -> Checked {
    let uri = first_resource(ctx)
        .await?
        .and_then(|resource| resource.get("uri").cloned())
        .unwrap_or_else(|| json!("mcpwire-conformance://missing"));
    removed(ctx, "resources/unsubscribe", Some(json!({"uri": uri}))).await
}

/// The check `modern/removed-tasks-list`.
async fn removed_tasks_list(ctx: &mut Ctx) -> Checked {
    removed(ctx, "tasks/list", None).await
}

// ----- Error codes -----

/// A URI no server has.
const MISSING_URI: &str = "mcpwire-conformance://missing/resource";

/// The check `modern/missing-resource`.
async fn missing_resource(ctx: &mut Ctx) -> Checked {
    if !ctx.declares("resources") {
        return Ok(Outcome::Skip(
            "the server does not declare resources".to_owned(),
        ));
    }
    let exchange = ctx
        .request("resources/read", Some(json!({"uri": MISSING_URI})))
        .await?;
    if let Some(result) = exchange.result() {
        let empty = result
            .get("contents")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty);
        return Ok(Outcome::Violated(format!(
            "a resource that does not exist was read{}: {}",
            if empty { " as empty `contents`" } else { "" },
            exchange.seen()
        )));
    }
    Ok(expect_error_code(
        &exchange,
        -32602,
        "`resources/read` of a resource that does not exist",
    ))
}

/// Whether a modern server may emit error `code`.
fn code_allowed(code: i64) -> bool {
    !matches!(code, -32002 | -32042 | -32099..=-32023)
}

/// The check `modern/no-retired-codes`.
async fn no_retired_codes(ctx: &mut Ctx) -> Checked {
    let mut requests: Vec<(&str, Option<Value>)> =
        vec![("mcpwire-conformance/no-such-method", None)];
    if ctx.declares("resources") {
        requests.push(("resources/read", Some(json!({"uri": MISSING_URI}))));
    }
    if ctx.declares("tools") {
        requests.push((
            "tools/call",
            Some(json!({"name": "mcpwire-conformance-no-such-tool", "arguments": {}})),
        ));
    }
    if ctx.declares("prompts") {
        requests.push((
            "prompts/get",
            Some(json!({"name": "mcpwire-conformance-no-such-prompt"})),
        ));
    }
    let mut seen = Vec::new();
    for (method, params) in requests {
        let exchange = ctx.request(method, params).await?;
        if let Some(code) = exchange.error_code() {
            if !code_allowed(code) {
                return Ok(Outcome::Violated(format!(
                    "`{method}` got error {code}: {}",
                    exchange.seen()
                )));
            }
            seen.push(format!("{method}: {code}"));
        }
    }
    Ok(Outcome::Pass(seen.join(", ")))
}

// ----- Client capabilities and input requests -----

/// The tools a check may call that only a request declaring client capabilities sees.
async fn gated_tools(ctx: &mut Ctx) -> Result<Vec<Value>, Outcome> {
    if !ctx.declares("tools") {
        return Ok(Vec::new());
    }
    let bare = names(&pages(ctx, "tools/list", json!({})).await?, "tools");
    let rich = pages(ctx, "tools/list", every_capability()).await?;
    Ok(rich
        .iter()
        .filter_map(|page| page.get("tools").and_then(Value::as_array))
        .flatten()
        .filter(|tool| !bare.iter().any(|name| name == name_of(tool)))
        .filter(|tool| ctx.may_call(tool) && needs_no_arguments(tool))
        .take(3)
        .cloned()
        .collect())
}

/// The check `modern/missing-capability`.
async fn missing_capability(ctx: &mut Ctx) -> Checked {
    let tools = gated_tools(ctx).await?;
    let Some(tool) = tools.first() else {
        return Ok(Outcome::Skip(
            "no callable tool is shown only to clients that declare capabilities".to_owned(),
        ));
    };
    let exchange = ctx.request("tools/call", Some(call_params(tool))).await?;
    let what = format!(
        "`{}`, shown only to a client with capabilities, called with none",
        name_of(tool)
    );
    if exchange.error_code() != Some(-32021) {
        if exchange
            .result()
            .and_then(|result| result.get("resultType"))
            .is_some_and(|value| value == "input_required")
        {
            return Ok(Outcome::Skip(format!(
                "{what}: it asked for input instead, which `modern/input-required-declared` judges"
            )));
        }
        return Ok(expect_error_code(&exchange, -32021, &what));
    }
    match exchange
        .error()
        .and_then(|error| error.get("data"))
        .and_then(|data| data.get("requiredCapabilities"))
    {
        Some(Value::Object(required)) if !required.is_empty() => Ok(Outcome::Pass(format!(
            "{what}: -32021 requiring {}",
            Value::Object(required.clone())
        ))),
        other => Ok(Outcome::Violated(format!(
            "{what}: -32021 but `data.requiredCapabilities` is {}: {}",
            other.map_or("missing", kind),
            exchange.seen()
        ))),
    }
}

/// The capability an input request of `method` needs.
fn capability_of(method: &str) -> Option<&'static str> {
    match method {
        "elicitation/create" => Some("elicitation"),
        "sampling/createMessage" => Some("sampling"),
        "roots/list" => Some("roots"),
        _ => None,
    }
}

/// The `input_required` results of the requests a check may make, each with the client
/// capabilities its request declared: tools, the first prompt and resource with none, and
/// the tools that need capabilities with those the server asked for (or every one).
async fn input_required_results(ctx: &mut Ctx) -> Result<(Vec<(Value, Value)>, usize), Outcome> {
    let mut requests: Vec<(&str, Value, Value)> = Vec::new();
    for tool in callable_tools(ctx, &[], 3).await? {
        requests.push(("tools/call", call_params(&tool), json!({})));
    }
    if let Some(prompt) = first_prompt(ctx).await? {
        requests.push(("prompts/get", prompt_params(&prompt), json!({})));
    }
    if let Some(resource) = first_resource(ctx).await? {
        let uri = resource.get("uri").cloned().unwrap_or(Value::Null);
        requests.push(("resources/read", json!({"uri": uri}), json!({})));
    }
    for tool in gated_tools(ctx).await? {
        let params = call_params(&tool);
        let refused = ctx
            .modern()?
            .request_with("tools/call", Some(params.clone()), json!({}))
            .await?;
        let capabilities = refused
            .error()
            .and_then(|error| error.get("data"))
            .and_then(|data| data.get("requiredCapabilities"))
            .filter(|required| required.is_object())
            .cloned()
            .unwrap_or_else(every_capability);
        requests.push(("tools/call", params, capabilities));
    }
    let made = requests.len();
    let mut results = Vec::new();
    for (method, params, capabilities) in requests {
        let exchange = ctx
            .modern()?
            .request_with(method, Some(params), capabilities.clone())
            .await?;
        if let Some(result) = exchange.result()
            && result
                .get("resultType")
                .is_some_and(|value| value == "input_required")
        {
            results.push((result.clone(), capabilities));
        }
    }
    Ok((results, made))
}

/// The check `modern/input-required-declared`.
async fn input_required_declared(ctx: &mut Ctx) -> Checked {
    let (results, made) = input_required_results(ctx).await?;
    for (result, capabilities) in &results {
        for (key, request) in result
            .get("inputRequests")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let method = request
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let declared = capability_of(method)
                .is_some_and(|capability| capabilities.get(capability).is_some());
            if !declared {
                return Ok(Outcome::Violated(format!(
                    "input request `{key}` asks for `{method}`, which client capabilities {capabilities} do not declare"
                )));
            }
        }
    }
    Ok(Outcome::Pass(format!(
        "{made} requests, {} asked for input, only what was declared",
        results.len()
    )))
}

/// The check `modern/input-required-has-inputs`.
async fn input_required_has_inputs(ctx: &mut Ctx) -> Checked {
    let (results, made) = input_required_results(ctx).await?;
    if results.is_empty() {
        return Ok(Outcome::Skip(format!(
            "none of {made} requests asked for input"
        )));
    }
    for (result, _) in &results {
        if result.get("inputRequests").is_none() && result.get("requestState").is_none() {
            return Ok(Outcome::Violated(format!(
                "an `input_required` result with neither `inputRequests` nor `requestState`: {}",
                crate::clip(&result.to_string())
            )));
        }
    }
    Ok(Outcome::Pass(format!(
        "{} `input_required` results, each with inputs or state",
        results.len()
    )))
}

/// The check `modern/input-requests-shape`.
async fn input_requests_shape(ctx: &mut Ctx) -> Checked {
    let (results, made) = input_required_results(ctx).await?;
    let requests: Vec<(String, Value)> = results
        .iter()
        .filter_map(|(result, _)| result.get("inputRequests"))
        .filter_map(Value::as_object)
        .flatten()
        .map(|(key, request)| (key.clone(), request.clone()))
        .collect();
    if requests.is_empty() {
        return Ok(Outcome::Skip(format!(
            "none of {made} requests asked for input"
        )));
    }
    for (key, request) in &requests {
        let method = request.get("method").and_then(Value::as_str);
        if method.and_then(capability_of).is_none() {
            return Ok(Outcome::Violated(format!(
                "input request `{key}` is no elicitation, sampling or roots request: {request}"
            )));
        }
        if request.get("jsonrpc").is_some() || request.get("id").is_some() {
            return Ok(Outcome::Violated(format!(
                "input request `{key}` is a JSON-RPC message (with `jsonrpc` or `id`): {request}"
            )));
        }
    }
    Ok(Outcome::Pass(format!("{} input requests", requests.len())))
}

// ----- subscriptions/listen -----

/// What a `subscriptions/listen` stream gave within [`LISTEN_WINDOW`].
struct Listened {
    /// The id of the listen request.
    id: Value,
    /// The messages of the stream, in order.
    messages: Vec<Value>,
}

/// Opens `subscriptions/listen` with `filter` on a connection of its own and reads it for a
/// while. `Err(Skip)` when the server does not support it.
async fn listen(ctx: &mut Ctx, filter: Value) -> Result<Listened, Outcome> {
    let mut modern = ctx.fresh_modern()?;
    let id = json!("listen-1");
    let params = with_modern_meta(Some(json!({"notifications": filter})), json!({}));
    let headers = modern_headers("subscriptions/listen", Some(&params));
    let body = request_body(&id, "subscriptions/listen", Some(params));
    let mut messages = Vec::new();
    match modern.conn() {
        Conn::Http(wire) => {
            let mut request = HttpRequest::post(body.to_string().into_bytes());
            for (name, value) in &headers {
                request = request.header(name, value);
            }
            let reply = wire.send(request, Until::TimeLimit, LISTEN_WINDOW).await;
            match reply {
                Ok(reply) => messages = reply.messages,
                Err(error) => {
                    modern.close().await;
                    return Err(Outcome::Violated(error));
                }
            }
        }
        // The modern era is never spoken over HTTP+SSE.
        Conn::Sse(_) => {
            modern.close().await;
            return Err(Outcome::Skip("no modern era over HTTP+SSE".into()));
        }
        Conn::Stdio(wire) => {
            wire.write(format!("{body}\n").as_bytes()).await?;
            let deadline = tokio::time::Instant::now() + LISTEN_WINDOW;
            loop {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                match wire.next(left).await {
                    Line::Text(line) => {
                        if let Ok(message) = serde_json::from_slice::<Value>(&line) {
                            messages.push(message);
                        }
                    }
                    Line::TooLong(_) => {}
                    Line::Closed | Line::TimedOut => break,
                }
            }
            let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": id}});
            let _ = wire.write(format!("{cancel}\n").as_bytes()).await;
        }
    }
    modern.close().await;
    let refused = messages
        .iter()
        .find(|message| message.get("id") == Some(&id) && message.get("error").is_some());
    if let Some(refused) = refused {
        let code = refused["error"]["code"].as_i64();
        if code == Some(-32601) {
            return Err(Outcome::Skip(
                "the server does not support `subscriptions/listen` (-32601)".to_owned(),
            ));
        }
        return Err(Outcome::Violated(format!(
            "`subscriptions/listen` failed: {}",
            crate::clip(&refused.to_string())
        )));
    }
    if messages.is_empty() {
        return Err(Outcome::Violated(format!(
            "`subscriptions/listen` sent nothing within {} ms",
            LISTEN_WINDOW.as_millis()
        )));
    }
    Ok(Listened { id, messages })
}

/// The filter a check asks for: every list the server says can change.
fn list_filter(ctx: &Ctx) -> Value {
    let capabilities = ctx.capabilities();
    let changes = |name: &str| capabilities[name]["listChanged"] == json!(true);
    let mut filter = Map::new();
    if changes("tools") {
        filter.insert("toolsListChanged".to_owned(), json!(true));
    }
    if changes("prompts") {
        filter.insert("promptsListChanged".to_owned(), json!(true));
    }
    if changes("resources") {
        filter.insert("resourcesListChanged".to_owned(), json!(true));
    }
    if filter.is_empty() {
        filter.insert("toolsListChanged".to_owned(), json!(true));
    }
    Value::Object(filter)
}

/// The notifications among `messages`.
fn notifications(messages: &[Value]) -> Vec<&Value> {
    messages
        .iter()
        .filter(|message| message.get("method").is_some() && message.get("id").is_none())
        .collect()
}

/// The check `modern/listen-acknowledged-first`.
async fn listen_acknowledged_first(ctx: &mut Ctx) -> Checked {
    let filter = list_filter(ctx);
    let listened = listen(ctx, filter).await?;
    let first = &listened.messages[0];
    if first.get("method").and_then(Value::as_str)
        == Some("notifications/subscriptions/acknowledged")
    {
        Ok(Outcome::Pass(crate::clip(&first.to_string())))
    } else {
        Ok(Outcome::Violated(format!(
            "the first message of the stream is {}",
            crate::clip(&first.to_string())
        )))
    }
}

/// The check `modern/listen-subscription-id`.
async fn listen_subscription_id(ctx: &mut Ctx) -> Checked {
    let filter = list_filter(ctx);
    let listened = listen(ctx, filter).await?;
    let notifications = notifications(&listened.messages);
    for notification in &notifications {
        let tagged = notification
            .get("params")
            .and_then(|params| params.get("_meta"))
            .and_then(|meta| meta.get(META_SUBSCRIPTION));
        if tagged != Some(&listened.id) {
            return Ok(Outcome::Violated(format!(
                "a notification of the stream of listen request {} carries `subscriptionId` {}: {}",
                listened.id,
                tagged.map_or("(none)".to_owned(), Value::to_string),
                crate::clip(&notification.to_string())
            )));
        }
    }
    Ok(Outcome::Pass(format!(
        "{} notifications, each tagged {}",
        notifications.len(),
        listened.id
    )))
}

/// The check `modern/listen-acknowledged-subset`.
async fn listen_acknowledged_subset(ctx: &mut Ctx) -> Checked {
    let filter = json!({"toolsListChanged": true});
    let listened = listen(ctx, filter).await?;
    let Some(acknowledged) = listened.messages.iter().find(|message| {
        message.get("method").and_then(Value::as_str)
            == Some("notifications/subscriptions/acknowledged")
    }) else {
        return Ok(Outcome::Violated(
            "no `notifications/subscriptions/acknowledged` on the stream".to_owned(),
        ));
    };
    let honoured = acknowledged
        .get("params")
        .and_then(|params| params.get("notifications"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let extra: Vec<&String> = honoured
        .iter()
        .filter(|(name, value)| {
            *name != "toolsListChanged"
                && !matches!(value, Value::Bool(false) | Value::Null)
                && !value.as_array().is_some_and(Vec::is_empty)
        })
        .map(|(name, _)| name)
        .collect();
    let unasked: Vec<String> = notifications(&listened.messages)
        .iter()
        .filter_map(|message| message.get("method").and_then(Value::as_str))
        .filter(|method| {
            *method != "notifications/subscriptions/acknowledged"
                && *method != "notifications/tools/list_changed"
        })
        .map(str::to_owned)
        .collect();
    if !extra.is_empty() {
        return Ok(Outcome::Violated(format!(
            "asked for `toolsListChanged` alone, the acknowledgment honours {extra:?}"
        )));
    }
    if !unasked.is_empty() {
        return Ok(Outcome::Violated(format!(
            "asked for `toolsListChanged` alone, the stream sent {unasked:?}"
        )));
    }
    Ok(Outcome::Pass(format!(
        "acknowledged {}",
        Value::Object(honoured)
    )))
}

// ----- Caching -----

/// The check `modern/cache-hints-lists`.
async fn cache_hints_lists(ctx: &mut Ctx) -> Checked {
    let lists = declared_lists(ctx);
    if lists.is_empty() {
        return Ok(Outcome::Skip("the server declares no list".to_owned()));
    }
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for (method, _) in lists {
        let exchange = ctx.request(method, None).await?;
        let result = expect_result(&exchange, method)?;
        problems.extend(cache_problems(result, method));
        seen.push(format!(
            "{method}: {} {}",
            result.get("ttlMs").unwrap_or(&Value::Null),
            result.get("cacheScope").unwrap_or(&Value::Null)
        ));
    }
    if problems.is_empty() {
        Ok(Outcome::Pass(seen.join(", ")))
    } else {
        Ok(Outcome::Violated(problems.join("; ")))
    }
}

/// The check `modern/cache-hints-read`.
async fn cache_hints_read(ctx: &mut Ctx) -> Checked {
    let Some(resource) = first_resource(ctx).await? else {
        return Ok(Outcome::Skip("the server lists no resource".to_owned()));
    };
    let uri = resource.get("uri").cloned().unwrap_or(Value::Null);
    let exchange = ctx
        .request("resources/read", Some(json!({"uri": uri})))
        .await?;
    let result = expect_result(&exchange, "resources/read")?;
    if result
        .get("resultType")
        .is_some_and(|value| value != "complete")
    {
        return Ok(Outcome::Skip(format!(
            "reading {uri} did not complete: {}",
            exchange.seen()
        )));
    }
    Ok(verdict(cache_problems(result, "resources/read"), result))
}

/// The check `modern/cache-scope-pages`.
async fn cache_scope_pages(ctx: &mut Ctx) -> Checked {
    let lists = declared_lists(ctx);
    let mut paged = Vec::new();
    for (method, _) in lists {
        let pages = pages(ctx, method, json!({})).await?;
        let scopes: Vec<Value> = pages
            .iter()
            .map(|page| page.get("cacheScope").cloned().unwrap_or(Value::Null))
            .collect();
        if scopes.windows(2).any(|pair| pair[0] != pair[1]) {
            return Ok(Outcome::Violated(format!(
                "the pages of `{method}` have `cacheScope` {}",
                Value::Array(scopes)
            )));
        }
        if pages.len() > 1 {
            paged.push(format!("{method}: {} pages", pages.len()));
        }
    }
    if paged.is_empty() {
        return Ok(Outcome::Skip("no list has more than one page".to_owned()));
    }
    Ok(Outcome::Pass(format!(
        "one `cacheScope` on every page of {}",
        paged.join(", ")
    )))
}

// ----- serverInfo -----

/// The results of a few requests every server answers, by method.
async fn some_results(ctx: &mut Ctx) -> Result<Vec<(&'static str, Value)>, Outcome> {
    let mut requests: Vec<&'static str> = vec!["server/discover"];
    requests.extend(declared_lists(ctx).into_iter().map(|(method, _)| method));
    let mut results = Vec::new();
    for method in requests {
        let exchange = ctx.request(method, None).await?;
        results.push((method, expect_result(&exchange, method)?.clone()));
    }
    Ok(results)
}

/// The check `modern/server-info-meta`.
async fn server_info_meta(ctx: &mut Ctx) -> Checked {
    let results = some_results(ctx).await?;
    let missing: Vec<&str> = results
        .iter()
        .filter(|(_, result)| {
            result
                .get("_meta")
                .and_then(|meta| meta.get(META_SERVER_INFO))
                .is_none()
        })
        .map(|(method, _)| *method)
        .collect();
    if missing.is_empty() {
        Ok(Outcome::Pass(format!(
            "serverInfo in {} results",
            results.len()
        )))
    } else {
        Ok(Outcome::Violated(format!(
            "no `_meta` `{META_SERVER_INFO}` in the results of {}",
            missing.join(", ")
        )))
    }
}

/// The check `modern/server-info-shape`.
async fn server_info_shape(ctx: &mut Ctx) -> Checked {
    let results = some_results(ctx).await?;
    let mut checked = 0;
    for (method, result) in &results {
        let Some(info) = result
            .get("_meta")
            .and_then(|meta| meta.get(META_SERVER_INFO))
        else {
            continue;
        };
        checked += 1;
        for field in ["name", "version"] {
            if !info.get(field).is_some_and(Value::is_string) {
                return Ok(Outcome::Violated(format!(
                    "the serverInfo of `{method}` has no string `{field}`: {info}"
                )));
            }
        }
    }
    if checked == 0 {
        return Ok(Outcome::Skip("no result carries serverInfo".to_owned()));
    }
    Ok(Outcome::Pass(format!(
        "{checked} serverInfo, each well formed"
    )))
}

// ----- No server requests -----

/// The check `modern/no-server-requests`.
async fn no_server_requests(ctx: &mut Ctx) -> Checked {
    let mut exchanges = Vec::new();
    exchanges.push((
        "server/discover".to_owned(),
        ctx.request("server/discover", None).await?,
    ));
    for tool in callable_tools(ctx, &["roots", "ask", "elicit", "sample"], 3).await? {
        let exchange = ctx.request("tools/call", Some(call_params(&tool))).await?;
        exchanges.push((format!("tools/call {}", name_of(&tool)), exchange));
    }
    for tool in gated_tools(ctx).await? {
        let exchange = ctx
            .modern()?
            .request_with("tools/call", Some(call_params(&tool)), every_capability())
            .await?;
        exchanges.push((format!("tools/call {}", name_of(&tool)), exchange));
    }
    if let Some(prompt) = first_prompt(ctx).await? {
        let exchange = ctx
            .request("prompts/get", Some(prompt_params(&prompt)))
            .await?;
        exchanges.push(("prompts/get".to_owned(), exchange));
    }
    for (what, exchange) in &exchanges {
        if let Some(request) = requests_among(&exchange.others).first() {
            return Ok(Outcome::Violated(format!(
                "while answering {what}, the server sent a request: {}",
                crate::clip(&request.to_string())
            )));
        }
    }
    Ok(Outcome::Pass(format!(
        "no request from the server in {} exchanges",
        exchanges.len()
    )))
}

// ----- Lists -----

/// The check `modern/lists-not-per-connection`.
async fn lists_not_per_connection(ctx: &mut Ctx) -> Checked {
    if !ctx.declares("tools") {
        return Ok(Outcome::Skip(
            "the server does not declare tools".to_owned(),
        ));
    }
    let mut first = names(&pages(ctx, "tools/list", json!({})).await?, "tools");
    let mut fresh = ctx.fresh_modern()?;
    let mut other = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..PAGE_LIMIT {
        let params = cursor.as_ref().map(|cursor| json!({"cursor": cursor}));
        let exchange = match fresh.request("tools/list", params).await {
            Ok(exchange) => exchange,
            Err(error) => {
                fresh.close().await;
                return Err(Outcome::Violated(error));
            }
        };
        let Some(result) = exchange.result() else {
            fresh.close().await;
            return Ok(Outcome::Violated(format!(
                "`tools/list` on a new connection: {}",
                exchange.seen()
            )));
        };
        other.extend(names(std::slice::from_ref(result), "tools"));
        match result.get("nextCursor").and_then(Value::as_str) {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    fresh.close().await;
    ctx.request("server/discover", None).await?;
    let mut after = names(&pages(ctx, "tools/list", json!({})).await?, "tools");
    first.sort();
    other.sort();
    after.sort();
    if first != other {
        return Ok(Outcome::Violated(format!(
            "`tools/list` lists {first:?} on one connection and {other:?} on another"
        )));
    }
    if first != after {
        return Ok(Outcome::Violated(format!(
            "`tools/list` listed {first:?}, then {after:?} after other requests"
        )));
    }
    Ok(Outcome::Pass(format!(
        "the same {} tools on each connection",
        first.len()
    )))
}

/// The check `modern/tools-order`.
async fn tools_order(ctx: &mut Ctx) -> Checked {
    if !ctx.declares("tools") {
        return Ok(Outcome::Skip(
            "the server does not declare tools".to_owned(),
        ));
    }
    let first = names(&pages(ctx, "tools/list", json!({})).await?, "tools");
    let second = names(&pages(ctx, "tools/list", json!({})).await?, "tools");
    if first == second {
        Ok(Outcome::Pass(format!("{first:?} twice")))
    } else {
        Ok(Outcome::Violated(format!(
            "`tools/list` gave {first:?}, then {second:?}"
        )))
    }
}
