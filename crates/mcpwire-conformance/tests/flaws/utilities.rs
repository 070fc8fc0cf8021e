//! Flaws of the utilities: ping, cancellation, progress.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::modern::{id_of, set_body, sse, surround};
use crate::support::{AlterRequest, Answer, Case, Flaw, Intercept, Seen, rewrite};

/// Whether `seen` is `notifications/cancelled` whose params `when` accepts.
fn cancelled(seen: &Seen, when: fn(&Value) -> bool) -> bool {
    seen.rpc_method() == Some("notifications/cancelled")
        && seen.json.as_ref().is_some_and(|json| when(&json["params"]))
}

/// Answers the cancellations `when` accepts with a JSON-RPC error.
fn refuses_cancellation(when: fn(&Value) -> bool) -> Arc<dyn Flaw> {
    Arc::new(Intercept(move |seen: &Seen| {
        cancelled(seen, when).then(|| {
            Answer::json(
                400,
                &json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32602, "message": "no such request"}}),
            )
        })
    }))
}

/// Rewrites the progress notifications that answer legacy `tools/call` (or modern ones,
/// with `modern`).
fn rewrite_progress(modern: bool, change: fn(&mut Value)) -> Arc<dyn Flaw> {
    rewrite(
        move |seen: &Seen| seen.rpc_method() == Some("tools/call") && seen.is_modern() == modern,
        move |message| {
            if message["method"] == json!("notifications/progress") {
                change(message);
            }
        },
    )
}

/// One flawed peer for each check of the area.
pub(crate) const CASES: &[Case] = &[
    Case {
        check: "utilities/ping-empty-result",
        flaw: || {
            rewrite(
                |seen: &Seen| seen.is_legacy("ping"),
                |message| message["result"] = json!({"pong": true}),
            )
        },
    },
    Case {
        check: "utilities/ping-prompt",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                seen.is_legacy("ping").then(|| {
                    let mut answer = sse(&[]);
                    answer.body = b": thinking\n\n".to_vec();
                    answer
                })
            }))
        },
    },
    Case {
        check: "utilities/ping-before-initialized",
        flaw: || {
            let initialized: Arc<Mutex<HashSet<String>>> = Arc::default();
            Arc::new(Intercept(move |seen: &Seen| {
                let session = seen
                    .headers
                    .get("mcp-session-id")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let mut sessions = initialized.lock().expect("not poisoned");
                if seen.rpc_method() == Some("notifications/initialized") {
                    sessions.insert(session);
                    return None;
                }
                (seen.is_legacy("ping") && !sessions.contains(&session)).then(|| {
                    Answer::json(
                        200,
                        &json!({"jsonrpc": "2.0", "id": id_of(seen), "error": {"code": -32600, "message": "not initialized"}}),
                    )
                })
            }))
        },
    },
    Case {
        check: "utilities/cancel-unknown-id",
        flaw: || refuses_cancellation(|params| params["requestId"].is_string()),
    },
    Case {
        check: "utilities/cancel-after-response",
        flaw: || refuses_cancellation(|params| params["requestId"].is_number()),
    },
    Case {
        check: "utilities/cancel-malformed",
        flaw: || refuses_cancellation(|params| params.get("requestId").is_none()),
    },
    Case {
        check: "utilities/cancel-in-flight",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                cancelled(seen, |_| true).then(|| Answer::empty(202))
            }))
        },
    },
    Case {
        check: "utilities/progress-token@legacy",
        flaw: || {
            rewrite_progress(false, |message| {
                message["params"]["progressToken"] = json!("someone-else");
            })
        },
    },
    Case {
        check: "utilities/progress-integer-token@modern",
        flaw: || {
            rewrite_progress(true, |message| {
                let token = message["params"]["progressToken"].to_string();
                message["params"]["progressToken"] = json!(token);
            })
        },
    },
    Case {
        check: "utilities/progress-increasing@legacy",
        flaw: || {
            rewrite_progress(false, |message| {
                message["params"]["progress"] = json!(1);
            })
        },
    },
    Case {
        check: "utilities/progress-shape@modern",
        flaw: || {
            rewrite_progress(true, |message| {
                message["params"]["total"] = json!("three");
            })
        },
    },
    Case {
        check: "utilities/progress-stops@legacy",
        flaw: || {
            surround(
                |seen| seen.is_legacy("tools/call"),
                Vec::new,
                || {
                    vec![
                        json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": "mcpwire-conformance-stops", "progress": 99}}),
                    ]
                },
            )
        },
    },
    Case {
        check: "utilities/progress-unasked@modern",
        flaw: || {
            Arc::new(AlterRequest(|seen: &mut Seen| {
                if !(seen.is_modern() && seen.rpc_method() == Some("tools/call")) {
                    return;
                }
                let Some(mut json) = seen.json.clone() else {
                    return;
                };
                if let Some(meta) = json["params"]["_meta"].as_object_mut() {
                    meta.entry("progressToken").or_insert(json!("invented"));
                }
                seen.json = Some(json.clone());
                set_body(seen, &json);
            }))
        },
    },
    Case {
        check: "utilities/notification-no-id@legacy",
        flaw: || {
            rewrite_progress(false, |message| {
                message["id"] = json!(77);
            })
        },
    },
];
