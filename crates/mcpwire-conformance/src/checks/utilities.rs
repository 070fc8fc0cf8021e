//! The utilities: ping, cancellation and progress.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::check::{Area, Check, Checked, EraNeed, Outcome, Requirement, RunFn, must, should};
use crate::checks::modern::{SLOW_WORDS, callable_tools, name_of};
use crate::checks::{expect_result, kind};
use crate::context::{Ctx, Era};
use crate::session::{
    Conn, Exchange, LegacySession, MessageWire, client_info, modern_headers, request_body,
    with_modern_meta,
};
use crate::wire::http::{HttpRequest, Until};
use crate::wire::stdio::Line;

/// The revision of the legacy requirements of this area.
const REVISION: &str = "2025-11-25";
/// How long a `ping` may take to be answered "promptly".
const PROMPT: Duration = Duration::from_secs(2);
/// How long a check listens for messages that should not come.
const QUIET: Duration = Duration::from_millis(300);
/// How long after sending a request a check cancels it.
const CANCEL_AFTER: Duration = Duration::from_millis(400);
/// How long a check waits for the response to a cancelled request.
const CANCEL_WINDOW: Duration = Duration::from_secs(3);

/// A check of this area.
fn check(
    id: &'static str,
    era: EraNeed,
    title: &'static str,
    requirement: Requirement,
    run: RunFn,
) -> Check {
    Check::new(id, Area::Utilities, era, title, requirement, run)
}

/// The checks of this area, in run order.
pub(crate) fn checks() -> Vec<Check> {
    vec![
        check(
            "utilities/ping-empty-result",
            EraNeed::Legacy,
            "`ping` is answered with the empty result `{}`",
            must(
                REVISION,
                "basic/utilities/ping §Behavior Requirements",
                Some(31),
                "The receiver MUST respond promptly with an empty response.",
            ),
            crate::run_fn!(ping_empty_result),
        ),
        check(
            "utilities/ping-prompt",
            EraNeed::Legacy,
            "`ping` is answered within 2 s",
            must(
                REVISION,
                "basic/utilities/ping §Behavior Requirements",
                Some(31),
                "The receiver MUST respond promptly with an empty response.",
            ),
            crate::run_fn!(ping_prompt),
        ),
        check(
            "utilities/ping-before-initialized",
            EraNeed::Legacy,
            "`ping` is answered between the `initialize` result and `notifications/initialized`",
            must(
                REVISION,
                "basic/lifecycle §Initialization; basic/utilities/ping",
                Some(31),
                "The client SHOULD NOT send requests other than pings before the server has responded to the `initialize` request; the receiver of a ping MUST respond promptly with an empty response.",
            ),
            crate::run_fn!(ping_before_initialized),
        ),
        check(
            "utilities/cancel-unknown-id",
            EraNeed::Legacy,
            "`notifications/cancelled` for an id never sent is ignored, without an error",
            must(
                REVISION,
                "basic/utilities/cancellation §Timing Considerations",
                Some(34),
                "Both parties MUST handle these race conditions gracefully; invalid cancellation notifications (unknown request IDs) SHOULD be ignored.",
            ),
            crate::run_fn!(cancel_unknown_id),
        ),
        check(
            "utilities/cancel-after-response",
            EraNeed::Legacy,
            "`notifications/cancelled` for a request already answered is ignored, without an error",
            must(
                REVISION,
                "basic/utilities/cancellation §Timing Considerations",
                Some(34),
                "The cancellation notification may arrive after the request has completed; both parties MUST handle these race conditions gracefully.",
            ),
            crate::run_fn!(cancel_after_response),
        ),
        check(
            "utilities/cancel-malformed",
            EraNeed::Legacy,
            "`notifications/cancelled` without a `requestId` is ignored, without an error",
            should(
                REVISION,
                "basic/utilities/cancellation §Error Handling",
                Some(34),
                "Invalid cancellation notifications SHOULD be ignored: unknown request IDs, already completed requests, malformed notifications.",
            ),
            crate::run_fn!(cancel_malformed),
        ),
        check(
            "utilities/cancel-in-flight",
            EraNeed::Legacy,
            "a tool call cancelled while it runs gets no response, and the session goes on",
            should(
                REVISION,
                "basic/utilities/cancellation §Behavior Requirements",
                None,
                "Receivers of cancellation notifications SHOULD stop processing the cancelled request, free associated resources, and not send a response for the cancelled request.",
            ),
            crate::run_fn!(cancel_in_flight),
        )
        .calling_tools(),
        check(
            "utilities/progress-token",
            EraNeed::Each,
            "progress notifications carry the string `progressToken` of the request",
            must(
                REVISION,
                "basic/utilities/progress §Progress Flow",
                Some(35),
                "Progress notifications MUST only reference tokens that were provided in an active request.",
            ),
            crate::run_fn!(progress_token),
        )
        .calling_tools(),
        check(
            "utilities/progress-integer-token",
            EraNeed::Each,
            "an integer `progressToken` comes back as the same integer",
            must(
                REVISION,
                "basic/utilities/progress §Progress Flow",
                Some(35),
                "Progress tokens MUST be a string or integer value; the notification carries the `progressToken` of the request.",
            ),
            crate::run_fn!(progress_integer_token),
        )
        .calling_tools(),
        check(
            "utilities/progress-increasing",
            EraNeed::Each,
            "`progress` increases with each notification of a token",
            must(
                REVISION,
                "basic/utilities/progress §Progress Flow",
                Some(36),
                "The `progress` value MUST increase with each notification, even if the total is unknown.",
            ),
            crate::run_fn!(progress_increasing),
        )
        .calling_tools(),
        check(
            "utilities/progress-shape",
            EraNeed::Each,
            "`progress` and `total` are numbers and `message` a string",
            must(
                REVISION,
                "schema ProgressNotificationParams",
                Some(36),
                "`progressToken: ProgressToken; progress: number; total?: number; message?: string`.",
            ),
            crate::run_fn!(progress_shape),
        )
        .calling_tools(),
        check(
            "utilities/progress-stops",
            EraNeed::Each,
            "no progress notification follows the response",
            must(
                REVISION,
                "basic/utilities/progress §Implementation Notes",
                Some(38),
                "Progress notifications MUST stop after completion.",
            ),
            crate::run_fn!(progress_stops),
        )
        .calling_tools(),
        check(
            "utilities/progress-unasked",
            EraNeed::Each,
            "a request without `progressToken` gets no progress notification",
            must(
                REVISION,
                "basic/utilities/progress §Behavior Requirements",
                Some(37),
                "Progress notifications MUST only reference tokens that were provided in an active request and are associated with an in-progress operation.",
            ),
            crate::run_fn!(progress_unasked),
        )
        .calling_tools(),
        check(
            "utilities/notification-no-id",
            EraNeed::Each,
            "the notifications the server sends have no `id`",
            must(
                REVISION,
                "basic/index §Notifications",
                Some(6),
                "Notifications MUST NOT include an ID.",
            ),
            crate::run_fn!(notification_no_id),
        )
        .calling_tools(),
    ]
}

