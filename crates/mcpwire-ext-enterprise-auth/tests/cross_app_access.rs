//! Enterprise-managed authorization end to end, on loopback: an mcpwire client with
//! `EnterpriseManagedAuthorization` in `mcpwire-auth`'s layer, an mcpwire server behind
//! `mcpwire-auth`'s `BearerAuthLayer`, and, in this process, the enterprise identity
//! provider (its token exchange) and the MCP server's authorization server (its JWT bearer
//! grant and its introspection endpoint, which the server's `IntrospectionVerifier` asks).
//!
//! The identity provider signs its identity assertion grants with a key it shares with the
//! authorization server (HS256, for brevity), and the authorization server checks each one
//! as the extension says (signature, `typ`, `iss`, `aud`, `exp`, `client_id` against the
//! client's authentication, `resource` against the request's), so a grant the client ought
//! to have refused would be caught there too: the refusal tests count the requests that
//! reached the authorization server, which must be none.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::Full;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use mcpwire_auth::client::{AuthLayer, FetchPolicy, OAuthConfig, Secret};
use mcpwire_auth::server::{BearerAuthLayer, IntrospectionVerifier, Principal, ProtectedResource};
use mcpwire_client::Client;
use mcpwire_ext_enterprise_auth::{
    EnterpriseManagedAuthorization, ID_JAG_TOKEN_TYPE, IdentityProvider, JWT_BEARER_GRANT_TYPE,
    TOKEN_EXCHANGE_GRANT_TYPE,
};
use mcpwire_http::client::{BoxError, HttpClientBuilder};
use mcpwire_http::server::Config;
use mcpwire_server::{Context, Server, Tool, ToolError};
use serde_json::{Map, Value, json};
use tower::{Layer as _, ServiceExt as _};

/// The application's registration at the identity provider.
const IDP_CLIENT_ID: &str = "chat-app";
const IDP_CLIENT_SECRET: &str = "idp-s3cret";
/// The application's registration at the MCP server's authorization server.
const CLIENT_ID: &str = "chat-client";
const CLIENT_SECRET: &str = "as-s3cret";
/// The MCP server's registration at the authorization server, for introspection.
const RESOURCE_SERVER_ID: &str = "calendar-server";
const RESOURCE_SERVER_SECRET: &str = "rs-s3cret";
/// The ID token the identity provider issued when Alice signed in to the application.
const ALICES_ID_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.YWxpY2Utc2lnbmF0dXJl";
/// The key the identity provider signs its grants with, and the authorization server checks.
const GRANT_KEY: &[u8] = b"the identity provider and the authorization server share this key";
const SCOPE: &str = "calendar.read";

/// A change the identity provider makes to the grant it issues, named for the check of the
/// client it breaks.
type Tamper = fn(&mut Header, &mut Value);

/// One request that reached the identity provider's or the authorization server's token
/// endpoint: its form and `Authorization` header.
#[derive(Clone, Debug)]
struct Seen {
    form: HashMap<String, String>,
    authorization: Option<String>,
}

/// The state of the identity provider and the authorization server.
struct World {
    idp: String,
    issuer: String,
    resource: String,
    exchanges: Vec<Seen>,
    grants: Vec<Seen>,
    /// The grants the identity provider issued, to check that no error shows one.
    issued_grants: Vec<String>,
    tamper: Option<Tamper>,
    /// Whether the authorization server lists the JWT bearer grant among its grant types.
    offers_jwt_bearer: bool,
    /// The access tokens the authorization server issued, with their introspection answers.
    access_tokens: HashMap<String, Value>,
}

type Shared = Arc<Mutex<World>>;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn seen(headers: &HeaderMap, body: &str) -> Seen {
    Seen {
        form: url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect(),
        authorization: headers
            .get(header::AUTHORIZATION)
            .map(|value| value.to_str().unwrap().to_owned()),
    }
}

fn basic(client_id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{client_id}:{secret}")))
}

