//! Three server instances sharing one Redis behind a real HAProxy that balances every request
//! round-robin, without stickiness: a session made on one instance is served by all of them,
//! a client's answer or cancellation that reaches another instance finds the handler it is
//! for, and a `DELETE` ends the session everywhere.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcpwire_client::{Client, ClientBuilder, EraChoice};
use mcpwire_http::client::HttpClientBuilder;
use mcpwire_http::server::{Config, StreamableHttpService, serve};
use mcpwire_server::{
    Context, HandlerError, ListKind, Resource, Server, Tool, ToolError, text_contents, types,
};
use mcpwire_store_redis::RedisDeployment;
use mcpwire_test_support::balancer::Balancer;
use mcpwire_test_support::raw_http::{Exchange, legacy_session};
use mcpwire_test_support::redis::RedisServer;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;

const STEP: Duration = Duration::from_secs(20);

/// What the tools of every instance saw: the events in order, and a signal for each new one.
#[derive(Clone, Default)]
struct Events(Arc<(Mutex<Vec<String>>, Notify)>);

impl Events {
    fn record(&self, event: impl Into<String>) {
        self.0.0.lock().unwrap().push(event.into());
        self.0.1.notify_waiters();
    }

    fn count(&self, event: &str) -> usize {
        self.0
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|seen| *seen == event)
            .count()
    }

    async fn wait_for(&self, event: &str, times: usize) {
        tokio::time::timeout(STEP, async {
            loop {
                let notified = self.0.1.notified();
                if self.count(event) >= times {
                    return;
                }
                notified.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("`{event}` was not seen {times} times in time"));
    }
}

/// The server every instance runs: the same tools, as a deployment's instances have.
fn server(events: &Events) -> Server {
    let waited = events.clone();
    let asked = events.clone();
    Server::builder("instances", "1.0.0")
        .tool(Tool::typed("echo", |arguments: Map<String, Value>| async move {
            Ok::<_, ToolError>(Value::Object(arguments).to_string())
        }))
        .tool(Tool::typed(
            "ask_name",
            move |_: Map<String, Value>, context: Context| {
                let asked = asked.clone();
                async move {
                    let form = serde_json::from_value(json!({
                        "message": "Name?",
                        "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}
                    }))
                    .map_err(|error| ToolError::new(error.to_string()))?;
                    let answer = context
                        .elicit(types::ElicitRequestParams::ElicitRequestFormParams(form))
                        .await?;
                    asked.record("answered");
                    let name = answer
                        .content
                        .and_then(|content| content.get("name").cloned())
                        .map(|name| format!("{name:?}"))
                        .unwrap_or_default();
                    Ok::<_, ToolError>(format!("{} {name}", answer.action))
                }
            },
        ))
        .tool(Tool::typed("wait", move |_: Map<String, Value>, context: Context| {
            let waited = waited.clone();
            async move {
                waited.record("wait started");
                context.cancellation().cancelled().await;
                waited.record("wait cancelled");
                Ok::<_, ToolError>("too late")
            }
        }))
        .resource(Resource::new(
            "mem://doc",
            "doc",
            |uri: String, _: Context| async move {
                Ok::<_, HandlerError>(vec![text_contents(uri, Some("text/plain"), "doc")])
            },
        ))
        .build()
        .expect("the server builds")
}

/// Redis, three instances sharing it, and HAProxy in front of them.
struct Deployment {
    redis: RedisServer,
    servers: Vec<Server>,
    services: Vec<StreamableHttpService>,
    buses: Vec<mcpwire_store_redis::RedisBus>,
    addresses: Vec<SocketAddr>,
    balancer: Balancer,
    events: Events,
}

impl Deployment {
    async fn start() -> Deployment {
        let redis = RedisServer::start().await;
        let events = Events::default();
        let mut services = Vec::new();
        let mut buses = Vec::new();
        let mut servers = Vec::new();
        let mut addresses = Vec::new();
        for _ in 0..3 {
            // Each instance has connections of its own, as separate processes would.
            let shared = RedisDeployment::connect(&redis.url(), "instances-test")
                .await
                .expect("Redis is reachable");
            let config = shared.configure(
                Config::default()
                    .sse_retry(Duration::from_millis(20))
                    .keep_alive(None),
            );
            let server = server(&events);
            let service = server.http_service(config);
            servers.push(server);
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
            addresses.push(listener.local_addr().expect("an address"));
            tokio::spawn(serve(listener, service.clone(), std::future::pending()));
            services.push(service);
            buses.push(shared.bus.clone());
        }
        let balancer = Balancer::start(&addresses).await;
        Deployment {
            redis,
            servers,
            services,
            buses,
            addresses,
            balancer,
            events,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/mcp", self.balancer.address())
    }

    async fn connect(&self, builder: ClientBuilder) -> Client {
        let transport = HttpClientBuilder::new(self.url())
            .streamable()
            .expect("a transport");
        tokio::time::timeout(STEP, builder.era(EraChoice::Legacy).connect(transport))
            .await
            .expect("connects in time")
            .expect("the handshake succeeds")
    }
}

fn answering_client() -> ClientBuilder {
    Client::builder("instances-client", "1.0.0")
        .request_timeout(Some(STEP))
        .elicitation(
            |_: types::ElicitRequestParams, _: mcpwire_client::RequestContext| async move {
                Ok::<_, mcpwire_client::ErrorObject>(types::ElicitResult {
                    meta: None,
                    action: types::ElicitResultAction::Accept,
                    content: Some(BTreeMap::from([(
                        "name".to_owned(),
                        types::ElicitResultContentValue::String("Ada".to_owned()),
                    )])),
                })
            },
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_instance_serves_a_session_made_on_one_of_them() {
    let deployment = Deployment::start().await;
    let client = deployment.connect(answering_client()).await;
    client
        .set_logging_level(types::LoggingLevel::Warning)
        .await
        .expect("the level is set through some instance");
    for round in 0..9 {
        let result = client
            .call_tool("echo", json!({"round": round}))
            .await
            .expect("every instance knows the session");
        assert_eq!(result.text(), format!("{{\"round\":{round}}}"));
    }
    for service in &deployment.services {
        assert_eq!(
            service.session_count(),
            1,
            "round-robin brought the session to every instance"
        );
    }
    client.close().await;

    // A session made through one instance, used on each, then deleted through another.
    let session = legacy_session(deployment.addresses[0], deployment.addresses[1]).await;
    for (index, address) in deployment.addresses.iter().enumerate() {
        let call = json!({"jsonrpc": "2.0", "id": 10 + index, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"at": index}}});
        let (status, response) = Exchange::answer(*address, Some(&session), &call).await;
        assert_eq!(status, 200, "{response}");
        assert!(
            response.contains(&format!("{{\\\"at\\\":{index}}}")),
            "{response}"
        );
    }
    let mut deleted = Exchange::delete(deployment.addresses[2], &session).await;
    deleted.read_to_end().await;
    assert_eq!(deleted.status(), 200, "{}", deleted.text);
    for address in &deployment.addresses {
        let ping = json!({"jsonrpc": "2.0", "id": 100, "method": "ping"});
        assert_eq!(
            Exchange::answer(*address, Some(&session), &ping).await.0,
            404,
            "the session ended on every instance"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_elicitation_answered_through_another_instance_reaches_its_handler() {
    let deployment = Deployment::start().await;
    let client = deployment.connect(answering_client()).await;
    // Each call and its answer are two requests: round-robin over three instances sends the
    // answer to another instance than the one whose handler waits for it.
    for round in 1..=6 {
        let result = tokio::time::timeout(STEP, client.call_tool("ask_name", json!({})))
            .await
            .expect("the answer reaches the handler in time")
            .expect("the call succeeds");
        assert_eq!(result.text(), "accept String(\"Ada\")");
        assert_eq!(deployment.events.count("answered"), round);
    }
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_through_another_instance_cancels_the_handler() {
    let deployment = Deployment::start().await;
    let client = deployment.connect(answering_client()).await;
    for round in 1..=3 {
        let call = {
            let client = client.clone();
            tokio::spawn(async move { client.call_tool("wait", json!({})).await })
        };
        deployment.events.wait_for("wait started", round).await;
        // Dropping the call sends `notifications/cancelled`, through the next instance.
        call.abort();
        deployment.events.wait_for("wait cancelled", round).await;
    }
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announcements_reach_the_standalone_stream_wherever_it_is_held_once() {
    let deployment = Deployment::start().await;
    let [first, second, third] = [0, 1, 2].map(|index| deployment.addresses[index]);
    let session = legacy_session(first, second).await;
    let subscribe = json!({"jsonrpc": "2.0", "id": 2, "method": "resources/subscribe",
        "params": {"uri": "mem://doc"}});
    assert_eq!(
        Exchange::answer(third, Some(&session), &subscribe).await.0,
        200
    );

    // The standalone stream is on the first instance; the announcements come from the others.
    let mut standalone = standalone_stream(first, &session, None).await;
    deployment.servers[1]
        .notify_resource_updated("mem://doc")
        .await;
    deployment.servers[2]
        .notify_list_changed(ListKind::Tools)
        .await;
    standalone
        .until("notifications/tools/list_changed", 1)
        .await;
    assert_eq!(
        standalone
            .text
            .matches("notifications/resources/updated")
            .count(),
        1,
        "the update came once, before the list change: {}",
        standalone.text
    );
    let last = standalone.last_event_id();
    drop(standalone);

    // Resumed on the third instance, the stream stays open there and hears the next ones.
    let mut resumed = standalone_stream(third, &session, Some(&last)).await;
    deployment.servers[0]
        .notify_resource_updated("mem://doc")
        .await;
    deployment.servers[1]
        .notify_list_changed(ListKind::Prompts)
        .await;
    resumed.until("notifications/prompts/list_changed", 1).await;
    resumed.until("notifications/resources/updated", 1).await;
    assert_eq!(
        resumed
            .text
            .matches("notifications/resources/updated")
            .count(),
        1,
        "the update came once, on the resumed stream: {}",
        resumed.text
    );
    assert!(
        !resumed.text.contains("notifications/tools/list_changed"),
        "nothing read before is replayed: {}",
        resumed.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_redis_is_503_for_what_needs_it_and_serving_resumes_when_it_returns() {
    let mut deployment = Deployment::start().await;
    let [first, second, third] = [0, 1, 2].map(|index| deployment.addresses[index]);
    let session = legacy_session(first, second).await;

    deployment.redis.kill().await;
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "echo", "arguments": {}}});
    let (status, response) = Exchange::answer(third, Some(&session), &call).await;
    assert_eq!(
        status, 503,
        "an instance without the session cannot load it: {response}"
    );
    assert!(
        response.contains("the session store cannot be reached"),
        "{response}"
    );
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1.0.0"}}});
    let (status, response) = Exchange::answer(first, None, &initialize).await;
    assert_eq!(status, 503, "a new session cannot be shared: {response}");
    assert!(
        response.contains("\"id\":1"),
        "the error names the request: {response}"
    );
    let (status, response) = Exchange::answer(first, Some(&session), &call).await;
    assert_eq!(
        status, 200,
        "an instance holding the session still serves it: {response}"
    );

    // Redis comes back (empty): new sessions work across the instances, bus included.
    let mut resubscribed: Vec<_> = deployment
        .buses
        .iter()
        .map(mcpwire_store_redis::RedisBus::resubscriptions)
        .collect();
    deployment.redis.restart().await;
    for bus in &mut resubscribed {
        tokio::time::timeout(STEP, bus.wait_for(|count| *count > 0))
            .await
            .expect("every instance subscribes to the bus again in time")
            .expect("the bus lives");
    }
    let client = deployment.connect(answering_client()).await;
    for _ in 0..3 {
        let result = tokio::time::timeout(STEP, client.call_tool("ask_name", json!({})))
            .await
            .expect("the answer reaches the handler in time")
            .expect("the call succeeds");
        assert_eq!(result.text(), "accept String(\"Ada\")");
    }
    client.close().await;
}

/// The session's standalone stream on one instance, or a stream resumed after
/// `last_event_id`, once its head says `200`.
async fn standalone_stream(
    address: SocketAddr,
    session: &str,
    last_event_id: Option<&str>,
) -> Exchange {
    let mut stream = Exchange::get(address, session, last_event_id).await;
    stream.until("HTTP/1.1 200", 1).await;
    stream
}
