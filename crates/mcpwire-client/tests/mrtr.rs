//! Multi round-trip requests: the server answers `input_required`, the client answers its
//! input requests with the registered handlers and retries.

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use mcpwire_client::{
    Client, ClientBuilder, ElicitationModes, ErrorCode, ErrorObject, RequestContext,
};
use mcpwire_schema::v2025_11_25::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult, Root,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use support::client_info;
use support::script::{Script, all_capabilities, envelope, list_tools_answered, modern_client};

fn from_json<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("valid JSON for the type")
}

/// What the handlers saw, in order: `(method, params, context id)`.
type Seen = Arc<Mutex<Vec<(String, Value, String)>>>;

/// Records that the `what` handler was asked `params` under the id of `context`.
fn record(seen: &Seen, what: &str, params: &impl serde::Serialize, context: &RequestContext) {
    let params = serde_json::to_value(params).expect("params encode");
    let entry = (what.to_owned(), params, context.id().to_string());
    seen.lock().unwrap().push(entry);
}

/// A client whose handlers record what they are asked and answer with fixed values.
fn recording_builder(seen: &Seen) -> ClientBuilder {
    let sampling_seen = Arc::clone(seen);
    let elicitation_seen = Arc::clone(seen);
    let roots_seen = Arc::clone(seen);
    mcpwire_client::ClientBuilder::new(client_info())
        .sampling(
            move |params: CreateMessageRequestParams, context: RequestContext| {
                record(&sampling_seen, "sampling", &params, &context);
                async move {
                    Ok::<CreateMessageResult, ErrorObject>(from_json(json!({
                        "role": "assistant",
                        "content": {"type": "text", "text": "Paris"},
                        "model": "test-model",
                    })))
                }
            },
        )
        .elicitation_modes(ElicitationModes::FORM_AND_URL)
        .elicitation(
            move |params: ElicitRequestParams, context: RequestContext| {
                record(&elicitation_seen, "elicitation", &params, &context);
                async move {
                    Ok::<ElicitResult, ErrorObject>(from_json(json!({
                        "action": "accept",
                        "content": {"name": "octocat"},
                    })))
                }
            },
        )
        .roots(move |context: RequestContext| {
            record(&roots_seen, "roots", &Value::Null, &context);
            async move {
                Ok::<_, ErrorObject>(vec![Root {
                    uri: "file:///work".to_owned(),
                    name: None,
                    meta: None,
                }])
            }
        })
}

/// The modern capabilities of [`recording_builder`].
fn recording_capabilities() -> Value {
    json!({"elicitation": {"form": {}, "url": {}}, "roots": {}, "sampling": {}})
}

fn elicit_name() -> Value {
    json!({
        "method": "elicitation/create",
        "params": {
            "mode": "form",
            "message": "Your GitHub login?",
            "requestedSchema": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "notify": {"type": "boolean", "default": true},
                },
                "required": ["name"],
            },
        },
    })
}

fn sample_capital() -> Value {
    json!({
        "method": "sampling/createMessage",
        "params": {
            "messages": [{"role": "user", "content": {"type": "text", "text": "Capital of France?"}}],
            "maxTokens": 100,
        },
    })
}

fn input_required(requests: Value, state: Option<&str>) -> Value {
    let mut result = json!({"resultType": "input_required"});
    if !requests.is_null() {
        result["inputRequests"] = requests;
    }
    if let Some(state) = state {
        result["requestState"] = json!(state);
    }
    result
}

fn done(text: &str) -> Value {
    json!({"resultType": "complete", "content": [{"type": "text", "text": text}]})
}

