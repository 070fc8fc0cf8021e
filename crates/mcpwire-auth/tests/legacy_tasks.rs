//! A task of 2025-11-25 behind `BearerAuthLayer` belongs to the principal, not to the session
//! that created it: it goes on after that session is deleted, a later session of the same
//! principal (with another token) polls it and takes its result, and another principal is told
//! it does not exist. Driven in process with a closure verifier.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use mcpwire_auth::server::{AuthBody, BearerAuthLayer, Principal, ProtectedResource, verify_fn};
use mcpwire_http::server::{Config, ResponseBody, StreamableHttpService};
use mcpwire_server::{Server, Tool, ToolError, types};
use serde_json::{Map, Value, json};
use tokio::sync::Notify;
use tower::{Layer as _, ServiceExt as _};

const RESOURCE: &str = "http://127.0.0.1:8080/mcp";

/// How long any one exchange may take.
const STEP: Duration = Duration::from_secs(10);

struct Fixture {
    mcp: StreamableHttpService,
    layer: BearerAuthLayer,
    /// Lets the `compute` tool finish.
    release: Arc<Notify>,
}

/// A server with tasks and one tool, `compute`, which works until released; tokens
/// `alice-1` and `alice-2` name the principal `alice`, `bob` names `bob`.
fn fixture() -> Fixture {
    let release = Arc::new(Notify::new());
    let released = Arc::clone(&release);
    let compute = Tool::raw(
        "compute",
        json!({"type": "object"}).as_object().cloned().unwrap(),
        move |_: Map<String, Value>, _| {
            let released = Arc::clone(&released);
            async move {
                released.notified().await;
                Ok::<_, ToolError>("done")
            }
        },
    )
    .task_support(types::ToolExecutionTaskSupport::Optional);
    let server = Server::builder("tasks", "1.0.0")
        .tasks()
        .tool(compute)
        .build()
        .unwrap();
    let verifier = verify_fn(|token| async move {
        let subject = match token.expose() {
            "alice-1" | "alice-2" => "alice",
            "bob" => "bob",
            _ => {
                return Err(mcpwire_auth::server::Rejection::invalid_token(
                    "unknown token",
                ));
            }
        };
        let mut principal = Principal::default();
        principal.subject = Some(subject.to_owned());
        Ok(principal)
    });
    Fixture {
        mcp: server.http_service(Config::default()),
        layer: BearerAuthLayer::new(
            ProtectedResource::new(RESOURCE, ["https://as.example.com"]),
            verifier,
        )
        .unwrap(),
        release,
    }
}

impl Fixture {
    async fn send(&self, request: Request<Full<Bytes>>) -> Response<AuthBody<ResponseBody>> {
        let service = self.layer.layer(self.mcp.clone());
        tokio::time::timeout(STEP, service.oneshot(request))
            .await
            .expect("answered in time")
            .unwrap()
    }

    /// Opens a session with `token`'s principal and returns its id.
    async fn open(&self, token: &str) -> String {
        let initialize = json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"}
            }
        });
        let response = self.send(request(token, None, &initialize)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let session = response.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let _ = answer(response).await;
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let response = self
            .send(request(token, Some(&session), &initialized))
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        session
    }

    /// Sends `method` with `params` in `session` and returns the JSON-RPC answer.
    async fn call(&self, token: &str, session: &str, method: &str, params: Value) -> Value {
        let message = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let response = self.send(request(token, Some(session), &message)).await;
        assert_eq!(response.status(), StatusCode::OK, "{method}");
        answer(response).await
    }
}

fn request(token: &str, session: Option<&str>, message: &Value) -> Request<Full<Bytes>> {
    let mut request = Request::post("/mcp")
        .header("host", "127.0.0.1:8080")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"));
    if let Some(session) = session {
        request = request
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-11-25");
    }
    request
        .body(Full::new(Bytes::from(message.to_string())))
        .unwrap()
}

/// The JSON-RPC response in a JSON or SSE body.
async fn answer<B>(response: Response<B>) -> Value
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let bytes = tokio::time::timeout(STEP, response.into_body().collect())
        .await
        .expect("the body ends in time")
        .unwrap()
        .to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let json = text
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(str::trim)
        .find(|data| data.contains("\"id\""))
        .unwrap_or(&text);
    serde_json::from_str(json).unwrap_or_else(|error| panic!("{error}: {text}"))
}

