//! Flaws of the server features: tools, resources, prompts, completion, logging, and the
//! pagination of their lists.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use serde_json::{Value, json};

use crate::support::{Alter, AlterRequest, Answer, Case, Flaw, Seen, rewrite};

/// Whether `seen` is a legacy request of `method`.
fn legacy(seen: &Seen, method: &str) -> bool {
    seen.is_legacy(method)
}

/// Whether `seen` is a modern request of `method`.
fn modern(seen: &Seen, method: &str) -> bool {
    seen.rpc_method() == Some(method) && seen.is_modern()
}

/// Whether `seen` carries a cursor.
fn has_cursor(seen: &Seen) -> bool {
    seen.json
        .as_ref()
        .and_then(|json| json.get("params"))
        .and_then(|params| params.get("cursor"))
        .is_some()
}

/// Rewrites the answers to legacy requests of `method`.
fn legacy_answers(method: &'static str, change: fn(&mut Value)) -> Arc<dyn Flaw> {
    rewrite(move |seen: &Seen| legacy(seen, method), change)
}

/// Changes the error code `from` to `to` in answers to requests of `method` in either era.
fn recode(method: &'static str, from: i64, to: i64) -> Arc<dyn Flaw> {
    rewrite(
        move |seen: &Seen| seen.rpc_method() == Some(method),
        move |message| {
            if message["error"]["code"] == json!(from) {
                message["error"]["code"] = json!(to);
            }
        },
    )
}

/// Turns an error answer to a legacy request of `method` into the result `result`.
fn error_to_result(method: &'static str, result: fn() -> Value) -> Arc<dyn Flaw> {
    rewrite(
        move |seen: &Seen| legacy(seen, method),
        move |message| {
            if let Some(object) = message.as_object_mut()
                && object.remove("error").is_some()
            {
                object.insert("result".to_owned(), result());
            }
        },
    )
}

/// Applies `change` to each item of the `key` array of a result.
fn each_item(message: &mut Value, key: &str, change: impl Fn(&mut Value)) {
    if let Some(items) = message["result"][key].as_array_mut() {
        items.iter_mut().for_each(change);
    }
}

/// Removes capability `name` from the legacy `initialize` result.
fn without_capability(name: &'static str) -> Arc<dyn Flaw> {
    rewrite(
        |seen: &Seen| legacy(seen, "initialize"),
        move |message| {
            if let Some(capabilities) = message["result"]["capabilities"].as_object_mut() {
                capabilities.remove(name);
            }
        },
    )
}

/// Answers modern first pages of `method` differently from the second call on: the first
/// item of `key` is gone.
fn varies_per_call(method: &'static str, key: &'static str) -> Arc<dyn Flaw> {
    let calls = Arc::new(AtomicUsize::new(0));
    Arc::new(Alter(move |seen: &Seen, answer: &mut Answer| {
        if modern(seen, method) && !has_cursor(seen) && calls.fetch_add(1, Ordering::SeqCst) > 0 {
            answer.messages(|message| {
                if let Some(items) = message["result"][key].as_array_mut()
                    && !items.is_empty()
                {
                    items.remove(0);
                }
            });
        }
    }))
}

