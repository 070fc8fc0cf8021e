//! Flaws of JSON-RPC: response shapes, ids, error codes.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::support::{Answer, Case, Flaw, Intercept, Seen, rewrite};

/// Changes the error code `from` to `to` in every answer.
fn recode(from: i64, to: i64) -> Arc<dyn Flaw> {
    rewrite(
        |_: &Seen| true,
        move |message| {
            if message["error"]["code"] == json!(from) {
                message["error"]["code"] = json!(to);
            }
        },
    )
}

/// Answers bodies that `when` accepts with a result, as if they were fine.
fn accepts(when: fn(&Seen) -> bool) -> Arc<dyn Flaw> {
    Arc::new(Intercept(move |seen: &Seen| {
        when(seen).then(|| {
            let id = seen
                .json
                .as_ref()
                .and_then(|json| json.get("id"))
                .cloned()
                .unwrap_or(Value::Null);
            Answer::json(200, &json!({"jsonrpc": "2.0", "id": id, "result": {}}))
        })
    }))
}

fn body_has(seen: &Seen, needle: &str) -> bool {
    String::from_utf8_lossy(&seen.body).contains(needle)
}

pub(crate) const CASES: &[Case] = &[
    Case {
        check: "json-rpc/response-shape@legacy",
        flaw: || {
            rewrite(
                |seen: &Seen| seen.rpc_method() == Some("ping"),
                |message| message["jsonrpc"] = json!("2"),
            )
        },
    },
    Case {
        check: "json-rpc/response-shape@modern",
        flaw: || {
            rewrite(
                |seen: &Seen| seen.rpc_method() == Some("server/discover"),
                |message| message["error"] = json!({"code": 1, "message": "both"}),
            )
        },
    },
    Case {
        check: "json-rpc/string-id@legacy",
        flaw: || {
            rewrite(
                |seen: &Seen| seen.rpc_method() == Some("ping"),
                |message| {
                    if let Some(id) = message["id"].as_str() {
                        message["id"] = json!(id.replace('ü', "u"));
                    }
                },
            )
        },
    },
    Case {
        check: "json-rpc/integer-id@modern",
        flaw: || {
            rewrite(
                |seen: &Seen| seen.rpc_method() == Some("server/discover"),
                |message| {
                    if message["id"].is_i64() {
                        message["id"] = json!(message["id"].to_string());
                    }
                },
            )
        },
    },
    Case {
        check: "json-rpc/unknown-method@legacy",
        flaw: || recode(-32601, -32600),
    },
    Case {
        check: "json-rpc/unknown-method@modern",
        flaw: || recode(-32601, -32603),
    },
    Case {
        check: "json-rpc/error-object@legacy",
        flaw: || {
            rewrite(
                |_: &Seen| true,
                |message| {
                    if message["error"].is_object() {
                        message["error"]["code"] = json!("-32601");
                    }
                },
            )
        },
    },
    Case {
        check: "json-rpc/parse-error",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                (seen.json.is_none() && !seen.body.is_empty()).then(|| {
                Answer::json(400, &json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": "bad"}}))
            })
            }))
        },
    },
    Case {
        check: "json-rpc/missing-jsonrpc",
        flaw: || {
            accepts(|seen| {
                seen.json.as_ref().is_some_and(|json| {
                    json.get("jsonrpc").is_none() && json.get("method").is_some()
                })
            })
        },
    },
    Case {
        check: "json-rpc/wrong-version",
        flaw: || accepts(|seen| body_has(seen, "\"1.0\"")),
    },
    Case {
        check: "json-rpc/method-not-string",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                seen.json.as_ref().is_some_and(|json| json["method"].is_number()).then(|| {
                Answer::json(400, &json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32601, "message": "no such method"}}))
            })
            }))
        },
    },
    Case {
        check: "json-rpc/null-id",
        flaw: || {
            accepts(|seen| {
                seen.json
                    .as_ref()
                    .is_some_and(|json| json.get("id") == Some(&Value::Null))
            })
        },
    },
    Case {
        check: "json-rpc/params-not-structured",
        flaw: || {
            accepts(|seen| {
                seen.json
                    .as_ref()
                    .is_some_and(|json| json["params"].is_number())
            })
        },
    },
    Case {
        check: "json-rpc/invalid-params@legacy",
        flaw: || recode(-32602, -32603),
    },
    Case {
        check: "json-rpc/notification-unanswered",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                seen.rpc_method().is_some_and(|method| method.contains("mcpwire-conformance/unknown")).then(|| {
                Answer::json(200, &json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32601, "message": "unknown"}}))
            })
            }))
        },
    },
    Case {
        check: "json-rpc/stray-response",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                seen.json
                    .as_ref()
                    .is_some_and(|json| json.get("result").is_some())
                    .then(|| Answer::empty(500))
            }))
        },
    },
    Case {
        check: "json-rpc/batch",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                seen.json.as_ref().is_some_and(Value::is_array).then(|| {
                Answer::json(200, &json!([{"jsonrpc": "2.0", "id": 21, "result": {}}, {"jsonrpc": "2.0", "id": 22, "result": {}}]))
            })
            }))
        },
    },
];
