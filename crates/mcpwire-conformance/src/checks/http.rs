//! The Streamable HTTP transport: statuses, headers, sessions, SSE framing and resumption,
//! Origin and Host checks, and the modern era's request headers.
//!
//! Every check here sends raw HTTP requests with headers of its choosing; each read of an SSE
//! stream that stays open is bounded by [`STREAM_WAIT`].

use std::collections::HashSet;
use std::time::Duration;

use http::Method;
use serde_json::{Value, json};

use crate::check::{Area, Check, Checked, EraNeed, Outcome, must, should};
use crate::context::{Ctx, Era};
use crate::run_fn;
use crate::session::{
    LegacySession, META_VERSION, MODERN, header_value, modern_headers, request_body,
    with_modern_meta,
};
use crate::target::{Target, Transport};
use crate::wire::http::{HttpReply, HttpRequest, HttpWire, Until};

/// How long a check reads an SSE stream that stays open.
const STREAM_WAIT: Duration = Duration::from_millis(500);

/// A session id no server issued.
const UNKNOWN_SESSION: &str = "mcpwire-conformance-unknown-session-0000";

/// An `Origin` no server of the suite's tests allows.
const FOREIGN_ORIGIN: &str = "http://attacker.invalid";

/// A `Host` that is not the server's.
const FOREIGN_HOST: &str = "attacker.invalid";

/// The legacy revision of the transport's statuses and sessions.
const LEGACY: &str = "2025-11-25";

/// A check of the HTTP area, over HTTP alone.
fn http_check(
    id: &'static str,
    era: EraNeed,
    title: &'static str,
    requirement: crate::check::Requirement,
    run: crate::check::RunFn,
) -> Check {
    Check::new(id, Area::Http, era, title, requirement, run).over(Transport::Http)
}

/// Every check of the area, in run order.
pub(crate) fn checks() -> Vec<Check> {
    let mut checks = post_checks();
    checks.extend(stream_checks());
    checks.extend(session_checks());
    checks.extend(security_checks());
    checks.extend(modern_checks());
    checks
}

/// The answers to POSTs.
fn post_checks() -> Vec<Check> {
    vec![
        http_check(
            "http/request-content-type",
            EraNeed::Each,
            "a POSTed request is answered with `application/json` or `text/event-stream`",
            must(
                LEGACY,
                "basic/transports §Sending Messages to the Server",
                Some(50),
                "If the input is a JSON-RPC request, the server MUST either return `Content-Type: text/event-stream`, to initiate an SSE stream, or `Content-Type: application/json`, to return one JSON object.",
            ),
            run_fn!(request_content_type),
        ),
        http_check(
            "http/json-single-response",
            EraNeed::Each,
            "a JSON answer to a request is one JSON object: the response with the request's id",
            must(
                LEGACY,
                "basic/transports §Sending Messages to the Server",
                Some(50),
                "`Content-Type: application/json`, to return one JSON object.",
            ),
            run_fn!(json_single_response),
        ),
        http_check(
            "http/utf-8",
            EraNeed::Each,
            "answers are UTF-8: no other charset is declared and the body decodes",
            must(
                LEGACY,
                "basic/transports",
                None,
                "MCP uses JSON-RPC to encode messages. JSON-RPC messages MUST be UTF-8 encoded.",
            ),
            run_fn!(utf_8),
        ),
        http_check(
            "http/notification-accepted",
            EraNeed::Legacy,
            "an accepted notification POST gets 202 Accepted with no body",
            must(
                LEGACY,
                "basic/transports §Sending Messages to the Server",
                Some(48),
                "If the input is a JSON-RPC response or notification: if the server accepts the input, the server MUST return HTTP status code 202 Accepted with no body.",
            ),
            run_fn!(notification_accepted),
        ),
        http_check(
            "http/response-post",
            EraNeed::Legacy,
            "a POSTed JSON-RPC response gets 202 with no body, or an HTTP error status",
            must(
                LEGACY,
                "basic/transports §Sending Messages to the Server",
                Some(48),
                "If the server accepts the input, it MUST return 202 Accepted with no body; if it cannot accept the input, it MUST return an HTTP error status code.",
            ),
            run_fn!(response_post),
        ),
        http_check(
            "http/empty-body",
            EraNeed::Legacy,
            "a POST with an empty body gets an HTTP error status",
            must(
                LEGACY,
                "basic/transports §Sending Messages to the Server",
                Some(49),
                "If the server cannot accept the input, it MUST return an HTTP error status code (e.g., 400 Bad Request).",
            ),
            run_fn!(empty_body),
        ),
        http_check(
            "http/accept-honoured",
            EraNeed::Legacy,
            "a POST whose `Accept` lists one of the two types is refused (406) or answered in that type",
            should(
                LEGACY,
                "basic/transports §Sending Messages to the Server; RFC 9110 §12.5.1",
                None,
                "The client MUST include an `Accept` header listing both `application/json` and `text/event-stream`; a server that answers a request whose `Accept` omits one of them either refuses it (406 Not Acceptable) or answers in a type it lists.",
            ),
            run_fn!(accept_honoured),
        ),
        http_check(
            "http/content-type-refused",
            EraNeed::Each,
            "a POST body declared `text/plain` is refused with a 4xx status",
            should(
                LEGACY,
                "basic/transports §Security Warning",
                None,
                "Servers validate requests to prevent DNS rebinding and cross-site attacks; a body that is not `application/json` (a browser's simple cross-origin POST is `text/plain`) is refused, e.g. with 415 Unsupported Media Type.",
            ),
            run_fn!(content_type_refused),
        ),
    ]
}

/// GET streams, SSE framing and resumption.
fn stream_checks() -> Vec<Check> {
    vec![
        http_check(
            "http/get-stream-or-405",
            EraNeed::Legacy,
            "a GET of the endpoint opens a `text/event-stream` or gets 405",
            must(
                LEGACY,
                "basic/transports §Listening for Messages from the Server",
                Some(54),
                "The server MUST either return `Content-Type: text/event-stream` in response to this HTTP GET, or else return HTTP 405 Method Not Allowed.",
            ),
            run_fn!(get_stream_or_405),
        ),
        http_check(
            "http/get-no-responses",
            EraNeed::Legacy,
            "the GET stream carries no JSON-RPC response while a request is answered",
            must(
                LEGACY,
                "basic/transports §Listening for Messages from the Server",
                Some(55),
                "The server MUST NOT send a JSON-RPC response on the stream unless resuming a stream associated with a previous client request.",
            ),
            run_fn!(get_no_responses),
        ),
        http_check(
            "http/sse-framing",
            EraNeed::Legacy,
            "SSE events parse, and each event's data is empty or one JSON-RPC message",
            must(
                LEGACY,
                "basic/transports §Streamable HTTP",
                None,
                "Servers use Server-Sent Events to stream server messages; each event's data is a JSON-RPC message, UTF-8 encoded.",
            ),
            run_fn!(sse_framing),
        ),
        http_check(
            "http/priming-event",
            EraNeed::Legacy,
            "an SSE stream starts with an event that has an id and empty data (from 2025-11-25)",
            should(
                LEGACY,
                "basic/transports §Sending Messages to the Server",
                None,
                "If the server initiates an SSE stream, the server SHOULD immediately send an SSE event consisting of an event ID and an empty `data` field in order to prime the client to reconnect.",
            ),
            run_fn!(priming_event),
        ),
        http_check(
            "http/event-ids-unique",
            EraNeed::Legacy,
            "SSE event ids differ across the streams of one session",
            must(
                LEGACY,
                "basic/transports §Resumability and Redelivery",
                Some(57),
                "If present, the ID MUST be globally unique across all streams within that session.",
            ),
            run_fn!(event_ids_unique),
        ),
        http_check(
            "http/resume-no-foreign-replay",
            EraNeed::Legacy,
            "resuming the GET stream with `Last-Event-ID` replays no other stream's response",
            must(
                LEGACY,
                "basic/transports §Resumability and Redelivery",
                Some(58),
                "The server MUST NOT replay messages that would have been delivered on a different stream.",
            ),
            run_fn!(resume_no_foreign_replay),
        ),
    ]
}

