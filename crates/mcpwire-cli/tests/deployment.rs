//! Three `mcpwire serve --http --redis` processes behind a real HAProxy (round-robin, no
//! stickiness) sharing one Redis, one of which is killed with SIGKILL:
//!
//! - while a client holds the SSE stream of a request running on it, the client resumes
//!   through the balancer with `Last-Event-ID` and sees every stored event once and in order,
//!   and a further resume is refused, so the request fails instead of hanging;
//! - while it runs a task of the extension, the task is answered `failed` through the
//!   balancer within the instances' lease.

use std::net::SocketAddr;
use std::time::Duration;

use mcpwire_test_support::balancer::Balancer;
use mcpwire_test_support::raw_http::{Exchange, legacy_session};
use mcpwire_test_support::redis::RedisServer;
use serde_json::{Value, json};

mod support;

use support::start;

/// How long the tasks of a dead instance may stay `working`: the lease of `mcpwire serve`,
/// with the polls around it.
const TASK_BOUND: Duration = Duration::from_secs(20);

/// Redis, three `mcpwire serve` processes sharing it, and HAProxy in front of them.
struct Deployment {
    _redis: RedisServer,
    _key: KeyFile,
    instances: Vec<(tokio::process::Child, SocketAddr)>,
    balancer: Balancer,
}

/// The `requestState` key every instance reads, removed when dropped.
struct KeyFile(std::path::PathBuf);

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl Deployment {
    async fn start() -> Deployment {
        let redis = RedisServer::start().await;
        let key = KeyFile(
            std::env::temp_dir().join(format!("mcpwire-cli-deployment-{}.key", std::process::id())),
        );
        std::fs::write(&key.0, "ab".repeat(32)).expect("the key file");
        let key_path = key.0.to_str().expect("a UTF-8 path").to_owned();
        let redis_url = redis.url();
        let mut instances = Vec::new();
        for _ in 0..3 {
            let (child, url) =
                start(&["--redis", &redis_url, "--request-state-key-file", &key_path]).await;
            let address = url
                .trim_start_matches("http://")
                .trim_end_matches("/mcp")
                .parse()
                .expect("the instance's address");
            instances.push((child, address));
        }
        let addresses: Vec<SocketAddr> = instances.iter().map(|(_, address)| *address).collect();
        let balancer = Balancer::start(&addresses).await;
        Deployment {
            _redis: redis,
            _key: key,
            instances,
            balancer,
        }
    }

    fn address(&self, index: usize) -> SocketAddr {
        self.instances[index].1
    }

    /// Kills the instance with SIGKILL and reaps it.
    async fn kill(&mut self, index: usize) {
        let child = &mut self.instances[index].0;
        child.start_kill().expect("SIGKILL is sent");
        child.wait().await.expect("the instance is reaped");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_on_a_killed_instance_is_resumed_through_the_balancer_then_refused() {
    let mut deployment = Deployment::start().await;
    let session = legacy_session(deployment.address(0), deployment.address(2)).await;
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "count_down", "arguments": {"steps": 50, "interval_ms": 50}}});
    let mut stream = Exchange::post(deployment.address(1), Some(&session), &call).await;
    stream.until("\"remaining\":", 3).await;
    let seen = stream.numbers("remaining");
    let last = stream.last_event_id();
    deployment.kill(1).await;
    drop(stream);

    // Resumed through the balancer (which skips the dead instance): the events stored after
    // the last one read, if any, then a refusal once nothing more can come.
    let balancer = deployment.balancer.address();
    let mut counted = seen;
    let mut last = last;
    let refusal = loop {
        let mut resumed = Exchange::get(balancer, &session, Some(&last)).await;
        resumed.read_to_end().await;
        match resumed.status() {
            200 => {
                let more = resumed.numbers("remaining");
                assert!(
                    !more.is_empty(),
                    "a resume that ends brings events: {}",
                    resumed.text
                );
                counted.extend(more);
                last = resumed.last_event_id();
            }
            _ => break resumed,
        }
    };
    assert_eq!(refusal.status(), 400, "{}", refusal.text);
    assert!(
        refusal.text.contains("no longer running"),
        "{}",
        refusal.text
    );
    let first = counted[0];
    let expected: Vec<u64> = (0..counted.len() as u64).map(|step| first - step).collect();
    assert_eq!(counted, expected, "every stored event once, in order");
}

/// The `_meta` of a modern request that declares the tasks extension.
fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {
            "extensions": {"io.modelcontextprotocol/tasks": {}}
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_on_a_killed_instance_fails_through_the_balancer() {
    let mut deployment = Deployment::start().await;
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "count_down", "arguments": {"steps": 50, "interval_ms": 1000},
        "_meta": modern_meta()}});
    let mut created = Exchange::post_modern(
        deployment.address(1),
        "tools/call",
        Some("count_down"),
        &call,
    )
    .await;
    created.read_to_end().await;
    let created = created.json_body();
    let task_id = created["result"]["taskId"]
        .as_str()
        .unwrap_or_else(|| panic!("a task was made: {created}"))
        .to_owned();
    deployment.kill(1).await;

    let get = json!({"jsonrpc": "2.0", "id": 2, "method": "tasks/get",
        "params": {"taskId": task_id, "_meta": modern_meta()}});
    let balancer = deployment.balancer.address();
    let failed = tokio::time::timeout(TASK_BOUND, async {
        loop {
            let mut polled =
                Exchange::post_modern(balancer, "tasks/get", Some(&task_id), &get).await;
            polled.read_to_end().await;
            let task = polled.json_body()["result"].clone();
            match task["status"].as_str() {
                Some("working") => tokio::time::sleep(Duration::from_millis(250)).await,
                _ => return task,
            }
        }
    })
    .await
    .expect("the task ends within the lease");
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("instance running the task stopped")),
        "{failed}"
    );
}
