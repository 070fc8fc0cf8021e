//! The resource server against a real authorization server: `oauth2-mock-server` (pinned in
//! `interop/package.json`, installed by `cargo xtask interop-setup`, which CI runs before
//! the tests) started on a loopback port by `interop/mock_authorization_server.mjs`. It signs
//! JWTs with a key of its own JWKS; the MCP endpoint behind `BearerAuthLayer` runs in axum,
//! and `JwtVerifier` fetches that JWKS. Tokens the mock cannot issue (`alg: none`, HMAC
//! with the public key, a broken signature) are forged here.
//!
//! Node.js 20 or newer must be on PATH: the test fails, it does not skip, without it.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mcpwire_auth::server::{
    AuthRequestBody, BearerAuthLayer, FetchPolicy, JwtVerifier, Principal, ProtectedResource,
};
use mcpwire_http::server::Config;
use mcpwire_test_support::oauth::MockAuthorizationServer;
use serde_json::{Value, json};
use support::Log;
use tower::Layer as _;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// The form parameters of a token request.
type Form<'a> = Vec<(&'a str, &'a str)>;

fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// A token from the mock's token endpoint: `grant_type` and the extra parameters of
/// `interop/mock_authorization_server.mjs`.
async fn token(client: &HttpClient, issuer: &str, form: &[(&str, &str)]) -> Value {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let request = Request::post(format!("{issuer}/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let response = client.request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&body).unwrap()
}

async fn access_token(client: &HttpClient, issuer: &str, extra: &[(&str, &str)]) -> String {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend_from_slice(extra);
    token(client, issuer, &form).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `token` with its header and claims replaced and `signature` as its third part.
fn forge(header: &Value, claims: &Value, signature: &str) -> String {
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    format!("{}.{}.{signature}", encode(header), encode(claims))
}

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// An HTTP/1.1 response's status, `WWW-Authenticate`, and body.
async fn send(
    client: &HttpClient,
    request: Request<Full<Bytes>>,
) -> (StatusCode, Option<String>, String) {
    let response = client.request(request).await.unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, challenge, String::from_utf8(body.to_vec()).unwrap())
}

/// The bearer layer of `resource` (which supports `mcp:tools` and `mcp:admin`, requires
/// `mcp:tools`, and is then set up by `more`), whose tokens are the mock's JWTs, verified
/// against its JWKS.
fn protect(
    issuer: &str,
    resource: &str,
    more: impl FnOnce(ProtectedResource) -> ProtectedResource,
) -> BearerAuthLayer {
    let verifier = JwtVerifier::builder(issuer, format!("{issuer}/jwks"), resource)
        .fetch_policy(FetchPolicy::default().allow_loopback_http(true))
        .build()
        .unwrap();
    let resource = ProtectedResource::new(resource, [issuer])
        .scopes_supported(["mcp:tools", "mcp:admin"])
        .required_scopes(["mcp:tools"]);
    BearerAuthLayer::new(more(resource), verifier).unwrap()
}

fn initialize(url: &str, token: Option<&str>) -> Request<Full<Bytes>> {
    let mut request = Request::post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}});
    request
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

