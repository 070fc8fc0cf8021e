//! Requests the server sends: sampling, elicitation, roots, ping, and their refusals.

mod support;

use std::time::Duration;

use mcpwire_client::{
    ElicitationModes, ErrorCode, ErrorObject, RequestContext, RequestId, ServerNotification,
};
use mcpwire_jsonrpc::method::RequestMethod;
use mcpwire_rpc::RequestOptions;
use mcpwire_schema::v2025_11_25::methods::{CreateMessage, Elicit, ListRoots, Ping};
use mcpwire_schema::v2025_11_25::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult,
    ElicitResultAction, ElicitResultContentValue, Root,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use support::{Behaviour, builder, connect};
use tokio::sync::mpsc;

fn from_json<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("valid params")
}

fn sampling_params(extra: Value) -> CreateMessageRequestParams {
    let mut params = json!({
        "messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}],
        "maxTokens": 100,
    });
    for (key, value) in extra.as_object().expect("an object") {
        params[key] = value.clone();
    }
    from_json(params)
}

async fn sample(
    params: CreateMessageRequestParams,
    _context: RequestContext,
) -> Result<CreateMessageResult, ErrorObject> {
    let prompt = serde_json::to_value(&params.messages[0].content).expect("encodes");
    Ok(from_json(json!({
        "role": "assistant",
        "content": {"type": "text", "text": format!("you said {}", prompt["text"])},
        "model": "test-model",
    })))
}

fn remote_code(error: &mcpwire_rpc::Error) -> Option<ErrorCode> {
    error.remote().map(|remote| remote.code)
}

#[tokio::test]
async fn sampling_requests_reach_the_handler() {
    let (_client, fake) = connect(Behaviour::default(), builder().sampling(sample)).await;
    let result = fake
        .peer
        .request::<CreateMessage>(&sampling_params(json!({})))
        .await
        .expect("sampling succeeds");
    assert_eq!(result.model, "test-model");
    assert_eq!(
        serde_json::to_value(&result.content).expect("encodes"),
        json!({"type": "text", "text": "you said \"hi\""})
    );
}

#[tokio::test]
async fn sampling_with_tools_needs_the_tools_capability() {
    let with_tools = sampling_params(json!({
        "tools": [{"name": "search", "inputSchema": {"type": "object"}}],
        "toolChoice": {"mode": "auto"},
    }));

    let (_client, fake) = connect(Behaviour::default(), builder().sampling(sample)).await;
    let error = fake
        .peer
        .request::<CreateMessage>(&with_tools)
        .await
        .expect_err("tools were not declared");
    assert_eq!(remote_code(&error), Some(ErrorCode::INVALID_PARAMS));

    let (_client, fake) = connect(
        Behaviour::default(),
        builder().sampling(sample).sampling_tools(true),
    )
    .await;
    fake.peer
        .request::<CreateMessage>(&with_tools)
        .await
        .expect("tools were declared");
}

#[tokio::test]
async fn requests_for_undeclared_capabilities_are_method_not_found() {
    let (_client, fake) = connect(Behaviour::default(), builder()).await;
    let sampling = fake
        .peer
        .request::<CreateMessage>(&sampling_params(json!({})))
        .await
        .expect_err("no sampling handler");
    assert_eq!(remote_code(&sampling), Some(ErrorCode::METHOD_NOT_FOUND));
    let roots = fake
        .peer
        .request::<ListRoots>(&None)
        .await
        .expect_err("no roots provider");
    assert_eq!(remote_code(&roots), Some(ErrorCode::METHOD_NOT_FOUND));
    let form = from_json(json!({
        "message": "name?",
        "requestedSchema": {"type": "object", "properties": {}},
    }));
    let elicitation = fake
        .peer
        .request::<Elicit>(&form)
        .await
        .expect_err("no elicitation handler");
    assert_eq!(remote_code(&elicitation), Some(ErrorCode::METHOD_NOT_FOUND));
    let unknown = fake
        .peer
        .request_raw("vendor/thing", None, RequestOptions::default())
        .await
        .expect_err("unknown method");
    assert_eq!(remote_code(&unknown), Some(ErrorCode::METHOD_NOT_FOUND));
}

#[tokio::test]
async fn the_server_can_ping_the_client() {
    let (_client, fake) = connect(Behaviour::default(), builder()).await;
    let result = fake
        .peer
        .request_raw(Ping::METHOD, None, RequestOptions::default())
        .await
        .expect("pong");
    assert_eq!(result.get(), "{}");
}

#[tokio::test]
async fn roots_come_from_the_provider() {
    let roots = |_: RequestContext| async move {
        Ok::<_, ErrorObject>(vec![Root {
            uri: "file:///projects/demo".to_owned(),
            name: Some("demo".to_owned()),
            meta: None,
        }])
    };
    let (_client, fake) = connect(Behaviour::default(), builder().roots(roots)).await;
    let result = fake
        .peer
        .request::<ListRoots>(&None)
        .await
        .expect("roots listed");
    assert_eq!(
        serde_json::to_value(&result).expect("encodes"),
        json!({"roots": [{"uri": "file:///projects/demo", "name": "demo"}]})
    );
}

