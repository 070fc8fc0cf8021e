//! What the client's errors tell a user when the server refuses: the display names the
//! method and says what the server answered, once across the whole source chain; each named
//! error code has its predicate; the data of `-32042` and `-32022` arrive decoded.

use mcpwire_client::{Client, EraChoice};
use mcpwire_server::{Era, Server, Tool, ToolError, types};
use serde_json::{Map, Value, json};

fn server() -> Server {
    Server::builder("refusing", "1.0.0")
        .tool(Tool::typed(
            "needs_login",
            |_: Map<String, Value>| async move {
                Err::<String, _>(ToolError::url_elicitation_required(
                    "sign in first",
                    vec![types::ElicitRequestURLParams::new(
                        "login-1",
                        "Sign in to continue",
                        "https://example.com/login",
                    )],
                ))
            },
        ))
        .build()
        .expect("a valid server")
}

/// The error and its sources, joined as `anyhow` prints them with `{:#}`.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn legacy_client(server: &Server) -> Client {
    let (client_end, server_end) = mcpwire_transport::duplex(16);
    let _session = server.serve(server_end);
    Client::builder("errors-test", "1.0.0")
        .era(EraChoice::Legacy)
        .connect(client_end)
        .await
        .expect("connects")
}

#[tokio::test]
async fn an_error_response_is_displayed_with_the_servers_code_and_message_once() {
    let client = legacy_client(&server()).await;
    let error = client
        .call_tool("no_such_tool", json!({}))
        .await
        .expect_err("an unknown tool is refused");
    assert!(error.is_invalid_params(), "{error}");
    assert!(!error.is_method_not_found() && !error.is_internal_error());
    let text = chain(&error);
    assert!(
        text.starts_with("tools/call failed: the server answered -32602 (invalid params): "),
        "{text}"
    );
    assert_eq!(text.matches("no_such_tool").count(), 1, "{text}");
    client.close().await;
}

#[tokio::test]
async fn url_elicitation_required_arrives_decoded() {
    let client = legacy_client(&server()).await;
    let error = client
        .call_tool("needs_login", json!({}))
        .await
        .expect_err("-32042 is an error response");
    assert!(error.is_url_elicitation_required(), "{error}");
    let elicitations = error.url_elicitations().expect("decoded elicitations");
    assert_eq!(elicitations.len(), 1);
    assert_eq!(elicitations[0].elicitation_id, "login-1");
    assert_eq!(elicitations[0].url, "https://example.com/login");
    assert!(error.to_string().contains("-32042"), "{error}");
    client.close().await;
}

#[tokio::test]
async fn a_modern_only_server_refusing_initialize_is_an_unsupported_version() {
    let modern_only = Server::builder("modern-only", "1.0.0")
        .only_era(Era::Modern)
        .build()
        .expect("a valid server");
    let (client_end, server_end) = mcpwire_transport::duplex(16);
    let _session = modern_only.serve(server_end);
    let error = Client::builder("errors-test", "1.0.0")
        .era(EraChoice::Legacy)
        .connect(client_end)
        .await
        .map(|_| ())
        .expect_err("initialize is refused");
    assert!(error.is_unsupported_version(), "{error}");
    assert_eq!(
        error.supported_versions(),
        Some(vec!["2026-07-28".to_owned()])
    );
}
