//! `BearerAuthLayer` in front of a real `StreamableHttpService`, driven in process with a
//! closure verifier: the answers to every kind of request, the challenges, the metadata, and
//! that nothing reaches the MCP endpoint before authorization.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use mcpwire_auth::server::{
    AuthBody, AuthRequestBody, BearerAuthLayer, Principal, ProtectedResource, Rejection, verify_fn,
};
use mcpwire_http::server::{Config, ResponseBody, StreamableHttpService};
use tower::{Layer as _, ServiceExt as _};

const RESOURCE: &str = "http://127.0.0.1:8080/mcp";
const METADATA_URL: &str = "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp";
const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

/// What the endpoint behind the layer saw: the principal and the headers' `Debug` output.
type Seen = Arc<Mutex<Vec<(Option<Principal>, String)>>>;

struct Fixture {
    mcp: StreamableHttpService,
    seen: Seen,
    layer: BearerAuthLayer,
}

fn fixture() -> Fixture {
    let server = mcpwire_server::Server::builder("protected", "1.0.0")
        .build()
        .unwrap();
    let mcp = server.http_service(Config::default());
    let resource = ProtectedResource::new(RESOURCE, ["https://as.example.com"])
        .scopes_supported(["mcp:tools", "mcp:admin"])
        .required_scopes(["mcp:tools"])
        .max_token_bytes(64);
    let verifier = verify_fn(|token| async move {
        let mut principal = Principal::default();
        principal.subject = Some("alice".to_owned());
        match token.expose() {
            "good" => principal.scopes = vec!["mcp:tools".to_owned()],
            "admin-only" => principal.scopes = vec!["mcp:admin".to_owned(), "other".to_owned()],
            "down" => return Err(Rejection::unavailable("the issuer is unreachable")),
            _ => return Err(Rejection::invalid_token("the token has expired")),
        }
        Ok(principal)
    });
    Fixture {
        mcp,
        seen: Seen::default(),
        layer: BearerAuthLayer::new(resource, verifier).unwrap(),
    }
}

impl Fixture {
    async fn send(&self, request: Request<Full<Bytes>>) -> Response<AuthBody<ResponseBody>> {
        let seen = self.seen.clone();
        let mcp = self.mcp.clone();
        let endpoint = tower::service_fn(move |request: Request<AuthRequestBody<Full<Bytes>>>| {
            let principal = request.extensions().get::<Principal>().cloned();
            let headers = format!("{:?}", request.headers());
            seen.lock().unwrap().push((principal, headers));
            mcp.clone().oneshot(request)
        });
        self.layer.layer(endpoint).oneshot(request).await.unwrap()
    }
}

fn post(path: &str, authorization: &[&str]) -> Request<Full<Bytes>> {
    let mut request = Request::post(path)
        .header("host", "127.0.0.1:8080")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json");
    for value in authorization {
        request = request.header("authorization", *value);
    }
    request.body(Full::new(Bytes::from(INITIALIZE))).unwrap()
}

fn challenge(response: &Response<AuthBody<ResponseBody>>) -> Option<&str> {
    response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().unwrap())
}

