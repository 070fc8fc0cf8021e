//! Requests in the modern era: the `_meta` envelope of every request, `resultType`, methods
//! the era removed, resource-not-found in both forms, and capabilities from discovery.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use mcpwire_client::{CallOptions, Client, ErrorObject, RequestContext};
use mcpwire_schema::v2025_11_25::methods::{Initialized, ListTools};
use mcpwire_schema::v2025_11_25::{
    CompleteRequestParamsRef, CreateMessageRequestParams, CreateMessageResult, LoggingLevel,
    PromptReference,
};
use serde_json::{Value, json};
use support::client_info;
use support::script::{
    MODERN, Script, all_capabilities, envelope, list_tools_answered, modern_client,
};

fn auto() -> mcpwire_client::ClientBuilder {
    mcpwire_client::ClientBuilder::new(client_info())
}

/// Runs `call` on a clone of `client` in the background.
fn spawn<T, F>(client: &Client, call: impl FnOnce(Client) -> F) -> tokio::task::JoinHandle<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    tokio::spawn(call(client.clone()))
}

/// The `_meta` of `request`, which must carry the envelope.
fn assert_envelope(request: &Value, expected: &Value) {
    let meta = &request["params"]["_meta"];
    for (key, value) in expected.as_object().expect("an object") {
        assert_eq!(&meta[key], value, "{key} in {request}");
    }
}

async fn answer_next(script: &mut Script, method: &str, result: Value) -> Value {
    let request = script.request(method).await;
    script.respond(&request, result).await;
    request
}

#[tokio::test]
async fn every_request_carries_the_envelope() {
    let (client, mut script) = modern_client(auto(), all_capabilities()).await;
    let expected = envelope();

    let request = list_tools_answered(&client, &mut script).await;
    // Params are an object with `_meta` even for a list without a cursor.
    assert_eq!(request["params"], json!({"_meta": expected}));

    let call = spawn(&client, |client| async move {
        client.call_tool("echo", json!({"x": 1})).await
    });
    let request = answer_next(
        &mut script,
        "tools/call",
        json!({"content": [], "resultType": "complete"}),
    )
    .await;
    assert_eq!(
        request["params"],
        json!({"name": "echo", "arguments": {"x": 1}, "_meta": expected})
    );
    call.await.unwrap().expect("called");

    let read = spawn(&client, |client| async move {
        client.read_resource("file:///a").await
    });
    let request = answer_next(&mut script, "resources/read", json!({"contents": []})).await;
    assert_eq!(
        request["params"],
        json!({"uri": "file:///a", "_meta": expected})
    );
    read.await.unwrap().expect("read");

    let prompt = spawn(&client, |client| async move {
        client
            .get_prompt("p", BTreeMap::from([("a".to_owned(), "b".to_owned())]))
            .await
    });
    let request = answer_next(&mut script, "prompts/get", json!({"messages": []})).await;
    assert_envelope(&request, &expected);
    assert_eq!(request["params"]["arguments"], json!({"a": "b"}));
    prompt.await.unwrap().expect("prompt");

    let completion = spawn(&client, |client| async move {
        let reference = CompleteRequestParamsRef::PromptReference(
            serde_json::from_value::<PromptReference>(json!({"type": "ref/prompt", "name": "p"}))
                .unwrap(),
        );
        client.complete(reference, "a", "x").await
    });
    let request = answer_next(
        &mut script,
        "completion/complete",
        json!({"completion": {"values": []}}),
    )
    .await;
    assert_envelope(&request, &expected);
    completion.await.unwrap().expect("completion");

    // A call with progress adds its token beside the envelope; the raw path too.
    let with_progress = spawn(&client, |client| async move {
        let options = CallOptions::new().on_progress(|_| {});
        client
            .request_raw("vendor/thing", json!({"_meta": {"mine": true}}))
            .options(options)
            .await
    });
    let request = answer_next(&mut script, "vendor/thing", json!({})).await;
    assert_envelope(&request, &expected);
    assert_eq!(request["params"]["_meta"]["mine"], true);
    assert!(
        request["params"]["_meta"]["progressToken"].is_i64(),
        "{request}"
    );
    with_progress.await.unwrap().expect("raw call");
}

#[tokio::test]
async fn the_envelope_declares_the_registered_handlers_in_the_modern_shape() {
    let sampling = |_: CreateMessageRequestParams, _: RequestContext| async {
        Err::<CreateMessageResult, _>(ErrorObject::internal_error("unused"))
    };
    let builder = auto()
        .sampling(sampling)
        .sampling_tools(true)
        .roots(|_: RequestContext| async { Ok::<_, ErrorObject>(Vec::new()) })
        .roots_list_changed(true)
        .task_requests(mcpwire_client::TaskLimits::default());
    let (client, mut script) = modern_client(builder, all_capabilities()).await;
    let listing = spawn(&client, |client| async move { client.list_prompts().await });
    let request = answer_next(&mut script, "prompts/list", json!({"prompts": []})).await;
    // No `roots.listChanged` and no tasks: the modern era has neither.
    assert_eq!(
        request["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"],
        json!({"sampling": {"tools": {}}, "roots": {}})
    );
    listing.await.unwrap().expect("listed");
}

