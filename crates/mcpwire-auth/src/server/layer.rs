//! [`BearerAuthLayer`]: the resource server as a `tower` layer in front of the MCP endpoint,
//! and [`MetadataService`], its Protected Resource Metadata on its own.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{
    ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, WWW_AUTHENTICATE,
};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt as _, Either, Full, LengthLimitError, Limited};
use tower::{Layer, Service, ServiceExt as _};

use crate::error::Error;
use crate::secret::Secret;
use crate::server::bearer::{Presented, Scheme, presented};
use crate::server::challenge::{Challenge, ErrorCode};
use crate::server::dpop::{CheckedProof, DpopSettings, ProofTarget};
use crate::server::principal::Principal;
use crate::server::resource::{Compiled, ProtectedResource};
use crate::server::verifier::TokenVerifier;

/// The body of the responses of a [`BearerAuthService`]: the endpoint's own, or the layer's
/// (a refusal, or the metadata document).
pub type AuthBody<B> = Either<B, Full<Bytes>>;

/// The body of the requests the endpoint behind a [`BearerAuthService`] receives: the
/// client's, as it came, or the same bytes already read, when the layer read them to find
/// the [operations](ProtectedResource::tool_scopes) the request calls.
pub type AuthRequestBody<B> = Either<B, Full<Bytes>>;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The `DPoP` request header (RFC 9449 §4.1).
const DPOP_HEADER: http::HeaderName = http::HeaderName::from_static("dpop");

/// The `DPoP-Nonce` response header (RFC 9449 §9).
const DPOP_NONCE_HEADER: http::HeaderName = http::HeaderName::from_static("dpop-nonce");

/// A `tower` layer that makes an MCP endpoint an OAuth 2.1 resource server.
///
/// Every request to the wrapped service, whatever its method, must carry a bearer token in
/// its one `Authorization` header (never in the query string or a form body), which the
/// [`TokenVerifier`] accepts and which grants the
/// [required scopes](ProtectedResource::required_scopes). Then the verified [`Principal`]
/// is inserted into the request's extensions, and the request goes to the service; until
/// then, the service is neither polled nor called, so a refused request allocates nothing
/// in it (no MCP session).
///
/// | answer | when |
/// |---|---|
/// | `200` with the metadata | `GET` or `HEAD` of one of the [metadata paths](Self::metadata_paths), without a token |
/// | `400`, `error="invalid_request"` | two `Authorization` headers, or `Bearer` credentials that are not one `token68` |
/// | `401`, no `error` | no `Authorization` header, or another scheme than `Bearer` |
/// | `401`, `error="invalid_token"` | a token over the [size limit](ProtectedResource::max_token_bytes), or refused by the verifier |
/// | `403`, `error="insufficient_scope"` | a valid token without every required scope, or without the scopes of a [method](ProtectedResource::method_scopes) or [tool](ProtectedResource::tool_scopes) the request calls |
/// | `400`, a JSON-RPC parse error | when methods or tools have scopes of their own: a `POST` body that is not JSON-RPC whose methods can be read |
/// | `413` | when methods or tools have scopes of their own: a `POST` body over [the limit](ProtectedResource::max_request_bytes) |
/// | `503` | the verifier could not verify the token now (keys or introspection unreachable) |
///
/// Every `401` and `403`, and the `400` of a malformed `Authorization`, carries
/// `WWW-Authenticate: Bearer` with `resource_metadata` (the [metadata URL](Self::metadata_url))
/// and `scope`: for `401`, the required scopes (or, without any, the supported ones); for
/// `403`, the scopes the request needs together with those of the token that the resource
/// supports, so that a client that steps up keeps what it had. Refusals other than the
/// parse error have an empty body.
///
/// Methods and tools can need scopes of their own ([`ProtectedResource::method_scopes`],
/// [`ProtectedResource::tool_scopes`]). Then the layer reads each authorized `POST` body
/// (batches included) to find what it calls, without building a JSON tree, and hands the
/// endpoint the bytes it read ([`AuthRequestBody`]); without such scopes, bodies pass
/// through unread.
#[derive(Clone)]
pub struct BearerAuthLayer {
    shared: Arc<Shared>,
}

