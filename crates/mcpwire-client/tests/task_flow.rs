//! Following a tool call run as a task to its end, when the task needs input that the server
//! asks for only while `tasks/result` is pending (as 2025-11-25 servers may).

mod support;

use mcpwire_client::{ErrorObject, RequestContext};
use mcpwire_schema::v2025_11_25::{ElicitRequestParams, ElicitResult};
use serde_json::{Value, json};
use support::builder;
use support::script::{scripted, spawn_connect};

fn task(status: &str) -> Value {
    json!({
        "taskId": "t1",
        "status": status,
        "createdAt": "2026-12-06T00:00:00Z",
        "lastUpdatedAt": "2026-12-06T00:00:00Z",
        "ttl": null,
        "pollInterval": 100,
    })
}

#[tokio::test(start_paused = true)]
async fn a_task_waiting_for_input_is_served_through_tasks_result() {
    let (mut script, transport) = scripted();
    let client = builder().elicitation(|_: ElicitRequestParams, _: RequestContext| async {
        Ok::<_, ErrorObject>(ElicitResult::accept([("name", "Ada".into())]))
    });
    let connecting = spawn_connect(client, transport);
    let initialize = script.request("initialize").await;
    script
        .respond(
            &initialize,
            json!({
                "protocolVersion": "2025-11-25",
                "capabilities": {"tools": {}, "tasks": {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}},
                "serverInfo": {"name": "tasks", "version": "1.0.0"},
            }),
        )
        .await;
    assert_eq!(
        script.receive().await["method"],
        "notifications/initialized"
    );
    let client = connecting.await.unwrap().expect("connects");

    let finishing = tokio::spawn(async move { client.finish_tool_task("t1").await });
    // Working: the client polls again after the server's interval.
    let poll = script.request("tasks/get").await;
    script.respond(&poll, task("working")).await;
    let poll = script.request("tasks/get").await;
    script.respond(&poll, task("input_required")).await;
    // Waiting for input: the client asks for the result, and only then the server asks.
    let result = script.request("tasks/result").await;
    assert_eq!(result["params"]["taskId"], "t1");
    script
        .send(json!({
            "jsonrpc": "2.0",
            "id": "ask-1",
            "method": "elicitation/create",
            "params": {
                "mode": "form",
                "message": "Your name?",
                "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}},
                "_meta": {"io.modelcontextprotocol/related-task": {"taskId": "t1"}},
            },
        }))
        .await;
    let answer = script.receive().await;
    assert_eq!(answer["id"], "ask-1");
    assert_eq!(answer["result"]["content"]["name"], "Ada");
    script
        .respond(
            &result,
            json!({"content": [{"type": "text", "text": "Hello, Ada!"}]}),
        )
        .await;
    let outcome = finishing.await.unwrap().expect("the task finishes");
    assert_eq!(outcome.text(), "Hello, Ada!");
}