#[tokio::test]
async fn declared_extensions_travel_in_the_envelope() {
    let mut settings = serde_json::Map::new();
    settings.insert("mode".to_owned(), json!("strict"));
    let builder = auto()
        .extension(
            "io.modelcontextprotocol/oauth-client-credentials",
            serde_json::Map::new(),
        )
        .extension("com.example/feature", serde_json::Map::new())
        .extension("com.example/feature", settings);
    let (client, mut script) = modern_client(builder, all_capabilities()).await;
    let listing = spawn(&client, |client| async move { client.list_prompts().await });
    let request = answer_next(&mut script, "prompts/list", json!({"prompts": []})).await;
    assert_eq!(
        request["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"]["extensions"],
        json!({
            "com.example/feature": {"mode": "strict"},
            "io.modelcontextprotocol/oauth-client-credentials": {},
        })
    );
    listing.await.unwrap().expect("listed");
}

#[tokio::test]
async fn methods_the_modern_era_removed_fail_without_being_sent() {
    let builder = auto()
        .roots(|_: RequestContext| async { Ok::<_, ErrorObject>(Vec::new()) })
        .roots_list_changed(true);
    let (client, mut script) = modern_client(builder, all_capabilities()).await;
    let errors = [
        client.ping().await.expect_err("no ping"),
        client
            .subscribe("file:///a")
            .await
            .expect_err("no subscribe"),
        client
            .unsubscribe("file:///a")
            .await
            .expect_err("no unsubscribe"),
        client
            .notify_roots_list_changed()
            .await
            .expect_err("no roots notification"),
        client
            .notify::<Initialized>(None)
            .await
            .expect_err("no initialized"),
        client
            .request_raw("initialize", json!({}))
            .await
            .expect_err("no initialize"),
    ];
    for error in &errors {
        assert!(error.is_unsupported_in_era(), "{error:?}");
        assert!(error.to_string().contains("modern era"), "{error}");
    }

    // The log level is remembered and carried by every later request.
    client
        .set_logging_level(LoggingLevel::Warning)
        .await
        .expect("stored");
    let listing = spawn(&client, |client| async move {
        client.request::<ListTools>(None).await
    });
    // Nothing was sent before this request.
    let request = answer_next(&mut script, "tools/list", json!({"tools": []})).await;
    assert_eq!(
        request["params"]["_meta"]["io.modelcontextprotocol/logLevel"],
        "warning"
    );
    listing.await.unwrap().expect("listed");
}

#[tokio::test]
async fn the_result_type_decides_what_a_result_is() {
    let (client, mut script) = modern_client(auto(), all_capabilities()).await;
    for (result_type, accepted) in [
        (None, true),
        (Some("complete"), true),
        (Some("input_required"), false),
        (Some("task"), false),
    ] {
        let listing = spawn(&client, |client| async move { client.list_tools().await });
        let mut result = json!({"tools": [], "requestState": "s"});
        if let Some(result_type) = result_type {
            result["resultType"] = json!(result_type);
        }
        answer_next(&mut script, "tools/list", result).await;
        let outcome = listing.await.unwrap();
        if accepted {
            outcome.expect("a complete result");
        } else {
            let error = outcome.expect_err("not a result of tools/list");
            assert!(error.is_invalid_result_type(), "{result_type:?}: {error:?}");
        }
    }
}

#[tokio::test]
async fn a_missing_resource_is_recognised_in_both_forms() {
    let (client, mut script) = modern_client(auto(), all_capabilities()).await;
    for (code, data, not_found) in [
        (-32602, Some(json!({"uri": "file:///gone"})), true),
        (-32002, None, true),
        (-32602, None, false),
        (-32602, Some(json!({"reason": "bad"})), false),
    ] {
        let read = spawn(&client, |client| async move {
            client.read_resource("file:///gone").await
        });
        let request = script.request("resources/read").await;
        script.fail(&request, code, data.clone()).await;
        let error = read.await.unwrap().expect_err("an error");
        assert_eq!(error.is_resource_not_found(), not_found, "{code} {data:?}");
    }
}

#[tokio::test]
async fn discovered_capabilities_gate_requests() {
    let (client, mut script) = modern_client(auto(), json!({"tools": {}})).await;
    let error = client.list_prompts().await.expect_err("no prompts");
    assert!(error.is_capability_missing(), "{error:?}");
    let error = client
        .set_logging_level(LoggingLevel::Debug)
        .await
        .expect_err("no logging");
    assert!(error.is_capability_missing(), "{error:?}");
    // Nothing was sent: the next request the server sees is this one.
    list_tools_answered(&client, &mut script).await;
    assert_eq!(
        client.protocol_version().as_str(),
        MODERN,
        "the agreed version"
    );
}

#[tokio::test(start_paused = true)]
async fn a_modern_request_keeps_its_timeout() {
    let (client, mut script) = modern_client(
        auto().request_timeout(Some(Duration::from_secs(2))),
        all_capabilities(),
    )
    .await;
    let listing = spawn(&client, |client| async move { client.list_tools().await });
    let request = script.request("tools/list").await;
    let error = listing.await.unwrap().expect_err("no answer");
    assert!(error.is_timeout(), "{error:?}");
    // The engine withdrew it with a cancellation.
    let cancelled = script.receive().await;
    assert_eq!(cancelled["method"], "notifications/cancelled");
    assert_eq!(cancelled["params"]["requestId"], request["id"]);
}