type Answer = (StatusCode, [(header::HeaderName, &'static str); 1], String);

fn answer(status: StatusCode, body: &Value) -> Answer {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
}

fn oauth_error(status: StatusCode, error: &str) -> Answer {
    answer(status, &json!({"error": error}))
}

/// The metadata of the server `issuer` (the identity provider or the authorization server),
/// which takes `client_secret_basic` and offers `grant_types`.
fn metadata(issuer: &str, grant_types: &[&str]) -> Answer {
    answer(
        StatusCode::OK,
        &json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "introspection_endpoint": format!("{issuer}/introspect"),
            "grant_types_supported": grant_types,
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }),
    )
}

async fn idp_metadata(State(world): State<Shared>) -> Answer {
    let idp = world.lock().unwrap().idp.clone();
    metadata(&idp, &["authorization_code", TOKEN_EXCHANGE_GRANT_TYPE])
}

/// The token exchange: Alice's ID token, from the application, for a grant to the
/// enterprise's authorization server.
async fn idp_token(State(world): State<Shared>, headers: HeaderMap, body: String) -> Answer {
    let request = seen(&headers, &body);
    let mut world = world.lock().unwrap();
    world.exchanges.push(request.clone());
    let form = &request.form;
    if request.authorization != Some(basic(IDP_CLIENT_ID, IDP_CLIENT_SECRET)) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let well_formed = form.get("grant_type").map(String::as_str) == Some(TOKEN_EXCHANGE_GRANT_TYPE)
        && form.get("requested_token_type").map(String::as_str) == Some(ID_JAG_TOKEN_TYPE)
        && form.get("subject_token_type").map(String::as_str)
            == Some("urn:ietf:params:oauth:token-type:id_token");
    if !well_formed {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    if form.get("subject_token").map(String::as_str) != Some(ALICES_ID_TOKEN) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    // The enterprise's policy: this application, this authorization server and resource.
    if form.get("audience") != Some(&world.issuer) || form.get("resource") != Some(&world.resource)
    {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_target");
    }
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("oauth-id-jag+jwt".to_owned());
    let mut claims = json!({
        "iss": world.idp,
        "sub": "alice@acme.example",
        "aud": world.issuer,
        "resource": world.resource,
        // The client's id at the authorization server, which the enterprise told the IdP.
        "client_id": CLIENT_ID,
        "jti": format!("grant-{}", world.issued_grants.len()),
        "iat": now(),
        "exp": now() + 300,
        "scope": form.get("scope"),
    });
    if let Some(tamper) = world.tamper {
        tamper(&mut header, &mut claims);
    }
    let grant = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(GRANT_KEY).unwrap(),
    )
    .unwrap();
    world.issued_grants.push(grant.clone());
    answer(
        StatusCode::OK,
        &json!({
            "access_token": grant,
            "issued_token_type": ID_JAG_TOKEN_TYPE,
            "token_type": "N_A",
            "expires_in": 300,
        }),
    )
}

async fn as_metadata(State(world): State<Shared>) -> Answer {
    let world = world.lock().unwrap();
    if world.offers_jwt_bearer {
        metadata(&world.issuer, &[JWT_BEARER_GRANT_TYPE])
    } else {
        metadata(&world.issuer, &["authorization_code"])
    }
}

/// The JWT bearer grant, checked as the extension's processing rules say.
async fn as_token(State(world): State<Shared>, headers: HeaderMap, body: String) -> Answer {
    let request = seen(&headers, &body);
    let mut world = world.lock().unwrap();
    world.grants.push(request.clone());
    let form = &request.form;
    if request.authorization != Some(basic(CLIENT_ID, CLIENT_SECRET)) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if form.get("grant_type").map(String::as_str) != Some(JWT_BEARER_GRANT_TYPE) {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let assertion = form.get("assertion").cloned().unwrap_or_default();
    let typ = jsonwebtoken::decode_header(&assertion)
        .ok()
        .and_then(|header| header.typ);
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[&world.issuer]);
    validation.set_issuer(&[&world.idp]);
    let Ok(grant) = jsonwebtoken::decode::<Value>(
        &assertion,
        &DecodingKey::from_secret(GRANT_KEY).unwrap(),
        &validation,
    ) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let claims = grant.claims;
    if typ.as_deref() != Some("oauth-id-jag+jwt")
        || claims["client_id"] != CLIENT_ID
        || form.get("resource") != Some(&world.resource)
        || claims["resource"] != world.resource.as_str()
    {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let token = format!("access-{}", world.access_tokens.len());
    let introspection = json!({
        "active": true,
        "iss": world.issuer,
        "sub": claims["sub"],
        "client_id": CLIENT_ID,
        "aud": world.resource,
        "scope": form.get("scope"),
        "exp": now() + 3600,
        "token_type": "Bearer",
    });
    world.access_tokens.insert(token.clone(), introspection);
    answer(
        StatusCode::OK,
        &json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": form.get("scope")}),
    )
}

async fn as_introspect(State(world): State<Shared>, headers: HeaderMap, body: String) -> Answer {
    let request = seen(&headers, &body);
    if request.authorization != Some(basic(RESOURCE_SERVER_ID, RESOURCE_SERVER_SECRET)) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let world = world.lock().unwrap();
    let known = request
        .form
        .get("token")
        .and_then(|token| world.access_tokens.get(token));
    answer(StatusCode::OK, known.unwrap_or(&json!({"active": false})))
}

/// The servers, each on a loopback port of its own, and the world they share.
struct Servers {
    world: Shared,
    resource: String,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Servers {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn listen() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    (listener, origin)
}

async fn start() -> Servers {
    let (idp_listener, idp) = listen().await;
    let (as_listener, issuer) = listen().await;
    let (mcp_listener, mcp_origin) = listen().await;
    let resource = format!("{mcp_origin}/mcp");
    let world = Arc::new(Mutex::new(World {
        idp,
        issuer: issuer.clone(),
        resource: resource.clone(),
        exchanges: Vec::new(),
        grants: Vec::new(),
        issued_grants: Vec::new(),
        tamper: None,
        offers_jwt_bearer: true,
        access_tokens: HashMap::new(),
    }));
    let idp_app = axum::Router::new()
        .route("/.well-known/openid-configuration", get(idp_metadata))
        .route("/token", post(idp_token))
        .with_state(world.clone());
    let as_app = axum::Router::new()
        .route("/.well-known/oauth-authorization-server", get(as_metadata))
        .route("/token", post(as_token))
        .route("/introspect", post(as_introspect))
        .with_state(world.clone());

    // The MCP server: its tool says whose token reached it.
    let whoami = |_: Map<String, Value>, context: Context| async move {
        let extensions = context.http_extensions().expect("served over HTTP");
        let principal = extensions.get::<Principal>().expect("a verified principal");
        Ok::<_, ToolError>(format!(
            "{} with {} via {}",
            principal.subject.as_deref().unwrap_or("nobody"),
            principal.scopes.join(" "),
            principal.client_id.as_deref().unwrap_or("no client"),
        ))
    };
    let mcp = Server::builder("calendar", "1.0.0")
        .tool(Tool::typed("whoami", whoami))
        .build()
        .unwrap()
        .http_service(Config::default());
    let verifier = IntrospectionVerifier::builder(format!("{issuer}/introspect"), &resource)
        .issuer(&issuer)
        .client_secret_basic(RESOURCE_SERVER_ID, RESOURCE_SERVER_SECRET)
        .fetch_policy(FetchPolicy::default().allow_loopback_http(true))
        .build()
        .unwrap();
    let auth = BearerAuthLayer::new(
        ProtectedResource::new(&resource, [&issuer])
            .scopes_supported([SCOPE])
            .required_scopes([SCOPE]),
        verifier,
    )
    .unwrap();
    let mcp_app = axum::Router::new().route_service("/mcp", auth.layer(mcp));
    let mcp_app = auth.metadata_paths().iter().fold(mcp_app, |app, path| {
        app.route_service(path, auth.metadata_service())
    });
    let serve = |listener, app: axum::Router| {
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        })
    };
    let tasks = vec![
        serve(idp_listener, idp_app),
        serve(as_listener, as_app),
        serve(mcp_listener, mcp_app),
    ];
    Servers {
        world,
        resource,
        tasks,
    }
}

impl Servers {
    fn identity_provider(&self) -> IdentityProvider {
        let idp = self.world.lock().unwrap().idp.clone();
        IdentityProvider::issuer(idp, IDP_CLIENT_ID).client_secret(IDP_CLIENT_SECRET)
    }

    async fn connect(
        &self,
        grant: EnterpriseManagedAuthorization,
    ) -> Result<Client, mcpwire_client::Error> {
        let loopback = FetchPolicy::default().allow_loopback_http(true);
        let config = OAuthConfig::headless("chat-app", grant).fetch_policy(loopback);
        let transport = HttpClientBuilder::new(&self.resource)
            .layer(AuthLayer::new(config))
            .streamable()
            .unwrap();
        Client::builder("chat-app", "1.0.0")
            .connect(transport)
            .await
    }

    /// Sends an `initialize` request through the layer with `grant`, over the guarded HTTP
    /// stack, and returns the status, or the layer's error as it is (the client would turn
    /// it into text).
    async fn post(&self, grant: EnterpriseManagedAuthorization) -> Result<StatusCode, BoxError> {
        let loopback = FetchPolicy::default().allow_loopback_http(true);
        let http = loopback.guarded_service().unwrap();
        let config = OAuthConfig::headless("chat-app", grant).fetch_policy(loopback);
        let initialize = json!({
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "chat-app", "version": "1.0.0"},
            },
        });
        let request = http::Request::post(&self.resource)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json, text/event-stream")
            .body(Full::new(Bytes::from(initialize.to_string())))
            .unwrap();
        let response = AuthLayer::new(config).layer(http).oneshot(request).await?;
        Ok(response.status())
    }

    fn counts(&self) -> (usize, usize) {
        let world = self.world.lock().unwrap();
        (world.exchanges.len(), world.grants.len())
    }
}