fn text_of(result: &mcpwire_schema::v2025_11_25::CallToolResult) -> String {
    serde_json::to_value(&result.content[0]).unwrap()["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn call_tool_in_background(
    client: &Client,
    name: &str,
) -> tokio::task::JoinHandle<
    Result<mcpwire_schema::v2025_11_25::CallToolResult, mcpwire_client::Error>,
> {
    let client = client.clone();
    let name = name.to_owned();
    tokio::spawn(async move { client.call_tool(name, json!({"q": 1})).await })
}

/// The params of `request` without `_meta`, which must be the test client's envelope.
fn params_of(request: &Value, capabilities: &Value) -> Value {
    let mut params = request["params"].clone();
    let meta = params
        .as_object_mut()
        .unwrap()
        .remove("_meta")
        .expect("a `_meta`");
    let mut expected = envelope();
    expected["io.modelcontextprotocol/clientCapabilities"] = capabilities.clone();
    assert_eq!(meta, expected);
    params
}

#[tokio::test]
async fn one_round_answers_the_input_and_retries_with_the_state() {
    let seen = Seen::default();
    let (client, mut script) = modern_client(recording_builder(&seen), all_capabilities()).await;
    let capabilities = recording_capabilities();
    let call = call_tool_in_background(&client, "greet").await;

    let first = script.request("tools/call").await;
    assert_eq!(
        params_of(&first, &capabilities),
        json!({"name": "greet", "arguments": {"q": 1}})
    );
    script
        .respond(
            &first,
            input_required(json!({"login": elicit_name()}), Some("state-1")),
        )
        .await;

    let retry = script.request("tools/call").await;
    assert_ne!(retry["id"], first["id"], "a retry is a new request");
    assert_eq!(
        params_of(&retry, &capabilities),
        json!({
            "name": "greet",
            "arguments": {"q": 1},
            // The bare result, with the form's default filled in.
            "inputResponses": {"login": {"action": "accept", "content": {"name": "octocat", "notify": true}}},
            "requestState": "state-1",
        })
    );
    script.respond(&retry, done("hello octocat")).await;
    let result = call.await.unwrap().expect("the call completes");
    assert_eq!(text_of(&result), "hello octocat");

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let (what, params, id) = &seen[0];
    assert_eq!(what, "elicitation");
    assert_eq!(params["message"], "Your GitHub login?");
    assert_eq!(
        id, "\"login\"",
        "the handler's request id is the input's key"
    );
}

#[tokio::test]
async fn several_inputs_of_one_round_are_answered_together() {
    let seen = Seen::default();
    let (client, mut script) = modern_client(recording_builder(&seen), all_capabilities()).await;
    let call = call_tool_in_background(&client, "plan").await;
    let first = script.request("tools/call").await;
    let requests = json!({
        "login": elicit_name(),
        "capital": sample_capital(),
        "roots": {"method": "roots/list"},
    });
    script.respond(&first, input_required(requests, None)).await;
    let retry = script.request("tools/call").await;
    let params = &retry["params"];
    assert_eq!(
        params["inputResponses"],
        json!({
            "login": {"action": "accept", "content": {"name": "octocat", "notify": true}},
            "capital": {"role": "assistant", "content": {"type": "text", "text": "Paris"}, "model": "test-model"},
            "roots": {"roots": [{"uri": "file:///work"}]},
        })
    );
    // No state was given, so none is sent.
    assert!(params.get("requestState").is_none(), "{params}");
    script.respond(&retry, done("planned")).await;
    call.await.unwrap().expect("completes");
    let mut kinds: Vec<_> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|seen| seen.0.clone())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["elicitation", "roots", "sampling"]);
}