pub(crate) const CASES: &[Case] = &[
    // Tools.
    Case {
        check: "tools/list-shape@legacy",
        flaw: || {
            legacy_answers("tools/list", |message| {
                each_item(message, "tools", |tool| {
                    if let Some(tool) = tool.as_object_mut() {
                        tool.remove("inputSchema");
                    }
                });
            })
        },
    },
    Case {
        check: "tools/name-length@legacy",
        flaw: || {
            legacy_answers("tools/list", |message| {
                message["result"]["tools"][0]["name"] = json!("t".repeat(129));
            })
        },
    },
    Case {
        check: "tools/name-characters@modern",
        flaw: || {
            rewrite(
                |seen: &Seen| modern(seen, "tools/list"),
                |message| message["result"]["tools"][0]["name"] = json!("add numbers"),
            )
        },
    },
    Case {
        check: "tools/names-unique@legacy",
        flaw: || {
            legacy_answers("tools/list", |message| {
                let first = message["result"]["tools"][0]["name"].clone();
                message["result"]["tools"][1]["name"] = first;
            })
        },
    },
    Case {
        check: "tools/input-schema-object@legacy",
        flaw: || {
            legacy_answers("tools/list", |message| {
                message["result"]["tools"][0]["inputSchema"] = Value::Null;
            })
        },
    },
    Case {
        check: "tools/input-schema-valid@legacy",
        flaw: || {
            legacy_answers("tools/list", |message| {
                message["result"]["tools"][0]["inputSchema"]["required"] = json!("a");
            })
        },
    },
    Case {
        check: "tools/output-schema-valid@legacy",
        flaw: || {
            legacy_answers("tools/list", |message| {
                each_item(message, "tools", |tool| {
                    if tool.get("outputSchema").is_some() {
                        tool["outputSchema"]["properties"] = json!("sum");
                    }
                });
            })
        },
    },
    Case {
        check: "tools/output-schema-object",
        flaw: || {
            legacy_answers("tools/list", |message| {
                each_item(message, "tools", |tool| {
                    if tool.get("outputSchema").is_some() {
                        tool["outputSchema"]["type"] = json!("array");
                    }
                });
            })
        },
    },
    Case {
        check: "tools/annotations@legacy",
        flaw: || {
            legacy_answers("tools/list", |message| {
                message["result"]["tools"][0]["annotations"]["idempotentHint"] = json!("yes");
            })
        },
    },
    Case {
        check: "tools/icons@legacy",
        flaw: || {
            legacy_answers("tools/list", |message| {
                each_item(message, "tools", |tool| {
                    let icon = tool.get_mut("icons").and_then(|icons| icons.get_mut(0));
                    if let Some(icon) = icon.and_then(Value::as_object_mut) {
                        icon.remove("src");
                    }
                });
            })
        },
    },
    Case {
        check: "tools/icon-sources@legacy",
        flaw: || {
            legacy_answers("tools/list", |message| {
                each_item(message, "tools", |tool| {
                    if tool["icons"][0].is_object() {
                        tool["icons"][0]["src"] = json!("file:///etc/icon.png");
                    }
                });
            })
        },
    },
    Case {
        check: "tools/call-result@legacy",
        flaw: || {
            legacy_answers("tools/call", |message| {
                message["result"]["content"][0] =
                    json!({"type": "image", "data": "not base64!", "mimeType": "image/png"});
            })
        },
    },
    Case {
        check: "tools/structured-content@modern",
        flaw: || {
            rewrite(
                |seen: &Seen| modern(seen, "tools/call"),
                |message| {
                    if message["result"].get("structuredContent").is_some() {
                        message["result"]["structuredContent"] = json!({"sum": "two"});
                    }
                },
            )
        },
    },
    Case {
        check: "tools/structured-content-text@legacy",
        flaw: || {
            legacy_answers("tools/call", |message| {
                if message["result"].get("structuredContent").is_some() {
                    message["result"]["content"] = json!([{"type": "text", "text": "done"}]);
                }
            })
        },
    },
    Case {
        check: "tools/unknown-tool@legacy",
        flaw: || error_to_result("tools/call", || json!({"content": [], "isError": true})),
    },
    Case {
        check: "tools/unknown-tool-code@legacy",
        flaw: || recode("tools/call", -32602, -32603),
    },
    Case {
        check: "tools/invalid-arguments@legacy",
        flaw: || {
            legacy_answers("tools/call", |message| {
                if message["result"]["isError"] == json!(true) {
                    *message = json!({
                        "jsonrpc": "2.0",
                        "id": message["id"].clone(),
                        "error": {"code": -32602, "message": "invalid arguments"},
                    });
                }
            })
        },
    },
    Case {
        check: "tools/x-mcp-header",
        flaw: || {
            rewrite(
                |seen: &Seen| modern(seen, "tools/list"),
                |message| {
                    each_item(message, "tools", |tool| {
                        if let Some(properties) = tool["inputSchema"]["properties"].as_object_mut()
                        {
                            for property in properties.values_mut() {
                                if property.get("x-mcp-header").is_some() {
                                    property["x-mcp-header"] = json!("Re gion");
                                }
                            }
                        }
                    });
                },
            )
        },
    },
    Case {
        check: "tools/list-not-per-connection",
        flaw: || varies_per_call("tools/list", "tools"),
    },
    Case {
        check: "tools/deterministic-order",
        flaw: || {
            let calls = Arc::new(AtomicUsize::new(0));
            Arc::new(Alter(move |seen: &Seen, answer: &mut Answer| {
                if modern(seen, "tools/list")
                    && !has_cursor(seen)
                    && calls.fetch_add(1, Ordering::SeqCst) % 2 == 1
                {
                    answer.messages(|message| {
                        if let Some(tools) = message["result"]["tools"].as_array_mut() {
                            tools.reverse();
                        }
                    });
                }
            }))
        },
    },
    // Resources.
    Case {
        check: "resources/list-shape@legacy",
        flaw: || {
            legacy_answers("resources/list", |message| {
                if let Some(resource) = message["result"]["resources"][0].as_object_mut() {
                    resource.remove("name");
                }
            })
        },
    },
    Case {
        check: "resources/uri-syntax@legacy",
        flaw: || {
            legacy_answers("resources/list", |message| {
                message["result"]["resources"][0]["uri"] = json!("test://static/with space");
            })
        },
    },
    Case {
        check: "resources/read-contents@legacy",
        flaw: || {
            legacy_answers("resources/read", |message| {
                if let Some(contents) = message["result"]["contents"][0].as_object_mut() {
                    contents.remove("text");
                    contents.insert("blob".to_owned(), json!("not base64!"));
                }
            })
        },
    },
    Case {
        check: "resources/not-found-error@legacy",
        flaw: || error_to_result("resources/read", || json!({"contents": []})),
    },
    Case {
        check: "resources/not-found-code",
        flaw: || recode("resources/read", -32002, -32603),
    },
    Case {
        check: "resources/not-found-invalid-params",
        flaw: || recode("resources/read", -32602, -32002),
    },
    Case {
        check: "resources/templates-shape@legacy",
        flaw: || {
            legacy_answers("resources/templates/list", |message| {
                if let Some(template) = message["result"]["resourceTemplates"][0].as_object_mut() {
                    template.remove("uriTemplate");
                }
            })
        },
    },
    Case {
        check: "resources/template-syntax@legacy",
        flaw: || {
            legacy_answers("resources/templates/list", |message| {
                message["result"]["resourceTemplates"][0]["uriTemplate"] =
                    json!("test://items/{id");
            })
        },
    },
    Case {
        check: "resources/annotations@legacy",
        flaw: || {
            legacy_answers("resources/list", |message| {
                message["result"]["resources"][0]["annotations"] = json!({"priority": 2});
            })
        },
    },
    Case {
        check: "resources/icons@legacy",
        flaw: || {
            legacy_answers("resources/templates/list", |message| {
                message["result"]["resourceTemplates"][0]["icons"] =
                    json!([{"src": "https://example.com/item.png", "theme": "blue"}]);
            })
        },
    },
    Case {
        check: "resources/list-not-per-connection",
        flaw: || varies_per_call("resources/list", "resources"),
    },
    // Prompts.
    Case {
        check: "prompts/list-shape@legacy",
        flaw: || {
            legacy_answers("prompts/list", |message| {
                message["result"]["prompts"][0]["arguments"][0]["required"] = json!("yes");
            })
        },
    },
    Case {
        check: "prompts/get-messages@legacy",
        flaw: || {
            legacy_answers("prompts/get", |message| {
                message["result"]["messages"][0]["role"] = json!("system");
            })
        },
    },
    Case {
        check: "prompts/missing-argument@legacy",
        flaw: || recode("prompts/get", -32602, -32603),
    },
    Case {
        check: "prompts/unknown-prompt@legacy",
        flaw: || error_to_result("prompts/get", || json!({"messages": []})),
    },
    Case {
        check: "prompts/icons@legacy",
        flaw: || {
            legacy_answers("prompts/list", |message| {
                message["result"]["prompts"][0]["icons"] = json!(["greet.png"]);
            })
        },
    },
    Case {
        check: "prompts/list-not-per-connection",
        flaw: || {
            // One prompt only: on the second read, a prompt of another connection joins it.
            let calls = Arc::new(AtomicUsize::new(0));
            Arc::new(Alter(move |seen: &Seen, answer: &mut Answer| {
                if modern(seen, "prompts/list") && calls.fetch_add(1, Ordering::SeqCst) > 0 {
                    answer.messages(|message| {
                        if let Some(prompts) = message["result"]["prompts"].as_array_mut() {
                            prompts.push(json!({"name": "per-connection"}));
                        }
                    });
                }
            }))
        },
    },
    // Completion.
    Case {
        check: "completion/capability@legacy",
        flaw: || without_capability("completions"),
    },
    Case {
        check: "completion/values-limit@legacy",
        flaw: || {
            legacy_answers("completion/complete", |message| {
                let values: Vec<String> = (0..101).map(|index| format!("v{index}")).collect();
                message["result"]["completion"]["values"] = json!(values);
            })
        },
    },
    Case {
        check: "completion/result-types@legacy",
        flaw: || {
            legacy_answers("completion/complete", |message| {
                message["result"]["completion"]["hasMore"] = json!("no");
            })
        },
    },
    Case {
        check: "completion/unknown-prompt@legacy",
        flaw: || recode("completion/complete", -32602, -32603),
    },
    // Logging.
    Case {
        check: "logging/set-level",
        flaw: || {
            legacy_answers("logging/setLevel", |message| {
                message["result"] = json!({"level": "emergency"});
            })
        },
    },
    Case {
        check: "logging/invalid-level",
        flaw: || error_to_result("logging/setLevel", || json!({})),
    },
    Case {
        check: "logging/undeclared",
        flaw: || without_capability("logging"),
    },
    Case {
        check: "logging/invalid-meta-level",
        flaw: || {
            // The log level is dropped before the server sees it, so nothing is refused.
            Arc::new(AlterRequest(|seen: &mut Seen| {
                let Some(json) = seen.json.as_mut() else {
                    return;
                };
                if let Some(meta) = json["params"]["_meta"].as_object_mut()
                    && meta.remove("io.modelcontextprotocol/logLevel").is_some()
                {
                    seen.body = Bytes::from(json.to_string());
                }
            }))
        },
    },
    Case {
        check: "logging/no-messages-without-level",
        flaw: || {
            Arc::new(Alter(|seen: &Seen, answer: &mut Answer| {
                if !seen.is_modern() || seen.rpc_method() == Some("server/discover") {
                    return;
                }
                let log = json!({
                    "jsonrpc": "2.0",
                    "method": "notifications/message",
                    "params": {"level": "info", "data": "unasked"},
                });
                let sse = answer
                    .headers
                    .get("content-type")
                    .and_then(|value| value.to_str().ok())
                    .is_some_and(|value| value.starts_with("text/event-stream"));
                let body = String::from_utf8_lossy(&answer.body).into_owned();
                answer.body = if sse {
                    format!("data: {log}\n\n{body}").into_bytes()
                } else {
                    format!("data: {log}\n\ndata: {body}\n\n").into_bytes()
                };
                answer.headers.insert(
                    "content-type",
                    "text/event-stream".parse().expect("a header value"),
                );
                answer.headers.remove("content-length");
            }))
        },
    },
    // Pagination.
    Case {
        check: "utilities/pagination-cursor-type@legacy",
        flaw: || {
            legacy_answers("tools/list", |message| {
                if message["result"].get("nextCursor").is_some() {
                    message["result"]["nextCursor"] = json!(2);
                }
            })
        },
    },
    Case {
        check: "utilities/pagination-no-repeats@legacy",
        flaw: || {
            Arc::new(Alter(|seen: &Seen, answer: &mut Answer| {
                if legacy(seen, "tools/list") && !has_cursor(seen) {
                    answer.messages(|message| {
                        if let Some(tools) = message["result"]["tools"].as_array_mut()
                            && let Some(first) = tools.first().cloned()
                        {
                            tools.push(first);
                        }
                    });
                }
            }))
        },
    },
    Case {
        check: "utilities/pagination-invalid-cursor@legacy",
        flaw: || error_to_result("tools/list", || json!({"tools": []})),
    },
    Case {
        check: "utilities/pagination-stable-cursor@legacy",
        flaw: || {
            let calls = Arc::new(AtomicUsize::new(0));
            Arc::new(Alter(move |seen: &Seen, answer: &mut Answer| {
                if legacy(seen, "tools/list")
                    && has_cursor(seen)
                    && calls.fetch_add(1, Ordering::SeqCst) > 0
                {
                    answer.messages(|message| message["result"]["tools"] = json!([]));
                }
            }))
        },
    },
];
