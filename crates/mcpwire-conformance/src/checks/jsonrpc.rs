//! JSON-RPC 2.0 as MCP uses it: the shape of responses, ids kept exactly, and the exact
//! error codes for malformed input.

use std::time::Duration;

use serde_json::{Value, json};

use crate::check::{Area, Check, Checked, EraNeed, Outcome, must, should};
use crate::checks::{expect_error_code, kind};
use crate::context::{Ctx, Era};
use crate::run_fn;
use crate::session::{Exchange, modern_headers, request_body, with_modern_meta};

pub(crate) fn checks() -> Vec<Check> {
    vec![
        Check::new(
            "json-rpc/response-shape",
            Area::JsonRpc,
            EraNeed::Each,
            "a response carries `jsonrpc: \"2.0\"`, the request's id, and exactly one of `result` and `error`",
            must(
                "2025-11-25",
                "basic/index §Responses",
                Some(4),
                "Responses MUST include the same ID as the request they correspond to; either a result or an error MUST be set, not both.",
            ),
            run_fn!(response_shape),
        ),
        Check::new(
            "json-rpc/string-id",
            Area::JsonRpc,
            EraNeed::Each,
            "a string id, non-ASCII included, comes back byte for byte",
            must(
                "2025-11-25",
                "basic/index §Responses",
                Some(4),
                "Responses MUST include the same ID as the request they correspond to.",
            ),
            run_fn!(string_id),
        ),
        Check::new(
            "json-rpc/integer-id",
            Area::JsonRpc,
            EraNeed::Each,
            "a large integer id comes back as the same integer",
            must(
                "2025-11-25",
                "basic/index §Responses",
                Some(4),
                "Responses MUST include the same ID as the request they correspond to.",
            ),
            run_fn!(integer_id),
        ),
        Check::new(
            "json-rpc/unknown-method",
            Area::JsonRpc,
            EraNeed::Each,
            "an unknown method is answered with -32601",
            must(
                "2025-11-25",
                "basic/index §Error Responses",
                None,
                "JSON-RPC 2.0: the method does not exist or is not available: -32601 (Method not found).",
            ),
            run_fn!(unknown_method),
        ),
        Check::new(
            "json-rpc/error-object",
            Area::JsonRpc,
            EraNeed::Each,
            "an error has an integer `code` and a string `message`",
            must(
                "2025-11-25",
                "basic/index §Error Responses",
                Some(5),
                "Errors MUST include an error code and an error message; the code MUST be an integer.",
            ),
            run_fn!(error_object),
        ),
        Check::new(
            "json-rpc/parse-error",
            Area::JsonRpc,
            EraNeed::Legacy,
            "a body that is not JSON is answered with -32700 (over HTTP, a 4xx status)",
            must(
                "2025-11-25",
                "basic/index §Error Responses; basic/transports",
                Some(49),
                "Invalid JSON was received: -32700 (Parse error); over HTTP, input the server cannot accept gets an HTTP error status such as 400.",
            ),
            run_fn!(parse_error),
        ),
        Check::new(
            "json-rpc/missing-jsonrpc",
            Area::JsonRpc,
            EraNeed::Legacy,
            "a request without `\"jsonrpc\": \"2.0\"` is answered with -32600 (over HTTP, a 4xx status)",
            must(
                "2025-11-25",
                "basic/index §Messages",
                Some(1),
                "All messages between MCP clients and servers MUST follow the JSON-RPC 2.0 specification; an invalid Request object gets -32600 (Invalid Request).",
            ),
            run_fn!(missing_jsonrpc),
        ),
        Check::new(
            "json-rpc/wrong-version",
            Area::JsonRpc,
            EraNeed::Legacy,
            "a request with `\"jsonrpc\": \"1.0\"` is answered with -32600 (over HTTP, a 4xx status)",
            must(
                "2025-11-25",
                "basic/index §Messages",
                Some(1),
                "The `jsonrpc` member MUST be exactly \"2.0\"; anything else is an invalid Request (-32600).",
            ),
            run_fn!(wrong_version),
        ),
        Check::new(
            "json-rpc/method-not-string",
            Area::JsonRpc,
            EraNeed::Legacy,
            "a request whose `method` is not a string is answered with -32600 (over HTTP, a 4xx status)",
            must(
                "2025-11-25",
                "basic/index §Requests",
                None,
                "A request's `method` is a string; anything else is an invalid Request (-32600).",
            ),
            run_fn!(method_not_string),
        ),
        Check::new(
            "json-rpc/null-id",
            Area::JsonRpc,
            EraNeed::Legacy,
            "a request whose id is null is refused, not answered as a request",
            must(
                "2025-11-25",
                "basic/index §Requests",
                Some(2),
                "Unlike base JSON-RPC, the ID MUST NOT be null.",
            ),
            run_fn!(null_id),
        ),
        Check::new(
            "json-rpc/params-not-structured",
            Area::JsonRpc,
            EraNeed::Legacy,
            "a request whose `params` is a number is refused with -32600 or -32602",
            must(
                "2025-11-25",
                "basic/index §Requests",
                None,
                "`params`, when present, is an object (JSON-RPC: a structured value).",
            ),
            run_fn!(params_not_structured),
        ),
        Check::new(
            "json-rpc/invalid-params",
            Area::JsonRpc,
            EraNeed::Each,
            "a known method with params of the wrong shape (arguments that are not an object) is answered with -32602",
            must(
                "2025-11-25",
                "basic/index §Error Responses",
                None,
                "JSON-RPC 2.0: invalid method parameters: -32602 (Invalid params).",
            ),
            run_fn!(invalid_params),
        ),
        Check::new(
            "json-rpc/notification-unanswered",
            Area::JsonRpc,
            EraNeed::Legacy,
            "an unknown notification gets no response (over HTTP, 202 with no body)",
            must(
                "2025-11-25",
                "basic/index §Notifications",
                Some(6),
                "Notifications MUST NOT include an ID; the receiver MUST NOT send a response.",
            ),
            run_fn!(notification_unanswered),
        ),
        Check::new(
            "json-rpc/stray-response",
            Area::JsonRpc,
            EraNeed::Legacy,
            "a response to a request the server never sent is ignored, and the session goes on",
            should(
                "2025-11-25",
                "basic/utilities/cancellation §Timing Considerations",
                Some(34),
                "Both parties handle races gracefully; an unexpected response causes no error and no crash.",
            ),
            run_fn!(stray_response),
        ),
        Check::new(
            "json-rpc/batch",
            Area::JsonRpc,
            EraNeed::Legacy,
            "a JSON array (batch) is refused from 2025-06-18 on",
            must(
                "2025-06-18",
                "changelog; basic/transports §Sending Messages to the Server",
                Some(47),
                "The body of the POST request MUST be a single JSON-RPC request, notification, or response (batching was removed in 2025-06-18).",
            ),
            run_fn!(batch),
        ),
    ]
}

