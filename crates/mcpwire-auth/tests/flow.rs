//! The OAuth client end to end, against an in-process MCP server and authorization server
//! that the layer reaches through a mock HTTP stack (no sockets, given to the layer with
//! `OAuthConfig::http_service` for its own requests): what each request carried, and what
//! the layer refuses.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use mcpwire_auth::client::{
    AuthLayer, FetchPolicy, GrantFuture, GrantRequest, HeadlessUserAgent, IssuedToken, OAuthConfig,
    PreRegistered, TokenGrant, TokenRequest,
};
use mcpwire_http::client::{BoxError, HttpClientService, RequestBody, ResponseBody};
use serde_json::{Value, json};
use sha2::Digest as _;
use support::Log;
use tower::util::BoxCloneSyncService;
use tower::{Layer as _, ServiceExt as _};

const SERVER: &str = "https://mcp.example.com/mcp";
const ISSUER: &str = "https://as.example.com";
const REDIRECT: &str = "http://127.0.0.1:8765/callback";

/// One request the mock saw: method, URL, `Authorization`, and its form or JSON body.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    url: String,
    authorization: Option<String>,
    body: String,
}

impl Seen {
    fn form(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }

    fn query(&self) -> HashMap<String, String> {
        url::Url::parse(&self.url)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    }
}

/// What the mock servers do; tests change it between requests.
struct World {
    seen: Vec<Seen>,
    /// The Protected Resource Metadata, served at the path-inserted well-known URL.
    resource: Value,
    /// The authorization server metadata, served at the RFC 8414 well-known URL.
    server: Value,
    /// The MCP server's answer to a request with this bearer: status and challenge.
    mcp: McpAnswer,
    /// The token endpoint's answers, in turn; then `{"error":"invalid_grant"}`.
    tokens: Vec<(StatusCode, Value)>,
    /// The `iss` the authorization endpoint adds to its redirect.
    iss: Option<String>,
}

type Shared = Arc<Mutex<World>>;

/// The MCP server's status and `WWW-Authenticate` for a request's `Authorization`.
type McpAnswer = Box<dyn Fn(Option<&str>) -> (StatusCode, Option<String>) + Send>;