/// Sessions and the `MCP-Protocol-Version` header of the legacy era.
fn session_checks() -> Vec<Check> {
    vec![
        http_check(
            "http/session-id-visible-ascii",
            EraNeed::Legacy,
            "`Mcp-Session-Id` holds only visible ASCII (0x21 to 0x7E)",
            must(
                LEGACY,
                "basic/transports §Session Management",
                Some(59),
                "The session ID MUST only contain visible ASCII characters (ranging from 0x21 to 0x7E).",
            ),
            run_fn!(session_id_visible_ascii),
        ),
        http_check(
            "http/session-id-unpredictable",
            EraNeed::Legacy,
            "two sessions get different ids, each long enough to hold a secure random value",
            should(
                LEGACY,
                "basic/transports §Session Management",
                Some(65),
                "The session ID SHOULD be globally unique and cryptographically secure (e.g., a securely generated UUID, a JWT, or a cryptographic hash).",
            ),
            run_fn!(session_id_unpredictable),
        ),
        http_check(
            "http/session-required",
            EraNeed::Legacy,
            "a request without `Mcp-Session-Id` after `initialize` gets 400",
            should(
                LEGACY,
                "basic/transports §Session Management",
                None,
                "Servers that require a session ID SHOULD respond to requests without an `MCP-Session-Id` header (other than initialization) with HTTP 400 Bad Request.",
            ),
            run_fn!(session_required),
        ),
        http_check(
            "http/unknown-session",
            EraNeed::Legacy,
            "a POST with a session id the server never issued gets 404",
            must(
                LEGACY,
                "basic/transports §Session Management",
                Some(61),
                "The server MAY terminate the session at any time, after which it MUST respond to requests containing that session ID with HTTP 404 Not Found.",
            ),
            run_fn!(unknown_session),
        ),
        http_check(
            "http/unknown-session-get",
            EraNeed::Legacy,
            "a GET with a session id the server never issued gets 404 (or 405 without GET streams)",
            must(
                LEGACY,
                "basic/transports §Session Management",
                Some(61),
                "After the session is terminated, the server MUST respond to requests containing that session ID with HTTP 404 Not Found.",
            ),
            run_fn!(unknown_session_get),
        ),
        http_check(
            "http/unknown-session-delete",
            EraNeed::Legacy,
            "a DELETE of a session id the server never issued gets 404 (or 405)",
            must(
                LEGACY,
                "basic/transports §Session Management",
                Some(61),
                "After the session is terminated, the server MUST respond to requests containing that session ID with HTTP 404 Not Found.",
            ),
            run_fn!(unknown_session_delete),
        ),
        http_check(
            "http/delete-status",
            EraNeed::Legacy,
            "a DELETE of a live session gets a 2xx status, or 405 when clients may not end sessions",
            should(
                LEGACY,
                "basic/transports §Session Management",
                None,
                "Clients SHOULD send an HTTP DELETE to the MCP endpoint with the `MCP-Session-Id` header to terminate the session; the server MAY respond with HTTP 405 Method Not Allowed.",
            ),
            run_fn!(delete_status),
        ),
        http_check(
            "http/delete-ends-session",
            EraNeed::Legacy,
            "after a DELETE the server accepted, a request in that session gets 404",
            must(
                LEGACY,
                "basic/transports §Session Management",
                Some(61),
                "After the session is terminated, the server MUST respond to requests containing that session ID with HTTP 404 Not Found.",
            ),
            run_fn!(delete_ends_session),
        ),
        http_check(
            "http/deleted-session-get",
            EraNeed::Legacy,
            "after a DELETE the server accepted, a GET in that session gets 404",
            must(
                LEGACY,
                "basic/transports §Session Management",
                Some(61),
                "After the session is terminated, the server MUST respond to requests containing that session ID with HTTP 404 Not Found.",
            ),
            run_fn!(deleted_session_get),
        ),
        http_check(
            "http/protocol-version-invalid",
            EraNeed::Legacy,
            "a request whose `MCP-Protocol-Version` is not a version gets 400",
            must(
                LEGACY,
                "basic/transports §Protocol Version Header",
                Some(63),
                "If the server receives a request with an invalid or unsupported `MCP-Protocol-Version`, it MUST respond with `400 Bad Request`.",
            ),
            run_fn!(protocol_version_invalid),
        ),
        http_check(
            "http/protocol-version-unsupported",
            EraNeed::Legacy,
            "a request whose `MCP-Protocol-Version` is a version the server does not support gets 400",
            must(
                LEGACY,
                "basic/transports §Protocol Version Header",
                Some(63),
                "If the server receives a request with an invalid or unsupported `MCP-Protocol-Version`, it MUST respond with `400 Bad Request`.",
            ),
            run_fn!(protocol_version_unsupported),
        ),
        http_check(
            "http/protocol-version-absent",
            EraNeed::Legacy,
            "a request of a session without `MCP-Protocol-Version` is served, not refused",
            should(
                LEGACY,
                "basic/transports §Protocol Version Header",
                None,
                "If the server does not receive an `MCP-Protocol-Version` header, and has no other way to identify the version, the server SHOULD assume protocol version 2025-03-26 (a session knows its negotiated version).",
            ),
            run_fn!(protocol_version_absent),
        ),
    ]
}

/// Origin and Host validation.
fn security_checks() -> Vec<Check> {
    vec![
        http_check(
            "http/origin-invalid",
            EraNeed::Each,
            "a POST with a foreign `Origin` gets 403",
            must(
                LEGACY,
                "basic/transports §Security Warning",
                Some(44),
                "Servers MUST validate the `Origin` header on all incoming connections; if the `Origin` header is present and invalid, servers MUST respond with HTTP 403 Forbidden.",
            ),
            run_fn!(origin_invalid),
        ),
        http_check(
            "http/origin-invalid-get",
            EraNeed::Legacy,
            "a GET with a foreign `Origin` gets 403",
            must(
                LEGACY,
                "basic/transports §Security Warning",
                Some(44),
                "Servers MUST validate the `Origin` header on all incoming connections; if the `Origin` header is present and invalid, servers MUST respond with HTTP 403 Forbidden.",
            ),
            run_fn!(origin_invalid_get),
        ),
        http_check(
            "http/host-rebinding",
            EraNeed::Each,
            "a server reached on loopback refuses a request whose `Host` is a foreign name",
            should(
                LEGACY,
                "basic/transports §Security Warning",
                None,
                "Servers validate incoming connections to prevent DNS rebinding attacks; a loopback server answering a foreign `Host` is what a rebound name reaches, so it refuses it (4xx).",
            ),
            run_fn!(host_rebinding),
        ),
    ]
}

