//! The grant through `mcpwire-auth`'s layer, against an in-process MCP server and
//! authorization server that the layer reaches through a mock HTTP stack (no sockets): the
//! exact token requests on the wire, and what is refused before anything secret is sent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mcpwire_auth::client::{AuthLayer, OAuthConfig};
use mcpwire_ext_client_credentials::{
    ClientCredentials, JWT_ASSERTION_TYPE, PrivateKey, SigningAlgorithm,
};
use mcpwire_http::client::{BoxError, HttpClientService, RequestBody, ResponseBody};
use serde_json::{Value, json};
use tower::util::BoxCloneSyncService;
use tower::{Layer as _, ServiceExt as _};

const SERVER: &str = "https://mcp.example.com/mcp";
const ISSUER: &str = "https://as.example.com";

/// One request the mocks saw: its URL, `Authorization` header and form.
#[derive(Clone, Debug)]
struct Seen {
    url: String,
    authorization: Option<String>,
    form: HashMap<String, String>,
}

/// What the mocks serve, and what they saw.
struct World {
    server_metadata: Value,
    seen: Vec<Seen>,
}

type Shared = Arc<Mutex<World>>;

fn world(server_metadata: Value) -> Shared {
    Arc::new(Mutex::new(World {
        server_metadata,
        seen: Vec::new(),
    }))
}

fn respond(status: StatusCode, headers: &[(&str, &str)], body: &Value) -> Response<ResponseBody> {
    let mut response = Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(*name, *value);
    }
    response
        .body(
            Full::new(Bytes::from(body.to_string()))
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
    let body = request.into_body().collect().await?.to_bytes();
    let form = url::form_urlencoded::parse(&body).into_owned().collect();
    let mut world = world.lock().unwrap();
    world.seen.push(Seen {
        url: url.clone(),
        authorization: authorization.clone(),
        form,
    });
    Ok(match url.as_str() {
        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp" => respond(
            StatusCode::OK,
            &[],
            &json!({"resource": SERVER, "authorization_servers": [ISSUER]}),
        ),
        "https://as.example.com/.well-known/oauth-authorization-server" => {
            respond(StatusCode::OK, &[], &world.server_metadata)
        }
        "https://as.example.com/token" => respond(
            StatusCode::OK,
            &[],
            &json!({"access_token": "access-1", "token_type": "Bearer", "expires_in": 3600}),
        ),
        SERVER if authorization.as_deref() == Some("Bearer access-1") => {
            respond(StatusCode::OK, &[], &json!({}))
        }
        SERVER => respond(
            StatusCode::UNAUTHORIZED,
            &[("www-authenticate", r#"Bearer scope="reports:read""#)],
            &json!({}),
        ),
        _ => respond(StatusCode::NOT_FOUND, &[], &json!({})),
    })
}

async fn post(world: &Shared, credentials: ClientCredentials) -> Result<StatusCode, BoxError> {
    let world = world.clone();
    let inner: HttpClientService =
        BoxCloneSyncService::new(tower::service_fn(move |request: Request<RequestBody>| {
            answer(world.clone(), request)
        }));
    let config = OAuthConfig::headless("reporting-agent", credentials)
        // The layer's own requests reach the same in-process servers.
        .http_service(inner.clone());
    let service = AuthLayer::new(config).layer(inner);
    let request = Request::post(SERVER)
        .body(Full::new(Bytes::from_static(b"{\"jsonrpc\":\"2.0\"}")))
        .unwrap();
    Ok(service.oneshot(request).await?.status())
}

fn token_requests(world: &Shared) -> Vec<Seen> {
    world
        .lock()
        .unwrap()
        .seen
        .iter()
        .filter(|seen| seen.url == "https://as.example.com/token")
        .cloned()
        .collect()
}

/// Everything logged on this thread while the guard lives.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Log {
    fn capture() -> (Log, tracing::subscriber::DefaultGuard) {
        let log = Log::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        (log, tracing::subscriber::set_default(subscriber))
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn metadata(extra: Value) -> Value {
    let mut metadata = json!({
        "issuer": ISSUER,
        "authorization_endpoint": format!("{ISSUER}/authorize"),
        "token_endpoint": format!("{ISSUER}/token"),
        "grant_types_supported": ["client_credentials"],
    });
    metadata
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    metadata
}

#[tokio::test]
async fn a_private_key_jwt_grant_sends_a_signed_assertion_for_the_resource() {
    let (log, _logging) = Log::capture();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let private = PrivateKey::from_pem(key.serialize_pem(), SigningAlgorithm::Es256).unwrap();
    let world = world(metadata(json!({
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES256"],
    })));
    let credentials = ClientCredentials::private_key_jwt("reporting-agent", private).issuer(ISSUER);
    assert_eq!(post(&world, credentials).await.unwrap(), StatusCode::OK);

    let requests = token_requests(&world);
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.authorization, None);
    let mut names: Vec<&str> = request.form.keys().map(String::as_str).collect();
    names.sort_unstable();
    // No `client_id`: the assertion names the client.
    assert_eq!(
        names,
        [
            "client_assertion",
            "client_assertion_type",
            "grant_type",
            "resource",
            "scope"
        ]
    );
    assert_eq!(request.form["grant_type"], "client_credentials");
    assert_eq!(request.form["client_assertion_type"], JWT_ASSERTION_TYPE);
    assert_eq!(request.form["resource"], SERVER);
    assert_eq!(request.form["scope"], "reports:read");

    let public = DecodingKey::from_ec_pem(key.public_key_pem().as_bytes()).unwrap();
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[ISSUER]);
    validation.set_issuer(&["reporting-agent"]);
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp", "iat", "jti"]);
    let claims =
        jsonwebtoken::decode::<Value>(&request.form["client_assertion"], &public, &validation)
            .unwrap()
            .claims;
    assert_eq!(claims["sub"], "reporting-agent");
    assert_eq!(claims["aud"], ISSUER);
    let seen = world.lock().unwrap().seen.clone();
    assert!(
        seen.iter().all(
            |request| !request.url.contains("/register") && !request.url.contains("/authorize")
        )
    );
    let written = log.text();
    assert!(written.contains("private_key_jwt"), "{written}");
    let signature = request.form["client_assertion"].rsplit('.').next().unwrap();
    assert!(
        !written.contains(signature),
        "the assertion reached the log"
    );
    assert!(
        !written.contains("access-1"),
        "the access token reached the log"
    );
}