// ----- Ping -----

/// The check `utilities/ping-empty-result`.
async fn ping_empty_result(ctx: &mut Ctx) -> Checked {
    let exchange = ctx.request("ping", None).await?;
    let result = expect_result(&exchange, "ping")?;
    if result == &json!({}) {
        Ok(Outcome::Pass("`{}`".to_owned()))
    } else {
        Ok(Outcome::Violated(format!(
            "`ping` was answered with {}, not `{{}}`",
            crate::clip(&result.to_string())
        )))
    }
}

/// The check `utilities/ping-prompt`.
async fn ping_prompt(ctx: &mut Ctx) -> Checked {
    let started = Instant::now();
    let exchange = ctx.request("ping", None).await?;
    let took = started.elapsed();
    if exchange.response.is_none() {
        return Ok(Outcome::Violated(format!(
            "`ping` got no response: {}",
            exchange.seen()
        )));
    }
    if took > PROMPT {
        return Ok(Outcome::Violated(format!(
            "`ping` took {} ms",
            took.as_millis()
        )));
    }
    Ok(Outcome::Pass(format!(
        "answered in {} ms",
        took.as_millis()
    )))
}

/// The check `utilities/ping-before-initialized`.
async fn ping_before_initialized(ctx: &mut Ctx) -> Checked {
    let version = ctx.legacy_version().to_owned();
    let limit = ctx.step_limit();
    let mut conn = Conn::connect(ctx.target(), ctx.step_limit()).await?;
    let id = json!(0);
    let body = request_body(
        &id,
        "initialize",
        Some(json!({
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": client_info(),
        })),
    );
    let handshake = conn
        .exchange(body.to_string().as_bytes(), &id, &[], limit)
        .await;
    let handshake = match handshake {
        Ok(handshake) if handshake.result().is_some() => handshake,
        Ok(handshake) => {
            conn.close().await;
            return Ok(Outcome::Skip(format!(
                "`initialize` failed: {}",
                handshake.seen()
            )));
        }
        Err(error) => {
            conn.close().await;
            return Err(Outcome::Violated(error));
        }
    };
    let mut headers = Vec::new();
    if let Some(session) = handshake
        .http
        .as_ref()
        .and_then(|http| http.header("mcp-session-id"))
    {
        headers.push(("mcp-session-id".to_owned(), session.to_owned()));
    }
    if version.as_str() >= "2025-06-18" {
        headers.push(("mcp-protocol-version".to_owned(), version.clone()));
    }
    let id = json!(1);
    let ping = request_body(&id, "ping", None);
    let answer = conn
        .exchange(ping.to_string().as_bytes(), &id, &headers, limit)
        .await;
    conn.close().await;
    let answer = answer?;
    match answer.result() {
        Some(result) if result == &json!({}) => Ok(Outcome::Pass(
            "`ping` before `notifications/initialized` got `{}`".to_owned(),
        )),
        _ => Ok(Outcome::Violated(format!(
            "`ping` before `notifications/initialized` got {}",
            answer.seen()
        ))),
    }
}