/// The modern era's request headers and statuses.
fn modern_checks() -> Vec<Check> {
    vec![
        http_check(
            "http/modern-no-session-id",
            EraNeed::Modern,
            "a modern answer carries no `Mcp-Session-Id`, even when the request had one",
            should(
                MODERN,
                "basic/transports/streamable-http §Earlier Streamable HTTP Revisions",
                None,
                "An `Mcp-Session-Id` header on a request: ignore it, and do not mint or echo session IDs.",
            ),
            run_fn!(modern_no_session_id),
        ),
        http_check(
            "http/modern-ignores-session-id",
            EraNeed::Modern,
            "a modern request with a stray `Mcp-Session-Id` is served as without it",
            should(
                MODERN,
                "basic/transports/streamable-http §Earlier Streamable HTTP Revisions",
                None,
                "An `Mcp-Session-Id` header on a request: ignore it.",
            ),
            run_fn!(modern_ignores_session_id),
        ),
        http_check(
            "http/modern-ignores-last-event-id",
            EraNeed::Modern,
            "a modern request with a `Last-Event-ID` is served as without it",
            should(
                MODERN,
                "basic/transports/streamable-http §Earlier Streamable HTTP Revisions",
                None,
                "A `Last-Event-ID` header: ignore it; streams are not resumable.",
            ),
            run_fn!(modern_ignores_last_event_id),
        ),
        http_check(
            "http/modern-get-405",
            EraNeed::Modern,
            "a GET carrying the modern protocol version gets 405",
            should(
                MODERN,
                "basic/transports/streamable-http §Earlier Streamable HTTP Revisions",
                None,
                "The GET stream endpoint was removed; HTTP GET or DELETE to the MCP endpoint: respond with 405 Method Not Allowed.",
            ),
            run_fn!(modern_get_405),
        ),
        http_check(
            "http/modern-delete-405",
            EraNeed::Modern,
            "a DELETE carrying the modern protocol version gets 405",
            should(
                MODERN,
                "basic/transports/streamable-http §Earlier Streamable HTTP Revisions",
                None,
                "Sessions were removed; HTTP GET or DELETE to the MCP endpoint: respond with 405 Method Not Allowed.",
            ),
            run_fn!(modern_delete_405),
        ),
        http_check(
            "http/modern-method-mismatch",
            EraNeed::Modern,
            "an `Mcp-Method` that differs from the body's method gets 400 with -32020",
            must(
                MODERN,
                "basic/transports/streamable-http §Server Validation",
                Some(174),
                "Servers that process the request body MUST reject requests where the values specified in the headers do not match the corresponding values in the request body, with `400 Bad Request` and `-32020` (HeaderMismatch).",
            ),
            run_fn!(modern_method_mismatch),
        ),
        http_check(
            "http/modern-method-missing",
            EraNeed::Modern,
            "a request without `Mcp-Method` gets 400 with -32020",
            must(
                MODERN,
                "basic/transports/streamable-http §Server Validation",
                Some(174),
                "Validation failure conditions include: a required standard header (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`) is missing; the server MUST return 400 with -32020.",
            ),
            run_fn!(modern_method_missing),
        ),
        http_check(
            "http/modern-method-case",
            EraNeed::Modern,
            "an `Mcp-Method` that differs from the body's method in case alone gets 400 with -32020",
            must(
                MODERN,
                "basic/transports/streamable-http §Case Sensitivity",
                Some(174),
                "Header values (such as method names) are case-sensitive; a header value that does not match the body gets 400 with -32020.",
            ),
            run_fn!(modern_method_case),
        ),
        http_check(
            "http/modern-name-missing",
            EraNeed::Modern,
            "a `tools/call`, `prompts/get` or `resources/read` without `Mcp-Name` gets 400 with -32020",
            must(
                MODERN,
                "basic/transports/streamable-http §Server Validation",
                Some(174),
                "Validation failure conditions include: a required standard header (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`) is missing; the server MUST return 400 with -32020.",
            ),
            run_fn!(modern_name_missing),
        ),
        http_check(
            "http/modern-name-mismatch",
            EraNeed::Modern,
            "an `Mcp-Name` that differs from the body's name gets 400 with -32020",
            must(
                MODERN,
                "basic/transports/streamable-http §Server Validation",
                Some(174),
                "Servers MUST reject requests where the values specified in the headers do not match the corresponding values in the request body, with 400 and -32020.",
            ),
            run_fn!(modern_name_mismatch),
        ),
        http_check(
            "http/modern-name-base64",
            EraNeed::Modern,
            "an `Mcp-Name` in the `=?base64?…?=` form is decoded before it is compared",
            must(
                MODERN,
                "basic/transports/streamable-http §Value Encoding",
                Some(174),
                "Servers MUST decode an encoded `Mcp-Name` or `Mcp-Param-{Name}` value before comparing it to the corresponding request body value.",
            ),
            run_fn!(modern_name_base64),
        ),
        http_check(
            "http/modern-name-base64-invalid",
            EraNeed::Modern,
            "an `Mcp-Name` whose Base64 does not decode gets 400 with -32020",
            must(
                MODERN,
                "basic/transports/streamable-http §Server Validation",
                Some(174),
                "Validation failure conditions include: a header value contains invalid characters; the server MUST return 400 with -32020.",
            ),
            run_fn!(modern_name_base64_invalid),
        ),
        http_check(
            "http/modern-unknown-method",
            EraNeed::Modern,
            "an unknown method gets 404 with a -32601 body",
            must(
                MODERN,
                "basic/transports/streamable-http §Protocol Version Header",
                Some(175),
                "If the server does not implement the requested RPC method, it MUST respond with `404 Not Found` and a JSON-RPC error with code `-32601`.",
            ),
            run_fn!(modern_unknown_method),
        ),
        http_check(
            "http/modern-unsupported-version",
            EraNeed::Modern,
            "an unsupported version gets 400 with -32022, `data.supported` and `data.requested`",
            must(
                MODERN,
                "basic/transports/streamable-http §Protocol Version Header",
                Some(157),
                "If the server does not implement the requested protocol version, it MUST respond with `400 Bad Request` and an `UnsupportedProtocolVersionError` listing its supported versions.",
            ),
            run_fn!(modern_unsupported_version),
        ),
        http_check(
            "http/modern-version-mismatch",
            EraNeed::Modern,
            "an `MCP-Protocol-Version` that differs from the `_meta` version gets 400",
            must(
                MODERN,
                "basic/transports/streamable-http §Protocol Version Header",
                Some(174),
                "The header value MUST match the `io.modelcontextprotocol/protocolVersion` field of the body's `_meta`; if the values do not match, the server MUST reject the request with `400 Bad Request` and a `HeaderMismatch` JSON-RPC error.",
            ),
            run_fn!(modern_version_mismatch),
        ),
        http_check(
            "http/modern-version-header-missing",
            EraNeed::Modern,
            "a modern request without `MCP-Protocol-Version` is refused, not served",
            must(
                MODERN,
                "basic/transports/streamable-http §Protocol Version Header",
                Some(174),
                "A server that does not support clients earlier than 2025-06-18 MUST reject a request without the header; one that does MAY treat it as 2025-03-26 (which has no `_meta` version and no session-less requests).",
            ),
            run_fn!(modern_version_header_missing),
        ),
        http_check(
            "http/modern-notification",
            EraNeed::Modern,
            "a modern notification POST gets 202 with no body, or an HTTP error status",
            must(
                MODERN,
                "basic/transports/streamable-http §Sending Messages",
                None,
                "If the body is a JSON-RPC notification: if the server accepts it, the server MUST return `202 Accepted` with no body; if it cannot accept it, it MUST return an HTTP error status code.",
            ),
            run_fn!(modern_notification),
        ),
    ]
}

// ---------------------------------------------------------------------------------------
// Helpers.

/// The endpoint, or a skip when the server is not reached over HTTP.
fn wire(ctx: &Ctx) -> Result<HttpWire, Outcome> {
    ctx.http()
        .ok_or_else(|| Outcome::Skip("the server is not reached over HTTP".to_owned()))
}

/// Adds `headers` to `request`.
fn with_headers(mut request: HttpRequest, headers: &[(String, String)]) -> HttpRequest {
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request
}

/// A modern request as raw HTTP: the body with its `_meta`, and the request metadata headers.
fn modern_request(id: &Value, method: &str, params: Option<Value>) -> HttpRequest {
    let params = with_modern_meta(params, json!({}));
    let headers = modern_headers(method, Some(&params));
    let body = request_body(id, method, Some(params));
    with_headers(HttpRequest::post(body.to_string()), &headers)
}

/// A harmless request of the current era as raw HTTP, with its id: `ping` in the shared
/// legacy session, or a modern `server/discover`.
async fn harmless_request(ctx: &mut Ctx) -> Result<(HttpRequest, Value), String> {
    match ctx.era() {
        Era::Legacy => {
            let session = ctx.shared().await?;
            let id = session.next_id();
            let body = request_body(&id, "ping", None);
            let request = with_headers(HttpRequest::post(body.to_string()), &session.headers());
            Ok((request, id))
        }
        Era::Modern => {
            let id = ctx.modern()?.next_id();
            Ok((modern_request(&id, "server/discover", None), id))
        }
    }
}

/// Sends `request` and reads until the response to `id` (to the end when `id` is null).
async fn exchange(ctx: &Ctx, request: HttpRequest, id: &Value) -> Result<HttpReply, Outcome> {
    let wire = wire(ctx)?;
    let until = if id.is_null() {
        Until::End
    } else {
        Until::Response(id.clone())
    };
    Ok(wire.send(request, until, ctx.step_limit()).await?)
}

/// A GET of the event stream with `headers`, read for at most `limit` or `events` events.
async fn get_stream(
    ctx: &Ctx,
    headers: &[(String, String)],
    events: Option<usize>,
    limit: Duration,
) -> Result<HttpReply, Outcome> {
    let wire = wire(ctx)?;
    let until = events.map_or(Until::TimeLimit, Until::Events);
    Ok(wire
        .send(with_headers(HttpRequest::get(), headers), until, limit)
        .await?)
}

