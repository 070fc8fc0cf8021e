//! A server that ends a session: `mcpwire-client` over the Streamable HTTP client transport
//! goes on with a new session on the real `StreamableHttpService` and `mcpwire-server`, or,
//! with re-initialization turned off, sees the session expiry.

mod support;

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use mcpwire_client::Client;
use mcpwire_http::client::Error as HttpError;
use mcpwire_http::client::{HttpClientBuilder, SessionHandle};
use mcpwire_http::server::{Config, StreamableHttpService};
use serde_json::json;
use support::WAIT;
use support::echo::{ServedEcho, client_info, text_of};

/// Connects `mcpwire-client` to `served` with `builder`'s transport.
async fn connect(builder: HttpClientBuilder) -> (Client, SessionHandle) {
    let transport = builder.streamable().unwrap();
    let session = transport.session();
    let client = tokio::time::timeout(
        WAIT,
        mcpwire_client::ClientBuilder::new(client_info()).connect(transport),
    )
    .await
    .expect("initialize in time")
    .expect("initialize");
    (client, session)
}

async fn echo(client: &Client, text: &str) -> Result<String, mcpwire_client::Error> {
    let result = tokio::time::timeout(WAIT, client.call_tool("echo", json!({"text": text})))
        .await
        .expect("the call ends in time")?;
    Ok(text_of(&result))
}

/// Ends session `id` the way a client would, with DELETE, behind the back of the client
/// that uses it.
async fn delete_session(service: &StreamableHttpService, id: &str) {
    let request = Request::builder()
        .method(Method::DELETE)
        .uri("/mcp")
        .header(http::header::HOST, "localhost")
        .header("mcp-session-id", id)
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = service.handle(request).await;
    assert!(response.status().is_success(), "{}", response.status());
}

#[tokio::test]
async fn a_session_deleted_by_the_server_is_replaced_and_the_call_succeeds() {
    let served = ServedEcho::start(Config::default()).await;
    let (client, session) = connect(HttpClientBuilder::new(served.url())).await;
    assert_eq!(echo(&client, "before").await.unwrap(), "before");
    let first_id = session.id().expect("the server assigned a session id");
    assert_eq!(session.reinitializations(), 0);

    delete_session(&served.service, &first_id).await;
    assert_eq!(served.service.session_count(), 0);

    assert_eq!(echo(&client, "after").await.unwrap(), "after");
    let second_id = session.id().expect("the new session has an id");
    assert_ne!(second_id, first_id);
    assert_eq!(session.reinitializations(), 1);
    assert_eq!(session.protocol_version().as_deref(), Some("2025-11-25"));
    assert_eq!(served.service.session_count(), 1);
    assert_eq!(served.sessions.count(), 2, "exactly one new session");
    let new_session = served.sessions.get(1);
    assert!(
        new_session.is_initialized(),
        "the transport sent notifications/initialized on the new session"
    );
    assert_eq!(
        new_session.client_info().map(|info| info.name),
        Some(client_info().name),
        "the new session was initialized with the client's own request"
    );
    client.close().await;
}

#[tokio::test]
async fn an_idle_session_expired_by_the_server_is_replaced() {
    // Without the standalone stream the session idles between calls, as the server needs to
    // expire it.
    let config = Config::default()
        .standalone_get(false)
        .session_idle_timeout(Duration::from_millis(200));
    let served = ServedEcho::start(config).await;
    let (client, session) = connect(HttpClientBuilder::new(served.url())).await;
    assert_eq!(echo(&client, "one").await.unwrap(), "one");
    let first_id = session.id().unwrap();

    tokio::time::timeout(WAIT, served.sessions.get(0).closed())
        .await
        .expect("the server expires the idle session");

    assert_eq!(echo(&client, "two").await.unwrap(), "two");
    assert_ne!(session.id().unwrap(), first_id);
    assert_eq!(session.reinitializations(), 1);
    client.close().await;
}

#[tokio::test]
async fn calls_refused_together_share_one_new_session() {
    const CALLS: usize = 8;
    let served = ServedEcho::start(Config::default()).await;
    let (client, session) = connect(HttpClientBuilder::new(served.url())).await;
    delete_session(&served.service, &session.id().unwrap()).await;

    let mut calls = tokio::task::JoinSet::new();
    for index in 0..CALLS {
        let client = client.clone();
        calls.spawn(async move { (index, echo(&client, &index.to_string()).await) });
    }
    let mut answered = 0;
    while let Some(joined) = calls.join_next().await {
        let (index, result) = joined.unwrap();
        assert_eq!(result.unwrap(), index.to_string());
        answered += 1;
    }
    assert_eq!(answered, CALLS);
    assert_eq!(session.reinitializations(), 1);
    assert_eq!(served.sessions.count(), 2);
    assert_eq!(served.service.session_count(), 1);
    client.close().await;
}

#[tokio::test]
async fn with_reinitialization_off_the_call_fails_with_the_session_expiry() {
    let served = ServedEcho::start(Config::default()).await;
    let (client, session) =
        connect(HttpClientBuilder::new(served.url()).reinitialize_on_session_expiry(false)).await;
    assert_eq!(echo(&client, "before").await.unwrap(), "before");
    delete_session(&served.service, &session.id().unwrap()).await;

    let error = echo(&client, "after")
        .await
        .expect_err("the session is gone");
    let http = HttpError::find(&error).unwrap_or_else(|| panic!("no http error in {error:?}"));
    assert!(http.is_session_expired(), "{http}");
    assert_eq!(http.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(session.reinitializations(), 0);
    assert_eq!(served.sessions.count(), 1, "no new session was started");
}
