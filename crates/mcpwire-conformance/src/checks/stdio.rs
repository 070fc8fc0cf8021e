//! The stdio transport: one message per line, nothing else on stdout, requests answered
//! whatever their order, and the end of a session.

use std::time::Duration;

use serde_json::{Value, json};

use crate::check::{Area, Check, Checked, EraNeed, Outcome, must, should};
use crate::context::Ctx;
use crate::run_fn;
use crate::session::{Conn, request_body};
use crate::target::Transport;
use crate::wire::stdio::Line;

pub(crate) fn checks() -> Vec<Check> {
    vec![
        Check::new(
            "stdio/only-messages-on-stdout",
            Area::Stdio,
            EraNeed::Any,
            "nothing but MCP messages is written to stdout",
            must("2025-11-25", "basic/transports §stdio", Some(41), "The server MUST NOT write anything to its stdout that is not a valid MCP message."),
            run_fn!(only_messages),
        )
        .over(Transport::Stdio),
        Check::new(
            "stdio/one-message-per-line",
            Area::Stdio,
            EraNeed::Any,
            "each message is one line: no embedded newlines, no two messages on a line",
            must("2025-11-25", "basic/transports §stdio", Some(40), "Messages are delimited by newlines, and MUST NOT contain embedded newlines."),
            run_fn!(one_message_per_line),
        )
        .over(Transport::Stdio),
        Check::new(
            "stdio/pipelined-requests",
            Area::Stdio,
            EraNeed::Any,
            "requests written together are each answered once, with their own ids",
            must("2025-11-25", "basic/index §Responses", Some(4), "Responses MUST include the same ID as the request they correspond to; every request gets a response."),
            run_fn!(pipelined_requests),
        )
        .over(Transport::Stdio),
        Check::new(
            "stdio/exits-when-stdin-closes",
            Area::Stdio,
            EraNeed::Legacy,
            "the server exits when its stdin is closed",
            should("2025-11-25", "basic/lifecycle §Shutdown (stdio)", None, "The client SHOULD initiate shutdown by closing the input stream to the child process and waiting for the server to exit; the server exits on end of input."),
            run_fn!(exits_when_stdin_closes),
        )
        .over(Transport::Stdio),
        Check::new(
            "stdio/quiet-before-initialized",
            Area::Stdio,
            EraNeed::Legacy,
            "before `notifications/initialized`, the server sends no request but `ping`",
            should("2025-11-25", "basic/lifecycle §Initialization", None, "The server SHOULD NOT send requests other than pings and logging before receiving the initialized notification."),
            run_fn!(quiet_before_initialized),
        )
        .over(Transport::Stdio),
    ]
}

/// Reads lines from a fresh server for `limit` after sending `lines`; returns them.
async fn lines_after(
    ctx: &Ctx,
    sent: &[Value],
    limit: Duration,
) -> Result<(Vec<Vec<u8>>, Conn), String> {
    let mut conn = Conn::connect(ctx.target(), ctx.step_limit()).await?;
    let Conn::Stdio(wire) = &mut conn else {
        return Err("not a stdio server".to_owned());
    };
    let mut bytes = Vec::new();
    for message in sent {
        bytes.extend_from_slice(message.to_string().as_bytes());
        bytes.push(b'\n');
    }
    wire.write(&bytes).await?;
    let deadline = tokio::time::Instant::now() + limit;
    let mut lines = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match wire.next(left).await {
            Line::Text(line) => {
                lines.push(line);
                // Every request answered: stop early.
                let answered = lines
                    .iter()
                    .filter_map(|line| serde_json::from_slice::<Value>(line).ok())
                    .filter(|message| {
                        message.get("result").is_some() || message.get("error").is_some()
                    })
                    .count();
                let asked = sent
                    .iter()
                    .filter(|message| message.get("id").is_some())
                    .count();
                if answered >= asked {
                    break;
                }
            }
            Line::TooLong(start) => lines.push(start),
            Line::Closed | Line::TimedOut => break,
        }
    }
    Ok((lines, conn))
}

/// A session's opening and a few requests, as one write.
fn opening(ctx: &Ctx) -> Vec<Value> {
    vec![
        request_body(
            &json!(1),
            "initialize",
            Some(json!({
                "protocolVersion": ctx.legacy_version(),
                "capabilities": {},
                "clientInfo": crate::session::client_info(),
            })),
        ),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        request_body(&json!(2), "ping", None),
        request_body(&json!(3), "tools/list", None),
        request_body(&json!(4), "mcpwire-conformance/no-such-method", None),
    ]
}

