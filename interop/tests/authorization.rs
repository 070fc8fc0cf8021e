//! OAuth interop with the official TypeScript SDKs, v1 (`@modelcontextprotocol/sdk`) and v2
//! (`@modelcontextprotocol/client`, `@modelcontextprotocol/server`), both ways, against one real
//! authorization server: `oauth2-mock-server`, started on a loopback port by
//! `interop/mock_authorization_server.mjs`.
//!
//! - The SDK's client (`interop/ts_auth_client.mjs`, an `OAuthClientProvider` as the
//!   Streamable HTTP transport's `authProvider`) completes its authorization code flow against
//!   our server protected by `mcpwire-auth`'s `BearerAuthLayer` and `JwtVerifier`
//!   (`serve_http(listener).layer(auth)`), whose `whoami` tool reports the caller's principal.
//! - Our client, with `mcpwire-auth`'s `AuthLayer`, completes its flow against an SDK server
//!   protected by the SDK's own resource-server support: `requireBearerAuth` and
//!   `mcpAuthMetadataRouter` (v1, `interop/ts_auth_server.mjs`), or the web-standard
//!   `requireBearerAuth` and `oauthMetadataResponse` (v2, `interop/ts2_auth_server.mjs`).
//!
//! The authorization server has no registration endpoint, so both clients are registered
//! beforehand (a client id); its authorization endpoint redirects at once with a code, so both
//! flows run without a user. The v2 peers speak the modern era with our peers, the v1 ones the
//! legacy era. The peers are installed by `cargo xtask interop-setup`, which the tests run
//! first (it does nothing when they are current); they need node.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use http::{Request, Response};
use mcpwire_auth::client::{AuthLayer, FetchPolicy, HeadlessUserAgent, OAuthConfig, PreRegistered};
use mcpwire_auth::server::{BearerAuthLayer, JwtVerifier, Principal, ProtectedResource, Secret};
use mcpwire_ext_client_credentials::ClientCredentials;
use mcpwire_ext_dpop::{DpopKey, DpopVerifier, ProofClaims};
use mcpwire_http::client::{HttpClientBuilder, HttpClientService, RequestBody, ResponseBody};
use mcpwire_interop::peers::{peers, run};
use mcpwire_server::{Context, Era, Server, Tool, ToolError};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use tower::util::BoxCloneSyncService;

/// How long a node process may take to announce itself.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the SDK's client may take for its whole run.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(90);

/// How long our server may take to stop.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// How long our client may take to connect, and then for each call.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The scope both protected servers require.
const SCOPE: &str = "mcp:tools";

/// The redirect URI both clients register: nothing listens there, the redirect is read.
const REDIRECT_URI: &str = "http://127.0.0.1:8765/callback";

/// The arguments of our server's `echo`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Echo {
    /// The text to echo.
    text: String,
}

/// A generation of the TypeScript SDK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sdk {
    /// `@modelcontextprotocol/sdk` 1.x: the legacy era only.
    V1,
    /// `@modelcontextprotocol/client` and `@modelcontextprotocol/server` 2.x: both eras.
    V2,
}

impl Sdk {
    fn name(self) -> &'static str {
        match self {
            Sdk::V1 => "v1",
            Sdk::V2 => "v2",
        }
    }
}

#[tokio::test]
async fn the_typescript_v1_client_authorizes_against_our_protected_server() {
    typescript_client_against_our_server(Sdk::V1).await;
}

#[tokio::test]
async fn the_typescript_v2_client_authorizes_against_our_protected_server() {
    typescript_client_against_our_server(Sdk::V2).await;
}

#[tokio::test]
async fn our_client_authorizes_against_a_typescript_v1_protected_server() {
    our_client_against_a_typescript_server(Sdk::V1).await;
}

#[tokio::test]
async fn our_client_authorizes_against_a_typescript_v2_protected_server() {
    our_client_against_a_typescript_server(Sdk::V2).await;
}