#[tokio::test]
async fn the_resource_server_accepts_only_access_tokens_for_itself() {
    let (log, _logging) = Log::capture();

    let mock = MockAuthorizationServer::start().await;
    let issuer = mock.issuer.clone();
    let client = http_client();

    // The MCP endpoint, protected, in an axum app on a loopback port.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let resource = format!("http://127.0.0.1:{}/mcp", address.port());
    let mcp = mcpwire_server::Server::builder("protected", "1.0.0")
        .build()
        .unwrap()
        .http_service(Config::default());
    let auth = protect(&issuer, &resource, |resource| {
        resource.resource_name("Protected test server")
    });
    let principals = Arc::new(Mutex::new(Vec::<Principal>::new()));
    let seen = principals.clone();
    let endpoint = mcp.clone();
    let recording =
        tower::service_fn(move |request: Request<AuthRequestBody<axum::body::Body>>| {
            if let Some(principal) = request.extensions().get::<Principal>() {
                seen.lock().unwrap().push(principal.clone());
            }
            tower::ServiceExt::oneshot(endpoint.clone(), request)
        });
    let app = axum::Router::new().route_service("/mcp", auth.layer(recording));
    let app = auth.metadata_paths().iter().fold(app, |app, path| {
        app.route_service(path, auth.metadata_service())
    });
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    // The metadata, exactly, at both well-known URIs.
    let expected_metadata = format!(
        r#"{{"resource":"{resource}","authorization_servers":["{issuer}"],"scopes_supported":["mcp:tools","mcp:admin"],"bearer_methods_supported":["header"],"resource_name":"Protected test server"}}"#
    );
    let origin = format!("http://127.0.0.1:{}", address.port());
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let request = Request::get(format!("{origin}{path}"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let (status, _, body) = send(&client, request).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body, expected_metadata, "{path}");
    }

    let metadata_url = format!("{origin}/.well-known/oauth-protected-resource/mcp");
    let bare = format!(r#"Bearer resource_metadata="{metadata_url}", scope="mcp:tools""#);
    let invalid = |description: &str| {
        format!(r#"{bare}, error="invalid_token", error_description="{description}""#)
    };

    // Tokens the mock issues, each wrong in one way.
    let mut tokens = Vec::new();
    let with = |claims: Value| claims.to_string();
    let expired = with(json!({"exp": now() - 3600, "iat": now() - 7200, "nbf": now() - 7200}));
    let not_yet = with(json!({"nbf": now() + 3600}));
    let other_issuer = with(json!({"iss": "http://localhost:1"}));
    let nonce = with(json!({"nonce": "n-0S6_WzA2Mj"}));
    let unknown_kid = json!({"kid": "not-a-key-of-the-issuer"}).to_string();
    let minted: Vec<(&str, Form<'_>, String)> = vec![
        (
            "expired",
            vec![
                ("scope", "mcp:tools"),
                ("resource", &resource),
                ("mcpwire_claims", &expired),
            ],
            invalid("the token has expired"),
        ),
        (
            "not yet valid",
            vec![
                ("scope", "mcp:tools"),
                ("resource", &resource),
                ("mcpwire_claims", &not_yet),
            ],
            invalid("the token is not valid yet"),
        ),
        (
            "wrong issuer",
            vec![
                ("scope", "mcp:tools"),
                ("resource", &resource),
                ("mcpwire_claims", &other_issuer),
            ],
            invalid("the token's issuer is not trusted"),
        ),
        (
            "wrong audience",
            vec![
                ("scope", "mcp:tools"),
                ("resource", "https://other.example.com/mcp"),
            ],
            invalid("the token is not for this resource"),
        ),
        (
            "no audience",
            vec![("scope", "mcp:tools")],
            invalid("the token is not for this resource"),
        ),
        (
            "unknown kid",
            vec![
                ("scope", "mcp:tools"),
                ("resource", &resource),
                ("mcpwire_header", &unknown_kid),
            ],
            invalid("the token's key is not the issuer's"),
        ),
        (
            "typ JWT",
            vec![
                ("scope", "mcp:tools"),
                ("resource", &resource),
                ("mcpwire_typ", "JWT"),
            ],
            invalid("the token is not an access token (typ at+jwt)"),
        ),
        (
            "ID token claims",
            vec![
                ("scope", "mcp:tools"),
                ("resource", &resource),
                ("mcpwire_claims", &nonce),
            ],
            invalid("ID tokens are not access tokens"),
        ),
    ];
    for (name, form, challenge) in minted {
        tokens.push((
            name.to_owned(),
            access_token(&client, &issuer, &form).await,
            StatusCode::UNAUTHORIZED,
            challenge,
        ));
    }

    // An ID token, as the mock issues it beside an access token: `typ: JWT`, `aud` the
    // client id.
    let password = token(
        &client,
        &issuer,
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "x"),
            ("client_id", "app"),
            ("scope", "mcp:tools"),
        ],
    )
    .await;
    let id_token = password["id_token"].as_str().unwrap().to_owned();
    assert_eq!(decode_part(&id_token, 1)["aud"], "app");
    tokens.push((
        "ID token".to_owned(),
        id_token,
        StatusCode::UNAUTHORIZED,
        invalid("the token is not an access token (typ at+jwt)"),
    ));

    // Forged: `alg: none`, HMAC keyed with the issuer's public key, a changed payload.
    let good = access_token(
        &client,
        &issuer,
        &[("scope", "mcp:tools"), ("resource", &resource)],
    )
    .await;
    let header = decode_part(&good, 0);
    let claims = decode_part(&good, 1);
    let mut none_header = header.clone();
    none_header["alg"] = json!("none");
    tokens.push((
        "alg none".to_owned(),
        forge(&none_header, &claims, ""),
        StatusCode::UNAUTHORIZED,
        invalid("the token is not a JWT with a known algorithm"),
    ));
    let jwks: Value = {
        let request = Request::get(format!("{issuer}/jwks"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        serde_json::from_str(&send(&client, request).await.2).unwrap()
    };
    let public_key = jwks["keys"][0].to_string();
    let mut hmac_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hmac_header.typ = Some("at+jwt".to_owned());
    hmac_header.kid = header["kid"].as_str().map(str::to_owned);
    let hmac = jsonwebtoken::encode(
        &hmac_header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(public_key.as_bytes()).unwrap(),
    )
    .unwrap();
    tokens.push((
        "HMAC with the public key".to_owned(),
        hmac,
        StatusCode::UNAUTHORIZED,
        invalid("HMAC-signed tokens are refused"),
    ));
    let mut widened = claims.clone();
    widened["scope"] = json!("mcp:tools mcp:admin");
    let signature = good.rsplit('.').next().unwrap();
    tokens.push((
        "changed payload".to_owned(),
        forge(&header, &widened, signature),
        StatusCode::UNAUTHORIZED,
        invalid("the token's signature is invalid"),
    ));

    // A valid token without the required scope.
    let narrow = access_token(
        &client,
        &issuer,
        &[("scope", "mcp:admin"), ("resource", &resource)],
    )
    .await;
    tokens.push((
        "insufficient scope".to_owned(),
        narrow,
        StatusCode::FORBIDDEN,
        format!(r#"Bearer resource_metadata="{metadata_url}", scope="mcp:tools mcp:admin", error="insufficient_scope", error_description="the token lacks a required scope""#),
    ));

    let url = format!("{origin}/mcp");
    let (status, challenge, _) = send(&client, initialize(&url, None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some(bare.as_str()));
    for (name, token, expected_status, expected_challenge) in &tokens {
        let (status, challenge, body) = send(&client, initialize(&url, Some(token))).await;
        assert_eq!(status, *expected_status, "{name}");
        assert_eq!(
            challenge.as_deref(),
            Some(expected_challenge.as_str()),
            "{name}"
        );
        assert_eq!(body, "", "{name}");
    }
    assert_eq!(
        mcp.session_count(),
        0,
        "a refused request created a session"
    );
    assert!(principals.lock().unwrap().is_empty());

    // The valid token is served, and the endpoint sees its principal.
    let (status, _, body) = send(&client, initialize(&url, Some(&good))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"protocolVersion\""), "{body}");
    assert_eq!(mcp.session_count(), 1);
    let principal = principals.lock().unwrap()[0].clone();
    assert_eq!(principal.issuer.as_deref(), Some(issuer.as_str()));
    assert_eq!(principal.audiences, std::slice::from_ref(&resource));
    assert_eq!(principal.scopes, ["mcp:tools"]);
    assert!(principal.expires_at.unwrap() > SystemTime::now());

    // No token reached the log.
    let log = log.text();
    assert!(log.contains("refused an access token"), "{log}");
    for (name, token, _, _) in tokens.iter().chain([&(
        "good".to_owned(),
        good.clone(),
        StatusCode::OK,
        String::new(),
    )]) {
        let signature = token.rsplit('.').next().unwrap();
        assert!(
            signature.is_empty() || !log.contains(signature),
            "the {name} token is in the log"
        );
    }

    server.abort();
    mcp.shutdown().await;
}

/// A `POST` of `message` to the MCP endpoint, in `session` when given: status,
/// `WWW-Authenticate`, the session id the answer names, and the JSON-RPC answer (from a JSON
/// body or the SSE stream's data). A message with `_meta` is sent as a modern request.
async fn call(
    client: &HttpClient,
    url: &str,
    token: &str,
    session: Option<&str>,
    message: Value,
) -> (StatusCode, Option<String>, Option<String>, Value) {
    let mut request = Request::post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"));
    if let Some(session) = session {
        request = request
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-11-25");
    }
    if message["params"]["_meta"].is_object() {
        request = request
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", message["method"].as_str().unwrap())
            .header("mcp-name", message["params"]["name"].as_str().unwrap());
    }
    let request = request
        .body(Full::new(Bytes::from(message.to_string())))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    };
    let (challenge, session) = (header("www-authenticate"), header("mcp-session-id"));
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8(body.to_vec()).unwrap();
    let json = body
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(str::trim)
        .rfind(|data| !data.is_empty())
        .unwrap_or(&body);
    let answer = serde_json::from_str(json).unwrap_or(Value::Null);
    (status, challenge, session, answer)
}

/// `initialize` then `notifications/initialized` with `token`: the session id.
async fn open_session(client: &HttpClient, url: &str, token: &str) -> String {
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}});
    let (status, _, session, answer) = call(client, url, token, None, initialize).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let session = session.expect("the server names a session");
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let (status, ..) = call(client, url, token, Some(&session), initialized).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    session
}

