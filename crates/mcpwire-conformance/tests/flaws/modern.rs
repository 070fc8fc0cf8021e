//! Flaws of the modern era: `server/discover`, per-request `_meta`, `resultType`, removed
//! methods and codes, input requests, subscriptions, caching hints, statelessness.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::{Value, json};

use crate::support::{AlterRequest, Answer, Case, Flaw, Intercept, Seen, rewrite};

/// The `_meta` of a request, when it has one.
pub(crate) fn meta(seen: &Seen) -> Option<&serde_json::Map<String, Value>> {
    seen.json.as_ref()?.get("params")?.get("_meta")?.as_object()
}

/// Whether `seen` is a modern request of `method`.
pub(crate) fn modern(seen: &Seen, method: &str) -> bool {
    seen.is_modern() && seen.rpc_method() == Some(method)
}

/// The id of the request `seen`.
pub(crate) fn id_of(seen: &Seen) -> Value {
    seen.json
        .as_ref()
        .and_then(|json| json.get("id"))
        .cloned()
        .unwrap_or(Value::Null)
}

/// A JSON answer with `result` to the request `seen`.
pub(crate) fn answer_result(seen: &Seen, result: Value) -> Answer {
    Answer::json(
        200,
        &json!({"jsonrpc": "2.0", "id": id_of(seen), "result": result}),
    )
}

/// An SSE answer made of `messages`.
pub(crate) fn sse(messages: &[Value]) -> Answer {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "content-type",
        "text/event-stream".parse().expect("a valid value"),
    );
    let body = messages
        .iter()
        .map(|message| format!("data: {message}\n\n"))
        .collect::<String>();
    Answer {
        status: http::StatusCode::OK,
        headers,
        body: body.into_bytes(),
    }
}

/// The JSON-RPC messages of an answer (a JSON body, or each SSE event's data).
fn messages_of(answer: &Answer) -> Vec<Value> {
    let text = String::from_utf8_lossy(&answer.body);
    if let Ok(value) = serde_json::from_str::<Value>(&text) {
        return vec![value];
    }
    text.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str(data.trim()).ok())
        .collect()
}

/// A flaw that adds messages around the answers to requests `when` accepts, as an SSE
/// stream: `before` the answer's own messages and `after` them.
pub(crate) fn surround(
    when: fn(&Seen) -> bool,
    before: fn() -> Vec<Value>,
    after: fn() -> Vec<Value>,
) -> Arc<dyn Flaw> {
    Arc::new(crate::support::Alter(
        move |seen: &Seen, answer: &mut Answer| {
            if when(seen) {
                let mut messages = before();
                messages.extend(messages_of(answer));
                messages.extend(after());
                let status = answer.status;
                *answer = sse(&messages);
                answer.status = status;
            }
        },
    ))
}

/// Replaces the body of the request `seen` with `json` (its length header dropped, so that
/// the proxy's client gives the new one).
pub(crate) fn set_body(seen: &mut Seen, json: &Value) {
    seen.body = json.to_string().into();
    seen.headers.remove("content-length");
}

/// Rewrites the results of modern requests of `method`.
fn rewrite_result(method: &'static str, change: fn(&mut Value)) -> Arc<dyn Flaw> {
    rewrite(
        move |seen: &Seen| modern(seen, method),
        move |message| {
            if let Some(result) = message.get_mut("result") {
                change(result);
            }
        },
    )
}

/// Answers the modern requests of `method` with a complete empty result.
fn accepts(method: &'static str) -> Arc<dyn Flaw> {
    Arc::new(Intercept(move |seen: &Seen| {
        modern(seen, method).then(|| answer_result(seen, json!({"resultType": "complete"})))
    }))
}

/// Answers the requests whose `_meta` `when` accepts with a `server/discover`-like result.
fn accepts_meta(when: fn(&serde_json::Map<String, Value>) -> bool) -> Arc<dyn Flaw> {
    Arc::new(Intercept(move |seen: &Seen| {
        meta(seen).is_some_and(when).then(|| {
            answer_result(
                seen,
                json!({"resultType": "complete", "supportedVersions": ["2026-07-28"], "capabilities": {}, "ttlMs": 0, "cacheScope": "public"}),
            )
        })
    }))
}

