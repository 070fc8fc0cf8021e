//! Ten thousand sessions spread over three instances that share one Redis: each made on one
//! instance and used through the two others, every one still usable through any instance.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mcpwire_http::server::{Config, serve};
use mcpwire_server::{Server, Tool, ToolError};
use mcpwire_store_redis::RedisDeployment;
use mcpwire_test_support::redis::RedisServer;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;

const SESSIONS: usize = 10_000;
/// Requests in flight at once, over pooled keep-alive connections.
const WORKERS: usize = 32;
/// The whole run's bound: a debug build on two cores makes the 40 000 requests well within it.
const LIMIT: Duration = Duration::from_secs(240);

type HttpClient = Client<HttpConnector, Full<Bytes>>;

async fn post(
    client: &HttpClient,
    address: SocketAddr,
    session: Option<&str>,
    message: &Value,
) -> (StatusCode, Option<String>, Bytes) {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(format!("http://{address}/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if let Some(session) = session {
        request = request
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-11-25");
    }
    let request = request
        .body(Full::new(Bytes::from(message.to_string())))
        .expect("a request");
    let response = client.request(request).await.expect("the instance answers");
    let status = response.status();
    let session = response
        .headers()
        .get("mcp-session-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the body arrives")
        .to_bytes();
    (status, session, body)
}

/// Makes session `index` on one instance and uses it through the next two.
async fn session_round(client: &HttpClient, addresses: &[SocketAddr; 3], index: usize) -> String {
    let [made, next, last] = [0, 1, 2].map(|step| addresses[(index + step) % 3]);
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "many", "version": "1.0.0"}}});
    let (status, session, body) = post(client, made, None, &initialize).await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    let session = session.expect("initialize names the session");
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let (status, _, _) = post(client, next, Some(&session), &initialized).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"index": index}}});
    let (status, _, body) = post(client, last, Some(&session), &call).await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    assert!(
        String::from_utf8_lossy(&body).contains(&format!("{{\\\"index\\\":{index}}}")),
        "{body:?}"
    );
    session
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_sessions_are_each_usable_through_any_instance() {
    let redis = RedisServer::start().await;
    let mut addresses = Vec::new();
    let mut services = Vec::new();
    for _ in 0..3 {
        let shared = RedisDeployment::connect(&redis.url(), "many-sessions-test")
            .await
            .expect("Redis is reachable");
        let server = Server::builder("many", "1.0.0")
            .tool(Tool::typed(
                "echo",
                |arguments: Map<String, Value>| async move {
                    Ok::<_, ToolError>(Value::Object(arguments).to_string())
                },
            ))
            .build()
            .expect("the server builds");
        let service = server.http_service(shared.configure(Config::default()));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        addresses.push(listener.local_addr().expect("an address"));
        tokio::spawn(serve(listener, service.clone(), std::future::pending()));
        services.push(service);
    }
    let addresses: [SocketAddr; 3] = addresses.try_into().expect("three instances");
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(WORKERS)
        .build_http();

    let run = async {
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut workers = Vec::new();
        for _ in 0..WORKERS {
            let (client, next) = (client.clone(), Arc::clone(&next));
            workers.push(tokio::spawn(async move {
                let mut sessions = Vec::new();
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if index >= SESSIONS {
                        return sessions;
                    }
                    sessions.push((index, session_round(&client, &addresses, index).await));
                }
            }));
        }
        let mut sessions = Vec::new();
        for worker in workers {
            sessions.extend(worker.await.expect("the worker ends"));
        }
        sessions
    };
    let sessions = tokio::time::timeout(LIMIT, run)
        .await
        .expect("every session was made and used in time");
    assert_eq!(sessions.len(), SESSIONS);
    let total: usize = services.iter().map(|service| service.session_count()).sum();
    assert!(
        total >= 2 * SESSIONS,
        "every session has copies on the instances that served it: {total}"
    );

    // Afterwards, each session still answers on the instance it was made on.
    let ping = json!({"jsonrpc": "2.0", "id": 3, "method": "ping"});
    for (index, session) in sessions.iter().step_by(97) {
        let (status, _, body) = post(&client, addresses[index % 3], Some(session), &ping).await;
        assert_eq!(status, StatusCode::OK, "session {index}: {body:?}");
    }
}