#[tokio::test]
async fn accepted_forms_get_the_requested_defaults() {
    // The user fills in the name only.
    let elicit = |params: ElicitRequestParams, _: RequestContext| async move {
        assert!(matches!(
            params,
            ElicitRequestParams::ElicitRequestFormParams(_)
        ));
        Ok::<_, ErrorObject>(from_json::<ElicitResult>(json!({
            "action": "accept",
            "content": {"name": "Ada"},
        })))
    };
    let (_client, fake) = connect(Behaviour::default(), builder().elicitation(elicit)).await;
    let form = from_json(json!({
        "message": "About you",
        "requestedSchema": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "default": "anonymous"},
                "age": {"type": "integer", "default": 30},
                "newsletter": {"type": "boolean", "default": true},
                "tier": {"type": "string", "enum": ["free", "pro"], "default": "free"},
                "email": {"type": "string"},
            },
            "required": ["name"],
        },
    }));
    let result = fake
        .peer
        .request::<Elicit>(&form)
        .await
        .expect("elicitation succeeds");
    assert_eq!(result.action, ElicitResultAction::Accept);
    let content = result.content.expect("content");
    assert_eq!(
        content.get("name"),
        Some(&ElicitResultContentValue::String("Ada".to_owned()))
    );
    assert_eq!(
        content.get("age"),
        Some(&ElicitResultContentValue::Integer(30))
    );
    assert_eq!(
        content.get("newsletter"),
        Some(&ElicitResultContentValue::Boolean(true))
    );
    assert_eq!(
        content.get("tier"),
        Some(&ElicitResultContentValue::String("free".to_owned()))
    );
    assert_eq!(content.get("email"), None);
}

#[tokio::test]
async fn an_undeclared_elicitation_mode_is_invalid_params() {
    let (calls, mut called) = mpsc::unbounded_channel();
    let elicit = move |_: ElicitRequestParams, _: RequestContext| {
        let calls = calls.clone();
        async move {
            let _ = calls.send(());
            Ok::<_, ErrorObject>(from_json::<ElicitResult>(json!({"action": "decline"})))
        }
    };
    let url = from_json(json!({
        "mode": "url",
        "message": "Sign in",
        "elicitationId": "e-1",
        "url": "https://example.com/sign-in",
    }));
    let form = from_json(json!({
        "message": "name?",
        "requestedSchema": {"type": "object", "properties": {}},
    }));
    let unknown_mode = from_json(json!({"mode": "telepathy", "message": "think"}));

    // Form only: URL and unknown modes are refused before the handler.
    let (_client, fake) =
        connect(Behaviour::default(), builder().elicitation(elicit.clone())).await;
    for params in [&url, &unknown_mode] {
        let error = fake
            .peer
            .request::<Elicit>(params)
            .await
            .expect_err("mode not declared");
        assert_eq!(remote_code(&error), Some(ErrorCode::INVALID_PARAMS));
    }
    // URL only: forms are refused.
    let (_client, url_fake) = connect(
        Behaviour::default(),
        builder()
            .elicitation(elicit)
            .elicitation_modes(ElicitationModes::URL),
    )
    .await;
    let error = url_fake
        .peer
        .request::<Elicit>(&form)
        .await
        .expect_err("form not declared");
    assert_eq!(remote_code(&error), Some(ErrorCode::INVALID_PARAMS));
    url_fake
        .peer
        .request::<Elicit>(&url)
        .await
        .expect("url declared");
    // The handler ran once: for the declared mode.
    assert_eq!(called.recv().await, Some(()));
    assert!(called.try_recv().is_err());
}

#[tokio::test]
async fn completion_of_an_accepted_url_elicitation_is_delivered_once() {
    let (notifications, mut received) = mpsc::unbounded_channel();
    let elicit = |_: ElicitRequestParams, _: RequestContext| async move {
        Ok::<_, ErrorObject>(from_json::<ElicitResult>(json!({"action": "accept"})))
    };
    let (_client, fake) = connect(
        Behaviour::default(),
        builder()
            .elicitation(elicit)
            .elicitation_modes(ElicitationModes::FORM_AND_URL)
            .on_notification(move |notification| {
                let _ = notifications.send(notification);
            }),
    )
    .await;
    let url = from_json(json!({
        "mode": "url",
        "message": "Sign in",
        "elicitationId": "e-1",
        "url": "https://example.com/sign-in",
    }));
    let result = fake.peer.request::<Elicit>(&url).await.expect("accepted");
    assert_eq!(result.action, ElicitResultAction::Accept);
    assert_eq!(result.content, None);

    let complete = |id: &str| {
        let params =
            serde_json::value::to_raw_value(&json!({"elicitationId": id})).expect("encodes");
        fake.peer.notify_raw(
            "notifications/elicitation/complete",
            Some(params),
            Default::default(),
        )
    };
    complete("unknown").await.expect("sent");
    complete("e-1").await.expect("sent");
    complete("e-1").await.expect("sent");
    // A marker after them, to know the three were handled.
    fake.peer
        .notify_raw("notifications/tools/list_changed", None, Default::default())
        .await
        .expect("sent");

    let mut delivered = Vec::new();
    for _ in 0..2 {
        delivered.push(received.recv().await.expect("delivered"));
    }
    assert_eq!(
        delivered,
        [
            ServerNotification::ElicitationComplete(from_json(json!({"elicitationId": "e-1"}))),
            ServerNotification::ToolListChanged,
        ]
    );
}

