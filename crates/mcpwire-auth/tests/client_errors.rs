//! A failure of the authorization layer reaches the caller of `mcpwire-client` as what it is:
//! a transport failure of the call (`Error::is_transport`), with the layer's own error among
//! its sources, never as an error response the server did not send.

use std::time::Duration;

use mcpwire_auth::client::{AuthLayer, HeadlessUserAgent, OAuthConfig};
use mcpwire_auth::server::{BearerAuthLayer, Principal, ProtectedResource, verify_fn};
use mcpwire_client::Client;
use mcpwire_http::client::HttpClientBuilder;
use mcpwire_server::Server;

/// How long the client may take to fail.
const STEP: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_refusal_of_the_authorization_layer_is_a_transport_failure_with_its_cause() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let resource = format!("http://{}/mcp", listener.local_addr().unwrap());
    let server = Server::builder("protected", "1.0.0").build().unwrap();
    let auth = BearerAuthLayer::new(
        ProtectedResource::new(&resource, ["https://as.example.com"]),
        verify_fn(|_| async { Ok::<_, mcpwire_auth::server::Rejection>(Principal::default()) }),
    )
    .unwrap();
    let serving = tokio::spawn(async move { server.serve_http(listener).layer(auth).await });

    // The default fetch policy takes `https` only: the layer refuses to fetch the server's
    // metadata from a plain `http` URL, and so fails the request.
    let config = OAuthConfig::new("client", HeadlessUserAgent::new("http://127.0.0.1:9/cb"));
    let transport = HttpClientBuilder::new(resource.as_str())
        .layer(AuthLayer::new(config))
        .streamable()
        .unwrap();
    let error = tokio::time::timeout(STEP, Client::builder("client", "1.0.0").connect(transport))
        .await
        .expect("fails in time")
        .expect_err("the layer refuses");
    assert!(error.is_transport(), "{error:?}");
    assert!(!error.is_remote() && !error.is_closed(), "{error:?}");
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    let mut cause = None;
    while let Some(current) = source {
        if let Some(found) = current.downcast_ref::<mcpwire_auth::Error>() {
            cause = Some(found);
        }
        source = current.source();
    }
    let cause = cause.unwrap_or_else(|| panic!("no authorization error among {error:?}"));
    assert!(cause.is_fetch() || cause.is_discovery(), "{cause}");
    serving.abort();
}