struct Shared {
    resource: Compiled,
    verifier: Box<dyn TokenVerifier>,
}

impl BearerAuthLayer {
    /// A layer protecting `resource` whose tokens `verifier` checks.
    ///
    /// # Errors
    ///
    /// [`Error::is_config`] when the resource is not a canonical `https` URI (or `http` to a
    /// loopback host), without query or fragment; when it names no authorization server, or
    /// one that is not such a URL; or when a scope is not a valid scope token.
    pub fn new(resource: ProtectedResource, verifier: impl TokenVerifier) -> Result<Self, Error> {
        Ok(BearerAuthLayer {
            shared: Arc::new(Shared {
                resource: resource.compile()?,
                verifier: Box::new(verifier),
            }),
        })
    }

    /// The URL of the metadata at the path-inserted well-known URI, as the challenges'
    /// `resource_metadata` name it: for `https://mcp.example.com/mcp`,
    /// `https://mcp.example.com/.well-known/oauth-protected-resource/mcp`.
    pub fn metadata_url(&self) -> &str {
        &self.shared.resource.metadata_url
    }

    /// The paths the metadata is served at: the path-inserted well-known path, then the
    /// root one (unless [turned off](ProtectedResource::root_metadata), or the same). The
    /// layer answers them itself when they reach it; in a router, mount
    /// [`metadata_service`](Self::metadata_service) at each.
    pub fn metadata_paths(&self) -> &[String] {
        &self.shared.resource.metadata_paths
    }

    /// The metadata document, exactly as served.
    pub fn metadata_document(&self) -> &[u8] {
        &self.shared.resource.document
    }