/// The grant with Alice's ID token.
fn alices_grant(servers: &Servers) -> EnterpriseManagedAuthorization {
    EnterpriseManagedAuthorization::new(
        servers.identity_provider(),
        Secret::new(ALICES_ID_TOKEN),
        CLIENT_ID,
    )
    .client_secret(CLIENT_SECRET)
}

/// The errors of `error`'s source chain, itself first.
fn chain<'a>(error: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |&error| error.source()).collect()
}

/// The first error of type `E` in the chain of `error`.
fn find<'a, E: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    chain(error)
        .into_iter()
        .find_map(|error| error.downcast_ref::<E>())
}

/// Fails when the text or `Debug` output of any error of the chain shows a secret.
fn assert_shows_no_secret(error: &(dyn StdError + 'static), servers: &Servers) {
    let mut secrets = vec![
        ALICES_ID_TOKEN.to_owned(),
        IDP_CLIENT_SECRET.to_owned(),
        CLIENT_SECRET.to_owned(),
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}")),
        STANDARD.encode(format!("{IDP_CLIENT_ID}:{IDP_CLIENT_SECRET}")),
    ];
    secrets.extend(servers.world.lock().unwrap().issued_grants.iter().cloned());
    for error in chain(error) {
        let shown = format!("{error} {error:?}");
        for secret in &secrets {
            assert!(!shown.contains(secret.as_str()), "a secret in `{shown}`");
        }
    }
}