#[tokio::test]
async fn a_tool_with_scopes_of_its_own_needs_a_step_up_and_sessions_and_tasks_stay_with_their_principal()
 {
    use mcpwire_schema::v2025_11_25::ToolExecutionTaskSupport;
    use mcpwire_server::{Context, Tool, ToolError};

    let mock = MockAuthorizationServer::start().await;
    let issuer = mock.issuer.clone();
    let client = http_client();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let resource = format!("http://127.0.0.1:{port}/mcp");
    let object = |value: Value| value.as_object().unwrap().clone();
    let mcp = mcpwire_server::Server::builder("protected", "1.0.0")
        .tasks()
        .tool(Tool::raw(
            "reset",
            object(json!({"type": "object"})),
            |_: mcpwire_schema::JsonObject| async { Ok::<_, ToolError>("reset done") },
        ))
        .tool(
            Tool::raw(
                "report",
                object(json!({"type": "object"})),
                |_: mcpwire_schema::JsonObject| async { Ok::<_, ToolError>("alice's report") },
            )
            .task_support(ToolExecutionTaskSupport::Optional),
        )
        .tool(Tool::raw(
            "whoami",
            object(json!({"type": "object"})),
            |_: mcpwire_schema::JsonObject, context: Context| async move {
                let extensions = context.http_extensions().expect("served over HTTP");
                let principal = extensions.get::<Principal>().expect("a principal");
                Ok::<_, ToolError>(format!(
                    "{} with {}",
                    principal.subject.as_deref().unwrap_or("nobody"),
                    principal.scopes.join(" ")
                ))
            },
        ))
        .build()
        .unwrap();
    let auth = protect(&issuer, &resource, |resource| {
        resource.tool_scopes("reset", ["mcp:admin"])
    });
    // Served by mcpwire's own HTTP server, behind the layer.
    let server = tokio::spawn(async move { mcp.serve_http(listener).layer(auth).await });

    let token_of = |subject: &'static str, scope: &'static str| {
        let client = client.clone();
        let (issuer, resource) = (issuer.clone(), resource.clone());
        async move {
            let claims = json!({"sub": subject}).to_string();
            access_token(
                &client,
                &issuer,
                &[
                    ("scope", scope),
                    ("resource", &resource),
                    ("mcpwire_claims", &claims),
                ],
            )
            .await
        }
    };
    let alice = token_of("alice", "mcp:tools").await;
    let session = open_session(&client, &resource, &alice).await;

    // Alice's token does not reach the tool that needs `mcp:admin`: `403`, asking for it
    // beside what she has. Other tools are served.
    let reset = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "reset", "arguments": {}}});
    let (status, challenge, _, _) =
        call(&client, &resource, &alice, Some(&session), reset.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        challenge.unwrap(),
        format!(
            r#"Bearer resource_metadata="http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp", scope="mcp:tools mcp:admin", error="insufficient_scope", error_description="the token lacks a required scope""#
        )
    );
    let report = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "report", "arguments": {}, "task": {"ttl": 60000}}});
    let (status, _, _, created) = call(&client, &resource, &alice, Some(&session), report).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let task_id = created["result"]["task"]["taskId"]
        .as_str()
        .expect("a task")
        .to_owned();

    // A token with the scope asked for, of the same principal, goes on in the same session.
    let stepped_up = token_of("alice", "mcp:tools mcp:admin").await;
    let (status, _, _, answer) = call(&client, &resource, &stepped_up, Some(&session), reset).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"]["content"][0]["text"], "reset done");

    // Handlers know who calls them, in a session (with the latest token's scopes) and in a
    // modern request.
    let whoami = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
        "params": {"name": "whoami", "arguments": {}}});
    let (_, _, _, answer) = call(
        &client,
        &resource,
        &stepped_up,
        Some(&session),
        whoami.clone(),
    )
    .await;
    assert_eq!(
        answer["result"]["content"][0]["text"],
        "alice with mcp:tools mcp:admin"
    );
    let mut modern = whoami;
    modern["params"]["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let carol = token_of("carol", "mcp:tools").await;
    let (status, _, _, answer) = call(&client, &resource, &carol, None, modern).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["result"]["content"][0]["text"],
        "carol with mcp:tools"
    );

    // Bob, with every scope, cannot use Alice's session: `404`, as for an unknown session.
    let bob = token_of("bob", "mcp:tools mcp:admin").await;
    let get = json!({"jsonrpc": "2.0", "id": 4, "method": "tasks/result",
        "params": {"taskId": task_id}});
    let (status, ..) = call(&client, &resource, &bob, Some(&session), get.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // In a session of his own, Alice's task does not exist.
    let bobs = open_session(&client, &resource, &bob).await;
    let (status, _, _, answer) = call(&client, &resource, &bob, Some(&bobs), get.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["error"]["code"], -32602, "{answer}");
    assert!(!answer.to_string().contains("alice's report"));
    // Alice gets her result.
    let (status, _, _, answer) = call(&client, &resource, &alice, Some(&session), get).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"]["content"][0]["text"], "alice's report");

    server.abort();
}

