//! The client's HTTP stack is a `tower` service: layers see every request, and a service of
//! the user's replaces the default stack. Here the service is the mcpwire server's own
//! `StreamableHttpService`, in the same process with no socket, and layers add headers that
//! the service records.

mod support;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http::{HeaderValue, Request};
use mcpwire_client::ClientBuilder;
use mcpwire_http::client::{HttpClientBuilder, RequestBody};
use mcpwire_http::server::{Config, StreamableHttpService};
use serde_json::json;
use support::WAIT;
use support::echo::{client_info, echo_server, echo_service, text_of};
use tower::util::MapRequestLayer;

/// The `x-trace` header of every request the in-process server received.
type Seen = Arc<Mutex<Vec<String>>>;

/// The server's service as the client's HTTP stack, recording each request's `x-trace`. It
/// sets `Host` from the URL, as a real HTTP client would.
fn in_process(service: StreamableHttpService, seen: Seen) -> HttpClientBuilder {
    let stack = tower::service_fn(move |mut request: Request<RequestBody>| {
        let service = service.clone();
        let trace = request
            .headers()
            .get("x-trace")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned();
        seen.lock().unwrap().push(trace);
        if let Some(authority) = request.uri().authority() {
            let host = HeaderValue::from_str(authority.as_str()).unwrap();
            request.headers_mut().insert(http::header::HOST, host);
        }
        async move { Ok::<_, Infallible>(service.handle(request).await) }
    });
    HttpClientBuilder::new("http://127.0.0.1/mcp").service(stack)
}

/// A layer that appends `step` to the request's `x-trace` header.
fn trace(
    step: &'static str,
) -> MapRequestLayer<impl Fn(Request<RequestBody>) -> Request<RequestBody> + Clone> {
    MapRequestLayer::new(move |mut request: Request<RequestBody>| {
        let trace = match request.headers().get("x-trace") {
            Some(before) => format!("{},{step}", before.to_str().unwrap()),
            None => step.to_owned(),
        };
        request
            .headers_mut()
            .insert("x-trace", HeaderValue::from_str(&trace).unwrap());
        request
    })
}

#[tokio::test]
async fn a_client_talks_to_a_service_of_its_own_through_its_layers_in_order() {
    let (service, sessions) = echo_service(&echo_server(), Config::default());
    let seen = Seen::default();
    let transport = in_process(service, Arc::clone(&seen))
        .layer(trace("outer"))
        .layer(trace("inner"))
        .streamable()
        .unwrap();
    let client = tokio::time::timeout(WAIT, ClientBuilder::new(client_info()).connect(transport))
        .await
        .expect("initializes in time")
        .expect("initializes in process");
    let result = client
        .call_tool("echo", json!({"text": "no socket"}))
        .await
        .unwrap();
    assert_eq!(text_of(&result), "no socket");
    assert_eq!(sessions.count(), 1);
    client.close().await;

    let seen = seen.lock().unwrap();
    // initialize, notifications/initialized, tools/call and DELETE at least; each passed
    // the first layer added first.
    assert!(seen.len() >= 4, "{seen:?}");
    assert!(seen.iter().all(|trace| trace == "outer,inner"), "{seen:?}");
}