/// Sends `body` (raw bytes) in the current era, as a modern request carries it or in a
/// fresh legacy session, and returns what came back.
async fn send_raw_in_era(
    ctx: &mut Ctx,
    body: &[u8],
    id: &Value,
    method: &str,
) -> Result<Exchange, String> {
    match ctx.era() {
        Era::Legacy => {
            let mut session = ctx.fresh_legacy().await?;
            let exchange = session.send_raw(body, id).await;
            session.close().await;
            exchange
        }
        Era::Modern => {
            let headers = modern_headers(method, None);
            ctx.modern()?.send_raw(body, id, &headers).await
        }
    }
}

/// A request body of the current era: a modern one carries the per-request `_meta`.
fn body_in_era(ctx: &Ctx, id: &Value, method: &str, params: Option<Value>) -> Value {
    match ctx.era() {
        Era::Legacy => request_body(id, method, params),
        Era::Modern => request_body(id, method, Some(with_modern_meta(params, json!({})))),
    }
}

/// A request every server answers with a result in the current era: `ping` (legacy) or
/// `server/discover` (modern, where `ping` was removed).
pub(crate) fn harmless_method(ctx: &Ctx) -> &'static str {
    match ctx.era() {
        Era::Legacy => "ping",
        Era::Modern => "server/discover",
    }
}