/// The SDK's client, with its own OAuth client, against our protected server.
async fn typescript_client_against_our_server(sdk: Sdk) {
    let peers = peers().await;
    let authorization_server =
        NodeProcess::start(&peers.scripts, "mock_authorization_server.mjs", &[]).await;
    let issuer = authorization_server.announced("issuer");
    let server = OurProtectedServer::start(&issuer).await;

    let script = peers.scripts.join("ts_auth_client.mjs");
    let script = script.to_str().expect("the workspace path is UTF-8");
    let client_id = "ts-interop-client";
    let output = run(
        Path::new("node"),
        &[
            script,
            "--sdk",
            sdk.name(),
            &server.resource,
            client_id,
            &issuer,
        ],
        CLIENT_TIMEOUT,
    )
    .await;
    let report = format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{report}");
    let summary: Value = String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .and_then(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| panic!("the client prints its summary\n{report}"));

    // Refused without a token, the client discovered, authorized and exchanged the code, then
    // sent its first request again with the token: `initialize` (v1), or the `server/discover`
    // probe (v2), which our server answers, so that the session is modern.
    let exchanges: Vec<String> = summary["exchanges"]
        .as_array()
        .unwrap_or_else(|| panic!("{report}"))
        .iter()
        .map(describe_exchange)
        .collect();
    let resource = &server.resource;
    let (first, era) = match sdk {
        Sdk::V1 => ("initialize", Value::Null),
        Sdk::V2 => ("server/discover", json!("modern")),
    };
    let expected_start = [
        format!("POST {resource} {first} 401"),
        format!(
            "GET {}/.well-known/oauth-protected-resource/mcp 200",
            origin_of(resource)
        ),
        format!("GET {issuer}/.well-known/oauth-authorization-server 404"),
        format!("GET {issuer}/.well-known/openid-configuration 200"),
        format!("GET {issuer}/authorize 302"),
        format!("POST {issuer}/token 200"),
        format!("POST {resource} {first} 200 with a token"),
    ];
    assert!(
        exchanges.starts_with(&expected_start),
        "{exchanges:#?}\n{report}"
    );
    assert_eq!(summary["era"], era, "{report}");
    let later = &exchanges[expected_start.len()..];
    assert!(
        later
            .iter()
            .all(|exchange| exchange.contains(&format!(" {resource} "))
                && exchange.ends_with(" with a token")),
        "every later request goes to the server with the token: {later:#?}"
    );
    assert!(
        later.contains(&format!("POST {resource} tools/call 200 with a token")),
        "{later:#?}"
    );
    assert!(
        summary["refused"]
            .as_str()
            .is_some_and(|error| error.contains("Unauthorized")),
        "{report}"
    );

    // The authorization request: PKCE S256, the resource and the challenged scope.
    let authorization = &summary["authorization"];
    assert_eq!(authorization["response_type"], "code");
    assert_eq!(authorization["client_id"], client_id);
    assert_eq!(authorization["code_challenge_method"], "S256");
    assert_eq!(authorization["redirect_uri"], REDIRECT_URI);
    assert_eq!(authorization["resource"], server.resource.as_str());
    assert_eq!(authorization["scope"], SCOPE);

    assert_eq!(summary["tools"], json!(["echo", "whoami"]));
    assert_eq!(
        summary["call"]["content"],
        json!([{"type": "text", "text": "authorized"}])
    );
    assert_ne!(summary["call"]["isError"], true);

    // Our tool saw the principal of a token of the issuer, for this resource, with the scope.
    let principal = &summary["whoami"];
    assert_eq!(principal["issuer"], issuer.as_str(), "{report}");
    assert_eq!(principal["audiences"], json!([resource]), "{report}");
    assert_eq!(principal["scopes"], json!([SCOPE]), "{report}");
    assert!(
        principal["expiresIn"].as_u64().is_some_and(|left| left > 0),
        "{report}"
    );
    server.stop().await;
}

