//! mcpwire's own conformance suite against the fixture server protected by `mcpwire-auth`'s
//! bearer layer, whose tokens come from a real authorization server (`oauth2-mock-server`,
//! started on loopback): the checks of authorization pass with the token the suite is given,
//! every generic check runs through the protection, and without a token only the checks of
//! authorization run.
//!
//! Node.js 20 or newer must be on PATH: the test fails, it does not skip, without it.

#[allow(dead_code, reason = "the helpers of the other tests")]
mod server_process;

use mcpwire_conformance::{Area, Options, Report, Target, Verdict};
use mcpwire_test_support::oauth::MockAuthorizationServer;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// An access token for `resource` with `scope`, from the authorization server's token
/// endpoint (a `client_credentials` grant), over plain HTTP/1.1.
async fn access_token(issuer: &str, resource: &str, scope: &str) -> String {
    let authority = issuer.trim_start_matches("http://");
    let form = format!(
        "grant_type=client_credentials&resource={}&scope={}",
        encode(resource),
        encode(scope)
    );
    let request = format!(
        "POST /token HTTP/1.1\r\nHost: {authority}\r\nContent-Type: \
         application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    );
    let mut stream = TcpStream::connect(authority).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(server_process::STEP, stream.read_to_string(&mut response))
        .await
        .expect("the token endpoint answers in time")
        .unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a response");
    assert!(head.starts_with("HTTP/1.1 200"), "{response}");
    let token: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{response}"));
    token["access_token"].as_str().expect("a token").to_owned()
}

/// Percent-encodes a form value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// The results of `report` that are neither passes nor skips.
fn not_passing(report: &Report) -> Vec<String> {
    report
        .results
        .iter()
        .filter(|result| !matches!(result.verdict, Verdict::Pass | Verdict::Skip))
        .map(|result| format!("{} {:?}: {}", result.id, result.verdict, result.detail))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protected_server_passes_with_a_real_token_and_is_only_probed_without_one() {
    let authorization = MockAuthorizationServer::start().await;
    let (mut child, port) = server_process::start(&[
        "--auth-issuer",
        &authorization.issuer,
        "--auth-scope",
        "mcp:tools",
    ])
    .await;
    // The server's resource identifier, and so the URL the suite must use.
    let url = format!("http://localhost:{port}/mcp");
    let token = access_token(&authorization.issuer, &url, "mcp:tools").await;

    let with_token =
        mcpwire_conformance::run(&Target::http(&url).with_bearer(&token), &Options::default())
            .await;
    assert!(
        not_passing(&with_token).is_empty(),
        "with a token:\n{}",
        not_passing(&with_token).join("\n")
    );
    let authorization_passes = with_token
        .results
        .iter()
        .filter(|result| result.area == Area::Authorization && result.verdict == Verdict::Pass)
        .count();
    assert_eq!(
        authorization_passes, 10,
        "every check of authorization passes"
    );
    let passes = with_token
        .results
        .iter()
        .filter(|result| result.verdict == Verdict::Pass)
        .count();
    assert!(
        passes > 150,
        "the generic checks run through the protection: {passes}"
    );
    assert!(
        !format!("{with_token:?}").contains(&token),
        "the token never reaches the report"
    );

    let without = mcpwire_conformance::run(&Target::http(&url), &Options::default()).await;
    let ran: Vec<&str> = without
        .results
        .iter()
        .filter(|result| result.verdict != Verdict::Skip)
        .map(|result| result.id.as_str())
        .collect();
    assert!(
        ran.iter().all(|id| id.starts_with("authorization/")),
        "without a token only the checks of authorization run: {ran:?}"
    );
    // Those that need a token skip; the others pass.
    assert_eq!(ran.len(), 7, "{ran:?}");
    assert!(
        not_passing(&without).is_empty(),
        "{}",
        not_passing(&without).join("\n")
    );

    let _ = child.start_kill();
}