// ----- Cancellation -----

/// Sends `notifications/cancelled` with `params` in the shared session and judges that it
/// was ignored: no error, over HTTP a 202, and the session still answers `ping`.
async fn cancel_ignored(ctx: &mut Ctx, params: Value, what: &str) -> Checked {
    let session = ctx.shared().await?;
    let sent = session
        .notify("notifications/cancelled", Some(params))
        .await?;
    let mut problems = Vec::new();
    if let Some(status) = sent.status()
        && status != 202
    {
        problems.push(format!("HTTP {status}, not 202: {}", sent.seen()));
    }
    if let Some(response) = &sent.response {
        problems.push(format!(
            "it was answered: {}",
            crate::clip(&response.to_string())
        ));
    }
    let drained = session.drain(QUIET).await;
    if let Some(response) = drained
        .iter()
        .find(|message| message.get("result").is_some() || message.get("error").is_some())
    {
        problems.push(format!(
            "it was answered: {}",
            crate::clip(&response.to_string())
        ));
    }
    let ping = session.request("ping", None).await?;
    if ping.result().is_none() {
        problems.push(format!("`ping` after it got {}", ping.seen()));
    }
    if problems.is_empty() {
        Ok(Outcome::Pass(format!(
            "{what}: ignored, and the session still answers `ping`"
        )))
    } else {
        Ok(Outcome::Violated(format!(
            "{what}: {}",
            problems.join("; ")
        )))
    }
}

/// The check `utilities/cancel-unknown-id`.
async fn cancel_unknown_id(ctx: &mut Ctx) -> Checked {
    cancel_ignored(
        ctx,
        json!({"requestId": "mcpwire-conformance-never-sent", "reason": "a test"}),
        "cancelling an id never sent",
    )
    .await
}

/// The check `utilities/cancel-after-response`.
async fn cancel_after_response(ctx: &mut Ctx) -> Checked {
    let session = ctx.shared().await?;
    let ping = session.request("ping", None).await?;
    if ping.response.is_none() {
        return Ok(Outcome::Skip(format!("`ping` failed: {}", ping.seen())));
    }
    let id = ping.id.clone();
    cancel_ignored(
        ctx,
        json!({"requestId": id, "reason": "a test"}),
        "cancelling a request already answered",
    )
    .await
}

/// The check `utilities/cancel-malformed`.
async fn cancel_malformed(ctx: &mut Ctx) -> Checked {
    cancel_ignored(
        ctx,
        json!({"reason": "no request named"}),
        "a cancellation without `requestId`",
    )
    .await
}