/// The JSON-RPC error code of an answer: of the response to `id`, else of any error in it.
fn error_code(reply: &HttpReply, id: &Value) -> Option<i64> {
    reply
        .response(id)
        .or_else(|| {
            reply
                .messages
                .iter()
                .find(|message| message.get("error").is_some())
        })
        .and_then(|message| message.get("error"))
        .and_then(|error| error.get("code"))
        .and_then(Value::as_i64)
}

/// Passes when the answer has `status` and a JSON-RPC error with `code`.
fn expect_status_and_code(
    reply: &HttpReply,
    id: &Value,
    status: u16,
    code: i64,
    what: &str,
) -> Outcome {
    let seen_code = error_code(reply, id);
    if reply.status.as_u16() == status && seen_code == Some(code) {
        Outcome::Pass(format!("{what}: HTTP {status} with {code}"))
    } else {
        Outcome::Violated(format!(
            "{what}: expected HTTP {status} with a JSON-RPC error {code}, saw {}",
            reply.summary()
        ))
    }
}

/// Passes when the answer is a 4xx status.
fn expect_client_error(reply: &HttpReply, what: &str) -> Outcome {
    if reply.status.is_client_error() {
        Outcome::Pass(format!("{what}: {}", reply.summary()))
    } else {
        Outcome::Violated(format!(
            "{what}: expected a 4xx status, saw {}",
            reply.summary()
        ))
    }
}

/// Passes when the answer has exactly `status`.
fn expect_status(reply: &HttpReply, status: u16, what: &str) -> Outcome {
    if reply.status.as_u16() == status {
        Outcome::Pass(format!("{what}: HTTP {status}"))
    } else {
        Outcome::Violated(format!(
            "{what}: expected HTTP {status}, saw {}",
            reply.summary()
        ))
    }
}

/// Passes when the answer holds a successful response to `id`.
fn expect_served(reply: &HttpReply, id: &Value, what: &str) -> Outcome {
    let served = reply
        .response(id)
        .is_some_and(|response| response.get("result").is_some());
    if served && reply.status.is_success() {
        Outcome::Pass(format!("{what}: served ({})", reply.status.as_u16()))
    } else {
        Outcome::Violated(format!(
            "{what}: expected the request to be served, saw {}",
            reply.summary()
        ))
    }
}

/// A fresh legacy session that has a session id, or a skip saying the server uses none.
async fn session_with_id(ctx: &Ctx) -> Result<(LegacySession, String), Outcome> {
    let session = ctx.fresh_legacy().await?;
    match session.session_id.clone() {
        Some(id) => Ok((session, id)),
        None => {
            session.close().await;
            Err(Outcome::Skip(
                "the server gives no `Mcp-Session-Id`: it keeps no sessions".to_owned(),
            ))
        }
    }
}

/// Sends a `ping` in `session`'s name with its headers changed by `adjust`.
async fn ping_with(
    ctx: &Ctx,
    session: &mut LegacySession,
    adjust: impl FnOnce(HttpRequest) -> HttpRequest,
) -> Result<(HttpReply, Value), Outcome> {
    let id = session.next_id();
    let body = request_body(&id, "ping", None);
    let request = adjust(with_headers(
        HttpRequest::post(body.to_string()),
        &session.headers(),
    ));
    let reply = exchange(ctx, request, &id).await?;
    Ok((reply, id))
}

/// A DELETE of `session_id`, with the session's protocol version.
fn delete_request(session_id: &str, version: &str) -> HttpRequest {
    HttpRequest::bare(Method::DELETE)
        .header("mcp-session-id", session_id)
        .header("mcp-protocol-version", version)
}

/// Whether a message is a JSON-RPC response.
fn is_response(message: &Value) -> bool {
    message.get("result").is_some() || message.get("error").is_some()
}

// ---------------------------------------------------------------------------------------
// POST answers.

/// The check `http/request-content-type`: see its requirement in [`checks`].
async fn request_content_type(ctx: &mut Ctx) -> Checked {
    let (request, id) = harmless_request(ctx).await?;
    let reply = exchange(ctx, request, &id).await?;
    match reply.content_type().as_deref() {
        Some("application/json" | "text/event-stream") if reply.status.is_success() => {
            Ok(Outcome::Pass(format!(
                "HTTP {} ({})",
                reply.status.as_u16(),
                reply.content_type().unwrap_or_default()
            )))
        }
        _ => Ok(Outcome::Violated(format!(
            "a request was answered with {}",
            reply.summary()
        ))),
    }
}

/// The check `http/json-single-response`: see its requirement in [`checks`].
async fn json_single_response(ctx: &mut Ctx) -> Checked {
    let (request, id) = harmless_request(ctx).await?;
    let reply = exchange(ctx, request, &id).await?;
    if reply.content_type().as_deref() != Some("application/json") {
        return Ok(Outcome::Skip(format!(
            "the request was not answered as JSON: {}",
            reply.summary()
        )));
    }
    match reply.messages.as_slice() {
        [message]
            if message.is_object() && message.get("id") == Some(&id) && is_response(message) =>
        {
            Ok(Outcome::Pass(crate::clip(&message.to_string())))
        }
        _ => Ok(Outcome::Violated(format!(
            "expected one JSON object, the response to {id}: {}",
            reply.summary()
        ))),
    }
}

