//! [`AuthLayer`] and [`AuthService`]: authorization as a `tower` layer of `mcpwire-http`'s
//! client stack.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::AUTHORIZATION;
use http::{HeaderValue, Request, Response, StatusCode};
use mcpwire_http::client::{BoxError, HttpClientService, RequestBody, ResponseBody};
use tower::{Layer, Service, ServiceExt as _};
use url::Url;

use crate::client::authorizer::{Authorizer, Reauthorized};
use crate::client::challenge::BearerChallenge;
use crate::client::config::OAuthConfig;
use crate::client::dpop::{DPOP, is_nonce_challenge};
use crate::client::metadata::server_resource;
use crate::client::token::TokenType;
use crate::error::{Error, Kind};

/// The most times one request is sent (the first time, and each retry after a refresh, an
/// authorization or a step-up).
const MAX_SENDS: usize = 8;

/// A `tower` layer that authorizes the requests of an `mcpwire-http` client.
///
/// It sends the token of the MCP endpoint's authorization server on every request (only to
/// the resource the token was granted for), and answers the server's challenges:
///
/// - `401`: the token is refreshed if it can be; otherwise the server's Protected Resource
///   Metadata and its authorization server's metadata are discovered afresh (so a server
///   that moved to another authorization server is followed), the client identifies itself
///   to that server, the user authorizes through the [`UserAgent`](crate::client::UserAgent),
///   and the request is sent again with the new token. At most one authorization per
///   request; a second `401` is returned as is.
/// - `403` with `error="insufficient_scope"`: a step-up authorization for the scopes asked
///   for before and those challenged, at most
///   [`OAuthConfig::max_step_ups`] times per request; then the `403` is returned.
///
/// A failure of discovery, registration, authorization or the token endpoint fails the
/// request with an [`Error`](crate::Error) (as a `BoxError`).
///
/// Add it with [`HttpClientBuilder::layer`](mcpwire_http::client::HttpClientBuilder::layer).
/// The layer's own requests (metadata, registration, tokens), whose URLs the servers choose,
/// do not go through the stack below it: they go through the guarded stack of the
/// configuration's [`FetchPolicy`](crate::client::FetchPolicy), which refuses private,
/// loopback, link-local and cloud metadata addresses, or through
/// [`OAuthConfig::http_service`].
#[derive(Clone)]
pub struct AuthLayer {
    authorizer: Arc<Authorizer>,
}

impl AuthLayer {
    /// A layer with `config`.
    pub fn new(config: OAuthConfig) -> Self {
        AuthLayer {
            authorizer: Arc::new(Authorizer::new(config)),
        }
    }
}

impl fmt::Debug for AuthLayer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AuthLayer")
            .field("config", self.authorizer.config())
            .finish()
    }
}

impl Layer<HttpClientService> for AuthLayer {
    type Service = AuthService;

    fn layer(&self, inner: HttpClientService) -> AuthService {
        AuthService {
            inner,
            authorizer: self.authorizer.clone(),
        }
    }
}

/// The service [`AuthLayer`] makes.
#[derive(Clone)]
pub struct AuthService {
    inner: HttpClientService,
    authorizer: Arc<Authorizer>,
}

impl fmt::Debug for AuthService {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AuthService")
            .finish_non_exhaustive()
    }
}

impl Service<Request<RequestBody>> for AuthService {
    type Response = Response<ResponseBody>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResponseBody>, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Each send drives a clone of the inner service to readiness itself.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<RequestBody>) -> Self::Future {
        let inner = self.inner.clone();
        let authorizer = self.authorizer.clone();
        Box::pin(async move { send(inner, &authorizer, request).await })
    }
}

async fn send(
    inner: HttpClientService,
    authorizer: &Authorizer,
    request: Request<RequestBody>,
) -> Result<Response<ResponseBody>, BoxError> {
    let Ok(url) = Url::parse(&request.uri().to_string()) else {
        // Not an absolute URL: nothing to authorize against.
        return inner.oneshot(request).await;
    };
    let endpoint = server_resource(&url);
    let fetcher = authorizer.fetcher();
    let (parts, body) = request.into_parts();
    let mut refreshed = false;
    let mut authorized = false;
    let mut nonce_retried = false;
    let mut step_ups = 0;
    for _ in 0..MAX_SENDS {
        let sent = authorizer.bearer(&fetcher, &endpoint).await;
        let mut attempt = Request::new(body.clone());
        *attempt.method_mut() = parts.method.clone();
        *attempt.uri_mut() = parts.uri.clone();
        *attempt.version_mut() = parts.version;
        *attempt.headers_mut() = parts.headers.clone();
        if let Some(token) = &sent.bearer {
            let scheme = sent.token_type.scheme();
            let mut value = HeaderValue::from_str(&format!("{scheme} {}", token.expose()))
                .map_err(|_| {
                    boxed(Error::new(
                        Kind::Token,
                        "the access token is not a header value",
                    ))
                })?;
            value.set_sensitive(true);
            attempt.headers_mut().insert(AUTHORIZATION, value);
            if sent.token_type == TokenType::Dpop {
                let dpop = authorizer.dpop().ok_or_else(|| {
                    boxed(Error::new(
                        Kind::Token,
                        "a DPoP-bound token is stored but DPoP is not configured",
                    ))
                })?;
                let proof = dpop
                    .header(parts.method.as_str(), &url, Some(token))
                    .map_err(boxed)?;
                attempt.headers_mut().insert(DPOP, proof);
            }
        }
        let response = inner.clone().oneshot(attempt).await?;
        // A server may hand out its next nonce on any answer (RFC 9449 §9).
        let fresh_nonce = authorizer
            .dpop()
            .is_some_and(|dpop| dpop.remember(&url, response.headers()));
        if response.status() == StatusCode::UNAUTHORIZED
            && sent.token_type == TokenType::Dpop
            && fresh_nonce
            && !nonce_retried
            && is_nonce_challenge(response.headers())
        {
            tracing::debug!("the MCP server asked for a DPoP nonce; retrying with it");
            nonce_retried = true;
            continue;
        }
        let challenge = BearerChallenge::from_headers(response.headers()).unwrap_or_default();
        match response.status() {
            StatusCode::UNAUTHORIZED if !authorized => {
                let outcome = authorizer
                    .unauthorized(&fetcher, &endpoint, &challenge, &sent, !refreshed)
                    .await
                    .map_err(boxed)?;
                match outcome {
                    Reauthorized::Refreshed => refreshed = true,
                    Reauthorized::Authorized | Reauthorized::Reused => authorized = true,
                    Reauthorized::Meanwhile => {}
                }
            }
            StatusCode::FORBIDDEN if sent.bearer.is_some() => {
                let limit = authorizer.config().max_step_ups;
                if !challenge.is_insufficient_scope() || step_ups >= limit {
                    return Ok(response);
                }
                step_ups += 1;
                authorizer
                    .insufficient_scope(&fetcher, &endpoint, &challenge, &sent)
                    .await
                    .map_err(boxed)?;
            }
            _ => return Ok(response),
        }
    }
    Err(boxed(Error::new(
        Kind::Authorization,
        "the request was still refused after every retry",
    )))
}

fn boxed(error: Error) -> BoxError {
    Box::new(error)
}
