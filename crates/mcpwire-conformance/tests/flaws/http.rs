//! Flaws of the Streamable HTTP transport: statuses, headers, sessions, SSE streams, Origin and
//! Host validation, and the modern era's request headers.

use std::sync::Arc;

use http::{HeaderValue, Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Alter, AlterRequest, Answer, Case, Flaw, Intercept, Seen, rewrite};

/// The session id the checks use for a session no server issued.
const UNKNOWN_SESSION: &str = "mcpwire-conformance-unknown-session-0000";

/// A header of the request, as text.
fn header<'a>(seen: &'a Seen, name: &str) -> Option<&'a str> {
    seen.headers.get(name)?.to_str().ok()
}

/// The JSON-RPC id of the request's body.
fn rpc_id(seen: &Seen) -> Option<Value> {
    seen.json.as_ref()?.get("id").cloned()
}

/// Whether the body is a JSON-RPC request other than `initialize`.
fn is_plain_request(seen: &Seen) -> bool {
    rpc_id(seen).is_some()
        && seen
            .rpc_method()
            .is_some_and(|method| method != "initialize")
}

/// Whether the request carries the modern protocol version header.
fn has_modern_header(seen: &Seen) -> bool {
    header(seen, "mcp-protocol-version") == Some("2026-07-28")
}

/// An SSE answer with `body` as its whole stream.
fn sse(body: &str) -> Answer {
    let mut answer = Answer::empty(200);
    answer.headers.insert(
        "content-type",
        HeaderValue::from_static("text/event-stream"),
    );
    answer.body = body.as_bytes().to_vec();
    answer
}

/// A successful empty result for the request `seen`.
fn empty_result(seen: &Seen) -> Answer {
    Answer::json(
        200,
        &json!({"jsonrpc": "2.0", "id": rpc_id(seen), "result": {}}),
    )
}

