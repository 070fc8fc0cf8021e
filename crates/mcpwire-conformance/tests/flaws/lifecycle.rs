//! Flaws of the lifecycle: version negotiation, the `initialize` result, capabilities.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::support::{Answer, Case, Flaw, Intercept, Seen, rewrite};

fn on_initialize(change: impl Fn(&mut Value) + Send + Sync + 'static) -> Arc<dyn Flaw> {
    rewrite(
        |seen: &Seen| seen.is_legacy("initialize"),
        move |message| {
            if let Some(result) = message.get_mut("result") {
                change(result);
            }
        },
    )
}

pub(crate) const CASES: &[Case] = &[
    Case {
        check: "lifecycle/first-contact",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                matches!(seen.rpc_method(), Some("initialize" | "server/discover"))
                    .then(|| Answer::empty(500))
            }))
        },
    },
    Case {
        check: "lifecycle/initialize-result",
        flaw: || {
            on_initialize(|result| {
                result
                    .as_object_mut()
                    .map(|result| result.remove("capabilities"));
            })
        },
    },
    Case {
        check: "lifecycle/server-info",
        flaw: || on_initialize(|result| result["serverInfo"] = json!({"name": "x"})),
    },
    Case {
        check: "lifecycle/echoes-supported-version",
        flaw: || {
            rewrite(
                |seen: &Seen| seen.is_legacy("initialize"),
                |message| {
                    // Answers every request for 2025-11-25 with 2025-06-18, and otherwise 2025-11-25.
                    if let Some(result) = message.get_mut("result") {
                        let chosen = result["protocolVersion"].clone();
                        result["protocolVersion"] = if chosen == json!("2025-11-25") {
                            json!("2025-06-18")
                        } else {
                            json!("2025-11-25")
                        };
                    }
                },
            )
        },
    },
    Case {
        check: "lifecycle/unsupported-version",
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                let asked = seen
                    .json
                    .as_ref()?
                    .get("params")?
                    .get("protocolVersion")?
                    .as_str()?;
                (seen.is_legacy("initialize") && asked == "1900-01-01").then(|| {
                    Answer::json(200, &json!({"jsonrpc": "2.0", "id": seen.json.as_ref().and_then(|j| j.get("id")).cloned(),
                        "error": {"code": -32602, "message": "Unsupported protocol version"}}))
                })
            }))
        },
    },
    Case {
        check: "lifecycle/older-versions",
        flaw: || {
            rewrite(
                |seen: &Seen| {
                    seen.is_legacy("initialize")
                        && seen
                            .json
                            .as_ref()
                            .and_then(|j| j["params"]["protocolVersion"].as_str())
                            == Some("2025-03-26")
                },
                |message| {
                    if let Some(result) = message.get_mut("result") {
                        result["protocolVersion"] = json!("2025-3-26");
                    }
                },
            )
        },
    },
    Case {
        check: "lifecycle/capabilities-are-objects@legacy",
        flaw: || on_initialize(|result| result["capabilities"]["tools"] = json!(true)),
    },
    Case {
        check: "lifecycle/instructions",
        flaw: || on_initialize(|result| result["instructions"] = json!(["not", "text"])),
    },
    Case {
        check: "lifecycle/tools-capability@legacy",
        flaw: || {
            on_initialize(|result| {
                result["capabilities"]
                    .as_object_mut()
                    .map(|caps| caps.remove("tools"));
            })
        },
    },
    Case {
        check: "lifecycle/resources-capability@legacy",
        flaw: || {
            on_initialize(|result| {
                result["capabilities"]
                    .as_object_mut()
                    .map(|caps| caps.remove("resources"));
            })
        },
    },
    Case {
        check: "lifecycle/prompts-capability@modern",
        flaw: || {
            rewrite(
                |seen: &Seen| seen.rpc_method() == Some("prompts/list") && seen.is_modern(),
                |message| {
                    *message = json!({"jsonrpc": "2.0", "id": message["id"].clone(), "error": {"code": -32603, "message": "broken"}});
                },
            )
        },
    },
    Case {
        check: "lifecycle/undeclared-feature@legacy",
        flaw: || {
            on_initialize(|result| {
                result["capabilities"]
                    .as_object_mut()
                    .map(|caps| caps.remove("prompts"));
            })
        },
    },
];