#[tokio::test]
async fn a_client_secret_grant_authenticates_with_basic() {
    let world = world(metadata(json!({
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
    })));
    let credentials = ClientCredentials::client_secret("reporting-agent", "s3cret&more");
    assert_eq!(post(&world, credentials).await.unwrap(), StatusCode::OK);
    let requests = token_requests(&world);
    assert_eq!(requests.len(), 1);
    // RFC 6749 §2.3.1: each part form-encoded, then Base64.
    let expected = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode("reporting-agent:s3cret%26more")
    };
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some(format!("Basic {expected}").as_str())
    );
    assert!(!requests[0].form.contains_key("client_secret"));
    assert!(!requests[0].form.contains_key("client_id"));
    assert_eq!(requests[0].form["grant_type"], "client_credentials");
    assert_eq!(requests[0].form["resource"], SERVER);
}

#[tokio::test]
async fn a_server_that_rules_out_the_key_gets_no_token_request() {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let private = PrivateKey::from_pem(key.serialize_pem(), SigningAlgorithm::Es256).unwrap();
    let world = world(metadata(json!({
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
    })));
    let credentials = ClientCredentials::private_key_jwt("reporting-agent", private);
    let error = post(&world, credentials).await.unwrap_err();
    let error = error.downcast::<mcpwire_auth::Error>().unwrap();
    assert!(error.is_token(), "{error}");
    let cause = std::error::Error::source(&*error)
        .and_then(|source| source.downcast_ref::<mcpwire_ext_client_credentials::Error>())
        .expect("the grant's own error is the source");
    assert!(cause.is_server(), "{cause}");
    assert!(cause.to_string().contains("ES256"), "{cause}");
    assert!(token_requests(&world).is_empty());
}