#[tokio::test]
async fn a_task_outlives_its_session_for_its_principal_only() {
    let fixture = fixture();
    let first = fixture.open("alice-1").await;
    let created = fixture
        .call(
            "alice-1",
            &first,
            "tools/call",
            json!({"name": "compute", "arguments": {}, "task": {"ttl": 60_000}}),
        )
        .await;
    let task_id = created["result"]["task"]["taskId"]
        .as_str()
        .unwrap_or_else(|| panic!("a task: {created}"))
        .to_owned();

    // The session that created the task ends.
    let delete = Request::delete("/mcp")
        .header("host", "127.0.0.1:8080")
        .header("authorization", "Bearer alice-1")
        .header("mcp-session-id", &first)
        .header("mcp-protocol-version", "2025-11-25")
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert!(fixture.send(delete).await.status().is_success());
    let gone = fixture
        .send(request(
            "alice-1",
            Some(&first),
            &json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
        ))
        .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND, "the session is gone");

    // A new session of the same principal, with another token, finds the task still working.
    let second = fixture.open("alice-2").await;
    let polled = fixture
        .call("alice-2", &second, "tasks/get", json!({"taskId": task_id}))
        .await;
    assert_eq!(polled["result"]["taskId"], task_id.as_str(), "{polled}");
    assert_eq!(polled["result"]["status"], "working", "{polled}");
    let listed = fixture
        .call("alice-2", &second, "tasks/list", json!({}))
        .await;
    assert_eq!(
        listed["result"]["tasks"][0]["taskId"],
        task_id.as_str(),
        "{listed}"
    );

    // Another principal is told the task does not exist, whatever it asks.
    let stranger = fixture.open("bob").await;
    for method in ["tasks/get", "tasks/result", "tasks/cancel"] {
        let refused = fixture
            .call("bob", &stranger, method, json!({"taskId": task_id}))
            .await;
        assert_eq!(refused["error"]["code"], -32602, "{method}: {refused}");
    }
    let listed = fixture
        .call("bob", &stranger, "tasks/list", json!({}))
        .await;
    assert_eq!(listed["result"]["tasks"], json!([]), "{listed}");

    // The work goes on to its end, and its result reaches the new session.
    fixture.release.notify_one();
    let result = fixture
        .call(
            "alice-2",
            &second,
            "tasks/result",
            json!({"taskId": task_id}),
        )
        .await;
    assert_eq!(
        result["result"]["content"],
        json!([{"type": "text", "text": "done"}]),
        "{result}"
    );
    assert_eq!(
        result["result"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        task_id.as_str()
    );
    let polled = fixture
        .call("alice-2", &second, "tasks/get", json!({"taskId": task_id}))
        .await;
    assert_eq!(polled["result"]["status"], "completed", "{polled}");
}

#[tokio::test]
async fn an_anonymous_sessions_tasks_still_end_with_it() {
    // Without an authorization layer a session has no principal: its tasks are its own.
    let fixture = fixture();
    let service = fixture.mcp.clone();
    let send = |message: Value, session: Option<String>| {
        let service = service.clone();
        async move {
            let mut request = Request::post("/mcp")
                .header("host", "127.0.0.1:8080")
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json");
            if let Some(session) = session {
                request = request
                    .header("mcp-session-id", session)
                    .header("mcp-protocol-version", "2025-11-25");
            }
            let request = request
                .body(Full::new(Bytes::from(message.to_string())))
                .unwrap();
            tokio::time::timeout(STEP, service.oneshot(request))
                .await
                .expect("answered in time")
                .unwrap()
        }
    };
    let initialize = json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    });
    let opened = send(initialize.clone(), None).await;
    let first = opened.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let created = send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
               "params": {"name": "compute", "arguments": {}, "task": {}}}),
        Some(first.clone()),
    )
    .await;
    let created = answer(created).await;
    let task_id = created["result"]["task"]["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    let delete = Request::delete("/mcp")
        .header("host", "127.0.0.1:8080")
        .header("mcp-session-id", &first)
        .header("mcp-protocol-version", "2025-11-25")
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert!(
        service
            .clone()
            .oneshot(delete)
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let opened = send(initialize, None).await;
    let second = opened.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let polled = send(
        json!({"jsonrpc": "2.0", "id": 2, "method": "tasks/get", "params": {"taskId": task_id}}),
        Some(second),
    )
    .await;
    let polled = answer(polled).await;
    assert_eq!(polled["error"]["code"], -32602, "{polled}");
}
