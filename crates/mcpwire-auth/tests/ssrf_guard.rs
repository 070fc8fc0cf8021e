//! The client's own requests go through the fetch policy's guarded stack by default, not
//! through the transport's: a server that points the client at an address of the client's
//! network (SSRF) gets no request there. The MCP endpoint is an in-process mock below the
//! layer; the addresses are a loopback listener, reached through a resolver that maps
//! chosen names to it.

use std::collections::HashMap;
use std::future::ready;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use mcpwire_auth::client::{
    AuthLayer, FetchPolicy, HeadlessUserAgent, OAuthConfig, Resolve, ResolveFuture,
};
use mcpwire_http::client::{BoxError, HttpClientService, RequestBody, ResponseBody};
use tower::util::BoxCloneSyncService;
use tower::{Layer as _, ServiceExt as _};

const SERVER: &str = "https://mcp.example.com/mcp";

/// Resolves the names of its table, and remembers what it was asked.
#[derive(Clone, Default)]
struct TableResolver {
    table: HashMap<String, IpAddr>,
    asked: Arc<Mutex<Vec<String>>>,
}

impl Resolve for TableResolver {
    fn resolve(&self, host: &str) -> ResolveFuture {
        self.asked.lock().unwrap().push(host.to_owned());
        let answer = self
            .table
            .get(host)
            .map(|address| vec![*address])
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such name"));
        Box::pin(ready(answer))
    }
}

/// An MCP endpoint below the layer that answers every request `401` with `challenge`, and
/// records the URLs it is sent.
fn endpoint(challenge: String, sent: Arc<Mutex<Vec<String>>>) -> HttpClientService {
    BoxCloneSyncService::new(tower::service_fn(move |request: Request<RequestBody>| {
        sent.lock().unwrap().push(request.uri().to_string());
        let response = Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("www-authenticate", challenge.clone())
            .body(
                Full::new(Bytes::new())
                    .map_err(|never| match never {})
                    .boxed_unsync(),
            )
            .unwrap();
        ready(Ok::<Response<ResponseBody>, BoxError>(response))
    }))
}

/// Sends one request to the MCP endpoint through the layer with `policy`; what the layer
/// answered, and the URLs that reached the endpoint.
async fn post(
    policy: FetchPolicy,
    resource_metadata: &str,
) -> (Result<StatusCode, BoxError>, Vec<String>) {
    let sent = Arc::default();
    let inner = endpoint(
        format!(r#"Bearer resource_metadata="{resource_metadata}""#),
        Arc::clone(&sent),
    );
    let config = OAuthConfig::new(
        "test-client",
        HeadlessUserAgent::new("http://127.0.0.1:1/cb"),
    )
    .fetch_policy(policy);
    let service = AuthLayer::new(config).layer(inner);
    let request = Request::post(SERVER)
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let outcome = service
        .oneshot(request)
        .await
        .map(|response| response.status());
    let sent = sent.lock().unwrap().clone();
    (outcome, sent)
}

fn resolver(names: &[&str]) -> TableResolver {
    TableResolver {
        table: names
            .iter()
            .map(|name| ((*name).to_owned(), IpAddr::V4(Ipv4Addr::LOCALHOST)))
            .collect(),
        asked: Arc::default(),
    }
}

#[tokio::test]
async fn metadata_on_an_internal_address_is_never_fetched() {
    let (address, seen) = mcpwire_test_support::recording_listener(8).await;
    let port = address.port();
    // A name the server chose that resolves into the client's own host: refused after the
    // lookup, even with loopback hosts allowed.
    let names = resolver(&["internal.example.com"]);
    let policy = FetchPolicy::default()
        .allow_loopback_http(true)
        .allow_private_addresses(true)
        .resolver(names.clone());
    let (outcome, sent) = post(
        policy,
        &format!("https://internal.example.com:{port}/.well-known/oauth-protected-resource"),
    )
    .await;
    assert!(outcome.is_err());
    assert!(
        names
            .asked
            .lock()
            .unwrap()
            .contains(&"internal.example.com".to_owned())
    );
    // The transport's stack got the MCP request only, none of the layer's own.
    assert_eq!(sent, [SERVER]);
    // Literal addresses the server names are refused before any connection.
    for literal in [
        format!("https://127.0.0.1:{port}/prm"),
        format!("https://2130706433:{port}/prm"),
        format!("https://[::ffff:127.0.0.1]:{port}/prm"),
        format!("http://0x7f.0.0.1:{port}/prm"),
        "https://169.254.169.254/latest/meta-data/".to_owned(),
        "https://[fd00:ec2::254]/latest/meta-data/".to_owned(),
    ] {
        let policy = FetchPolicy::default().resolver(resolver(&[]));
        let (outcome, sent) = post(policy, &literal).await;
        assert!(outcome.is_err(), "{literal}");
        assert_eq!(sent, [SERVER], "{literal}");
    }
    let reached = seen.lock().unwrap().len();
    assert_eq!(reached, 0, "{reached} connection(s) reached the listener");
}

#[tokio::test]
async fn an_opted_in_loopback_host_is_fetched_at_the_address_it_resolved_to() {
    let (address, seen) = mcpwire_test_support::recording_listener(8).await;
    let port = address.port();
    let names = resolver(&["localhost"]);
    let policy = FetchPolicy::default()
        .allow_loopback_http(true)
        .resolver(names.clone());
    let (outcome, _) = post(policy, &format!("http://localhost:{port}/prm")).await;
    // The listener has no metadata, and the mock's own origin does not resolve, so
    // discovery fails; but the metadata request reached the listener, looked up once.
    assert!(outcome.is_err());
    assert_eq!(
        seen.lock().unwrap().first().map(String::as_str),
        Some("GET /prm HTTP/1.1")
    );
    let asked = names.asked.lock().unwrap().clone();
    assert_eq!(
        asked.iter().filter(|name| *name == "localhost").count(),
        1,
        "{asked:?}"
    );
}