/// Sends `body` on `session` and, after [`CANCEL_AFTER`], `cancel`; returns the messages read
/// for the request within [`CANCEL_WINDOW`] and when its response came, if it did.
async fn send_and_cancel(
    session: &mut LegacySession,
    body: &Value,
    id: &Value,
    cancel: &Value,
) -> Result<(Vec<Value>, Option<Duration>), String> {
    let started = Instant::now();
    let headers = session.headers();
    if let Some(wire) = session.http() {
        let mut request = HttpRequest::post(body.to_string().into_bytes());
        let mut cancelling = HttpRequest::post(cancel.to_string().into_bytes());
        for (name, value) in &headers {
            request = request.header(name, value);
            cancelling = cancelling.header(name, value);
        }
        let call = async {
            let reply = wire
                .send(request, Until::Response(id.clone()), CANCEL_WINDOW)
                .await;
            (reply, started.elapsed())
        };
        let cancel = async {
            tokio::time::sleep(CANCEL_AFTER).await;
            wire.send(cancelling, Until::End, CANCEL_WINDOW).await
        };
        let ((reply, took), _) = tokio::join!(call, cancel);
        let reply = reply?;
        let answered = reply.response(id).is_some().then_some(took);
        return Ok((reply.messages, answered));
    }
    match session.conn() {
        Conn::Stdio(wire) => streamed_send_and_cancel(wire, body, id, cancel, started).await,
        Conn::Sse(wire) => streamed_send_and_cancel(wire, body, id, cancel, started).await,
        Conn::Http(_) => Err("no connection".to_owned()),
    }
}

/// [`send_and_cancel`] on a stdio or HTTP+SSE connection.
async fn streamed_send_and_cancel<W: MessageWire>(
    wire: &mut W,
    body: &Value,
    id: &Value,
    cancel: &Value,
    started: Instant,
) -> Result<(Vec<Value>, Option<Duration>), String> {
    wire.send_message(body.to_string().as_bytes(), CANCEL_WINDOW)
        .await?;
    let mut messages = Vec::new();
    let mut cancelled = false;
    loop {
        let elapsed = started.elapsed();
        if elapsed >= CANCEL_WINDOW {
            return Ok((messages, None));
        }
        if !cancelled && elapsed >= CANCEL_AFTER {
            wire.send_message(cancel.to_string().as_bytes(), CANCEL_WINDOW)
                .await?;
            cancelled = true;
        }
        let until = if cancelled {
            CANCEL_WINDOW
        } else {
            CANCEL_AFTER
        };
        match wire.next_message(until.saturating_sub(elapsed)).await {
            Line::Text(line) => {
                if let Ok(message) = serde_json::from_slice::<Value>(&line) {
                    let answered = message.get("id") == Some(id)
                        && (message.get("result").is_some() || message.get("error").is_some());
                    messages.push(message);
                    if answered {
                        return Ok((messages, Some(started.elapsed())));
                    }
                }
            }
            Line::TooLong(_) | Line::TimedOut => {}
            Line::Closed => return Err("the server closed its stdout (or event stream)".to_owned()),
        }
    }
}

/// The check `utilities/cancel-in-flight`.
async fn cancel_in_flight(ctx: &mut Ctx) -> Checked {
    let tools = callable_tools(ctx, &SLOW_WORDS, 1).await?;
    let Some(tool) = tools.into_iter().find(|tool| {
        let name = name_of(tool).to_lowercase();
        SLOW_WORDS.iter().any(|word| name.contains(word))
    }) else {
        return Ok(Outcome::Skip(
            "no callable tool with no arguments is named as one that takes a while".to_owned(),
        ));
    };
    let mut session = ctx.fresh_legacy().await?;
    let id = session.next_id();
    let body = request_body(
        &id,
        "tools/call",
        Some(json!({"name": name_of(&tool), "arguments": {}})),
    );
    let cancel = json!({
        "jsonrpc": "2.0",
        "method": "notifications/cancelled",
        "params": {"requestId": id, "reason": "the conformance suite cancels it"},
    });
    let sent = send_and_cancel(&mut session, &body, &id, &cancel).await;
    let ping = session.request("ping", None).await;
    session.close().await;
    let (_, answered) = sent?;
    let ping = ping?;
    if ping.result().is_none() {
        return Ok(Outcome::Violated(format!(
            "after the cancellation, `ping` got {}",
            ping.seen()
        )));
    }
    match answered {
        Some(took) if took < CANCEL_AFTER => Ok(Outcome::Skip(format!(
            "`{}` finished in {} ms, before it could be cancelled",
            name_of(&tool),
            took.as_millis()
        ))),
        Some(took) => Ok(Outcome::Violated(format!(
            "`{}`, cancelled after {} ms, was answered after {} ms",
            name_of(&tool),
            CANCEL_AFTER.as_millis(),
            took.as_millis()
        ))),
        None => Ok(Outcome::Pass(format!(
            "`{}` cancelled after {} ms: no response within {} ms, and `ping` still answered",
            name_of(&tool),
            CANCEL_AFTER.as_millis(),
            CANCEL_WINDOW.as_millis()
        ))),
    }
}