#[tokio::test]
async fn alices_id_token_becomes_an_access_token_for_the_mcp_server() {
    let servers = start().await;
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    let source = move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async { Ok::<_, std::io::Error>(Secret::new(ALICES_ID_TOKEN)) }
    };
    let grant = EnterpriseManagedAuthorization::new(servers.identity_provider(), source, CLIENT_ID)
        .client_secret(CLIENT_SECRET);
    let client = servers.connect(grant).await.unwrap();
    let result = client.call_tool("whoami", json!({})).await.unwrap();
    assert_eq!(
        result.text(),
        format!("alice@acme.example with {SCOPE} via {CLIENT_ID}")
    );
    client.close().await;

    let world = servers.world.lock().unwrap();
    // One exchange and one grant: the access token served every request after the first.
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    let [exchange] = world.exchanges.as_slice() else {
        panic!("{:?}", world.exchanges);
    };
    let mut names: Vec<&str> = exchange.form.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "audience",
            "grant_type",
            "requested_token_type",
            "resource",
            "scope",
            "subject_token",
            "subject_token_type"
        ]
    );
    assert_eq!(exchange.form["audience"], world.issuer);
    assert_eq!(exchange.form["resource"], world.resource);
    assert_eq!(exchange.form["scope"], SCOPE);
    let [grant] = world.grants.as_slice() else {
        panic!("{:?}", world.grants);
    };
    let mut names: Vec<&str> = grant.form.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["assertion", "grant_type", "resource", "scope"]);
    assert_eq!(grant.form["assertion"], world.issued_grants[0]);
    assert_eq!(grant.form["scope"], SCOPE);
}