/// A change to the world, named for the check it breaks.
type Change = (&'static str, fn(&mut World));

fn world() -> Shared {
    Arc::new(Mutex::new(World {
        seen: Vec::new(),
        resource: json!({"resource": SERVER, "authorization_servers": [ISSUER]}),
        server: json!({
            "issuer": ISSUER,
            "authorization_endpoint": format!("{ISSUER}/authorize"),
            "token_endpoint": format!("{ISSUER}/token"),
            "registration_endpoint": format!("{ISSUER}/register"),
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "authorization_response_iss_parameter_supported": true,
        }),
        mcp: Box::new(|bearer| match bearer {
            Some("Bearer token-1") | Some("Bearer token-2") => (StatusCode::OK, None),
            _ => (
                StatusCode::UNAUTHORIZED,
                Some(r#"Bearer scope="mcp:basic""#.to_owned()),
            ),
        }),
        tokens: vec![(
            StatusCode::OK,
            json!({"access_token": "token-1", "token_type": "Bearer", "expires_in": 3600}),
        )],
        iss: Some(ISSUER.to_owned()),
    }))
}

fn respond(status: StatusCode, headers: &[(&str, String)], body: String) -> Response<ResponseBody> {
    let mut response = Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(*name, value);
    }
    response
        .body(
            Full::new(Bytes::from(body))
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .unwrap()
}

async fn answer(
    world: Shared,
    request: Request<RequestBody>,
) -> Result<Response<ResponseBody>, BoxError> {
    let url = request.uri().to_string();
    let authorization = request
        .headers()
        .get("authorization")
        .map(|value| value.to_str().unwrap().to_owned());
    let method = request.method().to_string();
    let body = request.into_body().collect().await?.to_bytes();
    let body = String::from_utf8(body.to_vec())?;
    let mut world = world.lock().unwrap();
    world.seen.push(Seen {
        method,
        url: url.clone(),
        authorization: authorization.clone(),
        body,
    });
    let path = url.split('?').next().unwrap().to_owned();
    let json = |value: &Value| respond(StatusCode::OK, &[], value.to_string());
    Ok(match path.as_str() {
        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp" => json(&world.resource),
        "https://as.example.com/.well-known/oauth-authorization-server" => json(&world.server),
        "https://as.example.com/register" => respond(
            StatusCode::CREATED,
            &[],
            json!({"client_id": "dynamic-client", "token_endpoint_auth_method": "none"})
                .to_string(),
        ),
        "https://as.example.com/authorize" => {
            let query: HashMap<String, String> = url::Url::parse(&url)
                .unwrap()
                .query_pairs()
                .into_owned()
                .collect();
            let mut redirect = url::Url::parse(&query["redirect_uri"]).unwrap();
            redirect
                .query_pairs_mut()
                .append_pair("code", "the-code")
                .append_pair("state", &query["state"]);
            if let Some(iss) = &world.iss {
                redirect.query_pairs_mut().append_pair("iss", iss);
            }
            respond(
                StatusCode::FOUND,
                &[("location", redirect.to_string())],
                String::new(),
            )
        }
        // Another authorization server that a grant may use on its own (an identity
        // provider); its token endpoint answers from the same queue.
        "https://idp.example.com/.well-known/oauth-authorization-server" => json(&json!({
            "issuer": "https://idp.example.com",
            "authorization_endpoint": "https://idp.example.com/authorize",
            "token_endpoint": "https://idp.example.com/token",
        })),
        "https://as.example.com/token" | "https://idp.example.com/token" => {
            let (status, body) = if world.tokens.is_empty() {
                (StatusCode::BAD_REQUEST, json!({"error": "invalid_grant"}))
            } else {
                world.tokens.remove(0)
            };
            respond(status, &[], body.to_string())
        }
        SERVER | "https://other.example.com/mcp" => {
            let (status, challenge) = (world.mcp)(authorization.as_deref());
            let headers: Vec<(&str, String)> = challenge
                .map(|value| ("www-authenticate", value))
                .into_iter()
                .collect();
            respond(status, &headers, "{}".to_owned())
        }
        _ => respond(StatusCode::NOT_FOUND, &[], String::new()),
    })
}

/// The layer over the mock, which also serves the layer's own requests (in place of the
/// guarded stack, which would resolve the names and connect).
fn stack(world: &Shared, config: OAuthConfig) -> HttpClientService {
    let world = world.clone();
    let inner: HttpClientService =
        BoxCloneSyncService::new(tower::service_fn(move |request: Request<RequestBody>| {
            answer(world.clone(), request)
        }));
    let config = config.http_service(inner.clone());
    BoxCloneSyncService::new(AuthLayer::new(config).layer(inner))
}

fn config() -> OAuthConfig {
    OAuthConfig::new("test-client", HeadlessUserAgent::new(REDIRECT))
}

async fn post(service: &HttpClientService, url: &str) -> Result<StatusCode, BoxError> {
    let request = Request::post(url)
        .body(Full::new(Bytes::from_static(b"{\"jsonrpc\":\"2.0\"}")))
        .unwrap();
    Ok(service.clone().oneshot(request).await?.status())
}

fn seen(world: &Shared) -> Vec<Seen> {
    world.lock().unwrap().seen.clone()
}

fn find<'a>(seen: &'a [Seen], path: &str) -> Vec<&'a Seen> {
    seen.iter()
        .filter(|request| request.url.starts_with(path))
        .collect()
}