async fn response_shape(ctx: &mut Ctx) -> Checked {
    let method = harmless_method(ctx);
    let exchange = ctx.request(method, None).await?;
    let Some(response) = &exchange.response else {
        return Ok(Outcome::Violated(format!(
            "`{method}` got {}",
            exchange.seen()
        )));
    };
    let mut problems = Vec::new();
    if response.get("jsonrpc") != Some(&json!("2.0")) {
        problems.push("`jsonrpc` is not \"2.0\"".to_owned());
    }
    if response.get("id") != Some(&exchange.id) {
        problems.push(format!("the id is not {}", exchange.id));
    }
    if response.get("result").is_some() == response.get("error").is_some() {
        problems.push("not exactly one of `result` and `error`".to_owned());
    }
    Ok(crate::checks::lifecycle::verdict(problems, response))
}

async fn id_round_trip(ctx: &mut Ctx, id: Value) -> Checked {
    let method = harmless_method(ctx);
    let body = body_in_era(ctx, &id, method, None);
    let exchange = send_raw_in_era(ctx, body.to_string().as_bytes(), &id, method).await?;
    match &exchange.response {
        Some(response) if response.get("id") == Some(&id) => {
            Ok(Outcome::Pass(format!("id {id} came back")))
        }
        Some(response) => Ok(Outcome::Violated(format!(
            "sent id {id}, the response has id {}",
            response
                .get("id")
                .map_or("none".to_owned(), Value::to_string)
        ))),
        None => Ok(Outcome::Violated(format!(
            "sent id {id}, no response with it: {}",
            exchange.seen()
        ))),
    }
}

async fn string_id(ctx: &mut Ctx) -> Checked {
    id_round_trip(ctx, json!("id-ü-✓-\"quoted\"")).await
}

async fn integer_id(ctx: &mut Ctx) -> Checked {
    id_round_trip(ctx, json!(9_007_199_254_740_991_i64)).await
}

async fn unknown_method(ctx: &mut Ctx) -> Checked {
    let exchange = ctx
        .request("mcpwire-conformance/no-such-method", None)
        .await?;
    Ok(expect_error_code(&exchange, -32601, "an unknown method"))
}

async fn error_object(ctx: &mut Ctx) -> Checked {
    let exchange = ctx
        .request("mcpwire-conformance/no-such-method", None)
        .await?;
    let Some(error) = exchange.error() else {
        return Ok(Outcome::Skip(format!(
            "an unknown method got no error: {}",
            exchange.seen()
        )));
    };
    let mut problems = Vec::new();
    match error.get("code") {
        Some(Value::Number(number)) if number.is_i64() => {}
        other => problems.push(format!("`code` is {}", other.map_or("missing", kind))),
    }
    match error.get("message") {
        Some(Value::String(_)) => {}
        other => problems.push(format!("`message` is {}", other.map_or("missing", kind))),
    }
    Ok(crate::checks::lifecycle::verdict(problems, error))
}

/// Judges the answer to a malformed message: over stdio, a JSON-RPC error with one of
/// `codes`; over HTTP, a 4xx status, and a JSON-RPC error with one of `codes` when the body
/// holds one.
fn malformed_answer(exchange: &Exchange, codes: &[i64], what: &str) -> Outcome {
    let code = exchange
        .response
        .as_ref()
        .or_else(|| exchange.others.first())
        .and_then(|message| message.get("error"))
        .and_then(|error| error.get("code"))
        .and_then(Value::as_i64);
    let expected = codes
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(" or ");
    match exchange.status() {
        Some(status) if !(400..500).contains(&status) => Outcome::Violated(format!(
            "{what}: expected a 4xx status, saw {}",
            exchange.seen()
        )),
        Some(status) => match code {
            Some(code) if !codes.contains(&code) => Outcome::Violated(format!(
                "{what}: HTTP {status}, but the error is {code}, not {expected}"
            )),
            _ => Outcome::Pass(format!("{what}: {}", exchange.seen())),
        },
        None => match code {
            Some(code) if codes.contains(&code) => Outcome::Pass(format!("{what}: error {code}")),
            _ => Outcome::Violated(format!(
                "{what}: expected a JSON-RPC error {expected}, saw {}",
                exchange.seen()
            )),
        },
    }
}

