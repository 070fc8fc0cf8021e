//! The JWT bearer grant through `mcpwire-auth`'s layer, against an in-process MCP server and
//! authorization server that the layer reaches through a mock HTTP stack (no sockets): the
//! token requests on the wire, the token read afresh, and errors surfaced without a retry.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use mcpwire_auth::client::{AuthLayer, OAuthConfig};
use mcpwire_ext_workload_identity::{JWT_BEARER_GRANT_TYPE, WorkloadIdentity, WorkloadToken};
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

/// The token endpoint's answers, in turn, and what the mocks saw.
struct World {
    tokens: Vec<(StatusCode, Value)>,
    seen: Vec<Seen>,
}

type Shared = Arc<Mutex<World>>;

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
        "https://as.example.com/.well-known/oauth-authorization-server" => respond(
            StatusCode::OK,
            &[],
            &json!({
                "issuer": ISSUER,
                "authorization_endpoint": format!("{ISSUER}/authorize"),
                "token_endpoint": format!("{ISSUER}/token"),
                "grant_types_supported": [JWT_BEARER_GRANT_TYPE],
                "token_endpoint_auth_methods_supported": ["none"],
            }),
        ),
        "https://as.example.com/token" => {
            let (status, body) = world.tokens.remove(0);
            respond(status, &[], &body)
        }
        SERVER if authorization.is_some_and(|value| value.starts_with("Bearer access-")) => {
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

fn service(world: &Shared, identity: WorkloadIdentity) -> HttpClientService {
    let world = world.clone();
    let inner: HttpClientService =
        BoxCloneSyncService::new(tower::service_fn(move |request: Request<RequestBody>| {
            answer(world.clone(), request)
        }));
    let config = OAuthConfig::headless("report-builder", identity)
        // The layer's own requests reach the same in-process servers.
        .http_service(inner.clone());
    BoxCloneSyncService::new(AuthLayer::new(config).layer(inner))
}

async fn post(service: &HttpClientService) -> Result<StatusCode, BoxError> {
    let request = Request::post(SERVER)
        .body(Full::new(Bytes::from_static(b"{\"jsonrpc\":\"2.0\"}")))
        .unwrap();
    Ok(service.clone().oneshot(request).await?.status())
}

fn requests_to(world: &Shared, prefix: &str) -> Vec<Seen> {
    world
        .lock()
        .unwrap()
        .seen
        .iter()
        .filter(|seen| seen.url.starts_with(prefix))
        .cloned()
        .collect()
}

/// A workload token for `ISSUER` that expires `lifetime` seconds from now, told apart by `sub`.
fn workload_token(sub: &str, lifetime: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let now = i64::try_from(now).unwrap();
    let encode = |value: Value| URL_SAFE_NO_PAD.encode(value.to_string());
    format!(
        "{}.{}.c2lnbmF0dXJl",
        encode(json!({"alg": "RS256", "kid": "k8s"})),
        encode(json!({
            "iss": "https://kubernetes.default.svc",
            "sub": sub,
            "aud": ISSUER,
            "iat": now,
            "exp": now + lifetime,
            "jti": format!("jti-{sub}"),
        }))
    )
}

/// A token file, removed when dropped.
struct TokenFile(PathBuf);

impl TokenFile {
    fn new(name: &str, token: &str) -> TokenFile {
        let path = std::env::temp_dir().join(format!(
            "mcpwire-workload-grant-{}-{name}",
            std::process::id()
        ));
        TokenFile::write(&path, token);
        TokenFile(path)
    }

    fn write(path: &PathBuf, token: &str) {
        std::fs::write(path, format!("{token}\n")).unwrap();
    }
}

impl Drop for TokenFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test]
async fn the_workload_token_is_presented_for_the_resource_and_read_afresh_each_grant() {
    // Each access token lives 10 seconds, within the renewal margin: every use grants again.
    let short = |token: &str| {
        (
            StatusCode::OK,
            json!({"access_token": token, "token_type": "Bearer", "expires_in": 10}),
        )
    };
    let world = Arc::new(Mutex::new(World {
        tokens: vec![short("access-1"), short("access-2"), short("access-3")],
        seen: Vec::new(),
    }));
    let first = workload_token("system:serviceaccount:reports:builder", 600);
    let file = TokenFile::new("rotating", &first);
    let service = service(&world, WorkloadIdentity::new(WorkloadToken::file(&file.0)));
    assert_eq!(post(&service).await.unwrap(), StatusCode::OK);
    // The platform rotates the token; the next grant presents the new one.
    let rotated = workload_token("system:serviceaccount:reports:builder-rotated", 600);
    TokenFile::write(&file.0, &rotated);
    assert_eq!(post(&service).await.unwrap(), StatusCode::OK);

    let grants = requests_to(&world, "https://as.example.com/token");
    let assertions: Vec<&str> = grants
        .iter()
        .map(|grant| grant.form["assertion"].as_str())
        .collect();
    assert_eq!(
        assertions,
        [first.as_str(), first.as_str(), rotated.as_str()]
    );
    for grant in &grants {
        let mut names: Vec<&str> = grant.form.keys().map(String::as_str).collect();
        names.sort_unstable();
        // No client id, no client secret: the workload's token is the credential.
        assert_eq!(names, ["assertion", "grant_type", "resource", "scope"]);
        assert_eq!(grant.form["grant_type"], JWT_BEARER_GRANT_TYPE);
        assert_eq!(grant.form["resource"], SERVER);
        assert_eq!(grant.form["scope"], "reports:read");
        assert_eq!(grant.authorization, None);
    }
    assert!(requests_to(&world, "https://as.example.com/register").is_empty());
    assert!(requests_to(&world, "https://as.example.com/authorize").is_empty());
}

#[tokio::test]
async fn a_refused_grant_fails_the_request_without_a_retry_or_another_grant() {
    for error in ["invalid_grant", "invalid_scope", "unauthorized_client"] {
        let world = Arc::new(Mutex::new(World {
            tokens: vec![(StatusCode::BAD_REQUEST, json!({"error": error}))],
            seen: Vec::new(),
        }));
        let token = WorkloadToken::value(workload_token("agent", 600));
        let service = service(&world, WorkloadIdentity::new(token));
        let failure = post(&service).await.unwrap_err();
        let failure = failure.downcast::<mcpwire_auth::Error>().unwrap();
        assert!(failure.is_token(), "{failure}");
        assert!(failure.to_string().contains(error), "{failure}");
        let grants = requests_to(&world, "https://as.example.com/token");
        assert_eq!(grants.len(), 1, "{error}");
        assert_eq!(grants[0].form["grant_type"], JWT_BEARER_GRANT_TYPE);
    }
}

#[tokio::test]
async fn an_expired_workload_token_is_not_presented() {
    let world = Arc::new(Mutex::new(World {
        tokens: Vec::new(),
        seen: Vec::new(),
    }));
    let token = WorkloadToken::value(workload_token("agent", -60));
    let failure = post(&service(&world, WorkloadIdentity::new(token)))
        .await
        .unwrap_err();
    let failure = failure.downcast::<mcpwire_auth::Error>().unwrap();
    let cause = std::error::Error::source(&*failure)
        .and_then(|source| source.downcast_ref::<mcpwire_ext_workload_identity::Error>())
        .expect("the grant's own error is the source");
    assert!(cause.is_token(), "{cause}");
    assert!(requests_to(&world, "https://as.example.com/token").is_empty());
}
