//! The `machine_to_machine` example against a real authorization server and a protected
//! mcpwire server, all on loopback.
//!
//! The authorization server is `oauth2-mock-server` (pinned in `interop/package.json`,
//! installed by `cargo xtask interop-setup`) run by `interop/mock_authorization_server.mjs`.
//! It does the `client_credentials` grant and signs JWT access tokens with a key of its own
//! JWKS, but never authenticates clients; given the client's public key, the script makes it
//! advertise `private_key_jwt` alone and verify each client assertion with Node's own crypto
//! (signature, `iss` = `sub` = client id, `aud` = issuer, a short `exp`, a fresh `jti`). The
//! MCP server is an mcpwire server behind `mcpwire-auth`'s `BearerAuthLayer`, whose
//! `JwtVerifier` checks the access token against that JWKS and this resource.
//!
//! Node.js 20 or newer must be on PATH: the test fails, it does not skip, without it.

use std::path::PathBuf;
use std::time::Duration;

use mcpwire_auth::server::{
    BearerAuthLayer, FetchPolicy, JwtVerifier, Principal, ProtectedResource,
};
use mcpwire_http::server::Config;
use mcpwire_server::{Context, Server, Tool, ToolError};
use mcpwire_test_support::oauth::MockAuthorizationServer;
use serde_json::{Map, Value};
use tower::Layer as _;

/// How long the example may take to finish.
const WAIT: Duration = Duration::from_secs(30);

const CLIENT_ID: &str = "reporting-agent";

/// The built example `name`: `target/<profile>/examples/name`, beside `deps/` where this test
/// runs from.
fn example(name: &str) -> PathBuf {
    let test = std::env::current_exe().expect("the test's path");
    let profile = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let path = profile.join("examples").join(name);
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// A file holding `contents` for the example to read, removed when dropped.
struct KeyFile(PathBuf);

impl KeyFile {
    fn new(name: &str, contents: &str) -> KeyFile {
        let path = std::env::temp_dir().join(format!(
            "mcpwire-machine-to-machine-{}-{name}.pem",
            std::process::id()
        ));
        std::fs::write(&path, contents).expect("the temporary directory is writable");
        KeyFile(path)
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs the example against `url` with the key in `key`; its exit status, stdout and stderr.
async fn run_example(url: &str, key: &KeyFile) -> (bool, String, String) {
    let output = tokio::time::timeout(
        WAIT,
        tokio::process::Command::new(example("machine_to_machine"))
            .arg(url)
            .arg(CLIENT_ID)
            .arg(&key.0)
            .arg("ES256")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the example finishes in time")
    .expect("the example starts");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_calls_a_protected_server_with_a_private_key_jwt() {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let public_key = key.public_key_pem();
    let mock = MockAuthorizationServer::start_with_env(&[
        ("MCPWIRE_CLIENT_ID", CLIENT_ID),
        ("MCPWIRE_CLIENT_PUBLIC_KEY", &public_key),
    ])
    .await;
    let issuer = mock.issuer.clone();

    // The protected MCP server, in an axum app on a loopback port.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let resource = format!("{origin}/mcp");
    // The tool tells whose token reached it: the issuer, the audience and the scopes.
    let report = |_: Map<String, Value>, context: Context| async move {
        let extensions = context.http_extensions().expect("served over HTTP");
        let principal = extensions.get::<Principal>().expect("a verified principal");
        Ok::<_, ToolError>(format!(
            "granted {} by {} for {}",
            principal.scopes.join(" "),
            principal.issuer.as_deref().unwrap_or("nobody"),
            principal.audiences.join(" "),
        ))
    };
    let mcp = Server::builder("protected", "1.0.0")
        .tool(Tool::typed("report", report))
        .build()
        .unwrap()
        .http_service(Config::default());
    let verifier = JwtVerifier::builder(&issuer, format!("{issuer}/jwks"), &resource)
        .fetch_policy(FetchPolicy::default().allow_loopback_http(true))
        .build()
        .unwrap();
    let auth = BearerAuthLayer::new(
        ProtectedResource::new(&resource, [&issuer])
            .scopes_supported(["reports:read"])
            .required_scopes(["reports:read"]),
        verifier,
    )
    .unwrap();
    let app = axum::Router::new().route_service("/mcp", auth.layer(mcp.clone()));
    let app = auth.metadata_paths().iter().fold(app, |app, path| {
        app.route_service(path, auth.metadata_service())
    });
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    // The registered key: the example connects, lists the tools and calls them.
    let registered = KeyFile::new("registered", &key.serialize_pem());
    let (success, stdout, stderr) = run_example(&resource, &registered).await;
    assert!(success, "the example failed: {stderr}");
    assert_eq!(
        stdout,
        format!("report: granted reports:read by {issuer} for {resource}\n")
    );

    // Another key: the authorization server refuses the assertion, and the example fails
    // with its answer.
    let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let unregistered = KeyFile::new("unregistered", &other.serialize_pem());
    let (success, stdout, stderr) = run_example(&resource, &unregistered).await;
    assert!(!success, "an unregistered key was accepted: {stdout}");
    assert!(stderr.contains("invalid_client"), "{stderr}");

    server.abort();
    mcp.shutdown().await;
}