#[tokio::test]
async fn each_round_echoes_exactly_its_own_state() {
    let seen = Seen::default();
    let (client, mut script) = modern_client(recording_builder(&seen), all_capabilities()).await;
    let call = call_tool_in_background(&client, "two-rounds").await;
    let strange_state = "é\"\\\u{0001} 😀 {not json";

    let first = script.request("tools/call").await;
    script
        .respond(
            &first,
            input_required(json!({"login": elicit_name()}), Some(strange_state)),
        )
        .await;
    let second = script.request("tools/call").await;
    assert_eq!(second["params"]["requestState"], strange_state);
    assert_eq!(
        second["params"]["inputResponses"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["login"]
    );

    // The second round brings no state: the third attempt carries none, and only this round's
    // answers.
    script
        .respond(
            &second,
            input_required(json!({"capital": sample_capital()}), None),
        )
        .await;
    let third = script.request("tools/call").await;
    assert!(third["params"].get("requestState").is_none(), "{third}");
    assert_eq!(
        third["params"]["inputResponses"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["capital"]
    );
    let ids = [&first["id"], &second["id"], &third["id"]];
    assert!(
        ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2],
        "{ids:?}"
    );
    script.respond(&third, done("two rounds")).await;
    assert_eq!(
        text_of(&call.await.unwrap().expect("completes")),
        "two rounds"
    );

    // The answers and the state never leak into another call.
    let next = call_tool_in_background(&client, "unrelated").await;
    let unrelated = script.request("tools/call").await;
    assert_eq!(
        params_of(&unrelated, &recording_capabilities()),
        json!({"name": "unrelated", "arguments": {"q": 1}})
    );
    script.respond(&unrelated, done("alone")).await;
    next.await.unwrap().expect("completes");
}

#[tokio::test]
async fn a_state_only_round_is_retried_at_once() {
    let (client, mut script) =
        modern_client(recording_builder(&Seen::default()), all_capabilities()).await;
    let call = call_tool_in_background(&client, "busy").await;
    let first = script.request("tools/call").await;
    script
        .respond(&first, input_required(Value::Null, Some("come back")))
        .await;
    let retry = script.request("tools/call").await;
    assert_eq!(retry["params"]["requestState"], "come back");
    assert_eq!(retry["params"]["inputResponses"], json!({}));
    script.respond(&retry, done("finally")).await;
    call.await.unwrap().expect("completes");
}

#[tokio::test]
async fn the_number_of_rounds_is_bounded() {
    let builder = recording_builder(&Seen::default()).max_input_rounds(2);
    let (client, mut script) = modern_client(builder, all_capabilities()).await;
    let call = call_tool_in_background(&client, "insatiable").await;
    // The first answer and two retries: three requests, then the client gives up.
    for round in 0..3 {
        let request = script.request("tools/call").await;
        let state = format!("round {round}");
        script
            .respond(
                &request,
                input_required(json!({"login": elicit_name()}), Some(&state)),
            )
            .await;
    }
    let error = call.await.unwrap().expect_err("too many rounds");
    assert!(error.is_input_rounds_exceeded(), "{error:?}");
    assert_eq!(error.method(), Some("tools/call"));
    // No fourth attempt: the next request on the wire is a new call.
    list_tools_answered(&client, &mut script).await;
}

#[tokio::test]
async fn an_input_the_client_cannot_answer_fails_the_call() {
    // No sampling handler: a sampling input cannot be answered.
    let builder = mcpwire_client::ClientBuilder::new(client_info());
    let (client, mut script) = modern_client(builder, all_capabilities()).await;
    let call = call_tool_in_background(&client, "needs-a-model").await;
    let first = script.request("tools/call").await;
    script
        .respond(
            &first,
            input_required(json!({"capital": sample_capital()}), Some("s")),
        )
        .await;
    let error = call.await.unwrap().expect_err("cannot answer");
    assert!(error.is_input_request_failed(), "{error:?}");
    assert_eq!(
        error.input_error().map(|error| error.code),
        Some(ErrorCode::METHOD_NOT_FOUND)
    );
    assert!(error.to_string().contains("\"capital\""), "{error}");
    // Nothing was retried.
    client.close().await;
    assert_eq!(script.remaining().await, Vec::<Value>::new());
}

#[tokio::test]
async fn a_url_elicitation_input_gets_its_key_as_id() {
    let seen = Seen::default();
    let (client, mut script) = modern_client(recording_builder(&seen), all_capabilities()).await;
    let call = call_tool_in_background(&client, "authorize").await;
    let first = script.request("tools/call").await;
    let url = json!({
        "method": "elicitation/create",
        "params": {"mode": "url", "message": "Sign in", "url": "https://example.com/sign-in"},
    });
    script
        .respond(&first, input_required(json!({"sign-in": url}), None))
        .await;
    let retry = script.request("tools/call").await;
    assert_eq!(
        retry["params"]["inputResponses"]["sign-in"]["action"],
        "accept"
    );
    script.respond(&retry, done("signed in")).await;
    call.await.unwrap().expect("completes");
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].1["elicitationId"], "sign-in");
    assert_eq!(seen[0].1["url"], "https://example.com/sign-in");
}

/// Answers the next `method` request with one round of input, then completes it.
async fn one_round(script: &mut Script, method: &str, complete: Value) -> Value {
    let first = script.request(method).await;
    script
        .respond(
            &first,
            input_required(json!({"roots": {"method": "roots/list"}}), Some("s")),
        )
        .await;
    let retry = script.request(method).await;
    script.respond(&retry, complete).await;
    retry
}

#[tokio::test]
async fn prompts_and_resources_may_ask_for_input_too() {
    let (client, mut script) =
        modern_client(recording_builder(&Seen::default()), all_capabilities()).await;
    let prompt = {
        let client = client.clone();
        tokio::spawn(async move { client.get_prompt("p", BTreeMap::new()).await })
    };
    let retry = one_round(&mut script, "prompts/get", json!({"messages": []})).await;
    assert_eq!(retry["params"]["name"], "p");
    assert_eq!(retry["params"]["requestState"], "s");
    prompt.await.unwrap().expect("prompt");

    let read = {
        let client = client.clone();
        tokio::spawn(async move { client.read_resource("file:///r").await })
    };
    let retry = one_round(
        &mut script,
        "resources/read",
        json!({"resultType": "complete", "contents": []}),
    )
    .await;
    assert_eq!(retry["params"]["uri"], "file:///r");
    assert_eq!(
        retry["params"]["inputResponses"]["roots"],
        json!({"roots": [{"uri": "file:///work"}]})
    );
    read.await.unwrap().expect("read");
}