#[tokio::test]
async fn the_verifier_finds_the_issuers_keys_from_its_metadata() {
    use mcpwire_auth::server::TokenVerifier as _;

    let mock = MockAuthorizationServer::start().await;
    let issuer = mock.issuer.clone();
    let client = http_client();
    let resource = "http://127.0.0.1:8080/mcp";
    let loopback = FetchPolicy::default().allow_loopback_http(true);

    let verifier = JwtVerifier::discovering(&issuer, resource)
        .fetch_policy(loopback.clone())
        .discover()
        .await
        .expect("the mock publishes its metadata and JWKS");
    let token = access_token(
        &client,
        &issuer,
        &[("scope", "mcp:tools"), ("resource", resource)],
    )
    .await;
    let principal = verifier
        .verify(&mcpwire_auth::server::Secret::new(token))
        .await
        .expect("a token of the issuer verifies");
    assert_eq!(principal.issuer.as_deref(), Some(issuer.as_str()));

    // Another issuer's name in the metadata, or none at all, is refused; so is a builder
    // without keys that is not finished by discovery.
    let mut other = url::Url::parse(&issuer).unwrap();
    other.set_path("/other");
    let error = JwtVerifier::discovering(other.as_str().trim_end_matches('/'), resource)
        .fetch_policy(loopback.clone())
        .discover()
        .await
        .expect_err("no metadata names that issuer");
    assert!(error.is_discovery(), "{error}");
    let error = JwtVerifier::discovering(&issuer, resource)
        .build()
        .expect_err("no JWKS URI");
    assert!(error.is_config(), "{error}");
}