async fn body(response: Response<AuthBody<ResponseBody>>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn a_request_without_a_usable_token_gets_401_and_creates_no_session() {
    let fixture = fixture();
    let bare = format!(r#"Bearer resource_metadata="{METADATA_URL}", scope="mcp:tools""#);
    let long = format!("Bearer {}", "a".repeat(65));
    let cases: Vec<(Vec<&str>, StatusCode, String)> = vec![
        (vec![], StatusCode::UNAUTHORIZED, bare.clone()),
        (
            vec!["Basic dXNlcjpwYXNz"],
            StatusCode::UNAUTHORIZED,
            bare.clone(),
        ),
        (
            vec!["Bearer expired"],
            StatusCode::UNAUTHORIZED,
            format!(r#"{bare}, error="invalid_token", error_description="the token has expired""#),
        ),
        (
            vec!["bearer expired"],
            StatusCode::UNAUTHORIZED,
            format!(r#"{bare}, error="invalid_token", error_description="the token has expired""#),
        ),
        (
            vec![&long],
            StatusCode::UNAUTHORIZED,
            format!(r#"{bare}, error="invalid_token", error_description="the token is too long""#),
        ),
        (
            vec!["Bearer good", "Bearer good"],
            StatusCode::BAD_REQUEST,
            format!(
                r#"{bare}, error="invalid_request", error_description="more than one Authorization header""#
            ),
        ),
        (
            vec!["Bearer go od"],
            StatusCode::BAD_REQUEST,
            format!(
                r#"{bare}, error="invalid_request", error_description="the credentials are not a token68""#
            ),
        ),
    ];
    for (authorization, status, expected) in cases {
        let response = fixture.send(post("/mcp", &authorization)).await;
        assert_eq!(response.status(), status, "{authorization:?}");
        assert_eq!(
            challenge(&response),
            Some(expected.as_str()),
            "{authorization:?}"
        );
        assert_eq!(body(response).await, "");
    }
    // A token in the query string or the form body is not looked at.
    let response = fixture.send(post("/mcp?access_token=good", &[])).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&response), Some(bare.as_str()));
    // Every method is checked.
    for method in [Method::GET, Method::DELETE, Method::OPTIONS, Method::PUT] {
        let request = Request::builder()
            .method(method.clone())
            .uri("/mcp")
            .header("host", "127.0.0.1:8080")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = fixture.send(request).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{method}");
    }
    assert!(fixture.seen.lock().unwrap().is_empty());
    assert_eq!(fixture.mcp.session_count(), 0);
}

#[tokio::test]
async fn a_token_without_the_required_scope_gets_403_keeping_its_relevant_scopes() {
    let fixture = fixture();
    let response = fixture.send(post("/mcp", &["Bearer admin-only"])).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        challenge(&response).unwrap(),
        format!(
            r#"Bearer resource_metadata="{METADATA_URL}", scope="mcp:tools mcp:admin", error="insufficient_scope", error_description="the token lacks a required scope""#
        )
    );
    assert!(fixture.seen.lock().unwrap().is_empty());
    assert_eq!(fixture.mcp.session_count(), 0);
}

#[tokio::test]
async fn an_unverifiable_token_gets_503_without_a_challenge() {
    let fixture = fixture();
    let response = fixture.send(post("/mcp", &["Bearer down"])).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(challenge(&response), None);
    assert_eq!(fixture.mcp.session_count(), 0);
}

#[tokio::test]
async fn a_valid_token_reaches_the_endpoint_with_its_principal() {
    let fixture = fixture();
    let response = fixture.send(post("/mcp", &["Bearer good"])).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("mcp-session-id"));
    assert_eq!(fixture.mcp.session_count(), 1);
    let seen = fixture.seen.lock().unwrap();
    let (principal, headers) = &seen[0];
    let principal = principal.as_ref().unwrap();
    assert_eq!(principal.subject.as_deref(), Some("alice"));
    assert!(principal.has_scope("mcp:tools"));
    // The endpoint gets the header marked sensitive: its Debug output hides the token.
    assert!(headers.contains("Sensitive"), "{headers}");
    assert!(!headers.contains("good"), "{headers}");
}

#[tokio::test]
async fn the_metadata_is_served_exactly_at_both_well_known_paths() {
    let fixture = fixture();
    let expected = concat!(
        r#"{"resource":"http://127.0.0.1:8080/mcp","authorization_servers":["https://as.example.com"],"#,
        r#""scopes_supported":["mcp:tools","mcp:admin"],"bearer_methods_supported":["header"]}"#
    );
    assert_eq!(fixture.layer.metadata_url(), METADATA_URL);
    assert_eq!(
        fixture.layer.metadata_paths(),
        [
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-protected-resource"
        ]
    );
    for path in fixture.layer.metadata_paths() {
        let request = Request::get(path.as_str())
            .header("host", "127.0.0.1:8080")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = fixture.send(request).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(body(response).await, expected);
        let request = Request::get(path.as_str())
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = fixture
            .layer
            .metadata_service()
            .oneshot(request)
            .await
            .unwrap();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(bytes, expected.as_bytes());
    }
    let post = Request::post("/anything")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let refused = fixture
        .layer
        .metadata_service()
        .oneshot(post)
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(fixture.seen.lock().unwrap().is_empty());
}

#[test]
fn a_bad_configuration_is_refused() {
    let verifier = verify_fn(|_| async { Err(Rejection::invalid_token("no")) });
    let error = BearerAuthLayer::new(
        ProtectedResource::new("https://MCP.example.com/mcp", ["https://as.example.com"]),
        verifier,
    )
    .unwrap_err();
    assert!(error.is_config());
    assert!(error.to_string().contains("https://mcp.example.com/mcp"));
}

#[tokio::test]
async fn methods_and_tools_with_scopes_of_their_own_are_checked_in_every_message() {
    let resource = ProtectedResource::new(RESOURCE, ["https://as.example.com"])
        .required_scopes(["mcp:tools"])
        .method_scopes("resources/read", ["files:read"])
        .tool_scopes("delete", ["files:write"])
        .max_request_bytes(512);
    let verifier = verify_fn(|token| async move {
        let mut principal = Principal::default();
        principal.subject = Some("alice".to_owned());
        principal.scopes = match token.expose() {
            "reader" => vec!["mcp:tools".to_owned(), "files:read".to_owned()],
            _ => vec!["mcp:tools".to_owned(), "files:write".to_owned()],
        };
        Ok(principal)
    });
    let layer = BearerAuthLayer::new(resource, verifier).unwrap();
    let bodies = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = bodies.clone();
    let endpoint = tower::service_fn(move |request: Request<AuthRequestBody<Full<Bytes>>>| {
        let seen = seen.clone();
        async move {
            let body = request.into_body().collect().await.unwrap().to_bytes();
            seen.lock()
                .unwrap()
                .push(String::from_utf8(body.to_vec()).unwrap());
            Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
        }
    });
    let service = layer.layer(endpoint);
    let send = |method: Method, token: &str, body: &str| {
        let request = Request::builder()
            .method(method)
            .uri("/mcp")
            .header("authorization", format!("Bearer {token}"))
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap();
        service.clone().oneshot(request)
    };

    let read = r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///a"}}"#;
    let delete = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete","arguments":{}}}"#;
    let batch = format!("[{read},{delete}]");

    // Each token reaches what its scopes cover, and the endpoint gets the body unchanged.
    let response = send(Method::POST, "reader", read).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = send(Method::POST, "writer", delete).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(*bodies.lock().unwrap(), [read, delete]);

    // A message the token does not cover, alone or in a batch: `403` naming what the request
    // needs, then what the token has.
    for (token, body, scope) in [
        ("reader", delete, "mcp:tools files:write files:read"),
        ("writer", read, "mcp:tools files:read files:write"),
        ("reader", batch.as_str(), "mcp:tools files:read files:write"),
    ] {
        let response = send(Method::POST, token, body).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{token}: {body}");
        assert_eq!(
            challenge_of(&response),
            format!(
                r#"Bearer resource_metadata="{METADATA_URL}", scope="{scope}", error="insufficient_scope", error_description="the token lacks a required scope""#
            )
        );
    }

    // A body whose calls cannot be read is a parse error; one over the limit is `413`.
    let response = send(
        Method::POST,
        "writer",
        r#"{"method":"ping","method":"tools/call"}"#,
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        &body[..],
        br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#
    );
    let padded = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#,
        "x".repeat(512)
    );
    let response = send(Method::POST, "writer", &padded).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        bodies.lock().unwrap().len(),
        2,
        "a refused request reached the endpoint"
    );

    // Requests without a body pass unread.
    let response = send(Method::GET, "reader", "").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

fn challenge_of<B>(response: &Response<B>) -> String {
    response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned()
}