/// Sets a header of an answer or request map.
fn set(headers: &mut http::HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// Answers every request that names the unknown session with 400 instead of 404.
fn unknown_session_400() -> Arc<dyn Flaw> {
    Arc::new(Intercept(|seen: &Seen| {
        (header(seen, "mcp-session-id") == Some(UNKNOWN_SESSION)).then(|| Answer::empty(400))
    }))
}

/// Accepts a DELETE without ending the session.
fn delete_ignored() -> Arc<dyn Flaw> {
    Arc::new(Intercept(|seen: &Seen| {
        (seen.method == Method::DELETE).then(|| Answer::empty(200))
    }))
}

/// Replaces a malformed or unsupported `MCP-Protocol-Version` with the negotiated one, as a
/// server that never looks at the header would serve it.
fn version_header_ignored() -> Arc<dyn Flaw> {
    Arc::new(AlterRequest(|seen: &mut Seen| {
        if matches!(
            header(seen, "mcp-protocol-version"),
            Some("not-a-version" | "1999-01-01")
        ) {
            set(&mut seen.headers, "mcp-protocol-version", "2025-11-25");
        }
    }))
}

/// Lets every `Origin` through, as a server that never validates it.
fn origin_ignored() -> Arc<dyn Flaw> {
    Arc::new(AlterRequest(|seen: &mut Seen| {
        seen.headers.remove("origin");
    }))
}

/// Rewrites `Mcp-Method` and `Mcp-Name` of modern requests from the body, as a server that
/// never validates them would serve them.
fn modern_headers_ignored() -> Arc<dyn Flaw> {
    Arc::new(AlterRequest(|seen: &mut Seen| {
        if !seen.is_modern() {
            return;
        }
        let Some(body) = seen.json.clone() else {
            return;
        };
        let method = body
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default();
        set(&mut seen.headers, "mcp-method", method);
        let name = match method {
            "tools/call" | "prompts/get" => body.pointer("/params/name"),
            "resources/read" => body.pointer("/params/uri"),
            _ => None,
        };
        if let Some(name) = name.and_then(Value::as_str) {
            set(&mut seen.headers, "mcp-name", name);
        }
    }))
}

/// Wraps the JSON answer to each request in an array.
fn array_body() -> Arc<dyn Flaw> {
    Arc::new(Alter(|seen: &Seen, answer: &mut Answer| {
        if is_plain_request(seen) {
            let mut body = b"[".to_vec();
            body.extend_from_slice(&answer.body);
            body.push(b']');
            answer.body = body;
            answer.headers.remove("content-length");
        }
    }))
}

/// Declares the answers to requests in ISO-8859-1.
fn latin_1() -> Arc<dyn Flaw> {
    Arc::new(Alter(|seen: &Seen, answer: &mut Answer| {
        if is_plain_request(seen) {
            set(
                &mut answer.headers,
                "content-type",
                "application/json; charset=iso-8859-1",
            );
        }
    }))
}

/// Serves every body as JSON, whatever its `Content-Type`.
fn content_type_ignored() -> Arc<dyn Flaw> {
    Arc::new(AlterRequest(|seen: &mut Seen| {
        set(&mut seen.headers, "content-type", "application/json");
    }))
}

/// Serves a foreign `Host` as if it were the server's own.
fn host_ignored() -> Arc<dyn Flaw> {
    Arc::new(AlterRequest(|seen: &mut Seen| {
        if header(seen, "host").is_some_and(|host| host.starts_with("attacker.invalid")) {
            set(&mut seen.headers, "host", "localhost");
        }
    }))
}

/// One case per check of the area (two for some checks of each era).
pub(crate) const CASES: &[Case] = &[
    Case {
        check: "http/request-content-type@legacy",
        flaw: || {
            Arc::new(Alter(|seen: &Seen, answer: &mut Answer| {
                if is_plain_request(seen) {
                    set(&mut answer.headers, "content-type", "text/plain");
                }
            }))
        },
    },
    Case {
        check: "http/request-content-type@modern",
        flaw: || {
            Arc::new(Alter(|seen: &Seen, answer: &mut Answer| {
                if seen.is_modern() && is_plain_request(seen) {
                    set(&mut answer.headers, "content-type", "text/html");
                }
            }))
        },
    },
    Case {
        check: "http/json-single-response@legacy",
        flaw: array_body,
    },
    Case {
        check: "http/utf-8@legacy",
        flaw: latin_1,
    },
    Case {
        check: "http/utf-8@modern",
        flaw: latin_1,
    },
    Case {
        check: "http/notification-accepted",
        flaw: || {
            Arc::new(Alter(|seen: &Seen, answer: &mut Answer| {
                if seen.rpc_method().is_some() && rpc_id(seen).is_none() {
                    *answer = Answer::json(200, &json!({}));
                }
            }))
        },
    },
    Case {
        check: "http/response-post",
        flaw: || {
            Arc::new(Alter(|seen: &Seen, answer: &mut Answer| {
                if seen.rpc_method().is_none() && rpc_id(seen).is_some() {
                    *answer = Answer::json(200, &json!({"received": true}));
                }
            }))
        },
    },
    Case {
        check: "http/empty-body",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                (seen.method == Method::POST && seen.body.is_empty()).then(|| Answer::empty(202))
            }))
        },
    },
    Case {
        check: "http/accept-honoured",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                let accept = header(seen, "accept").unwrap_or_default();
                (is_plain_request(seen) && !accept.contains("application/json"))
                    .then(|| empty_result(seen))
            }))
        },
    },
    Case {
        check: "http/content-type-refused@legacy",
        flaw: content_type_ignored,
    },
    Case {
        check: "http/content-type-refused@modern",
        flaw: content_type_ignored,
    },
    Case {
        check: "http/get-stream-or-405",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                (seen.method == Method::GET).then(|| Answer::json(200, &json!({})))
            }))
        },
    },
    Case {
        check: "http/get-no-responses",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                (seen.method == Method::GET)
                    .then(|| sse("id: 1\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n"))
            }))
        },
    },
    Case {
        check: "http/sse-framing",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                (seen.method == Method::GET).then(|| sse("id: 1\ndata: not json\n\n"))
            }))
        },
    },
    Case {
        check: "http/priming-event",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                (seen.method == Method::GET).then(|| {
                    sse("data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"hello\"}}\n\n")
                })
            }))
        },
    },
    Case {
        check: "http/event-ids-unique",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                (seen.method == Method::GET).then(|| sse("id: 1\ndata:\n\n"))
            }))
        },
    },
    Case {
        check: "http/resume-no-foreign-replay",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                (seen.method == Method::GET && header(seen, "last-event-id").is_some())
                    .then(|| sse("id: 9\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n"))
            }))
        },
    },
    Case {
        check: "http/session-id-visible-ascii",
        flaw: || {
            Arc::new(Alter(|seen: &Seen, answer: &mut Answer| {
                if seen.is_legacy("initialize") {
                    set(&mut answer.headers, "mcp-session-id", "session with spaces");
                }
            }))
        },
    },
    Case {
        check: "http/session-id-unpredictable",
        flaw: || {
            Arc::new(Alter(|seen: &Seen, answer: &mut Answer| {
                if seen.is_legacy("initialize") {
                    set(&mut answer.headers, "mcp-session-id", "1");
                }
            }))
        },
    },
    Case {
        check: "http/session-required",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                (is_plain_request(seen)
                    && !seen.is_modern()
                    && header(seen, "mcp-session-id").is_none())
                .then(|| empty_result(seen))
            }))
        },
    },
    Case {
        check: "http/unknown-session",
        flaw: unknown_session_400,
    },
    Case {
        check: "http/unknown-session-get",
        flaw: unknown_session_400,
    },
    Case {
        check: "http/unknown-session-delete",
        flaw: unknown_session_400,
    },
    Case {
        check: "http/delete-status",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                (seen.method == Method::DELETE).then(|| Answer::empty(500))
            }))
        },
    },
    Case {
        check: "http/delete-ends-session",
        flaw: delete_ignored,
    },
    Case {
        check: "http/deleted-session-get",
        flaw: delete_ignored,
    },
    Case {
        check: "http/protocol-version-invalid",
        flaw: version_header_ignored,
    },
    Case {
        check: "http/protocol-version-unsupported",
        flaw: version_header_ignored,
    },
    Case {
        check: "http/protocol-version-absent",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                (is_plain_request(seen)
                    && header(seen, "mcp-session-id").is_some()
                    && header(seen, "mcp-protocol-version").is_none())
                .then(|| Answer::empty(400))
            }))
        },
    },
    Case {
        check: "http/origin-invalid@legacy",
        flaw: origin_ignored,
    },
    Case {
        check: "http/origin-invalid@modern",
        flaw: origin_ignored,
    },
    Case {
        check: "http/origin-invalid-get",
        flaw: origin_ignored,
    },
    Case {
        check: "http/host-rebinding@legacy",
        flaw: host_ignored,
    },
    Case {
        check: "http/host-rebinding@modern",
        flaw: host_ignored,
    },
    Case {
        check: "http/modern-no-session-id",
        flaw: || {
            Arc::new(Alter(|seen: &Seen, answer: &mut Answer| {
                if seen.is_modern() {
                    set(&mut answer.headers, "mcp-session-id", "minted-by-a-flaw");
                }
            }))
        },
    },
    Case {
        check: "http/modern-ignores-session-id",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                (seen.is_modern() && header(seen, "mcp-session-id").is_some())
                    .then(|| Answer::empty(404))
            }))
        },
    },
    Case {
        check: "http/modern-ignores-last-event-id",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                (seen.is_modern() && header(seen, "last-event-id").is_some())
                    .then(|| Answer::empty(400))
            }))
        },
    },
    Case {
        check: "http/modern-get-405",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                (seen.method == Method::GET && has_modern_header(seen))
                    .then(|| sse("id: 1\ndata:\n\n"))
            }))
        },
    },
    Case {
        check: "http/modern-delete-405",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                (seen.method == Method::DELETE && has_modern_header(seen))
                    .then(|| Answer::empty(204))
            }))
        },
    },
    Case {
        check: "http/modern-method-mismatch",
        flaw: modern_headers_ignored,
    },
    Case {
        check: "http/modern-method-missing",
        flaw: modern_headers_ignored,
    },
    Case {
        check: "http/modern-method-case",
        flaw: modern_headers_ignored,
    },
    Case {
        check: "http/modern-name-missing",
        flaw: modern_headers_ignored,
    },
    Case {
        check: "http/modern-name-mismatch",
        flaw: modern_headers_ignored,
    },
    Case {
        check: "http/modern-name-base64-invalid",
        flaw: modern_headers_ignored,
    },
    Case {
        check: "http/modern-name-base64",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                (seen.is_modern()
                    && header(seen, "mcp-name").is_some_and(|name| name.starts_with("=?base64?")))
                .then(|| {
                    Answer::json(
                        400,
                        &json!({"jsonrpc": "2.0", "id": rpc_id(seen),
                            "error": {"code": -32020, "message": "Header mismatch: Mcp-Name"}}),
                    )
                })
            }))
        },
    },
    Case {
        check: "http/modern-unknown-method",
        flaw: || {
            Arc::new(Alter(|seen: &Seen, answer: &mut Answer| {
                if seen.is_modern() && answer.status == StatusCode::NOT_FOUND {
                    answer.status = StatusCode::OK;
                }
            }))
        },
    },
    Case {
        check: "http/modern-unsupported-version",
        flaw: || {
            rewrite(Seen::is_modern, |message| {
                if let Some(error) = message.get_mut("error").and_then(Value::as_object_mut) {
                    error.remove("data");
                }
            })
        },
    },
    Case {
        check: "http/modern-version-mismatch",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                let meta_version = seen
                    .json
                    .as_ref()?
                    .pointer("/params/_meta/io.modelcontextprotocol~1protocolVersion")?
                    .as_str()?;
                (header(seen, "mcp-protocol-version") != Some(meta_version))
                    .then(|| empty_result(seen))
            }))
        },
    },
    Case {
        check: "http/modern-version-header-missing",
        flaw: || {
            Arc::new(AlterRequest(|seen: &mut Seen| {
                if seen.is_modern() && header(seen, "mcp-protocol-version").is_none() {
                    set(&mut seen.headers, "mcp-protocol-version", "2026-07-28");
                }
            }))
        },
    },
    Case {
        check: "http/modern-notification",
        flaw: || {
            Arc::new(Alter(|seen: &Seen, answer: &mut Answer| {
                if seen.is_modern() && rpc_id(seen).is_none() {
                    *answer = Answer::json(200, &json!({"jsonrpc": "2.0", "result": {}}));
                }
            }))
        },
    },
];