    /// A service that answers with the metadata, for a router's metadata paths.
    pub fn metadata_service(&self) -> MetadataService {
        MetadataService {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl fmt::Debug for BearerAuthLayer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("BearerAuthLayer")
            .field("resource", &self.shared.resource.resource)
            .field("metadata_url", &self.shared.resource.metadata_url)
            .field("required_scopes", &self.shared.resource.required_scopes)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for BearerAuthLayer {
    type Service = BearerAuthService<S>;

    fn layer(&self, inner: S) -> BearerAuthService<S> {
        BearerAuthService {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service [`BearerAuthLayer`] makes.
#[derive(Clone)]
pub struct BearerAuthService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> fmt::Debug for BearerAuthService<S> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("BearerAuthService")
            .field("resource", &self.shared.resource.resource)
            .finish_non_exhaustive()
    }
}

impl<S, B, ResBody> Service<Request<B>> for BearerAuthService<S>
where
    S: Service<Request<AuthRequestBody<B>>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
    ResBody: 'static,
{
    type Response = Response<AuthBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        // The inner service is driven to readiness only once the request is authorized, so
        // a refused request reserves nothing in it.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let shared = Arc::clone(&self.shared);
        let inner = self.inner.clone();
        Box::pin(async move {
            if is_metadata_request(&shared.resource, &request) {
                return Ok(metadata_response(&shared.resource, request.method()).map(Either::Right));
            }
            let principal = match authorize(
                &shared,
                request.method(),
                request.uri(),
                request.headers(),
            )
            .await
            {
                Ok(principal) => principal,
                Err(refusal) => return Ok(refusal.map(Either::Right)),
            };
            let resource = &shared.resource;
            let mut request = if resource.operations.is_empty() || request.method() != Method::POST
            {
                request.map(Either::Left)
            } else {
                match check_operations(resource, &principal, request).await {
                    Ok(request) => request,
                    Err(refusal) => return Ok(refusal.map(Either::Right)),
                }
            };
            if let Some(value) = request.headers_mut().get_mut(AUTHORIZATION) {
                value.set_sensitive(true);
            }
            // Sessions belong to the principal that made them (`mcpwire-http`).
            request
                .extensions_mut()
                .insert(mcpwire_http::server::SessionOwner(principal.owner_key()));
            request.extensions_mut().insert(principal);
            let mut response = inner.oneshot(request).await?;
            if let Some(dpop) = &shared.resource.dpop {
                hand_out_nonce(dpop, response.headers_mut());
            }
            Ok(response.map(Either::Left))
        })
    }
}

/// Reads the body of an authorized `POST` (within the limit), and checks that the token has
/// the scopes of every method and tool it calls: the request again, with the body read, or
/// the refusal to answer with.
async fn check_operations<B>(
    resource: &Compiled,
    principal: &Principal,
    request: Request<B>,
) -> Result<Request<AuthRequestBody<B>>, Response<Full<Bytes>>>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let limit = resource.max_request_bytes;
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(status_only(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<LengthLimitError>() => {
            return Err(status_only(StatusCode::PAYLOAD_TOO_LARGE));
        }
        Err(_) => return Err(status_only(StatusCode::BAD_REQUEST)),
    };
    let mut needed: Vec<&str> = resource
        .required_scopes
        .iter()
        .map(String::as_str)
        .collect();
    if resource.operations.needed(&body, &mut needed).is_err() {
        // What the request calls is unclear, so it cannot be authorized: answered as the
        // endpoint would answer a body that is not JSON-RPC.
        let mut response = Response::new(Full::new(Bytes::from_static(PARSE_ERROR)));
        *response.status_mut() = StatusCode::BAD_REQUEST;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return Err(response);
    }
    check_scopes(resource, principal, &needed)?;
    Ok(Request::from_parts(parts, Either::Right(Full::new(body))))
}

/// The JSON-RPC answer to a body whose operations cannot be read.
const PARSE_ERROR: &[u8] =
    br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#;

fn status_only(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// Reads, verifies and checks the scopes of the request's token (and its DPoP proof): the
/// principal, or the refusal to answer with.
async fn authorize(
    shared: &Shared,
    method: &Method,
    uri: &http::Uri,
    headers: &HeaderMap,
) -> Result<Principal, Response<Full<Bytes>>> {
    let resource = &shared.resource;
    let dpop = resource.dpop.as_ref();
    let (token, scheme) = match presented(headers, resource.max_token_bytes, dpop.is_some()) {
        Presented::Token(token, scheme) => (token, scheme),
        Presented::Nothing => {
            return Err(refusal(
                resource,
                StatusCode::UNAUTHORIZED,
                None,
                None,
                None,
            ));
        }
        Presented::Malformed(description) => {
            tracing::debug!(reason = description, "refused a malformed authorization");
            return Err(refusal(
                resource,
                StatusCode::BAD_REQUEST,
                Some(ErrorCode::InvalidRequest),
                Some(description),
                None,
            ));
        }
        Presented::TooLong => {
            tracing::debug!("refused an access token over the size limit");
            return Err(refusal(
                resource,
                StatusCode::UNAUTHORIZED,
                Some(ErrorCode::InvalidToken),
                Some("the token is too long"),
                None,
            ));
        }
    };
    let proof = match (scheme, dpop) {
        (Scheme::Dpop, Some(dpop)) => {
            Some(check_proof(resource, dpop, method, uri, headers, &token)?)
        }
        (Scheme::Bearer, Some(dpop)) if dpop.required => {
            return Err(refusal(
                resource,
                StatusCode::UNAUTHORIZED,
                Some(ErrorCode::InvalidToken),
                Some("this resource takes DPoP-bound tokens only"),
                None,
            ));
        }
        _ => None,
    };
    let principal = match shared.verifier.verify(&token).await {
        Ok(principal) => principal,
        Err(rejection) if rejection.is_unavailable() => {
            tracing::warn!(
                reason = rejection.description(),
                "cannot verify an access token"
            );
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            return Err(response);
        }
        Err(rejection) => {
            tracing::debug!(reason = rejection.description(), "refused an access token");
            return Err(refusal(
                resource,
                StatusCode::UNAUTHORIZED,
                Some(ErrorCode::InvalidToken),
                Some(rejection.description()),
                None,
            ));
        }
    };
    check_binding(resource, dpop, proof.as_ref(), &principal)?;
    let required: Vec<&str> = resource
        .required_scopes
        .iter()
        .map(String::as_str)
        .collect();
    check_scopes(resource, &principal, &required)?;
    Ok(principal)
}

/// Checks the request's one `DPoP` proof with the checker: the checked proof, or the
/// refusal.
fn check_proof(
    resource: &Compiled,
    dpop: &DpopSettings,
    method: &Method,
    uri: &http::Uri,
    headers: &HeaderMap,
    token: &Secret,
) -> Result<CheckedProof, Response<Full<Bytes>>> {
    let invalid = |description: &str| {
        tracing::debug!(reason = description, "refused a DPoP proof");
        refusal(
            resource,
            StatusCode::UNAUTHORIZED,
            Some(ErrorCode::InvalidDpopProof),
            Some(description),
            None,
        )
    };
    let mut proofs = headers.get_all(DPOP_HEADER).iter();
    let (Some(proof), None) = (proofs.next(), proofs.next()) else {
        return Err(invalid(
            "a DPoP-bound request needs exactly one DPoP header",
        ));
    };
    let Ok(proof) = proof.to_str() else {
        return Err(invalid("the DPoP proof is not a JWT"));
    };
    // `htu` is the request's URI with the resource's scheme and authority: what the client
    // sent the request to, whatever the proxies in between rewrote.
    let mut target = resource.url.clone();
    target.set_path(uri.path());
    let checked = dpop
        .checker
        .check(proof, &ProofTarget::new(method, &target, token));
    checked.map_err(|rejection| match rejection.nonce() {
        Some(nonce) => {
            let mut response = refusal(
                resource,
                StatusCode::UNAUTHORIZED,
                Some(ErrorCode::UseDpopNonce),
                Some(rejection.description()),
                None,
            );
            // The nonce asked for, in place of the current one `refusal` handed out.
            if let Ok(nonce) = HeaderValue::from_str(nonce) {
                response.headers_mut().insert(DPOP_NONCE_HEADER, nonce);
            }
            response
        }
        None => invalid(rejection.description()),
    })
}

/// Checks that a DPoP-bound token came with a proof of its key, and a proof with the token
/// its key is bound to; then records the proof against replay.
fn check_binding(
    resource: &Compiled,
    dpop: Option<&DpopSettings>,
    proof: Option<&CheckedProof>,
    principal: &Principal,
) -> Result<(), Response<Full<Bytes>>> {
    let bound = principal.confirmation_thumbprint();
    let refuse = |code: ErrorCode, description: &str| {
        tracing::debug!(reason = description, "refused an access token");
        Err(refusal(
            resource,
            StatusCode::UNAUTHORIZED,
            Some(code),
            Some(description),
            None,
        ))
    };
    match (proof, bound, dpop) {
        (None, None, _) => Ok(()),
        (None, Some(_), _) => refuse(
            ErrorCode::InvalidToken,
            "a DPoP-bound token must be presented with the DPoP scheme and a proof",
        ),
        (Some(_), None, _) => refuse(ErrorCode::InvalidToken, "the token is not DPoP-bound"),
        (Some(proof), Some(bound), Some(dpop)) => {
            if proof.thumbprint != bound {
                return refuse(
                    ErrorCode::InvalidDpopProof,
                    "the DPoP proof's key is not the key the token is bound to",
                );
            }
            dpop.checker
                .record(proof)
                .or_else(|rejection| refuse(ErrorCode::InvalidDpopProof, rejection.description()))
        }
        (Some(_), Some(_), None) => refuse(ErrorCode::InvalidToken, "DPoP is not accepted"),
    }
}

/// Checks that the token grants every scope of `needed`, or answers `403` with a challenge
/// to step up.
fn check_scopes(
    resource: &Compiled,
    principal: &Principal,
    needed: &[&str],
) -> Result<(), Response<Full<Bytes>>> {
    if needed.iter().all(|scope| principal.has_scope(scope)) {
        return Ok(());
    }
    let scope = step_up_scope(resource, principal, needed);
    tracing::debug!(
        subject = principal.subject.as_deref(),
        needed = %scope,
        "refused a token without the scopes the request needs"
    );
    Err(refusal(
        resource,
        StatusCode::FORBIDDEN,
        Some(ErrorCode::InsufficientScope),
        Some("the token lacks a required scope"),
        Some(&scope),
    ))
}

/// The `scope` of a `403`: the scopes the request needs, then the token's scopes that the
/// resource supports (all of them when it lists none), so that a step-up keeps them.
fn step_up_scope(resource: &Compiled, principal: &Principal, needed: &[&str]) -> String {
    let mut scopes: Vec<&str> = needed.to_vec();
    for granted in &principal.scopes {
        let relevant = resource
            .scopes_supported
            .as_ref()
            .is_none_or(|supported| supported.contains(granted));
        if relevant
            && !scopes.contains(&granted.as_str())
            && crate::server::resource::is_scope_token(granted)
        {
            scopes.push(granted);
        }
    }
    scopes.join(" ")
}

/// A refusal with its challenges; `scope` overrides the resource's challenge scope.
///
/// With DPoP accepted, a `DPoP` challenge (with `algs`) comes with the `Bearer` one, or in
/// its place when DPoP is required; an error about the proof goes into the `DPoP` challenge
/// only.
fn refusal(
    resource: &Compiled,
    status: StatusCode,
    error: Option<ErrorCode>,
    description: Option<&str>,
    scope: Option<&str>,
) -> Response<Full<Bytes>> {
    let scope = scope.or(resource.challenge_scope.as_deref());
    let dpop_error = matches!(
        error,
        Some(ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce)
    );
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    let bearer = resource.dpop.as_ref().is_none_or(|dpop| !dpop.required) && !dpop_error;
    if bearer {
        let challenge = Challenge {
            dpop_algs: None,
            resource_metadata: &resource.metadata_url,
            scope,
            error,
            description,
        };
        response
            .headers_mut()
            .append(WWW_AUTHENTICATE, challenge.header_value());
    }
    if let Some(dpop) = &resource.dpop {
        hand_out_nonce(dpop, response.headers_mut());
        let algs = dpop.checker.algorithms().join(" ");
        let own_error = dpop_error || !bearer;
        let challenge = Challenge {
            dpop_algs: Some(&algs),
            resource_metadata: &resource.metadata_url,
            scope,
            error: error.filter(|_| own_error),
            description: description.filter(|_| own_error),
        };
        response
            .headers_mut()
            .append(WWW_AUTHENTICATE, challenge.header_value());
    }
    response
}

/// Adds the checker's current nonce, if it issues nonces, as `DPoP-Nonce`.
fn hand_out_nonce(dpop: &DpopSettings, headers: &mut HeaderMap) {
    if let Some(nonce) = dpop.checker.current_nonce()
        && let Ok(nonce) = HeaderValue::from_str(&nonce)
    {
        headers.insert(DPOP_NONCE_HEADER, nonce);
    }
}

fn is_metadata_request<B>(resource: &Compiled, request: &Request<B>) -> bool {
    (request.method() == Method::GET || request.method() == Method::HEAD)
        && resource
            .metadata_paths
            .iter()
            .any(|path| path == request.uri().path())
}

/// The metadata for `GET` and `HEAD`, `405` for anything else.
fn metadata_response(resource: &Compiled, method: &Method) -> Response<Full<Bytes>> {
    if method != Method::GET && method != Method::HEAD {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let mut response = Response::new(Full::new(resource.document.clone()));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=300"));
    response
}

/// The Protected Resource Metadata of a [`BearerAuthLayer`] as a service of its own, for the
/// [metadata paths](BearerAuthLayer::metadata_paths) of a router: `GET` and `HEAD` get the
/// document, other methods `405`. It answers whatever the path.
#[derive(Clone)]
pub struct MetadataService {
    shared: Arc<Shared>,
}

impl fmt::Debug for MetadataService {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("MetadataService")
            .field("resource", &self.shared.resource.resource)
            .finish()
    }
}

impl<B> Service<Request<B>> for MetadataService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<Full<Bytes>>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        std::future::ready(Ok(metadata_response(
            &self.shared.resource,
            request.method(),
        )))
    }
}