#[tokio::test]
async fn a_grant_for_another_server_resource_or_client_or_expired_is_not_presented() {
    let servers = start().await;
    let cases: [(&str, Tamper); 6] = [
        ("wrong aud", |_, claims| {
            claims["aud"] = json!("https://evil.example")
        }),
        ("wrong resource", |_, claims| {
            claims["resource"] = json!("https://other.example/mcp");
        }),
        ("wrong client_id", |_, claims| {
            claims["client_id"] = json!("another-client")
        }),
        ("wrong typ", |header, _| header.typ = Some("JWT".to_owned())),
        ("no typ", |header, _| header.typ = None),
        ("expired", |_, claims| claims["exp"] = json!(now() - 60)),
    ];
    for (what, tamper) in cases {
        servers.world.lock().unwrap().tamper = Some(tamper);
        let (exchanges, grants) = servers.counts();
        let error = servers.post(alices_grant(&servers)).await.unwrap_err();
        let refusal = find::<mcpwire_ext_enterprise_auth::Error>(&*error)
            .unwrap_or_else(|| panic!("{what}: {error:?}"));
        assert!(refusal.is_id_jag(), "{what}: {refusal}");
        // The identity provider issued it; the authorization server never saw it.
        assert_eq!(servers.counts(), (exchanges + 1, grants), "{what}");
        assert_shows_no_secret(&*error, &servers);
    }
}

#[tokio::test]
async fn a_refusal_of_the_identity_provider_fails_the_connection_without_a_grant() {
    let servers = start().await;
    let stale = EnterpriseManagedAuthorization::new(
        servers.identity_provider(),
        Secret::new("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib2IifQ.c3RhbGU"),
        CLIENT_ID,
    )
    .client_secret(CLIENT_SECRET);
    let error = servers.post(stale).await.unwrap_err();
    let refusal = find::<mcpwire_auth::Error>(&*error).unwrap_or_else(|| panic!("{error:?}"));
    assert!(refusal.is_token(), "{refusal}");
    assert!(refusal.to_string().contains("invalid_grant"), "{refusal}");
    assert_eq!(servers.counts(), (1, 0));
    assert_shows_no_secret(&*error, &servers);
}

#[tokio::test]
async fn an_authorization_server_without_the_jwt_bearer_grant_gets_nothing() {
    let servers = start().await;
    servers.world.lock().unwrap().offers_jwt_bearer = false;
    let error = servers.post(alices_grant(&servers)).await.unwrap_err();
    let refusal =
        find::<mcpwire_ext_enterprise_auth::Error>(&*error).unwrap_or_else(|| panic!("{error:?}"));
    assert!(refusal.is_server(), "{refusal}");
    assert_shows_no_secret(&*error, &servers);
    // Through the client, the connection fails as a transport failure, with the grant's
    // refusal among its sources.
    let error = servers.connect(alices_grant(&servers)).await.unwrap_err();
    assert!(error.is_transport(), "{error:?}");
    let refusal =
        find::<mcpwire_ext_enterprise_auth::Error>(&error).unwrap_or_else(|| panic!("{error:?}"));
    assert!(
        refusal
            .to_string()
            .contains("does not offer the JWT bearer grant"),
        "{refusal}"
    );
    assert_shows_no_secret(&error, &servers);
    // Not even the identity provider saw Alice's ID token.
    assert_eq!(servers.counts(), (0, 0));
}