// ----- Progress -----

/// What a tool call asking for progress gave: every message for it, in order, with the
/// response last when it came; over stdio also what came shortly after the response.
struct Called {
    /// The tool.
    tool: String,
    /// The messages, in order.
    messages: Vec<Value>,
    /// The position of the response in `messages`.
    response: Option<usize>,
}

impl Called {
    /// The progress notifications.
    fn progress(&self) -> Vec<&Value> {
        self.messages
            .iter()
            .filter(|message| {
                message.get("method").and_then(Value::as_str) == Some("notifications/progress")
            })
            .collect()
    }
}

/// Calls the first callable tool that reports progress, with `token` as its
/// `progressToken` (none when null). `Err(Skip)` when no callable tool reports progress.
async fn call_reporting(ctx: &mut Ctx, token: Value) -> Result<Called, Outcome> {
    let tools = callable_tools(ctx, &["progress"], 2).await?;
    if tools.is_empty() {
        return Err(Outcome::Skip(
            "no tool may be called with no arguments (none read-only, or `--call-tools` not given)"
                .to_owned(),
        ));
    }
    let mut tried = Vec::new();
    for tool in &tools {
        let asked = if token.is_null() {
            json!(1)
        } else {
            token.clone()
        };
        let called = call_once(ctx, name_of(tool), &asked).await?;
        if !called.progress().is_empty() {
            if token.is_null() {
                return call_once(ctx, name_of(tool), &Value::Null)
                    .await
                    .map_err(Outcome::Violated);
            }
            return Ok(called);
        }
        tried.push(name_of(tool).to_owned());
    }
    Err(Outcome::Skip(format!(
        "no progress from {} asked for it",
        tried.join(", ")
    )))
}

/// Calls `tool` with no arguments and `token` as its `progressToken` (none when null) in the
/// current era, reading every message of the call.
async fn call_once(ctx: &mut Ctx, tool: &str, token: &Value) -> Result<Called, String> {
    let mut params = json!({"name": tool, "arguments": {}});
    if !token.is_null() {
        params["_meta"] = json!({"progressToken": token});
    }
    let limit = ctx.step_limit();
    let (conn, id, headers, params) = match ctx.era() {
        Era::Legacy => {
            let session = ctx.shared().await?;
            let id = session.next_id();
            let headers = session.headers();
            (session.conn(), id, headers, params)
        }
        Era::Modern => {
            let modern = ctx.modern()?;
            let id = modern.next_id();
            let params = with_modern_meta(Some(params), json!({}));
            let headers = modern_headers("tools/call", Some(&params));
            (modern.conn(), id, headers, params)
        }
    };
    let body = request_body(&id, "tools/call", Some(params));
    let messages = match conn {
        Conn::Http(wire) => {
            let mut request = HttpRequest::post(body.to_string().into_bytes());
            for (name, value) in &headers {
                request = request.header(name, value);
            }
            wire.send(request, Until::End, limit).await?.messages
        }
        Conn::Stdio(_) | Conn::Sse(_) => {
            let exchange: Exchange = conn
                .exchange(body.to_string().as_bytes(), &id, &[], limit)
                .await?;
            let mut messages = exchange.others;
            messages.extend(exchange.response);
            messages.extend(conn.drain(QUIET).await);
            messages
        }
    };
    let response = messages.iter().position(|message| {
        message.get("id") == Some(&id)
            && (message.get("result").is_some() || message.get("error").is_some())
    });
    Ok(Called {
        tool: tool.to_owned(),
        messages,
        response,
    })
}

/// Judges that every progress notification of `called` carries `token`, exactly.
fn judge_tokens(called: &Called, token: &Value) -> Checked {
    let progress = called.progress();
    for notification in &progress {
        let carried = notification
            .get("params")
            .and_then(|params| params.get("progressToken"));
        if carried != Some(token) {
            return Ok(Outcome::Violated(format!(
                "`{}` called with progress token {token} sent a notification with {}",
                called.tool,
                carried.map_or("none".to_owned(), Value::to_string)
            )));
        }
    }
    Ok(Outcome::Pass(format!(
        "{} progress notifications of `{}`, each with token {token}",
        progress.len(),
        called.tool
    )))
}

/// The check `utilities/progress-token`.
async fn progress_token(ctx: &mut Ctx) -> Checked {
    let token = json!("mcpwire-conformance-progress");
    let called = call_reporting(ctx, token.clone()).await?;
    judge_tokens(&called, &token)
}