#[tokio::test]
async fn a_401_leads_through_discovery_registration_and_pkce_to_a_retried_request() {
    let world = world();
    let service = stack(&world, config());
    assert_eq!(post(&service, SERVER).await.unwrap(), StatusCode::OK);
    let seen = seen(&world);
    let order: Vec<String> = seen
        .iter()
        .map(|request| {
            format!(
                "{} {}",
                request.method,
                request.url.split('?').next().unwrap()
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            "POST https://mcp.example.com/mcp",
            "GET https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
            "GET https://as.example.com/.well-known/oauth-authorization-server",
            "POST https://as.example.com/register",
            "GET https://as.example.com/authorize",
            "POST https://as.example.com/token",
            "POST https://mcp.example.com/mcp",
        ]
    );
    let registration: Value = serde_json::from_str(&seen[3].body).unwrap();
    assert_eq!(registration["application_type"], "native");
    assert_eq!(registration["redirect_uris"], json!([REDIRECT]));
    let query = seen[4].query();
    assert_eq!(query["client_id"], "dynamic-client");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["resource"], SERVER);
    assert_eq!(query["scope"], "mcp:basic");
    let form = seen[5].form();
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["resource"], SERVER);
    assert_eq!(form["client_id"], "dynamic-client");
    let verifier_hash = sha2::Sha256::digest(form["code_verifier"].as_bytes());
    assert_eq!(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(verifier_hash),
        query["code_challenge"]
    );
    assert_eq!(seen[6].authorization.as_deref(), Some("Bearer token-1"));
    // The next request carries the token at once, and no other origin ever gets it.
    assert_eq!(post(&service, SERVER).await.unwrap(), StatusCode::OK);
    // Another server has none of this one's metadata: its 401 leads to the 2025-03-26
    // fall-backs at its own origin, which fail, and it never sees the token.
    let error = post(&service, "https://other.example.com/mcp")
        .await
        .unwrap_err();
    assert!(
        error
            .downcast::<mcpwire_auth::Error>()
            .unwrap()
            .is_registration()
    );
    let seen = self::seen(&world);
    assert_eq!(seen[7].authorization.as_deref(), Some("Bearer token-1"));
    let elsewhere = find(&seen, "https://other.example.com/");
    assert!(!elsewhere.is_empty());
    assert!(
        elsewhere
            .iter()
            .all(|request| request.authorization.is_none())
    );
}

#[tokio::test]
async fn metadata_for_another_resource_or_issuer_or_without_s256_is_refused() {
    let cases: [Change; 3] = [
        ("resource", |world| {
            world.resource["resource"] = json!("https://evil.example.com/mcp");
        }),
        ("issuer", |world| {
            world.server["issuer"] = json!("https://evil.example.com")
        }),
        ("S256", |world| {
            world.server["code_challenge_methods_supported"] = json!(["plain"]);
        }),
    ];
    for (what, change) in cases {
        let world = world();
        change(&mut world.lock().unwrap());
        let error = post(&stack(&world, config()), SERVER).await.unwrap_err();
        let error = error.downcast::<mcpwire_auth::Error>().unwrap();
        assert!(error.is_discovery(), "{what}: {error}");
        assert!(
            find(&seen(&world), "https://as.example.com/authorize").is_empty(),
            "{what}"
        );
    }
}

#[tokio::test]
async fn a_wrong_or_missing_iss_stops_the_code_from_reaching_the_token_endpoint() {
    for iss in [
        Some("https://evil.example.com"),
        Some("https://as.example.com/"),
        None,
    ] {
        let world = world();
        world.lock().unwrap().iss = iss.map(str::to_owned);
        let error = post(&stack(&world, config()), SERVER).await.unwrap_err();
        let error = error.downcast::<mcpwire_auth::Error>().unwrap();
        assert!(error.is_authorization(), "{iss:?}: {error}");
        assert!(
            find(&seen(&world), "https://as.example.com/token").is_empty(),
            "{iss:?}"
        );
    }
}

#[tokio::test]
async fn pre_registered_credentials_come_first_and_authenticate_with_basic() {
    let world = world();
    world.lock().unwrap().server["token_endpoint_auth_methods_supported"] =
        json!(["client_secret_basic"]);
    let config = config().pre_registered(
        PreRegistered::new("pre")
            .client_secret("s3cret")
            .issuer(ISSUER),
    );
    assert!(!format!("{config:?}").contains("s3cret"));
    assert_eq!(
        post(&stack(&world, config), SERVER).await.unwrap(),
        StatusCode::OK
    );
    let seen = seen(&world);
    assert!(find(&seen, "https://as.example.com/register").is_empty());
    let token = find(&seen, "https://as.example.com/token")[0];
    let basic = base64::engine::general_purpose::STANDARD.encode("pre:s3cret");
    assert_eq!(
        token.authorization.as_deref(),
        Some(format!("Basic {basic}").as_str())
    );
    assert!(!token.form().contains_key("client_secret"));
}