/// The check `http/utf-8`: see its requirement in [`checks`].
async fn utf_8(ctx: &mut Ctx) -> Checked {
    let (request, id) = harmless_request(ctx).await?;
    let reply = exchange(ctx, request, &id).await?;
    let declared = reply.header("content-type").unwrap_or_default().to_owned();
    let charset = declared
        .split(';')
        .skip(1)
        .filter_map(|parameter| parameter.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
        .map(|(_, value)| value.trim().trim_matches('"').to_ascii_lowercase());
    if let Some(charset) = charset
        && charset != "utf-8"
        && charset != "utf8"
    {
        return Ok(Outcome::Violated(format!(
            "the answer declares charset `{charset}`: `Content-Type: {declared}`"
        )));
    }
    if std::str::from_utf8(&reply.body).is_err() {
        return Ok(Outcome::Violated(format!(
            "the body is not UTF-8: {}",
            reply.summary()
        )));
    }
    Ok(Outcome::Pass(format!(
        "`Content-Type: {declared}`, the body decodes"
    )))
}

/// The check `http/notification-accepted`: see its requirement in [`checks`].
async fn notification_accepted(ctx: &mut Ctx) -> Checked {
    let mut session = ctx.fresh_legacy().await?;
    let initialized = session.initialized_status;
    let sent = session
        .notify("notifications/roots/list_changed", None)
        .await;
    session.close().await;
    let sent = sent?;
    if initialized != Some(202) {
        return Ok(Outcome::Violated(format!(
            "`notifications/initialized` got HTTP {} (202 expected)",
            initialized.map_or("none".to_owned(), |status| status.to_string())
        )));
    }
    match &sent.http {
        Some(reply) if reply.status.as_u16() == 202 && reply.body.is_empty() => Ok(Outcome::Pass(
            "`notifications/initialized` and `notifications/roots/list_changed`: 202, no body"
                .to_owned(),
        )),
        Some(reply) if reply.status.is_client_error() || reply.status.is_server_error() => {
            Ok(Outcome::Pass(format!(
                "`notifications/initialized`: 202; `notifications/roots/list_changed` not accepted: {}",
                reply.summary()
            )))
        }
        Some(reply) => Ok(Outcome::Violated(format!(
            "`notifications/roots/list_changed` got {} (202 with no body expected)",
            reply.summary()
        ))),
        None => Ok(Outcome::Violated("no HTTP answer".to_owned())),
    }
}

/// Judges the answer to a message that expects no response: 202 with no body, or an error
/// status.
fn accepted_or_refused(reply: &HttpReply, what: &str) -> Outcome {
    let status = reply.status.as_u16();
    if status == 202 && reply.body.is_empty() {
        Outcome::Pass(format!("{what}: 202, no body"))
    } else if status >= 400 {
        Outcome::Pass(format!("{what}: not accepted, {}", reply.summary()))
    } else {
        Outcome::Violated(format!(
            "{what}: expected 202 with no body or an error status, saw {}",
            reply.summary()
        ))
    }
}

/// The check `http/response-post`: see its requirement in [`checks`].
async fn response_post(ctx: &mut Ctx) -> Checked {
    let mut session = ctx.fresh_legacy().await?;
    let response = json!({"jsonrpc": "2.0", "id": "mcpwire-conformance-never-sent", "result": {}});
    let sent = session
        .send_unanswered(response.to_string().as_bytes())
        .await;
    session.close().await;
    let Some(reply) = sent?.http else {
        return Ok(Outcome::Violated("no HTTP answer".to_owned()));
    };
    Ok(accepted_or_refused(&reply, "a POSTed response"))
}

/// The check `http/empty-body`: see its requirement in [`checks`].
async fn empty_body(ctx: &mut Ctx) -> Checked {
    let session = ctx.shared().await?;
    let request = with_headers(HttpRequest::post(Vec::new()), &session.headers());
    let reply = exchange(ctx, request, &Value::Null).await?;
    if reply.status.as_u16() >= 400 {
        Ok(Outcome::Pass(reply.summary()))
    } else {
        Ok(Outcome::Violated(format!(
            "an empty body was answered with {}",
            reply.summary()
        )))
    }
}

/// The check `http/accept-honoured`: see its requirement in [`checks`].
async fn accept_honoured(ctx: &mut Ctx) -> Checked {
    let mut seen = Vec::new();
    for accept in ["text/event-stream", "application/json"] {
        let session = ctx.shared().await?;
        let id = session.next_id();
        let body = request_body(&id, "ping", None);
        let request = with_headers(HttpRequest::post(body.to_string()), &session.headers())
            .header("accept", accept);
        let reply = exchange(ctx, request, &id).await?;
        let status = reply.status.as_u16();
        let answered_in = reply.content_type();
        if reply.status.is_success() && answered_in.as_deref().is_some_and(|kind| kind != accept) {
            return Ok(Outcome::Violated(format!(
                "`Accept: {accept}` was answered with {}",
                reply.summary()
            )));
        }
        seen.push(format!("`Accept: {accept}` → HTTP {status}"));
    }
    Ok(Outcome::Pass(seen.join("; ")))
}

/// The check `http/content-type-refused`: see its requirement in [`checks`].
async fn content_type_refused(ctx: &mut Ctx) -> Checked {
    let (request, id) = harmless_request(ctx).await?;
    let request = request.header("content-type", "text/plain");
    let reply = exchange(ctx, request, &id).await?;
    Ok(expect_client_error(&reply, "a `text/plain` body"))
}

// ---------------------------------------------------------------------------------------
// GET streams.

/// Opens a fresh session and a GET stream in it, read for at most one event. Skips when the
/// server answers GET with 405; the session is returned for the check to close.
async fn session_stream(ctx: &Ctx) -> Result<(LegacySession, HttpReply), Outcome> {
    let session = ctx.fresh_legacy().await?;
    let reply = get_stream(ctx, &session.headers(), Some(1), STREAM_WAIT).await;
    match reply {
        Ok(reply) if reply.status.as_u16() == 405 => {
            session.close().await;
            Err(Outcome::Skip(
                "the server offers no GET stream (405)".to_owned(),
            ))
        }
        Ok(reply) => Ok((session, reply)),
        Err(outcome) => {
            session.close().await;
            Err(outcome)
        }
    }
}

/// The check `http/get-stream-or-405`: see its requirement in [`checks`].
async fn get_stream_or_405(ctx: &mut Ctx) -> Checked {
    let session = ctx.fresh_legacy().await?;
    let reply = get_stream(ctx, &session.headers(), Some(1), STREAM_WAIT).await;
    session.close().await;
    let reply = reply?;
    if reply.status.as_u16() == 405 {
        return Ok(Outcome::Pass("405: no GET stream offered".to_owned()));
    }
    if reply.status.is_success() && reply.is_sse() {
        return Ok(Outcome::Pass(format!(
            "HTTP {} text/event-stream",
            reply.status.as_u16()
        )));
    }
    Ok(Outcome::Violated(format!(
        "a GET was answered with {}",
        reply.summary()
    )))
}

/// The check `http/get-no-responses`: see its requirement in [`checks`].
async fn get_no_responses(ctx: &mut Ctx) -> Checked {
    let mut session = ctx.fresh_legacy().await?;
    let headers = session.headers();
    let wire = wire(ctx)?;
    let stream = wire.send(
        with_headers(HttpRequest::get(), &headers),
        Until::TimeLimit,
        STREAM_WAIT,
    );
    // The stream is asked for first; the request is answered while it is open.
    let ping = session.request("ping", None);
    let (stream, ping) = tokio::join!(stream, ping);
    session.close().await;
    let stream = stream?;
    let ping = ping?;
    if stream.status.as_u16() == 405 {
        return Ok(Outcome::Skip(
            "the server offers no GET stream (405)".to_owned(),
        ));
    }
    if let Some(response) = stream.messages.iter().find(|message| is_response(message)) {
        return Ok(Outcome::Violated(format!(
            "the GET stream carried a response: {}",
            crate::clip(&response.to_string())
        )));
    }
    Ok(Outcome::Pass(format!(
        "{} event(s) on the GET stream, none a response; `ping` got {}",
        stream.events.len(),
        ping.seen()
    )))
}

/// The check `http/sse-framing`: see its requirement in [`checks`].
async fn sse_framing(ctx: &mut Ctx) -> Checked {
    let (session, reply) = session_stream(ctx).await?;
    session.close().await;
    if !reply.is_sse() {
        return Ok(Outcome::Skip(format!(
            "the GET was not answered with a stream: {}",
            reply.summary()
        )));
    }
    if let Some(problem) = reply.malformed.first() {
        return Ok(Outcome::Violated(problem.clone()));
    }
    if let Some(message) = reply
        .messages
        .iter()
        .find(|message| message.get("jsonrpc") != Some(&json!("2.0")))
    {
        return Ok(Outcome::Violated(format!(
            "an event's data is not a JSON-RPC message: {}",
            crate::clip(&message.to_string())
        )));
    }
    Ok(Outcome::Pass(format!(
        "{} event(s), each well framed",
        reply.events.len()
    )))
}

/// The check `http/priming-event`: see its requirement in [`checks`].
async fn priming_event(ctx: &mut Ctx) -> Checked {
    if ctx.legacy_version() < "2025-11-25" {
        return Ok(Outcome::Skip(format!(
            "priming events arrived in 2025-11-25; the session speaks {}",
            ctx.legacy_version()
        )));
    }
    let (session, reply) = session_stream(ctx).await?;
    session.close().await;
    if !reply.is_sse() {
        return Ok(Outcome::Skip(format!(
            "the GET was not answered with a stream: {}",
            reply.summary()
        )));
    }
    match reply.events.first() {
        Some(event) if event.id.is_some() && event.data.is_empty() => Ok(Outcome::Pass(format!(
            "the first event has id `{}` and no data",
            event.id.as_deref().unwrap_or_default()
        ))),
        Some(event) => Ok(Outcome::Violated(format!(
            "the first event is not a priming event: {event:?}"
        ))),
        None => Ok(Outcome::Violated(format!(
            "no event within {} ms of opening the stream",
            STREAM_WAIT.as_millis()
        ))),
    }
}

/// The check `http/event-ids-unique`: see its requirement in [`checks`].
async fn event_ids_unique(ctx: &mut Ctx) -> Checked {
    let (session, first) = session_stream(ctx).await?;
    let second = get_stream(ctx, &session.headers(), Some(1), STREAM_WAIT).await;
    session.close().await;
    let second = second?;
    if !first.is_sse() || !second.is_sse() {
        return Ok(Outcome::Skip(format!(
            "two GET streams could not be opened: {}; {}",
            first.summary(),
            second.summary()
        )));
    }
    let ids: Vec<&str> = first
        .events
        .iter()
        .chain(&second.events)
        .filter_map(|event| event.id.as_deref())
        .collect();
    if ids.len() < 2 {
        return Ok(Outcome::Skip(format!(
            "the streams carry {} event id(s)",
            ids.len()
        )));
    }
    let mut seen = HashSet::new();
    if let Some(repeated) = ids.iter().find(|id| !seen.insert(**id)) {
        return Ok(Outcome::Violated(format!(
            "event id `{repeated}` appears twice across two streams of one session"
        )));
    }
    Ok(Outcome::Pass(format!("ids {}", ids.join(", "))))
}

/// The check `http/resume-no-foreign-replay`: see its requirement in [`checks`].
async fn resume_no_foreign_replay(ctx: &mut Ctx) -> Checked {
    let (mut session, first) = session_stream(ctx).await?;
    let Some(last) = first.events.iter().rev().find_map(|event| event.id.clone()) else {
        session.close().await;
        return Ok(Outcome::Skip(
            "the GET stream carries no event ids: it cannot be resumed".to_owned(),
        ));
    };
    let ping = session.request("ping", None).await;
    let mut headers = session.headers();
    headers.push(("last-event-id".to_owned(), last.clone()));
    let resumed = get_stream(ctx, &headers, None, STREAM_WAIT).await;
    session.close().await;
    ping?;
    let resumed = resumed?;
    if !(resumed.status.is_success() && resumed.is_sse()) {
        return Ok(Outcome::Pass(format!(
            "not resumed, nothing replayed: {}",
            resumed.summary()
        )));
    }
    if let Some(response) = resumed.messages.iter().find(|message| is_response(message)) {
        return Ok(Outcome::Violated(format!(
            "resuming the GET stream from `{last}` replayed a response, which belongs to another stream: {}",
            crate::clip(&response.to_string())
        )));
    }
    Ok(Outcome::Pass(format!(
        "resumed from `{last}`: {} event(s), no response",
        resumed.events.len()
    )))
}

// ---------------------------------------------------------------------------------------
// Sessions.

/// The check `http/session-id-visible-ascii`: see its requirement in [`checks`].
async fn session_id_visible_ascii(ctx: &mut Ctx) -> Checked {
    let session = ctx.fresh_legacy().await?;
    let raw = session
        .handshake
        .http
        .as_ref()
        .and_then(|reply| reply.headers.get("mcp-session-id"))
        .map(|value| value.as_bytes().to_vec());
    session.close().await;
    let Some(raw) = raw else {
        return Ok(Outcome::Skip(
            "the server gives no `Mcp-Session-Id`".to_owned(),
        ));
    };
    if raw.is_empty() {
        return Ok(Outcome::Violated("the session id is empty".to_owned()));
    }
    match raw.iter().find(|byte| !(0x21..=0x7e).contains(*byte)) {
        Some(byte) => Ok(Outcome::Violated(format!(
            "the session id {} holds byte 0x{byte:02x}",
            crate::clip(&String::from_utf8_lossy(&raw))
        ))),
        None => Ok(Outcome::Pass(format!("{} visible ASCII bytes", raw.len()))),
    }
}

/// The check `http/session-id-unpredictable`: see its requirement in [`checks`].
async fn session_id_unpredictable(ctx: &mut Ctx) -> Checked {
    /// Fewer characters cannot hold 64 random bits in hexadecimal.
    const SHORTEST: usize = 16;
    let (first, first_id) = session_with_id(ctx).await?;
    let second = ctx.fresh_legacy().await;
    first.close().await;
    let second = second?;
    let second_id = second.session_id.clone().unwrap_or_default();
    second.close().await;
    if first_id == second_id {
        return Ok(Outcome::Violated(format!(
            "two sessions got the same id `{first_id}`"
        )));
    }
    if let Some(short) = [&first_id, &second_id]
        .into_iter()
        .find(|id| id.len() < SHORTEST)
    {
        return Ok(Outcome::Violated(format!(
            "session id `{short}` has fewer than {SHORTEST} characters: too short to be cryptographically secure"
        )));
    }
    if let (Ok(first), Ok(second)) = (first_id.parse::<u128>(), second_id.parse::<u128>())
        && first.abs_diff(second) < 1000
    {
        return Ok(Outcome::Violated(format!(
            "session ids `{first_id}` and `{second_id}` look sequential"
        )));
    }
    Ok(Outcome::Pass(format!(
        "two distinct ids of {} and {} characters",
        first_id.len(),
        second_id.len()
    )))
}

/// The check `http/session-required`: see its requirement in [`checks`].
async fn session_required(ctx: &mut Ctx) -> Checked {
    let (mut session, _) = session_with_id(ctx).await?;
    let answer = ping_with(ctx, &mut session, |request| {
        request.without("mcp-session-id")
    })
    .await;
    session.close().await;
    let (reply, _) = answer?;
    Ok(expect_status(
        &reply,
        400,
        "a `ping` without `Mcp-Session-Id`",
    ))
}

/// The check `http/unknown-session`: see its requirement in [`checks`].
async fn unknown_session(ctx: &mut Ctx) -> Checked {
    let (mut session, _) = session_with_id(ctx).await?;
    let answer = ping_with(ctx, &mut session, |request| {
        request.header("mcp-session-id", UNKNOWN_SESSION)
    })
    .await;
    session.close().await;
    let (reply, _) = answer?;
    Ok(expect_status(
        &reply,
        404,
        "a `ping` with an unknown session id",
    ))
}

/// The check `http/unknown-session-get`: see its requirement in [`checks`].
async fn unknown_session_get(ctx: &mut Ctx) -> Checked {
    let (session, _) = session_with_id(ctx).await?;
    let mut headers = session.headers();
    session.close().await;
    headers.retain(|(name, _)| name != "mcp-session-id");
    headers.push(("mcp-session-id".to_owned(), UNKNOWN_SESSION.to_owned()));
    let reply = get_stream(ctx, &headers, Some(1), STREAM_WAIT).await?;
    if reply.status.as_u16() == 405 {
        return Ok(Outcome::Skip(
            "the server offers no GET stream (405)".to_owned(),
        ));
    }
    Ok(expect_status(
        &reply,
        404,
        "a GET with an unknown session id",
    ))
}

/// The check `http/unknown-session-delete`: see its requirement in [`checks`].
async fn unknown_session_delete(ctx: &mut Ctx) -> Checked {
    let (session, _) = session_with_id(ctx).await?;
    let version = session.version.clone();
    session.close().await;
    let reply = exchange(ctx, delete_request(UNKNOWN_SESSION, &version), &Value::Null).await?;
    if reply.status.as_u16() == 405 {
        return Ok(Outcome::Pass(
            "405: clients may not end sessions".to_owned(),
        ));
    }
    Ok(expect_status(
        &reply,
        404,
        "a DELETE of an unknown session id",
    ))
}

/// The check `http/delete-status`: see its requirement in [`checks`].
async fn delete_status(ctx: &mut Ctx) -> Checked {
    let (session, id) = session_with_id(ctx).await?;
    let reply = exchange(ctx, delete_request(&id, &session.version), &Value::Null).await;
    session.close().await;
    let reply = reply?;
    let status = reply.status.as_u16();
    if reply.status.is_success() || status == 405 {
        Ok(Outcome::Pass(format!("HTTP {status}")))
    } else {
        Ok(Outcome::Violated(format!(
            "a DELETE of a live session got {}",
            reply.summary()
        )))
    }
}

/// Ends a fresh session with DELETE; skips when the server does not let clients end sessions.
async fn deleted_session(ctx: &Ctx) -> Result<LegacySession, Outcome> {
    let (session, id) = session_with_id(ctx).await?;
    let reply = exchange(ctx, delete_request(&id, &session.version), &Value::Null).await;
    let reply = match reply {
        Ok(reply) => reply,
        Err(outcome) => {
            session.close().await;
            return Err(outcome);
        }
    };
    if reply.status.is_success() {
        return Ok(session);
    }
    session.close().await;
    Err(Outcome::Skip(format!(
        "the server did not end the session on DELETE: {}",
        reply.summary()
    )))
}

/// The check `http/delete-ends-session`: see its requirement in [`checks`].
async fn delete_ends_session(ctx: &mut Ctx) -> Checked {
    let mut session = deleted_session(ctx).await?;
    let answer = ping_with(ctx, &mut session, |request| request).await;
    let (reply, _) = answer?;
    Ok(expect_status(&reply, 404, "a `ping` after DELETE"))
}

/// The check `http/deleted-session-get`: see its requirement in [`checks`].
async fn deleted_session_get(ctx: &mut Ctx) -> Checked {
    let session = deleted_session(ctx).await?;
    let reply = get_stream(ctx, &session.headers(), Some(1), STREAM_WAIT).await?;
    if reply.status.as_u16() == 405 {
        return Ok(Outcome::Skip(
            "the server offers no GET stream (405)".to_owned(),
        ));
    }
    Ok(expect_status(&reply, 404, "a GET after DELETE"))
}

/// A `ping` in the shared session whose `MCP-Protocol-Version` is `version`.
async fn ping_with_version(ctx: &mut Ctx, version: &str) -> Checked {
    if ctx.legacy_version() < "2025-06-18" {
        return Ok(Outcome::Skip(format!(
            "`MCP-Protocol-Version` arrived in 2025-06-18; the session speaks {}",
            ctx.legacy_version()
        )));
    }
    let shared = ctx.shared().await?;
    let id = shared.next_id();
    let headers = shared.headers();
    let body = request_body(&id, "ping", None);
    let request = with_headers(HttpRequest::post(body.to_string()), &headers)
        .header("mcp-protocol-version", version);
    let reply = exchange(ctx, request, &id).await?;
    Ok(expect_status(
        &reply,
        400,
        &format!("`MCP-Protocol-Version: {version}`"),
    ))
}

/// The check `http/protocol-version-invalid`: see its requirement in [`checks`].
async fn protocol_version_invalid(ctx: &mut Ctx) -> Checked {
    ping_with_version(ctx, "not-a-version").await
}

/// The check `http/protocol-version-unsupported`: see its requirement in [`checks`].
async fn protocol_version_unsupported(ctx: &mut Ctx) -> Checked {
    ping_with_version(ctx, "1999-01-01").await
}

/// The check `http/protocol-version-absent`: see its requirement in [`checks`].
async fn protocol_version_absent(ctx: &mut Ctx) -> Checked {
    let shared = ctx.shared().await?;
    let id = shared.next_id();
    let headers = shared.headers();
    let body = request_body(&id, "ping", None);
    let request =
        with_headers(HttpRequest::post(body.to_string()), &headers).without("mcp-protocol-version");
    let reply = exchange(ctx, request, &id).await?;
    Ok(expect_served(
        &reply,
        &id,
        "a `ping` without `MCP-Protocol-Version`",
    ))
}

// ---------------------------------------------------------------------------------------
// Origin and Host.

/// The check `http/origin-invalid`: see its requirement in [`checks`].
async fn origin_invalid(ctx: &mut Ctx) -> Checked {
    let (request, id) = harmless_request(ctx).await?;
    let reply = exchange(ctx, request.header("origin", FOREIGN_ORIGIN), &id).await?;
    Ok(expect_status(
        &reply,
        403,
        &format!("`Origin: {FOREIGN_ORIGIN}`"),
    ))
}

/// The check `http/origin-invalid-get`: see its requirement in [`checks`].
async fn origin_invalid_get(ctx: &mut Ctx) -> Checked {
    let session = ctx.fresh_legacy().await?;
    let mut headers = session.headers();
    headers.push(("origin".to_owned(), FOREIGN_ORIGIN.to_owned()));
    let reply = get_stream(ctx, &headers, Some(1), STREAM_WAIT).await;
    session.close().await;
    let reply = reply?;
    Ok(expect_status(
        &reply,
        403,
        &format!("a GET with `Origin: {FOREIGN_ORIGIN}`"),
    ))
}

/// Whether `target` is an HTTP URL whose host is a loopback name or address.
fn loopback_port(target: &Target) -> Option<u16> {
    let Target::Http { url, .. } = target else {
        return None;
    };
    let url = url::Url::parse(url).ok()?;
    let loopback = match url.host()? {
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(address) => address.is_loopback(),
        url::Host::Ipv6(address) => address.is_loopback(),
    };
    if loopback {
        url.port_or_known_default()
    } else {
        None
    }
}

/// The check `http/host-rebinding`: see its requirement in [`checks`].
async fn host_rebinding(ctx: &mut Ctx) -> Checked {
    let Some(port) = loopback_port(ctx.target()) else {
        return Ok(Outcome::Skip(
            "the server is not reached on a loopback address".to_owned(),
        ));
    };
    let (request, id) = harmless_request(ctx).await?;
    let host = format!("{FOREIGN_HOST}:{port}");
    let reply = exchange(ctx, request.header("host", &host), &id).await?;
    Ok(expect_client_error(&reply, &format!("`Host: {host}`")))
}

// ---------------------------------------------------------------------------------------
// The modern era.

/// The check `http/modern-no-session-id`: see its requirement in [`checks`].
async fn modern_no_session_id(ctx: &mut Ctx) -> Checked {
    let id = json!("http-no-session");
    let plain = exchange(ctx, modern_request(&id, "server/discover", None), &id).await?;
    let stray = exchange(
        ctx,
        modern_request(&id, "server/discover", None).header("mcp-session-id", UNKNOWN_SESSION),
        &id,
    )
    .await?;
    for (what, reply) in [
        ("a modern request", &plain),
        ("one with a stray session id", &stray),
    ] {
        if let Some(session) = reply.header("mcp-session-id") {
            return Ok(Outcome::Violated(format!(
                "{what} was answered with `Mcp-Session-Id: {session}`"
            )));
        }
    }
    Ok(Outcome::Pass(
        "no `Mcp-Session-Id` on either answer".to_owned(),
    ))
}

/// The check `http/modern-ignores-session-id`: see its requirement in [`checks`].
async fn modern_ignores_session_id(ctx: &mut Ctx) -> Checked {
    let id = json!("http-stray-session");
    let request =
        modern_request(&id, "server/discover", None).header("mcp-session-id", UNKNOWN_SESSION);
    let reply = exchange(ctx, request, &id).await?;
    Ok(expect_served(
        &reply,
        &id,
        "`server/discover` with a stray `Mcp-Session-Id`",
    ))
}

/// The check `http/modern-ignores-last-event-id`: see its requirement in [`checks`].
async fn modern_ignores_last_event_id(ctx: &mut Ctx) -> Checked {
    let id = json!("http-last-event-id");
    let request = modern_request(&id, "server/discover", None).header("last-event-id", "0");
    let reply = exchange(ctx, request, &id).await?;
    Ok(expect_served(
        &reply,
        &id,
        "`server/discover` with `Last-Event-ID: 0`",
    ))
}

/// A DELETE with no body and the modern version header.
fn modern_delete() -> HttpRequest {
    HttpRequest::bare(Method::DELETE).header("mcp-protocol-version", MODERN)
}

/// The check `http/modern-get-405`: see its requirement in [`checks`].
async fn modern_get_405(ctx: &mut Ctx) -> Checked {
    let reply = get_stream(
        ctx,
        &[("mcp-protocol-version".to_owned(), MODERN.to_owned())],
        Some(1),
        STREAM_WAIT,
    )
    .await?;
    Ok(expect_status(&reply, 405, "a modern GET"))
}

/// The check `http/modern-delete-405`: see its requirement in [`checks`].
async fn modern_delete_405(ctx: &mut Ctx) -> Checked {
    let reply = exchange(ctx, modern_delete(), &Value::Null).await?;
    Ok(expect_status(&reply, 405, "a modern DELETE"))
}

/// The check `http/modern-method-mismatch`: see its requirement in [`checks`].
async fn modern_method_mismatch(ctx: &mut Ctx) -> Checked {
    let id = json!("http-method-mismatch");
    let request = modern_request(&id, "server/discover", None).header("mcp-method", "tools/list");
    let reply = exchange(ctx, request, &id).await?;
    Ok(expect_status_and_code(
        &reply,
        &id,
        400,
        -32020,
        "`Mcp-Method: tools/list` on `server/discover`",
    ))
}

/// The check `http/modern-method-missing`: see its requirement in [`checks`].
async fn modern_method_missing(ctx: &mut Ctx) -> Checked {
    let id = json!("http-method-missing");
    let request = modern_request(&id, "server/discover", None).without("mcp-method");
    let reply = exchange(ctx, request, &id).await?;
    Ok(expect_status_and_code(
        &reply,
        &id,
        400,
        -32020,
        "`server/discover` without `Mcp-Method`",
    ))
}

/// The check `http/modern-method-case`: see its requirement in [`checks`].
async fn modern_method_case(ctx: &mut Ctx) -> Checked {
    let id = json!("http-method-case");
    let request =
        modern_request(&id, "server/discover", None).header("mcp-method", "Server/Discover");
    let reply = exchange(ctx, request, &id).await?;
    Ok(expect_status_and_code(
        &reply,
        &id,
        400,
        -32020,
        "`Mcp-Method: Server/Discover` on `server/discover`",
    ))
}

/// A method that needs `Mcp-Name`, for a feature the server declares, and its params naming
/// `name`: nothing the server has, so that a request that gets through does no work.
fn named_request(ctx: &Ctx, name: &str) -> Option<(&'static str, Value)> {
    if ctx.declares("tools") {
        Some(("tools/call", json!({"name": name, "arguments": {}})))
    } else if ctx.declares("prompts") {
        Some(("prompts/get", json!({"name": name, "arguments": {}})))
    } else if ctx.declares("resources") {
        Some((
            "resources/read",
            json!({"uri": format!("mcpwire-conformance:///{name}")}),
        ))
    } else {
        None
    }
}

/// Sends a request that needs `Mcp-Name`, for an absent `name`, its headers changed by `adjust`.
async fn named_with(
    ctx: &mut Ctx,
    name: &str,
    id: &Value,
    adjust: impl FnOnce(HttpRequest) -> HttpRequest,
) -> Result<(HttpReply, &'static str), Outcome> {
    let Some((method, params)) = named_request(ctx, name) else {
        return Err(Outcome::Skip(
            "the server declares no tools, prompts or resources".to_owned(),
        ));
    };
    let request = adjust(modern_request(id, method, Some(params)));
    let reply = exchange(ctx, request, id).await?;
    Ok((reply, method))
}

/// The check `http/modern-name-missing`: see its requirement in [`checks`].
async fn modern_name_missing(ctx: &mut Ctx) -> Checked {
    let id = json!("http-name-missing");
    let (reply, method) = named_with(ctx, "mcpwire-conformance-absent", &id, |request| {
        request.without("mcp-name")
    })
    .await?;
    Ok(expect_status_and_code(
        &reply,
        &id,
        400,
        -32020,
        &format!("`{method}` without `Mcp-Name`"),
    ))
}

/// The check `http/modern-name-mismatch`: see its requirement in [`checks`].
async fn modern_name_mismatch(ctx: &mut Ctx) -> Checked {
    let id = json!("http-name-mismatch");
    let (reply, method) = named_with(ctx, "mcpwire-conformance-absent", &id, |request| {
        request.header("mcp-name", "mcpwire-conformance-other")
    })
    .await?;
    Ok(expect_status_and_code(
        &reply,
        &id,
        400,
        -32020,
        &format!("`{method}` whose `Mcp-Name` names another"),
    ))
}

/// The check `http/modern-name-base64`: see its requirement in [`checks`].
async fn modern_name_base64(ctx: &mut Ctx) -> Checked {
    let id = json!("http-name-base64");
    let name = "mcpwire-conformance-ü";
    let encoded = header_value(name);
    let (reply, method) = named_with(ctx, name, &id, |request| {
        request.header("mcp-name", &encoded)
    })
    .await?;
    if error_code(&reply, &id) == Some(-32020) {
        return Ok(Outcome::Violated(format!(
            "`{method}` with `Mcp-Name: {encoded}` (the Base64 of its name) was refused as a mismatch: {}",
            reply.summary()
        )));
    }
    if reply.response(&id).is_none() {
        return Ok(Outcome::Violated(format!(
            "`{method}` with `Mcp-Name: {encoded}` got no response: {}",
            reply.summary()
        )));
    }
    Ok(Outcome::Pass(format!(
        "`Mcp-Name: {encoded}` matched its body: {}",
        reply.summary()
    )))
}

/// The check `http/modern-name-base64-invalid`: see its requirement in [`checks`].
async fn modern_name_base64_invalid(ctx: &mut Ctx) -> Checked {
    let id = json!("http-name-base64-invalid");
    let (reply, method) = named_with(ctx, "mcpwire-conformance-absent", &id, |request| {
        request.header("mcp-name", "=?base64?!!not base64!!?=")
    })
    .await?;
    Ok(expect_status_and_code(
        &reply,
        &id,
        400,
        -32020,
        &format!("`{method}` whose `Mcp-Name` is Base64 that does not decode"),
    ))
}

/// The check `http/modern-unknown-method`: see its requirement in [`checks`].
async fn modern_unknown_method(ctx: &mut Ctx) -> Checked {
    let id = json!("http-unknown-method");
    let request = modern_request(&id, "mcpwire-conformance/no-such-method", None);
    let reply = exchange(ctx, request, &id).await?;
    Ok(expect_status_and_code(
        &reply,
        &id,
        404,
        -32601,
        "an unknown method",
    ))
}

/// A `server/discover` whose `_meta` version is `meta_version` and whose header is `header`.
fn discover_with_versions(id: &Value, meta_version: &str, header: &str) -> HttpRequest {
    let mut params = with_modern_meta(None, json!({}));
    params["_meta"][META_VERSION] = json!(meta_version);
    let body = request_body(id, "server/discover", Some(params.clone()));
    with_headers(
        HttpRequest::post(body.to_string()),
        &modern_headers("server/discover", Some(&params)),
    )
    .header("mcp-protocol-version", header)
}

/// The check `http/modern-unsupported-version`: see its requirement in [`checks`].
async fn modern_unsupported_version(ctx: &mut Ctx) -> Checked {
    let id = json!("http-unsupported-version");
    let requested = "2099-01-01";
    let reply = exchange(ctx, discover_with_versions(&id, requested, requested), &id).await?;
    let outcome = expect_status_and_code(&reply, &id, 400, -32022, "version 2099-01-01");
    if !matches!(outcome, Outcome::Pass(_)) {
        return Ok(outcome);
    }
    let data = reply
        .response(&id)
        .or_else(|| reply.messages.first())
        .and_then(|message| message.pointer("/error/data"))
        .cloned()
        .unwrap_or(Value::Null);
    let supported = data
        .get("supported")
        .and_then(Value::as_array)
        .is_some_and(|versions| !versions.is_empty() && versions.iter().all(Value::is_string));
    if !supported || data.get("requested") != Some(&json!(requested)) {
        return Ok(Outcome::Violated(format!(
            "-32022 needs `data.supported` (the versions, strings) and `data.requested` (\"{requested}\"); `data` is {}",
            crate::clip(&data.to_string())
        )));
    }
    Ok(Outcome::Pass(format!(
        "400 with -32022; data {}",
        crate::clip(&data.to_string())
    )))
}

/// The check `http/modern-version-mismatch`: see its requirement in [`checks`].
async fn modern_version_mismatch(ctx: &mut Ctx) -> Checked {
    let id = json!("http-version-mismatch");
    let reply = exchange(ctx, discover_with_versions(&id, "2099-01-01", MODERN), &id).await?;
    match error_code(&reply, &id) {
        Some(code @ (-32020 | -32022)) if reply.status.as_u16() == 400 => {
            Ok(Outcome::Pass(format!("HTTP 400 with {code}")))
        }
        _ => Ok(Outcome::Violated(format!(
            "header {MODERN}, `_meta` version 2099-01-01: expected HTTP 400 with -32020, saw {}",
            reply.summary()
        ))),
    }
}

/// The check `http/modern-version-header-missing`: see its requirement in [`checks`].
async fn modern_version_header_missing(ctx: &mut Ctx) -> Checked {
    let id = json!("http-version-header-missing");
    let request = modern_request(&id, "server/discover", None).without("mcp-protocol-version");
    let reply = exchange(ctx, request, &id).await?;
    let served = reply
        .response(&id)
        .is_some_and(|response| response.get("result").is_some());
    if served || reply.status.is_success() {
        return Ok(Outcome::Violated(format!(
            "a modern request without `MCP-Protocol-Version` was served: {}",
            reply.summary()
        )));
    }
    Ok(Outcome::Pass(format!("refused: {}", reply.summary())))
}

/// The check `http/modern-notification`: see its requirement in [`checks`].
async fn modern_notification(ctx: &mut Ctx) -> Checked {
    let method = "notifications/mcpwire-conformance/unknown";
    let body = json!({
        "jsonrpc": "2.0",
        "method": method,
        "params": with_modern_meta(None, json!({})),
    });
    let request = with_headers(
        HttpRequest::post(body.to_string()),
        &modern_headers(method, None),
    );
    let reply = exchange(ctx, request, &Value::Null).await?;
    Ok(accepted_or_refused(&reply, "a modern notification"))
}
