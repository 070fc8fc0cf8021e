//! `conformance-server --http` run protected: the fixtures behind `mcpwire-auth`'s bearer
//! layer refuse a request without a token with the challenge, and serve their metadata.

mod server_process;

use server_process::exchange;

#[tokio::test]
async fn the_protected_fixture_server_challenges_and_serves_its_metadata() {
    let (mut child, port) = server_process::start(&[
        "--auth-issuer",
        "http://127.0.0.1:9/issuer",
        "--auth-jwks",
        "http://127.0.0.1:9/issuer/jwks",
        "--auth-resource",
        "http://localhost:8001/mcp",
        "--auth-scope",
        "mcp:tools",
    ])
    .await;

    let response = exchange(
        port,
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: 2\r\n\
         Connection: close\r\n\r\n{}",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 401 "), "{response}");
    assert!(
        response.to_ascii_lowercase().contains(
            "www-authenticate: bearer resource_metadata=\"http://localhost:8001/.well-known/oauth-protected-resource/mcp\", scope=\"mcp:tools\"\r\n"
        ),
        "{response}"
    );

    let response = exchange(
        port,
        "GET /.well-known/oauth-protected-resource/mcp HTTP/1.1\r\nHost: localhost\r\n\
         Connection: close\r\n\r\n",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200 "), "{response}");
    assert!(
        response.ends_with(
            r#"{"resource":"http://localhost:8001/mcp","authorization_servers":["http://127.0.0.1:9/issuer"],"bearer_methods_supported":["header"]}"#
        ),
        "{response}"
    );

    let _ = child.start_kill();
}