/// Our client, with `AuthLayer`, against the SDK's server protected by the SDK.
async fn our_client_against_a_typescript_server(sdk: Sdk) {
    let peers = peers().await;
    let authorization_server =
        NodeProcess::start(&peers.scripts, "mock_authorization_server.mjs", &[]).await;
    let issuer = authorization_server.announced("issuer");
    let script = match sdk {
        Sdk::V1 => "ts_auth_server.mjs",
        Sdk::V2 => "ts2_auth_server.mjs",
    };
    let server = NodeProcess::start(&peers.scripts, script, &[&issuer]).await;
    let url = server.announced("url");

    let exchanges = Arc::new(Mutex::new(Vec::new()));
    let client_id = "mcpwire-interop-client";
    let config = OAuthConfig::new("mcpwire interop", HeadlessUserAgent::new(REDIRECT_URI))
        .pre_registered(PreRegistered::new(client_id).issuer(&issuer));
    let client = connect_recorded(&url, config, &exchanges).await;

    let echo = tokio::time::timeout(
        CALL_TIMEOUT,
        client.call_tool("echo", json!({"text": "authorized"})),
    )
    .await
    .expect("echo answers in time")
    .expect("echo succeeds");
    let echo = serde_json::to_value(&echo).unwrap();
    assert_eq!(
        echo["content"],
        json!([{"type": "text", "text": "authorized"}])
    );
    let token = whoami(&client).await;
    // The SDK's verifier accepted a token of the issuer, for this server, with the scope.
    assert_eq!(token["issuer"], issuer.as_str());
    assert_eq!(token["resource"], url.as_str());
    assert_eq!(token["scopes"], json!([SCOPE]));

    // Refused without a token, our client discovered, authorized and exchanged the code, and
    // sent the request again with the token: its `server/discover` probe, which the v1 server
    // (legacy era only) refuses with 400 before the client falls back to `initialize`, and
    // which the v2 server answers.
    let (probed, era) = match sdk {
        Sdk::V1 => (400, Era::Legacy),
        Sdk::V2 => (200, Era::Modern),
    };
    assert_eq!(client.era(), era);
    client.close().await;
    let exchanges = exchanges.lock().unwrap().clone();
    let expected_start = [
        format!("POST {url} 401"),
        format!(
            "GET {}/.well-known/oauth-protected-resource/mcp 200",
            origin_of(&url)
        ),
        format!("GET {issuer}/.well-known/oauth-authorization-server 404"),
        format!("GET {issuer}/.well-known/openid-configuration 200"),
        format!("GET {issuer}/authorize 302"),
        format!("POST {issuer}/token 200"),
        format!("POST {url} {probed} with a token"),
        format!("POST {url} 200 with a token"),
    ];
    assert!(exchanges.starts_with(&expected_start), "{exchanges:#?}");
    let later = &exchanges[expected_start.len()..];
    assert!(
        later
            .iter()
            .all(|exchange| exchange.contains(&format!(" {url} "))
                && exchange.ends_with(" with a token")),
        "every later request goes to the server with the token: {later:#?}"
    );
}

/// DPoP against a real authorization server: `oidc-provider` (`interop/dpop_auth_server.mjs`)
/// issues DPoP-bound JWT access tokens by the client credentials grant, and requires nonces.
/// Our client (`mcpwire-ext-client-credentials` and a `DpopKey`) obtains one, answering the
/// authorization server's nonce challenge, and calls our server protected with a
/// `DpopVerifier` issuing nonces of its own, which its first refusal hands out; the server sees the
/// token bound to the client's key.
#[tokio::test]
async fn our_dpop_client_calls_our_dpop_server_with_a_real_authorization_servers_tokens() {
    let DpopWorld {
        provider,
        issuer,
        server,
        ..
    } = DpopWorld::start().await;

    let key = DpopKey::generate().expect("a key");
    let thumbprint = key.thumbprint().to_owned();
    let exchanges = Arc::new(Mutex::new(Vec::new()));
    let grant = ClientCredentials::client_secret(
        provider.announced("clientId"),
        provider.announced("clientSecret"),
    );
    let config = OAuthConfig::headless("mcpwire dpop agent", grant).dpop(key);
    let client = connect_recorded(&server.resource, config, &exchanges).await;
    let token = whoami(&client).await;
    assert_eq!(token["issuer"], issuer.as_str());
    assert_eq!(token["audiences"], json!([server.resource]));
    assert_eq!(token["scopes"], json!([SCOPE]));
    assert_eq!(token["boundTo"], thumbprint.as_str(), "{token}");
    client.close().await;

    let exchanges = exchanges.lock().unwrap().clone();
    let resource = &server.resource;
    // Refused without a token (the refusal hands out the server's nonce); discovery; the
    // token request (with the client's Basic credentials) refused for want of the
    // authorization server's nonce, then granted with it; the MCP request, with a proof
    // carrying the server's nonce, answered at once.
    let expected_start = [
        format!("POST {resource} 401"),
        format!(
            "GET {}/.well-known/oauth-protected-resource/mcp 200",
            origin_of(resource)
        ),
        format!("GET {issuer}/.well-known/oauth-authorization-server 404"),
        format!("GET {issuer}/.well-known/openid-configuration 200"),
        format!("POST {issuer}/token 400 with a token"),
        format!("POST {issuer}/token 200 with a token"),
        format!("POST {resource} 200 with a token"),
    ];
    assert!(exchanges.starts_with(&expected_start), "{exchanges:#?}");
    server.stop().await;
}

