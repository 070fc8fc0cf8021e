//! A server whose SSE events are kept in Redis: a client whose stream breaks mid-answer
//! resumes it with `Last-Event-ID`, and every event it missed comes back from Redis, once and
//! in order.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcpwire_client::{Client, EraChoice, ServerNotification};
use mcpwire_http::client::HttpClientBuilder;
use mcpwire_http::server::{Config, serve};
use mcpwire_server::types;
use mcpwire_store_redis::RedisEventStore;
use mcpwire_test_support::hostile::{self, Controls};
use mcpwire_test_support::proxy::FaultProxy;
use mcpwire_test_support::redis::RedisServer;
use serde_json::json;
use tokio::net::TcpListener;

const STEP: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_stream_resumes_from_the_events_kept_in_redis() {
    const LOGS: u64 = 60;
    let redis = RedisServer::start().await;
    let store = RedisEventStore::connect(&redis.url())
        .await
        .expect("connects")
        .prefix("resumption-test");
    let controls = Controls::new();
    let server = hostile::builder(&controls).build().expect("builds");
    let config = Config::default()
        .json_responses(false)
        .sse_retry(Duration::from_millis(20))
        .keep_alive(None)
        .event_store(Arc::new(store.clone()));
    let service = server.http_service(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("an address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(serve(listener, service, async {
        let _ = stopped.await;
    }));
    let proxy = FaultProxy::start(address).await.expect("a proxy");

    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&seen);
    let builder = Client::builder("resumption", "1.0.0")
        .request_timeout(Some(STEP))
        .era(EraChoice::Legacy)
        .on_notification(move |notification| {
            if let ServerNotification::LoggingMessage(message) = notification {
                let seq = message.data["seq"].as_u64().expect("a sequence number");
                recorded.lock().unwrap().push(seq);
            }
        });
    let transport = HttpClientBuilder::new(format!("http://{}/mcp", proxy.address()))
        .streamable()
        .expect("a transport");
    let client = tokio::time::timeout(STEP, builder.connect(transport))
        .await
        .expect("connects in time")
        .expect("the handshake succeeds");
    client
        .set_logging_level(types::LoggingLevel::Debug)
        .await
        .expect("the level is set");

    // The answer is some 15 KB of log messages: the connection breaks in the middle of it.
    let accepted = proxy.accepted();
    proxy.reset_after(6_000);
    let result = tokio::time::timeout(
        STEP,
        client.call_tool("flood", json!({"logs": LOGS, "pad": 200, "tag": "redis"})),
    )
    .await
    .expect("the call ends in time")
    .expect("the call succeeds after its stream was resumed");
    assert_eq!(result.text(), "flooded redis");
    assert!(!proxy.reset_pending(), "the connection was broken");
    assert!(
        proxy.accepted() > accepted,
        "the client reconnected to resume"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        (0..LOGS).collect::<Vec<_>>(),
        "every message once, in order"
    );
    assert!(
        store.bytes().await.expect("the total") > 0,
        "the answer's events are in Redis"
    );

    client.close().await;
    let _ = stop.send(());
    tokio::time::timeout(STEP, served)
        .await
        .expect("serve returns")
        .expect("the serving task ends")
        .expect("serve ends without error");
}