/// The check `utilities/progress-integer-token`.
async fn progress_integer_token(ctx: &mut Ctx) -> Checked {
    let token = json!(7301);
    let called = call_reporting(ctx, token.clone()).await?;
    judge_tokens(&called, &token)
}

/// The check `utilities/progress-increasing`.
async fn progress_increasing(ctx: &mut Ctx) -> Checked {
    let called = call_reporting(ctx, json!("mcpwire-conformance-increasing")).await?;
    let values: Vec<Option<f64>> = called
        .progress()
        .iter()
        .map(|notification| notification["params"]["progress"].as_f64())
        .collect();
    let increasing = values.windows(2).all(|pair| match pair {
        [Some(before), Some(after)] => after > before,
        _ => false,
    });
    let seen = values
        .iter()
        .map(|value| value.map_or("?".to_owned(), |value| value.to_string()))
        .collect::<Vec<_>>()
        .join(", ");
    if increasing && values.iter().all(Option::is_some) {
        Ok(Outcome::Pass(format!("`{}`: {seen}", called.tool)))
    } else {
        Ok(Outcome::Violated(format!(
            "the progress of `{}` went {seen}",
            called.tool
        )))
    }
}

/// The check `utilities/progress-shape`.
async fn progress_shape(ctx: &mut Ctx) -> Checked {
    let called = call_reporting(ctx, json!("mcpwire-conformance-shape")).await?;
    let mut problems = Vec::new();
    for notification in called.progress() {
        let params = &notification["params"];
        if !params["progress"].is_number() {
            problems.push(format!(
                "`progress` is {}",
                params.get("progress").map_or("missing", kind)
            ));
        }
        if let Some(total) = params.get("total")
            && !total.is_number()
        {
            problems.push(format!("`total` is {}", kind(total)));
        }
        if let Some(message) = params.get("message")
            && !message.is_string()
        {
            problems.push(format!("`message` is {}", kind(message)));
        }
    }
    let progress = called.progress().len();
    if problems.is_empty() {
        Ok(Outcome::Pass(format!(
            "{progress} well-formed progress notifications of `{}`",
            called.tool
        )))
    } else {
        Ok(Outcome::Violated(problems.join("; ")))
    }
}

/// The check `utilities/progress-stops`.
async fn progress_stops(ctx: &mut Ctx) -> Checked {
    let called = call_reporting(ctx, json!("mcpwire-conformance-stops")).await?;
    let Some(response) = called.response else {
        return Ok(Outcome::Violated(format!(
            "`{}` got no response",
            called.tool
        )));
    };
    let late = called.messages[response + 1..].iter().find(|message| {
        message.get("method").and_then(Value::as_str) == Some("notifications/progress")
    });
    match late {
        Some(late) => Ok(Outcome::Violated(format!(
            "after the response to `{}` came {}",
            called.tool,
            crate::clip(&late.to_string())
        ))),
        None => Ok(Outcome::Pass(format!(
            "{} progress notifications of `{}`, none after its response",
            called.progress().len(),
            called.tool
        ))),
    }
}

/// The check `utilities/progress-unasked`.
async fn progress_unasked(ctx: &mut Ctx) -> Checked {
    let called = call_reporting(ctx, Value::Null).await?;
    match called.progress().first() {
        Some(progress) => Ok(Outcome::Violated(format!(
            "`{}` called without a progress token sent {}",
            called.tool,
            crate::clip(&progress.to_string())
        ))),
        None => Ok(Outcome::Pass(format!(
            "`{}` reports progress when asked, and sent none unasked",
            called.tool
        ))),
    }
}

/// The check `utilities/notification-no-id`.
async fn notification_no_id(ctx: &mut Ctx) -> Checked {
    let called = call_reporting(ctx, json!("mcpwire-conformance-no-id")).await?;
    let notifications: Vec<&Value> = called
        .messages
        .iter()
        .filter(|message| {
            message
                .get("method")
                .and_then(Value::as_str)
                .is_some_and(|method| method.starts_with("notifications/"))
        })
        .collect();
    if let Some(with_id) = notifications
        .iter()
        .find(|notification| notification.get("id").is_some())
    {
        return Ok(Outcome::Violated(format!(
            "a notification with an `id`: {}",
            crate::clip(&with_id.to_string())
        )));
    }
    Ok(Outcome::Pass(format!(
        "{} notifications, none with an `id`",
        notifications.len()
    )))
}