/// Our DPoP resource server refuses each misuse of a real DPoP-bound token (issued by
/// `oidc-provider` to a key of the test) with a `401` and the challenge that names it: a
/// replayed proof, a proof for another URI or method, a stale proof, a proof by another key,
/// the bound token sent as `Bearer`, and a proof without the server's nonce.
#[tokio::test]
async fn our_dpop_server_refuses_misused_proofs_of_real_bound_tokens() {
    let DpopWorld {
        provider,
        server,
        nonce,
        ..
    } = DpopWorld::start().await;
    let resource = server.resource.clone();
    let http = FetchPolicy::default()
        .allow_loopback_http(true)
        .guarded_service()
        .expect("a guarded stack");

    let key = DpopKey::generate().expect("a key");
    let token = bound_token(&http, &provider, &key, &resource).await;
    let proof = |key: &DpopKey, claims: ProofClaims| key.sign(&claims).expect("a proof");
    let claims = || {
        ProofClaims::new("POST", &resource)
            .access_token(&token)
            .nonce(&nonce)
    };
    let scheme = format!("DPoP {}", token.expose());

    let good = proof(&key, claims());
    let (status, _) = post_mcp(&http, &resource, &scheme, Some(&good)).await;
    assert_eq!(status, 200, "a fresh proof of the bound key is accepted");

    let cases = [
        (
            "a replayed proof",
            scheme.clone(),
            Some(good.clone()),
            "invalid_dpop_proof",
        ),
        (
            "a proof for another URI",
            scheme.clone(),
            Some(proof(
                &key,
                ProofClaims::new("POST", format!("{}/other", origin_of(&resource)))
                    .access_token(&token)
                    .nonce(&nonce),
            )),
            "invalid_dpop_proof",
        ),
        (
            "a proof for another method",
            scheme.clone(),
            Some(proof(
                &key,
                ProofClaims::new("GET", &resource)
                    .access_token(&token)
                    .nonce(&nonce),
            )),
            "invalid_dpop_proof",
        ),
        (
            "a stale proof",
            scheme.clone(),
            Some(proof(&key, claims().issued_at(unix_now() - 600))),
            "invalid_dpop_proof",
        ),
        (
            "a proof by another key",
            scheme.clone(),
            Some(proof(&DpopKey::generate().expect("a key"), claims())),
            "invalid_dpop_proof",
        ),
        (
            "the bound token sent as Bearer",
            format!("Bearer {}", token.expose()),
            None,
            "invalid_token",
        ),
        (
            "a proof without the nonce",
            scheme.clone(),
            Some(proof(
                &key,
                ProofClaims::new("POST", &resource).access_token(&token),
            )),
            "use_dpop_nonce",
        ),
    ];
    for (what, authorization, dpop, error) in cases {
        let (status, headers) = post_mcp(&http, &resource, &authorization, dpop.as_deref()).await;
        assert_eq!(status, 401, "{what}");
        let challenges: Vec<&str> = headers
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .map(|value| value.to_str().unwrap())
            .collect();
        assert!(
            challenges
                .iter()
                .any(|challenge| challenge.contains(&format!("error=\"{error}\""))),
            "{what}: {challenges:?}"
        );
        assert!(
            challenges
                .iter()
                .any(|challenge| challenge.starts_with("DPoP algs=")),
            "{what}: {challenges:?}"
        );
        // Every answer hands out the server's current nonce.
        assert_eq!(
            headers
                .get("dpop-nonce")
                .and_then(|value| value.to_str().ok()),
            Some(nonce.as_str()),
            "{what}"
        );
    }
    server.stop().await;
}