async fn only_messages(ctx: &mut Ctx) -> Checked {
    let sent = opening(ctx);
    let (lines, conn) = lines_after(ctx, &sent, ctx.step_limit()).await?;
    conn.close().await;
    let bad: Vec<String> = lines
        .iter()
        .filter(|line| !line.is_empty())
        .filter(|line| {
            serde_json::from_slice::<Value>(line)
                .ok()
                .is_none_or(|message| message.get("jsonrpc") != Some(&json!("2.0")))
        })
        .map(|line| crate::clip(&String::from_utf8_lossy(line)))
        .collect();
    if bad.is_empty() {
        Ok(Outcome::Pass(format!(
            "{} lines, each a JSON-RPC message",
            lines.len()
        )))
    } else {
        Ok(Outcome::Violated(format!(
            "{} of {} lines on stdout are not MCP messages, first: {}",
            bad.len(),
            lines.len(),
            bad[0]
        )))
    }
}

async fn one_message_per_line(ctx: &mut Ctx) -> Checked {
    let sent = opening(ctx);
    let (lines, conn) = lines_after(ctx, &sent, ctx.step_limit()).await?;
    conn.close().await;
    for line in &lines {
        let text = String::from_utf8_lossy(line);
        let trimmed = text.trim();
        if trimmed.is_empty() {
            continue;
        }
        // A pretty-printed message leaves lines like `{`, `}` or `"key": value,`.
        let fragment = matches!(trimmed, "{" | "}" | "}," | "[" | "]")
            || (trimmed.starts_with('"') && trimmed.contains("\":"));
        let mut values = serde_json::Deserializer::from_str(trimmed).into_iter::<Value>();
        let first = values.next();
        let second = values.next();
        if fragment {
            return Ok(Outcome::Violated(format!(
                "a message spans lines (pretty-printed?): line `{}`",
                crate::clip(trimmed)
            )));
        }
        if matches!((&first, &second), (Some(Ok(_)), Some(Ok(_)))) {
            return Ok(Outcome::Violated(format!(
                "two messages on one line: `{}`",
                crate::clip(trimmed)
            )));
        }
        if matches!(first, Some(Ok(Value::Array(_)))) {
            return Ok(Outcome::Violated(format!(
                "a line holds an array, not one message: `{}`",
                crate::clip(trimmed)
            )));
        }
    }
    let answered = lines
        .iter()
        .filter_map(|line| serde_json::from_slice::<Value>(line).ok())
        .filter(|message| message.get("id").is_some())
        .count();
    if answered < 4 {
        return Ok(Outcome::Violated(format!(
            "4 requests, {answered} lines with an id: responses are not one per line"
        )));
    }
    Ok(Outcome::Pass(format!(
        "{} lines, one message each",
        lines.len()
    )))
}

async fn pipelined_requests(ctx: &mut Ctx) -> Checked {
    let sent = opening(ctx);
    let (lines, conn) = lines_after(ctx, &sent, ctx.step_limit()).await?;
    conn.close().await;
    let responses: Vec<Value> = lines
        .iter()
        .filter_map(|line| serde_json::from_slice::<Value>(line).ok())
        .filter(|message| message.get("result").is_some() || message.get("error").is_some())
        .collect();
    let mut problems = Vec::new();
    for id in 1..=4 {
        let count = responses
            .iter()
            .filter(|message| message["id"] == json!(id))
            .count();
        if count != 1 {
            problems.push(format!("request {id} was answered {count} times"));
        }
    }
    if problems.is_empty() {
        Ok(Outcome::Pass(
            "four requests written together, each answered once".to_owned(),
        ))
    } else {
        Ok(Outcome::Violated(problems.join("; ")))
    }
}

async fn exits_when_stdin_closes(ctx: &mut Ctx) -> Checked {
    let mut session = ctx.fresh_legacy().await?;
    let Conn::Stdio(wire) = session.conn() else {
        return Ok(Outcome::Skip("not a stdio server".to_owned()));
    };
    wire.close_stdin();
    let exited = wire.wait_exit(Duration::from_secs(3)).await;
    session.close().await;
    match exited {
        Some(code) => Ok(Outcome::Pass(format!(
            "exited with {} after stdin closed",
            code.map_or("a signal".to_owned(), |code| format!("code {code}"))
        ))),
        None => Ok(Outcome::Violated(
            "still running 3 s after its stdin closed".to_owned(),
        )),
    }
}

async fn quiet_before_initialized(ctx: &mut Ctx) -> Checked {
    let sent = vec![request_body(
        &json!(1),
        "initialize",
        Some(json!({
            "protocolVersion": ctx.legacy_version(),
            "capabilities": {"roots": {"listChanged": true}, "sampling": {}, "elicitation": {}},
            "clientInfo": crate::session::client_info(),
        })),
    )];
    let (_, mut conn) = lines_after(ctx, &sent, ctx.step_limit()).await?;
    let after = conn.drain(Duration::from_millis(300)).await;
    conn.close().await;
    let early: Vec<&Value> = after
        .iter()
        .filter(|message| {
            message.get("id").is_some()
                && message.get("method").is_some()
                && message.get("method") != Some(&json!("ping"))
        })
        .collect();
    match early.first() {
        Some(request) => Ok(Outcome::Violated(format!(
            "before `notifications/initialized` the server sent {}",
            crate::clip(&request.to_string())
        ))),
        None => Ok(Outcome::Pass("no request before `initialized`".to_owned())),
    }
}