/// Sends a malformed body in a fresh legacy session; over stdio the answer to it is any
/// response (its id may be null) that comes before the answer to a `ping` sent after it.
async fn send_malformed(ctx: &mut Ctx, body: &[u8]) -> Result<Exchange, String> {
    let mut session = ctx.fresh_legacy().await?;
    let exchange = session.send_refused(body).await;
    session.close().await;
    exchange
}

async fn parse_error(ctx: &mut Ctx) -> Checked {
    let exchange = send_malformed(ctx, br#"{"jsonrpc": "2.0", "id": 7, "method": "ping""#).await?;
    let outcome = malformed_answer(&exchange, &[-32700], "truncated JSON");
    if let (Outcome::Pass(_), Some(response)) = (&outcome, &exchange.response)
        && response.get("id").is_some_and(|id| !id.is_null())
    {
        return Ok(Outcome::Violated(format!(
            "a parse error's id must be null (the id could not be read): {}",
            exchange.seen()
        )));
    }
    Ok(outcome)
}

async fn missing_jsonrpc(ctx: &mut Ctx) -> Checked {
    let exchange = send_malformed(ctx, br#"{"id": 11, "method": "ping"}"#).await?;
    Ok(malformed_answer(
        &exchange,
        &[-32600],
        "no `jsonrpc` member",
    ))
}

async fn wrong_version(ctx: &mut Ctx) -> Checked {
    let exchange =
        send_malformed(ctx, br#"{"jsonrpc": "1.0", "id": 12, "method": "ping"}"#).await?;
    Ok(malformed_answer(&exchange, &[-32600], "`jsonrpc: \"1.0\"`"))
}

async fn method_not_string(ctx: &mut Ctx) -> Checked {
    let exchange = send_malformed(ctx, br#"{"jsonrpc": "2.0", "id": 13, "method": 42}"#).await?;
    Ok(malformed_answer(&exchange, &[-32600], "a numeric `method`"))
}

async fn null_id(ctx: &mut Ctx) -> Checked {
    let exchange =
        send_malformed(ctx, br#"{"jsonrpc": "2.0", "id": null, "method": "ping"}"#).await?;
    if exchange.result().is_some() {
        return Ok(Outcome::Violated(format!(
            "a request with a null id was answered as a request: {}",
            exchange.seen()
        )));
    }
    Ok(malformed_answer(&exchange, &[-32600], "a null id"))
}

async fn params_not_structured(ctx: &mut Ctx) -> Checked {
    let exchange = send_malformed(
        ctx,
        br#"{"jsonrpc": "2.0", "id": 14, "method": "ping", "params": 5}"#,
    )
    .await?;
    Ok(malformed_answer(
        &exchange,
        &[-32600, -32602],
        "`params: 5`",
    ))
}

async fn invalid_params(ctx: &mut Ctx) -> Checked {
    // The name stays a valid string, so that a modern request's `Mcp-Name` header matches
    // its body and the error can only be about the parameters' shape.
    let first_name = |items: Result<Vec<Value>, String>| {
        items.ok().and_then(|items| {
            items
                .first()
                .and_then(|item| item.get("name"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
    };
    let (method, params) = if ctx.declares("tools") {
        // Only a tool the suite may call is named (safe mode): a server that did not check
        // the arguments would run it.
        let tools = ctx.list("tools/list", "tools").await.unwrap_or_default();
        let callable: Vec<Value> = tools
            .into_iter()
            .filter(|tool| ctx.may_call(tool))
            .collect();
        let name =
            first_name(Ok(callable)).unwrap_or_else(|| "mcpwire-conformance-absent".to_owned());
        (
            "tools/call",
            json!({"name": name, "arguments": "not an object"}),
        )
    } else if ctx.declares("prompts") {
        let name = first_name(ctx.list("prompts/list", "prompts").await)
            .unwrap_or_else(|| "mcpwire-conformance-absent".to_owned());
        (
            "prompts/get",
            json!({"name": name, "arguments": ["not", "an", "object"]}),
        )
    } else if ctx.declares("resources") && ctx.era() == Era::Legacy {
        ("resources/read", json!({"uri": {"not": "a string"}}))
    } else {
        return Ok(Outcome::Skip(
            "the server declares no tools or prompts (nor resources, in the legacy era)".to_owned(),
        ));
    };
    let exchange = ctx.request(method, Some(params.clone())).await?;
    Ok(expect_error_code(
        &exchange,
        -32602,
        &format!("`{method}` with {params}"),
    ))
}

async fn notification_unanswered(ctx: &mut Ctx) -> Checked {
    let mut session = ctx.fresh_legacy().await?;
    let sent = session
        .notify("notifications/mcpwire-conformance/unknown", Some(json!({})))
        .await;
    let after = session.drain(Duration::from_millis(300)).await;
    let ping = session.request("ping", None).await;
    session.close().await;
    let sent = sent?;
    if let Some(http) = &sent.http
        && (http.status.as_u16() != 202 || !http.body.is_empty())
    {
        return Ok(Outcome::Violated(format!(
            "a notification was answered with {} (202 with no body expected)",
            http.summary()
        )));
    }
    if let Some(response) = after
        .iter()
        .find(|message| message.get("result").is_some() || message.get("error").is_some())
    {
        return Ok(Outcome::Violated(format!(
            "a notification was answered: {}",
            crate::clip(&response.to_string())
        )));
    }
    let ping = ping?;
    if ping.result().is_none() {
        return Ok(Outcome::Violated(format!(
            "after the notification, `ping` got {}",
            ping.seen()
        )));
    }
    Ok(Outcome::Pass("no response; the session goes on".to_owned()))
}

async fn stray_response(ctx: &mut Ctx) -> Checked {
    let mut session = ctx.fresh_legacy().await?;
    let stray = json!({"jsonrpc": "2.0", "id": "never-sent-4242", "result": {}});
    let sent = session.send_unanswered(stray.to_string().as_bytes()).await;
    let after = session.drain(Duration::from_millis(200)).await;
    let ping = session.request("ping", None).await;
    session.close().await;
    let sent = sent?;
    if let Some(status) = sent.status()
        && !(200..300).contains(&status)
        && status != 400
    {
        return Ok(Outcome::Violated(format!(
            "a stray response was answered with {}",
            sent.seen()
        )));
    }
    if let Some(message) = after.iter().find(|message| message.get("error").is_some()) {
        return Ok(Outcome::Violated(format!(
            "a stray response caused an error message: {}",
            crate::clip(&message.to_string())
        )));
    }
    let ping = ping?;
    if ping.result().is_none() {
        return Ok(Outcome::Violated(format!(
            "after a stray response, `ping` got {}",
            ping.seen()
        )));
    }
    Ok(Outcome::Pass(format!("ignored ({})", sent.seen())))
}

async fn batch(ctx: &mut Ctx) -> Checked {
    if ctx.legacy_version() < "2025-06-18" {
        return Ok(Outcome::Skip(format!(
            "batches are allowed in {}",
            ctx.legacy_version()
        )));
    }
    let body = br#"[{"jsonrpc": "2.0", "id": 21, "method": "ping"}, {"jsonrpc": "2.0", "id": 22, "method": "ping"}]"#;
    let exchange = send_malformed(ctx, body).await?;
    let answered_as_batch = exchange
        .others
        .iter()
        .chain(exchange.response.iter())
        .any(|message| {
            message.is_array()
                || message.get("id") == Some(&json!(21)) && message.get("result").is_some()
        })
        || exchange
            .http
            .as_ref()
            .is_some_and(|http| http.messages.iter().any(Value::is_array));
    if answered_as_batch {
        return Ok(Outcome::Violated(format!(
            "a batch was processed: {}",
            exchange.seen()
        )));
    }
    Ok(malformed_answer(&exchange, &[-32600], "a batch"))
}