/// The DPoP tests' world: `oidc-provider` issuing DPoP-bound tokens, and our server protected
/// with a `DpopVerifier` issuing nonces (the current one is `nonce`).
struct DpopWorld {
    provider: NodeProcess,
    issuer: String,
    server: OurProtectedServer,
    nonce: String,
}

impl DpopWorld {
    async fn start() -> DpopWorld {
        let peers = peers().await;
        let provider = NodeProcess::start(&peers.scripts, "dpop_auth_server.mjs", &[]).await;
        let issuer = provider.announced("issuer");
        let verifier = DpopVerifier::builder()
            .nonces(Duration::from_secs(300))
            .build();
        let nonce = verifier.current_nonce().expect("nonces are on");
        let server = OurProtectedServer::start_with(&issuer, Some(verifier)).await;
        DpopWorld {
            provider,
            issuer,
            server,
            nonce,
        }
    }
}

/// A DPoP-bound access token for `resource` from the `oidc-provider` of `provider`, bound to
/// `key`: the client credentials grant with a proof, again with the nonce it asks for.
async fn bound_token(
    http: &HttpClientService,
    provider: &NodeProcess,
    key: &DpopKey,
    resource: &str,
) -> Secret {
    use base64::Engine as _;

    let endpoint = provider.announced("tokenEndpoint");
    let pair = format!(
        "{}:{}",
        provider.announced("clientId"),
        provider.announced("clientSecret")
    );
    let credentials = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    );
    let form = format!(
        "grant_type=client_credentials&scope=mcp%3Atools&resource={}",
        url::form_urlencoded::byte_serialize(resource.as_bytes()).collect::<String>()
    );
    let mut nonce = None;
    for _ in 0..2 {
        let mut claims = ProofClaims::new("POST", &endpoint);
        if let Some(nonce) = &nonce {
            claims = claims.nonce(nonce);
        }
        let request = Request::post(&endpoint)
            .header("authorization", &credentials)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("dpop", key.sign(&claims).expect("a proof"))
            .body(http_body_util::Full::new(bytes::Bytes::from(form.clone())))
            .unwrap();
        let response = tower::ServiceExt::oneshot(http.clone(), request)
            .await
            .expect("the token endpoint answers");
        let status = response.status();
        let fresh = response
            .headers()
            .get("dpop-nonce")
            .map(|value| value.to_str().unwrap().to_owned());
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .expect("a body")
            .to_bytes();
        let body: Value = serde_json::from_slice(&body).expect("JSON");
        if status == 200 {
            assert_eq!(body["token_type"], "DPoP", "{body}");
            return Secret::new(body["access_token"].as_str().expect("a token"));
        }
        assert_eq!(body["error"], "use_dpop_nonce", "{body}");
        nonce = fresh;
    }
    panic!("no token after the nonce");
}

/// `POST resource` with an `initialize` request, `authorization` and the proof `dpop`: the
/// status and headers of the answer.
async fn post_mcp(
    http: &HttpClientService,
    resource: &str,
    authorization: &str,
    dpop: Option<&str>,
) -> (u16, http::HeaderMap) {
    let initialize = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "dpop-probe", "version": "1.0.0"},
        },
    });
    let mut request = Request::post(resource)
        .header("authorization", authorization)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if let Some(dpop) = dpop {
        request = request.header("dpop", dpop);
    }
    let request = request
        .body(http_body_util::Full::new(bytes::Bytes::from(
            initialize.to_string(),
        )))
        .unwrap();
    let response = tower::ServiceExt::oneshot(http.clone(), request)
        .await
        .expect("the server answers");
    (response.status().as_u16(), response.headers().clone())
}

/// Seconds since the epoch, now.
fn unix_now() -> i64 {
    let elapsed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(elapsed.as_secs()).expect("in range")
}