/// Reports the id of a request when the handler's future ends, however it ends.
struct Stopped {
    id: RequestId,
    report: mpsc::UnboundedSender<RequestId>,
}

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.report.send(self.id.clone());
    }
}

#[tokio::test]
async fn a_cancelled_server_request_stops_its_handler() {
    let (started, mut started_ids) = mpsc::unbounded_channel();
    let (stopped, mut stopped_ids) = mpsc::unbounded_channel();
    let elicit = move |_: ElicitRequestParams, context: RequestContext| {
        let started = started.clone();
        let stopped = Stopped {
            id: context.id().clone(),
            report: stopped.clone(),
        };
        async move {
            let _stopped = stopped;
            let _ = started.send(context.id().clone());
            // Only the server's cancellation ends this wait.
            context.cancellation().cancelled().await;
            Ok::<_, ErrorObject>(from_json::<ElicitResult>(json!({"action": "cancel"})))
        }
    };
    let (_client, fake) = connect(Behaviour::default(), builder().elicitation(elicit)).await;
    let form: ElicitRequestParams = from_json(json!({
        "message": "name?",
        "requestedSchema": {"type": "object", "properties": {}},
    }));
    let request = tokio::spawn({
        let peer = fake.peer.clone();
        async move {
            let mut options = RequestOptions::default();
            options.timeout = Some(Some(Duration::from_secs(600)));
            peer.request_with::<Elicit>(&form, options).await
        }
    });
    let id: RequestId = started_ids.recv().await.expect("the handler started");
    let params =
        serde_json::value::to_raw_value(&json!({"requestId": id, "reason": "no longer needed"}))
            .expect("encodes");
    fake.peer
        .notify_raw("notifications/cancelled", Some(params), Default::default())
        .await
        .expect("sent");
    assert_eq!(stopped_ids.recv().await, Some(id));

    // No response comes for a cancelled request: after a later round trip, the server's call
    // is still waiting.
    fake.peer
        .request::<Ping>(&None)
        .await
        .expect("the client still answers");
    assert!(!request.is_finished());
    request.abort();
}

#[tokio::test]
async fn a_task_param_is_honoured_only_when_tasks_were_declared() {
    let with_task = sampling_params(json!({"task": {"ttl": 5_000}}));

    // Without the declaration the request is processed normally, as the spec asks.
    let (_client, fake) = connect(Behaviour::default(), builder().sampling(sample)).await;
    let result = fake
        .peer
        .request::<CreateMessage>(&with_task)
        .await
        .expect("answered directly");
    assert_eq!(result.model, "test-model");

    let declared = builder()
        .sampling(sample)
        .task_requests(mcpwire_client::TaskLimits::default());
    let (_client, fake) = connect(Behaviour::default(), declared).await;
    let params = serde_json::value::to_raw_value(&with_task).expect("encodes");
    let created = fake
        .peer
        .request_raw(
            "sampling/createMessage",
            Some(params),
            RequestOptions::default(),
        )
        .await
        .expect("a task is created");
    let created: Value = serde_json::from_str(created.get()).expect("json");
    let task_id = created["task"]["taskId"].as_str().expect("a task id");
    assert_eq!(created["task"]["ttl"], 5_000);
    let ask = |method: &'static str, params: Value| {
        let peer = fake.peer.clone();
        async move {
            let params = serde_json::value::to_raw_value(&params).expect("encodes");
            let result = peer
                .request_raw(method, Some(params), RequestOptions::default())
                .await?;
            Ok::<Value, mcpwire_rpc::Error>(serde_json::from_str(result.get()).expect("json"))
        }
    };
    let result = ask("tasks/result", json!({"taskId": task_id}))
        .await
        .expect("result");
    assert_eq!(result["model"], "test-model");
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        task_id
    );
    let polled = ask("tasks/get", json!({"taskId": task_id}))
        .await
        .expect("get");
    assert_eq!(polled["status"], "completed");
    let listed = ask("tasks/list", json!({})).await.expect("list");
    assert_eq!(listed["tasks"].as_array().map(Vec::len), Some(1));
    let finished = ask("tasks/cancel", json!({"taskId": task_id}))
        .await
        .expect_err("a finished task cannot be cancelled");
    assert_eq!(remote_code(&finished), Some(ErrorCode::INVALID_PARAMS));
    let unknown = ask("tasks/get", json!({"taskId": "nope"}))
        .await
        .expect_err("unknown");
    assert_eq!(remote_code(&unknown), Some(ErrorCode::INVALID_PARAMS));
}