/// Alters the `_meta` of each modern request with `change`, given whether a request before
/// it declared what `remember` looks for: a server that keeps state between requests.
fn remembers(
    remember: fn(&serde_json::Map<String, Value>) -> bool,
    change: fn(&mut serde_json::Map<String, Value>),
) -> Arc<dyn Flaw> {
    let seen_before = Arc::new(AtomicBool::new(false));
    Arc::new(AlterRequest(move |seen: &mut Seen| {
        let Some(json) = seen.json.as_mut() else {
            return;
        };
        let Some(meta) = json
            .get_mut("params")
            .and_then(|params| params.get_mut("_meta"))
            .and_then(Value::as_object_mut)
        else {
            return;
        };
        if seen_before.load(Ordering::SeqCst) {
            change(meta);
        }
        if remember(meta) {
            seen_before.store(true, Ordering::SeqCst);
        }
        let json = json.clone();
        set_body(seen, &json);
    }))
}

/// Answers modern `subscriptions/listen` with the stream `messages` makes of its id.
fn listen_stream(messages: fn(Value) -> Vec<Value>) -> Arc<dyn Flaw> {
    Arc::new(Intercept(move |seen: &Seen| {
        modern(seen, "subscriptions/listen").then(|| sse(&messages(id_of(seen))))
    }))
}

/// An acknowledgment of a subscription.
fn acknowledged(subscription: Value, honoured: Value) -> Value {
    json!({
        "jsonrpc": "2.0",
        "method": "notifications/subscriptions/acknowledged",
        "params": {
            "_meta": {"io.modelcontextprotocol/subscriptionId": subscription},
            "notifications": honoured,
        },
    })
}

/// Counts the modern `tools/list` requests for the first page and alters the answers from the
/// second on with `change`.
fn tools_list_drifts(change: fn(&mut Vec<Value>, usize)) -> Arc<dyn Flaw> {
    let count = Arc::new(AtomicUsize::new(0));
    Arc::new(crate::support::Alter(
        move |seen: &Seen, answer: &mut Answer| {
            let first_page = seen
                .json
                .as_ref()
                .is_some_and(|json| json["params"].get("cursor").is_none());
            if modern(seen, "tools/list") && first_page {
                let calls = count.fetch_add(1, Ordering::SeqCst);
                answer.messages(|message| {
                    if let Some(tools) = message["result"]["tools"].as_array_mut() {
                        change(tools, calls);
                    }
                });
            }
        },
    ))
}