#[tokio::test]
async fn insufficient_scope_steps_up_with_the_union_and_stops_at_the_limit() {
    let world = world();
    world.lock().unwrap().tokens.push((
        StatusCode::OK,
        json!({"access_token": "token-2", "token_type": "Bearer"}),
    ));
    world.lock().unwrap().mcp = Box::new(|bearer| match bearer {
        None => (
            StatusCode::UNAUTHORIZED,
            Some(r#"Bearer scope="mcp:basic""#.to_owned()),
        ),
        Some(_) => (
            StatusCode::FORBIDDEN,
            Some(r#"Bearer error="insufficient_scope", scope="mcp:write""#.to_owned()),
        ),
    });
    let service = stack(&world, config().max_step_ups(1));
    assert_eq!(post(&service, SERVER).await.unwrap(), StatusCode::FORBIDDEN);
    let seen = seen(&world);
    let authorizations = find(&seen, "https://as.example.com/authorize");
    assert_eq!(authorizations.len(), 2);
    assert_eq!(authorizations[0].query()["scope"], "mcp:basic");
    assert_eq!(authorizations[1].query()["scope"], "mcp:basic mcp:write");
}

#[tokio::test]
async fn a_refused_token_is_refreshed_and_an_invalid_grant_leads_to_one_new_authorization() {
    let world = world();
    {
        let mut world = world.lock().unwrap();
        world.tokens = vec![
            (
                StatusCode::OK,
                json!({"access_token": "old", "token_type": "Bearer", "refresh_token": "refresh-1"}),
            ),
            (
                StatusCode::OK,
                json!({"access_token": "token-1", "token_type": "Bearer"}),
            ),
        ];
    }
    let service = stack(&world, config());
    // `old` is refused right after it was granted: one authorization per request, so the
    // request gets its 401.
    assert_eq!(
        post(&service, SERVER).await.unwrap(),
        StatusCode::UNAUTHORIZED
    );
    // The next request's 401 refreshes `old` into `token-1`, keeping the refresh token the
    // server did not rotate.
    assert_eq!(post(&service, SERVER).await.unwrap(), StatusCode::OK);
    let seen = self::seen(&world);
    let tokens = find(&seen, "https://as.example.com/token");
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[1].form()["grant_type"], "refresh_token");
    assert_eq!(tokens[1].form()["refresh_token"], "refresh-1");
    assert_eq!(tokens[1].form()["resource"], SERVER);
    assert_eq!(find(&seen, "https://as.example.com/authorize").len(), 1);
    // Now `token-1` is refused too: the refresh token is refused (`invalid_grant`), and one
    // new authorization follows, which the token endpoint also refuses.
    world.lock().unwrap().mcp = Box::new(|_| (StatusCode::UNAUTHORIZED, None));
    let error = post(&service, SERVER).await.unwrap_err();
    assert!(error.downcast::<mcpwire_auth::Error>().unwrap().is_token());
    let seen = self::seen(&world);
    assert_eq!(find(&seen, "https://as.example.com/authorize").len(), 2);
    assert_eq!(find(&seen, "https://as.example.com/token").len(), 4);
}

#[tokio::test]
async fn plain_http_metadata_is_refused_unless_loopback_is_allowed() {
    let world = world();
    world.lock().unwrap().mcp = Box::new(|_| {
        (
            StatusCode::UNAUTHORIZED,
            Some(r#"Bearer resource_metadata="http://127.0.0.1:9/prm""#.to_owned()),
        )
    });
    let _ = post(&stack(&world, config()), SERVER).await;
    assert!(find(&seen(&world), "http://127.0.0.1:9/prm").is_empty());
    let world = self::world();
    world.lock().unwrap().mcp = Box::new(|_| {
        (
            StatusCode::UNAUTHORIZED,
            Some(r#"Bearer resource_metadata="http://127.0.0.1:9/prm""#.to_owned()),
        )
    });
    let loose = config().fetch_policy(FetchPolicy::default().allow_loopback_http(true));
    let _ = post(&stack(&world, loose), SERVER).await;
    assert_eq!(find(&seen(&world), "http://127.0.0.1:9/prm").len(), 1);
}

#[tokio::test]
async fn no_token_secret_code_or_verifier_reaches_the_log() {
    let (log, _logging) = Log::capture();

    // A whole flow with a client secret, then a refresh that rotates the tokens.
    let world = world();
    {
        let mut world = world.lock().unwrap();
        world.server["token_endpoint_auth_methods_supported"] = json!(["client_secret_post"]);
        world.tokens = vec![
            (
                StatusCode::OK,
                json!({"access_token": "token-1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "refresh-1"}),
            ),
            (
                StatusCode::OK,
                json!({"access_token": "token-2", "token_type": "Bearer", "refresh_token": "refresh-2"}),
            ),
        ];
    }
    let config = config().pre_registered(
        PreRegistered::new("pre")
            .client_secret("s3cret")
            .issuer(ISSUER),
    );
    let service = stack(&world, config);
    assert_eq!(post(&service, SERVER).await.unwrap(), StatusCode::OK);
    // token-1 is refused from now on: the client refreshes it.
    world.lock().unwrap().mcp = Box::new(|bearer| match bearer {
        Some("Bearer token-2") => (StatusCode::OK, None),
        _ => (
            StatusCode::UNAUTHORIZED,
            Some(r#"Bearer error="invalid_token", scope="mcp:basic""#.to_owned()),
        ),
    });
    assert_eq!(post(&service, SERVER).await.unwrap(), StatusCode::OK);
    let seen = seen(&world);
    let verifier = find(&seen, "https://as.example.com/token")[0].form()["code_verifier"].clone();

    let written = log.text();
    assert!(!written.is_empty(), "the flow logs something");
    for secret in [
        "token-1",
        "token-2",
        "refresh-1",
        "refresh-2",
        "s3cret",
        "the-code",
        verifier.as_str(),
    ] {
        assert!(!written.contains(secret), "`{secret}` reached the log");
    }
}

/// What a grant was asked for: the resource and the scopes.
type Asked = Arc<Mutex<Vec<(Option<String>, Vec<String>)>>>;

/// A headless grant as an extension would write one: `client_credentials` with HTTP Basic,
/// recording what the layer asked of it.
struct BasicGrant {
    asked: Asked,
}

impl TokenGrant for BasicGrant {
    fn grant(&self, request: GrantRequest) -> GrantFuture {
        self.asked.lock().unwrap().push((
            request.resource().map(str::to_owned),
            request.scopes().to_vec(),
        ));
        Box::pin(async move {
            let form = TokenRequest::new("client_credentials").client_secret_basic("svc", "s3cret");
            Ok(request.token_request(form).await?)
        })
    }
}

#[tokio::test]
async fn a_headless_grant_is_bound_to_the_resource_and_made_again_before_expiry() {
    let (log, _logging) = Log::capture();
    let world = world();
    {
        let mut world = world.lock().unwrap();
        // A grant needs no PKCE, no registration and no authorization endpoint.
        let server = world.server.as_object_mut().unwrap();
        server.remove("code_challenge_methods_supported");
        server.remove("registration_endpoint");
        world.tokens = vec![
            (
                StatusCode::OK,
                // Within the renewal margin at once, and with a refresh token to ignore.
                json!({"access_token": "token-1", "token_type": "Bearer", "expires_in": 10, "refresh_token": "refresh-1"}),
            ),
            (
                StatusCode::OK,
                json!({"access_token": "token-2", "token_type": "Bearer", "expires_in": 3600}),
            ),
        ];
    }
    let asked = Asked::default();
    let config = OAuthConfig::headless(
        "svc",
        BasicGrant {
            asked: asked.clone(),
        },
    );
    assert!(format!("{config:?}").contains("headless: true"));
    let service = stack(&world, config);
    // `token-1` expires within the renewal margin: before the retry, the grant is made again
    // (not refreshed), and `token-2` then serves both requests.
    assert_eq!(post(&service, SERVER).await.unwrap(), StatusCode::OK);
    assert_eq!(post(&service, SERVER).await.unwrap(), StatusCode::OK);

    let seen = self::seen(&world);
    let paths: Vec<String> = seen
        .iter()
        .map(|request| format!("{} {}", request.method, request.url))
        .collect();
    assert_eq!(
        paths,
        [
            "POST https://mcp.example.com/mcp",
            "GET https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
            "GET https://as.example.com/.well-known/oauth-authorization-server",
            "POST https://as.example.com/token",
            "POST https://as.example.com/token",
            "POST https://mcp.example.com/mcp",
            "POST https://mcp.example.com/mcp",
        ]
    );
    let basic = base64::engine::general_purpose::STANDARD.encode("svc:s3cret");
    for token in find(&seen, "https://as.example.com/token") {
        let form = token.form();
        assert_eq!(form["grant_type"], "client_credentials");
        assert_eq!(form["resource"], SERVER);
        assert_eq!(form["scope"], "mcp:basic");
        assert!(!form.contains_key("refresh_token"));
        assert_eq!(
            token.authorization.as_deref(),
            Some(format!("Basic {basic}").as_str())
        );
    }
    assert_eq!(seen[5].authorization.as_deref(), Some("Bearer token-2"));
    assert_eq!(seen[6].authorization.as_deref(), Some("Bearer token-2"));
    let expected = (Some(SERVER.to_owned()), vec!["mcp:basic".to_owned()]);
    assert_eq!(*asked.lock().unwrap(), [expected.clone(), expected]);
    let written = log.text();
    for secret in ["token-1", "token-2", "refresh-1", "s3cret", basic.as_str()] {
        assert!(!written.contains(secret), "`{secret}` reached the log");
    }
}

#[tokio::test]
async fn a_refused_headless_grant_fails_the_request_without_a_retry() {
    let world = world();
    world.lock().unwrap().tokens =
        vec![(StatusCode::BAD_REQUEST, json!({"error": "invalid_client"}))];
    let service = stack(
        &world,
        OAuthConfig::headless(
            "svc",
            BasicGrant {
                asked: Asked::default(),
            },
        ),
    );
    let error = post(&service, SERVER).await.unwrap_err();
    let error = error.downcast::<mcpwire_auth::Error>().unwrap();
    assert!(error.is_token(), "{error}");
    assert!(error.to_string().contains("invalid_client"), "{error}");
    let seen = self::seen(&world);
    assert_eq!(find(&seen, "https://as.example.com/token").len(), 1);
    assert!(find(&seen, "https://as.example.com/register").is_empty());
    assert!(find(&seen, "https://as.example.com/authorize").is_empty());
}

/// A grant that first exchanges a token at another server's token endpoint, as the
/// enterprise-managed authorization extension does, keeping what that server issued.
struct ExchangeGrant {
    issuer: &'static str,
    issued: Arc<Mutex<Vec<IssuedToken>>>,
}

impl TokenGrant for ExchangeGrant {
    fn grant(&self, request: GrantRequest) -> GrantFuture {
        let (issuer, issued) = (self.issuer, self.issued.clone());
        Box::pin(async move {
            let other = request.discover(issuer).await?;
            let exchange = TokenRequest::new("urn:ietf:params:oauth:grant-type:token-exchange")
                .parameter("subject_token", "id-t0ken")
                .parameter("resource", request.resource().unwrap_or_default())
                .client_secret_basic("idp-client", "idp-s3cret");
            let token = request
                .token_request_to(&other.token_endpoint, exchange)
                .await?;
            issued.lock().unwrap().push(token.clone());
            let form = TokenRequest::new("urn:ietf:params:oauth:grant-type:jwt-bearer")
                .parameter("assertion", token.access_token);
            Ok(request.token_request(form).await?)
        })
    }
}

#[tokio::test]
async fn a_grant_exchanges_a_token_at_another_servers_token_endpoint_as_it_is() {
    let (log, _logging) = Log::capture();
    let world = world();
    world.lock().unwrap().tokens = vec![
        (
            StatusCode::OK,
            json!({"access_token": "j4g", "token_type": "N_A", "issued_token_type": "urn:ietf:params:oauth:token-type:id-jag", "expires_in": 300, "scope": "mcp:basic"}),
        ),
        (
            StatusCode::OK,
            json!({"access_token": "token-1", "token_type": "Bearer", "expires_in": 3600}),
        ),
    ];
    let issued = Arc::new(Mutex::new(Vec::new()));
    let grant = ExchangeGrant {
        issuer: "https://idp.example.com",
        issued: issued.clone(),
    };
    let service = stack(&world, OAuthConfig::headless("svc", grant));
    assert_eq!(post(&service, SERVER).await.unwrap(), StatusCode::OK);

    let seen = self::seen(&world);
    let exchanges = find(&seen, "https://idp.example.com/token");
    assert_eq!(exchanges.len(), 1);
    // Sent as the grant made it: no `scope` added, its own `resource`, its own client.
    let form = exchanges[0].form();
    let mut names: Vec<&str> = form.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["grant_type", "resource", "subject_token"]);
    assert_eq!(form["resource"], SERVER);
    let basic = base64::engine::general_purpose::STANDARD.encode("idp-client:idp-s3cret");
    assert_eq!(
        exchanges[0].authorization.as_deref(),
        Some(format!("Basic {basic}").as_str())
    );
    let issued = issued.lock().unwrap().remove(0);
    assert_eq!(issued.access_token.expose(), "j4g");
    assert_eq!(issued.token_type, "N_A");
    assert_eq!(
        issued.issued_token_type.as_deref(),
        Some("urn:ietf:params:oauth:token-type:id-jag")
    );
    assert_eq!(issued.expires_in, Some(std::time::Duration::from_secs(300)));
    assert_eq!(issued.scope.as_deref(), Some("mcp:basic"));
    assert!(!format!("{issued:?}").contains("j4g"));
    let grants = find(&seen, "https://as.example.com/token");
    assert_eq!(grants[0].form()["assertion"], "j4g");
    let written = log.text();
    for secret in ["j4g", "id-t0ken", "idp-s3cret", "token-1", basic.as_str()] {
        assert!(!written.contains(secret), "`{secret}` reached the log");
    }
}

#[tokio::test]
async fn a_refused_exchange_or_another_issuer_fails_the_grant_before_the_token_endpoint() {
    let world = world();
    world.lock().unwrap().tokens =
        vec![(StatusCode::BAD_REQUEST, json!({"error": "invalid_grant"}))];
    let grant = |issuer| ExchangeGrant {
        issuer,
        issued: Arc::default(),
    };
    let service = stack(
        &world,
        OAuthConfig::headless("svc", grant("https://idp.example.com")),
    );
    let error = post(&service, SERVER).await.unwrap_err();
    let error = error.downcast::<mcpwire_auth::Error>().unwrap();
    assert!(error.is_token(), "{error}");
    let text = error.to_string();
    assert!(
        text.contains("invalid_grant") && text.contains("https://idp.example.com"),
        "{text}"
    );
    // No metadata of that issuer at its well-known URLs: refused.
    let service = stack(
        &world,
        OAuthConfig::headless("svc", grant("https://idp.example.com/tenant")),
    );
    let error = post(&service, SERVER).await.unwrap_err();
    let error = error.downcast::<mcpwire_auth::Error>().unwrap();
    assert!(error.is_discovery(), "{error}");
    let seen = self::seen(&world);
    assert_eq!(find(&seen, "https://idp.example.com/token").len(), 1);
    assert!(find(&seen, "https://as.example.com/token").is_empty());
}