/// Our client, authorizing with `config` through `AuthLayer`, connected to `url`. The same
/// recording (into `exchanges`) is on the transport's stack, below the authorization layer, and
/// on the guarded stack of the layer's own requests (metadata, authorization, token), so that
/// they are all recorded, in order.
async fn connect_recorded(
    url: &str,
    config: OAuthConfig,
    exchanges: &Arc<Mutex<Vec<String>>>,
) -> mcpwire_client::Client {
    let policy = FetchPolicy::default().allow_loopback_http(true);
    let recording = recording_layer(Arc::clone(exchanges));
    let own_requests = policy.guarded_service().expect("a guarded stack");
    let config = config
        .http_service(tower::Layer::layer(&recording, own_requests))
        .fetch_policy(policy);
    let transport = HttpClientBuilder::new(url)
        .layer(AuthLayer::new(config))
        .layer(recording)
        .streamable()
        .expect("a valid configuration");
    tokio::time::timeout(
        CALL_TIMEOUT,
        mcpwire_client::Client::builder("mcpwire-interop", env!("CARGO_PKG_VERSION"))
            .connect(transport),
    )
    .await
    .expect("connects in time")
    .unwrap_or_else(|error| panic!("connect: {error:?}\n{:#?}", exchanges.lock().unwrap()))
}

/// What the server's `whoami` says of the access token `client` presents.
async fn whoami(client: &mcpwire_client::Client) -> Value {
    let whoami = tokio::time::timeout(CALL_TIMEOUT, client.call_tool("whoami", json!({})))
        .await
        .expect("whoami answers in time")
        .expect("whoami succeeds");
    let whoami = serde_json::to_value(&whoami).unwrap();
    serde_json::from_str(whoami["content"][0]["text"].as_str().unwrap())
        .expect("whoami answers JSON")
}

/// The origin of an endpoint's URL, where its well-known metadata is.
fn origin_of(url: &str) -> String {
    url::Url::parse(url)
        .expect("a URL")
        .origin()
        .ascii_serialization()
}

/// `METHOD URL [rpc method] STATUS [with a token]`, for an exchange the SDK's client recorded.
fn describe_exchange(exchange: &Value) -> String {
    let mut words = vec![
        exchange["method"].as_str().unwrap_or("?").to_owned(),
        exchange["url"].as_str().unwrap_or("?").to_owned(),
    ];
    if let Some(rpc) = exchange["rpc"].as_str() {
        words.push(rpc.to_owned());
    }
    words.push(exchange["status"].to_string());
    if exchange["authorization"] == true {
        words.push("with a token".to_owned());
    }
    words.join(" ")
}

/// A layer of the client's HTTP stack that records `METHOD URL STATUS [with a token]`, the
/// URL without its query, for each exchange.
fn recording_layer(
    exchanges: Arc<Mutex<Vec<String>>>,
) -> impl tower::Layer<HttpClientService, Service = HttpClientService> + Clone {
    tower::layer::layer_fn(move |inner: HttpClientService| {
        let exchanges = Arc::clone(&exchanges);
        BoxCloneSyncService::new(tower::service_fn(move |request: Request<RequestBody>| {
            let mut url = url::Url::parse(&request.uri().to_string()).expect("absolute URIs");
            url.set_query(None);
            let mut description = format!("{} {url}", request.method());
            let with_token = request.headers().contains_key(http::header::AUTHORIZATION);
            let exchanges = Arc::clone(&exchanges);
            let response = tower::ServiceExt::oneshot(inner.clone(), request);
            async move {
                let response: Response<ResponseBody> = response.await?;
                description.push_str(&format!(" {}", response.status().as_u16()));
                if with_token {
                    description.push_str(" with a token");
                }
                exchanges.lock().unwrap().push(description);
                Ok(response)
            }
        }))
    })
}

/// Our MCP server, protected by `BearerAuthLayer` and `JwtVerifier` against `issuer`, served
/// by its own HTTP server on a loopback port. Its tools are those of the SDK servers: `echo
/// {text}`, and `whoami`, which answers with the request's `Principal` as JSON text.
struct OurProtectedServer {
    resource: String,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<Result<(), mcpwire_http::server::Error>>,
}

impl OurProtectedServer {
    async fn start(issuer: &str) -> OurProtectedServer {
        OurProtectedServer::start_with(issuer, None).await
    }