/// One flawed peer for each check of the area.
pub(crate) const CASES: &[Case] = &[
    Case {
        check: "modern/discover-result",
        flaw: || {
            rewrite_result("server/discover", |result| {
                result
                    .as_object_mut()
                    .map(|result| result.remove("capabilities"));
            })
        },
    },
    Case {
        check: "modern/discover-versions",
        flaw: || {
            rewrite_result("server/discover", |result| {
                result["supportedVersions"] = json!(["2026-07-28", "latest"]);
            })
        },
    },
    Case {
        check: "modern/discover-cache-hints",
        flaw: || {
            rewrite_result("server/discover", |result| {
                result.as_object_mut().map(|result| result.remove("ttlMs"));
            })
        },
    },
    Case {
        check: "modern/discover-server-info",
        flaw: || {
            rewrite_result("server/discover", |result| {
                result.as_object_mut().map(|result| result.remove("_meta"));
            })
        },
    },
    Case {
        check: "modern/result-type-discover",
        flaw: || {
            rewrite_result("server/discover", |result| {
                result
                    .as_object_mut()
                    .map(|result| result.remove("resultType"));
            })
        },
    },
    Case {
        check: "modern/result-type-lists",
        flaw: || {
            rewrite_result("prompts/list", |result| {
                result
                    .as_object_mut()
                    .map(|result| result.remove("resultType"));
            })
        },
    },
    Case {
        check: "modern/result-type-read",
        flaw: || {
            rewrite_result("resources/read", |result| {
                result
                    .as_object_mut()
                    .map(|result| result.remove("resultType"));
            })
        },
    },
    Case {
        check: "modern/result-type-prompt",
        flaw: || {
            rewrite_result("prompts/get", |result| {
                result["resultType"] = json!(1);
            })
        },
    },
    Case {
        check: "modern/result-type-tool-call",
        flaw: || {
            rewrite_result("tools/call", |result| {
                result["resultType"] = json!("task");
            })
        },
    },
    Case {
        check: "modern/result-type-completion",
        flaw: || {
            rewrite_result("completion/complete", |result| {
                result
                    .as_object_mut()
                    .map(|result| result.remove("resultType"));
            })
        },
    },
    Case {
        check: "modern/input-required-methods",
        flaw: || {
            rewrite_result("resources/templates/list", |result| {
                result["resultType"] = json!("input_required");
                result["requestState"] = json!("state");
            })
        },
    },
    Case {
        check: "modern/missing-protocol-version",
        flaw: || accepts_meta(|meta| !meta.contains_key("io.modelcontextprotocol/protocolVersion")),
    },
    Case {
        check: "modern/missing-client-capabilities",
        flaw: || {
            accepts_meta(|meta| !meta.contains_key("io.modelcontextprotocol/clientCapabilities"))
        },
    },
    Case {
        check: "modern/client-info-optional",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                meta(seen)
                    .is_some_and(|meta| !meta.contains_key("io.modelcontextprotocol/clientInfo"))
                    .then(|| {
                        Answer::json(400, &json!({"jsonrpc": "2.0", "id": id_of(seen), "error": {"code": -32602, "message": "who are you?"}}))
                    })
            }))
        },
    },
    Case {
        check: "modern/malformed-client-capabilities",
        flaw: || {
            accepts_meta(|meta| meta["io.modelcontextprotocol/clientCapabilities"].is_string())
        },
    },
    Case {
        check: "modern/invalid-log-level",
        flaw: || {
            Arc::new(AlterRequest(|seen: &mut Seen| {
                if let Some(json) = seen.json.as_mut()
                    && let Some(meta) = json["params"]["_meta"].as_object_mut()
                {
                    meta.remove("io.modelcontextprotocol/logLevel");
                    let json = json.clone();
                    set_body(seen, &json);
                }
            }))
        },
    },
    Case {
        check: "modern/unsupported-version",
        flaw: || {
            rewrite(
                |_: &Seen| true,
                |message| {
                    if message["error"]["code"] == json!(-32022) {
                        message["error"]["code"] = json!(-32600);
                    }
                },
            )
        },
    },
    Case {
        check: "modern/unsupported-version-data",
        flaw: || {
            rewrite(
                |_: &Seen| true,
                |message| {
                    if let Some(data) = message["error"]["data"].as_object_mut() {
                        data.remove("requested");
                    }
                },
            )
        },
    },
    Case {
        check: "modern/no-inferred-version",
        flaw: || {
            remembers(
                |meta| meta.contains_key("io.modelcontextprotocol/protocolVersion"),
                |meta| {
                    meta.entry("io.modelcontextprotocol/protocolVersion")
                        .or_insert(json!("2026-07-28"));
                },
            )
        },
    },
    Case {
        check: "modern/no-inferred-capabilities",
        flaw: || {
            remembers(
                |meta| meta["io.modelcontextprotocol/clientCapabilities"]["roots"].is_object(),
                |meta| {
                    meta["io.modelcontextprotocol/clientCapabilities"]["roots"] = json!({});
                },
            )
        },
    },
    Case {
        check: "modern/no-inferred-log-level",
        flaw: || {
            remembers(
                |meta| meta.contains_key("io.modelcontextprotocol/logLevel"),
                |meta| {
                    meta.insert(
                        "io.modelcontextprotocol/logLevel".to_owned(),
                        json!("debug"),
                    );
                },
            )
        },
    },
    Case {
        check: "modern/no-log-without-level",
        flaw: || {
            remembers(
                |_| true,
                |meta| {
                    meta.insert(
                        "io.modelcontextprotocol/logLevel".to_owned(),
                        json!("debug"),
                    );
                },
            )
        },
    },
    Case {
        check: "modern/removed-ping",
        flaw: || accepts("ping"),
    },
    Case {
        check: "modern/removed-set-level",
        flaw: || accepts("logging/setLevel"),
    },
    Case {
        check: "modern/removed-subscribe",
        flaw: || accepts("resources/subscribe"),
    },
    Case {
        check: "modern/removed-unsubscribe",
        flaw: || accepts("resources/unsubscribe"),
    },
    Case {
        check: "modern/removed-tasks-list",
        flaw: || accepts("tasks/list"),
    },
    Case {
        check: "modern/missing-resource",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                (modern(seen, "resources/read")
                    && seen.json.as_ref().is_some_and(|json| {
                        json["params"]["uri"]
                            .as_str()
                            .is_some_and(|uri| uri.contains("missing"))
                    }))
                .then(|| {
                    answer_result(
                        seen,
                        json!({"resultType": "complete", "contents": [], "ttlMs": 0, "cacheScope": "private"}),
                    )
                })
            }))
        },
    },
    Case {
        check: "modern/no-retired-codes",
        flaw: || {
            rewrite(
                |seen: &Seen| modern(seen, "resources/read"),
                |message| {
                    if message["error"]["code"] == json!(-32602) {
                        message["error"]["code"] = json!(-32002);
                    }
                },
            )
        },
    },
    Case {
        check: "modern/missing-capability",
        flaw: || {
            rewrite(
                |seen: &Seen| modern(seen, "tools/call"),
                |message| {
                    if let Some(error) = message["error"].as_object_mut() {
                        error.remove("data");
                    }
                },
            )
        },
    },
    Case {
        check: "modern/input-required-declared",
        flaw: || {
            rewrite_result("tools/call", |result| {
                if let Some(requests) = result["inputRequests"].as_object_mut() {
                    requests.insert(
                        "extra".to_owned(),
                        json!({"method": "elicitation/create", "params": {"message": "Why?", "requestedSchema": {"type": "object", "properties": {}}}}),
                    );
                }
            })
        },
    },
    Case {
        check: "modern/input-required-has-inputs",
        flaw: || {
            rewrite_result("tools/call", |result| {
                if let Some(result) = result.as_object_mut() {
                    result.remove("inputRequests");
                    result.remove("requestState");
                }
            })
        },
    },
    Case {
        check: "modern/input-requests-shape",
        flaw: || {
            rewrite_result("tools/call", |result| {
                if let Some(requests) = result["inputRequests"].as_object_mut() {
                    for request in requests.values_mut() {
                        request["jsonrpc"] = json!("2.0");
                        request["id"] = json!(5);
                    }
                }
            })
        },
    },
    Case {
        check: "modern/listen-acknowledged-first",
        flaw: || {
            listen_stream(|id| {
                vec![
                    json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed", "params": {"_meta": {"io.modelcontextprotocol/subscriptionId": id}}}),
                    acknowledged(id, json!({"toolsListChanged": true})),
                ]
            })
        },
    },
    Case {
        check: "modern/listen-subscription-id",
        flaw: || listen_stream(|_| vec![acknowledged(json!(1), json!({"toolsListChanged": true}))]),
    },
    Case {
        check: "modern/listen-acknowledged-subset",
        flaw: || {
            listen_stream(|id| {
                vec![acknowledged(
                    id,
                    json!({"toolsListChanged": true, "promptsListChanged": true}),
                )]
            })
        },
    },
    Case {
        check: "modern/cache-hints-lists",
        flaw: || {
            rewrite_result("resources/templates/list", |result| {
                result["ttlMs"] = json!(-1);
            })
        },
    },
    Case {
        check: "modern/cache-hints-read",
        flaw: || {
            rewrite_result("resources/read", |result| {
                result
                    .as_object_mut()
                    .map(|result| result.remove("cacheScope"));
            })
        },
    },
    Case {
        check: "modern/cache-scope-pages",
        flaw: || {
            rewrite(
                |seen: &Seen| {
                    modern(seen, "tools/list")
                        && seen
                            .json
                            .as_ref()
                            .is_some_and(|json| json["params"].get("cursor").is_some())
                },
                |message| {
                    let scope = if message["result"]["cacheScope"] == json!("public") {
                        "private"
                    } else {
                        "public"
                    };
                    message["result"]["cacheScope"] = json!(scope);
                },
            )
        },
    },
    Case {
        check: "modern/server-info-meta",
        flaw: || {
            rewrite_result("tools/list", |result| {
                result.as_object_mut().map(|result| result.remove("_meta"));
            })
        },
    },
    Case {
        check: "modern/server-info-shape",
        flaw: || {
            rewrite_result("prompts/list", |result| {
                result["_meta"]["io.modelcontextprotocol/serverInfo"] = json!({"name": 1});
            })
        },
    },
    Case {
        check: "modern/no-server-requests",
        flaw: || {
            surround(
                |seen| modern(seen, "tools/call"),
                || vec![json!({"jsonrpc": "2.0", "id": "server-1", "method": "roots/list"})],
                Vec::new,
            )
        },
    },
    Case {
        check: "modern/lists-not-per-connection",
        flaw: || {
            tools_list_drifts(|tools, calls| {
                if calls > 0 && !tools.is_empty() {
                    tools.remove(0);
                }
            })
        },
    },
    Case {
        check: "modern/tools-order",
        flaw: || {
            tools_list_drifts(|tools, calls| {
                if calls % 2 == 1 {
                    tools.reverse();
                }
            })
        },
    },
];