    /// Our protected server, taking DPoP-bound tokens checked by `dpop` when given.
    async fn start_with(issuer: &str, dpop: Option<DpopVerifier>) -> OurProtectedServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let resource = format!("http://127.0.0.1:{}/mcp", address.port());
        let server = Server::builder("mcpwire-protected", env!("CARGO_PKG_VERSION"))
            .tool(
                Tool::typed("echo", |arguments: Echo| async move {
                    Ok::<_, ToolError>(arguments.text)
                })
                .description("Echoes `text`."),
            )
            .tool(
                Tool::typed(
                    "whoami",
                    |_: Map<String, Value>, context: Context| async move {
                        let extensions = context.http_extensions().ok_or("not over HTTP")?;
                        let principal = extensions.get::<Principal>().ok_or("no principal")?;
                        let expires_in = principal
                            .expires_at
                            .and_then(|expiry| expiry.duration_since(SystemTime::now()).ok());
                        let described = json!({
                            "issuer": principal.issuer,
                            "audiences": principal.audiences,
                            "scopes": principal.scopes,
                            "clientId": principal.client_id,
                            "subject": principal.subject,
                            "expiresIn": expires_in.map(|left| left.as_secs()),
                            "boundTo": principal.confirmation_thumbprint(),
                        });
                        Ok::<_, ToolError>(described.to_string())
                    },
                )
                .description("What the server knows of the request's access token."),
            )
            .build()
            .expect("a valid server");
        let verifier = JwtVerifier::builder(issuer, format!("{issuer}/jwks"), &resource)
            .fetch_policy(FetchPolicy::default().allow_loopback_http(true))
            .build()
            .expect("a valid verifier");
        let mut protected = ProtectedResource::new(&resource, [issuer])
            .scopes_supported([SCOPE])
            .required_scopes([SCOPE]);
        if let Some(dpop) = dpop {
            protected = protected.dpop(dpop);
        }
        let auth = BearerAuthLayer::new(protected, verifier).expect("a valid resource");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(async move {
            server
                .serve_http(listener)
                .layer(auth)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        OurProtectedServer {
            resource,
            stop,
            serving,
        }
    }

    /// Stops serving, and waits for the server to end.
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(STOP_TIMEOUT, self.serving)
            .await
            .expect("the server stops in time")
            .expect("the server task does not panic")
            .expect("the server ends without an error");
    }
}

/// A node script that announces itself with one JSON line on stdout, stopped by its process
/// id when dropped; its stderr is shown when the test fails.
struct NodeProcess {
    child: Child,
    announcement: Value,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl NodeProcess {
    async fn start(scripts: &Path, script: &str, arguments: &[&str]) -> NodeProcess {
        let mut child = Command::new("node")
            .arg(scripts.join(script))
            .args(arguments)
            .current_dir(scripts)
            // The scripts stop when their standard input closes, as it does if the test dies.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("starting node {script}: {error}"));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&stderr);
        let mut errors = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        // Drained so that the script never blocks on a full pipe; the stream ends with it.
        tokio::spawn(async move {
            while let Ok(Some(line)) = errors.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let read = tokio::time::timeout(START_TIMEOUT, stdout.read_line(&mut line))
            .await
            .unwrap_or_else(|_| panic!("{script} announces itself within {START_TIMEOUT:?}"))
            .expect("its stdout reads");
        let announcement: Value = serde_json::from_str(&line).unwrap_or_else(|_| {
            panic!(
                "{script} announces itself with a JSON line, not {line:?} ({read} bytes); stderr:\n{}",
                stderr.lock().unwrap().join("\n")
            )
        });
        assert_eq!(
            announcement["pid"],
            child.id().expect("it runs"),
            "{script} is the process started"
        );
        NodeProcess {
            child,
            announcement,
            stderr,
        }
    }

    /// A string field of the announcement.
    fn announced(&self, field: &str) -> String {
        self.announcement[field]
            .as_str()
            .unwrap_or_else(|| panic!("the announcement {} has `{field}`", self.announcement))
            .to_owned()
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        // `start_kill` signals this child's own process id.
        let _ = self.child.start_kill();
        if std::thread::panicking() {
            let lines = self
                .stderr
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            eprintln!("stderr of node:\n{}", lines.join("\n"));
        }
    }
}
