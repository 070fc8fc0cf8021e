//! [`IntrospectionVerifier`]: opaque tokens verified by asking the authorization server
//! (RFC 7662 token introspection).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderValue, StatusCode};
use mcpwire_http::client::HttpClientService;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use tokio::time::Instant;
use url::Url;

use crate::error::{Error, Kind};
use crate::fetch::{FetchPolicy, Fetcher};
use crate::secret::Secret;
use crate::server::jwt::DEFAULT_LEEWAY;
use crate::server::principal::{Principal, numeric_date};
use crate::server::verifier::{Rejection, TokenVerifier, VerifyFuture};

/// The default time an introspection result is reused: 30 seconds.
pub const DEFAULT_INTROSPECTION_CACHE_TTL: Duration = Duration::from_secs(30);

/// The default number of introspection results kept: 1024.
pub const DEFAULT_INTROSPECTION_CACHE_CAPACITY: usize = 1024;

/// A [`TokenVerifier`] that asks the authorization server's introspection endpoint (RFC
/// 7662) about each token, for opaque (non-JWT) access tokens.
///
/// The request is a `POST` of `token` and `token_type_hint=access_token`, authenticated as
/// the resource server's client ([`client_secret_basic`](IntrospectionVerifierBuilder::client_secret_basic)
/// or [`client_secret_post`](IntrospectionVerifierBuilder::client_secret_post)), under the
/// [`FetchPolicy`]. A token is accepted when the answer is `200` with a JSON object whose
/// `active` is `true`, whose `exp` is present and not past, whose `nbf` (if any) is not in
/// the future (with the [leeway](IntrospectionVerifierBuilder::leeway)), whose `aud` is or
/// contains one of the audiences (this resource), whose `iss` is the
/// [issuer](IntrospectionVerifierBuilder::issuer) when one is configured, and whose
/// `token_type` (if any) is a bearer access token.
///
/// It fails closed: when the endpoint cannot be reached, answers anything but `200`, or
/// answers something unreadable, the request gets `503`.
///
/// Accepted results are kept for a short [time](IntrospectionVerifierBuilder::cache_ttl)
/// (never past the token's `exp`) in a map of bounded
/// [size](IntrospectionVerifierBuilder::cache_capacity), keyed by the SHA-256 of the token,
/// so the token itself is not kept. A revoked token may thus be accepted until its entry
/// expires.
#[derive(Clone)]
pub struct IntrospectionVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: Url,
    audiences: Vec<String>,
    issuer: Option<String>,
    authentication: Authentication,
    leeway: Duration,
    fetcher: Fetcher,
    cache_ttl: Duration,
    cache_capacity: usize,
    cache: Mutex<HashMap<[u8; 32], (Principal, Instant)>>,
}

/// How the resource server authenticates to the introspection endpoint.
#[derive(Clone)]
enum Authentication {
    None,
    Basic(HeaderValue),
    Post { client_id: String, secret: Secret },
}

impl IntrospectionVerifier {
    /// A builder for the introspection endpoint `endpoint`, accepting tokens for the
    /// resource `audience` (this MCP server's canonical URI).
    pub fn builder(
        endpoint: impl Into<String>,
        audience: impl Into<String>,
    ) -> IntrospectionVerifierBuilder {
        IntrospectionVerifierBuilder {
            endpoint: endpoint.into(),
            audiences: vec![audience.into()],
            issuer: None,
            authentication: Authentication::None,
            leeway: DEFAULT_LEEWAY,
            fetch_policy: FetchPolicy::default(),
            http_service: None,
            cache_ttl: DEFAULT_INTROSPECTION_CACHE_TTL,
            cache_capacity: DEFAULT_INTROSPECTION_CACHE_CAPACITY,
        }
    }

    async fn verify_token(&self, token: &Secret) -> Result<Principal, Rejection> {
        let inner = &*self.inner;
        let key: [u8; 32] = Sha256::digest(token.expose().as_bytes()).into();
        if let Some(principal) = inner.cached(&key) {
            return Ok(principal);
        }
        let mut form = vec![
            ("token", token.expose()),
            ("token_type_hint", "access_token"),
        ];
        let mut basic = None;
        match &inner.authentication {
            Authentication::None => {}
            Authentication::Basic(value) => basic = Some(value.clone()),
            Authentication::Post { client_id, secret } => {
                form.push(("client_id", client_id));
                form.push(("client_secret", secret.expose()));
            }
        }
        let fetched = inner
            .fetcher
            .post_form(&inner.endpoint, &form, basic, None)
            .await
            .map_err(|error| {
                tracing::warn!(%error, "cannot reach the introspection endpoint");
                Rejection::unavailable("the introspection endpoint is unreachable")
            })?;
        if fetched.status != StatusCode::OK {
            tracing::warn!(status = %fetched.status, "the introspection endpoint refused");
            return Err(Rejection::unavailable(
                "the introspection endpoint did not answer",
            ));
        }
        let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(&fetched.body) else {
            return Err(Rejection::unavailable(
                "the introspection answer is not a JSON object",
            ));
        };
        let principal = inner.check(claims)?;
        inner.remember(key, &principal);
        Ok(principal)
    }
}

impl Inner {
    fn check(&self, claims: Map<String, Value>) -> Result<Principal, Rejection> {
        if claims.get("active") != Some(&Value::Bool(true)) {
            return Err(Rejection::invalid_token("the token is not active"));
        }
        let now = SystemTime::now();
        let Some(expires_at) = claims.get("exp").and_then(numeric_date) else {
            return Err(Rejection::invalid_token("the token has no expiry"));
        };
        if expires_at + self.leeway < now {
            return Err(Rejection::invalid_token("the token has expired"));
        }
        if let Some(not_before) = claims.get("nbf")
            && numeric_date(not_before).is_none_or(|not_before| not_before > now + self.leeway)
        {
            return Err(Rejection::invalid_token("the token is not valid yet"));
        }
        if let Some(issuer) = &self.issuer
            && claims.get("iss").and_then(Value::as_str) != Some(issuer.as_str())
        {
            return Err(Rejection::invalid_token(
                "the token's issuer is not trusted",
            ));
        }
        if let Some(token_type) = claims.get("token_type") {
            let bearer = token_type.as_str().is_some_and(|token_type| {
                token_type.eq_ignore_ascii_case("bearer")
                    || token_type.eq_ignore_ascii_case("access_token")
            });
            if !bearer {
                return Err(Rejection::invalid_token("the token is not an access token"));
            }
        }
        let principal = Principal::from_claims(claims);
        if !principal
            .audiences
            .iter()
            .any(|audience| self.audiences.contains(audience))
        {
            return Err(Rejection::invalid_token(
                "the token is not for this resource",
            ));
        }
        Ok(principal)
    }

    fn cached(&self, key: &[u8; 32]) -> Option<Principal> {
        let cache = self.cache.lock().expect("the cache lock is never poisoned");
        let (principal, until) = cache.get(key)?;
        (Instant::now() < *until
            && principal
                .expires_at
                .is_some_and(|expires_at| expires_at + self.leeway >= SystemTime::now()))
        .then(|| principal.clone())
    }

    fn remember(&self, key: [u8; 32], principal: &Principal) {
        if self.cache_ttl.is_zero() || self.cache_capacity == 0 {
            return;
        }
        let mut cache = self.cache.lock().expect("the cache lock is never poisoned");
        if cache.len() >= self.cache_capacity {
            let now = Instant::now();
            cache.retain(|_, (_, until)| *until > now);
        }
        if cache.len() >= self.cache_capacity {
            // Still full of live entries: drop the one that expires first.
            let oldest = cache
                .iter()
                .min_by_key(|(_, (_, until))| *until)
                .map(|(key, _)| *key);
            if let Some(oldest) = oldest {
                cache.remove(&oldest);
            }
        }
        cache.insert(key, (principal.clone(), Instant::now() + self.cache_ttl));
    }
}

impl TokenVerifier for IntrospectionVerifier {
    fn verify<'a>(&'a self, token: &'a Secret) -> VerifyFuture<'a> {
        Box::pin(self.verify_token(token))
    }
}

impl fmt::Debug for IntrospectionVerifier {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("IntrospectionVerifier")
            .field("endpoint", &self.inner.endpoint.as_str())
            .field("audiences", &self.inner.audiences)
            .field("issuer", &self.inner.issuer)
            .finish_non_exhaustive()
    }
}

/// The configuration of an [`IntrospectionVerifier`]; [`IntrospectionVerifier::builder`]
/// makes one.
#[derive(Clone)]
pub struct IntrospectionVerifierBuilder {
    endpoint: String,
    audiences: Vec<String>,
    issuer: Option<String>,
    authentication: Authentication,
    leeway: Duration,
    fetch_policy: FetchPolicy,
    http_service: Option<HttpClientService>,
    cache_ttl: Duration,
    cache_capacity: usize,
}

impl IntrospectionVerifierBuilder {
    /// Accepts tokens for `audience` too.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Requires the answer's `iss` to be exactly `issuer`.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Authenticates with HTTP Basic (`client_secret_basic`, RFC 6749 §2.3.1).
    pub fn client_secret_basic(
        mut self,
        client_id: impl Into<String>,
        secret: impl Into<Secret>,
    ) -> Self {
        let encode =
            |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
        let credentials = format!(
            "{}:{}",
            encode(&client_id.into()),
            encode(secret.into().expose())
        );
        let mut value = HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(credentials)))
            .expect("Base64 is a header value");
        value.set_sensitive(true);
        self.authentication = Authentication::Basic(value);
        self
    }

    /// Authenticates with `client_id` and `client_secret` in the form body
    /// (`client_secret_post`).
    pub fn client_secret_post(
        mut self,
        client_id: impl Into<String>,
        secret: impl Into<Secret>,
    ) -> Self {
        self.authentication = Authentication::Post {
            client_id: client_id.into(),
            secret: secret.into(),
        };
        self
    }

    /// The clock skew allowed on `exp` and `nbf` ([`DEFAULT_LEEWAY`] by default).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The policy of the introspection requests (`https` only to public addresses by
    /// default; allow private addresses for an endpoint on an internal network).
    pub fn fetch_policy(mut self, policy: FetchPolicy) -> Self {
        self.fetch_policy = policy;
        self
    }

    /// The HTTP stack of the introspection requests, instead of the fetch policy's guarded
    /// stack ([`FetchPolicy::guarded_service`]). The policy's URL checks, body cap and
    /// deadline still apply; which addresses the stack connects to is then up to it.
    pub fn http_service(mut self, service: HttpClientService) -> Self {
        self.http_service = Some(service);
        self
    }

    /// How long an accepted result is reused ([`DEFAULT_INTROSPECTION_CACHE_TTL`] by
    /// default); zero asks about every request.
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// How many results are kept at most ([`DEFAULT_INTROSPECTION_CACHE_CAPACITY`] by
    /// default).
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// The verifier.
    ///
    /// # Errors
    ///
    /// [`Error::is_config`] for an empty audience or an endpoint that is not a URL;
    /// [`Error::is_fetch`] for an endpoint the fetch policy refuses.
    pub fn build(self) -> Result<IntrospectionVerifier, Error> {
        if self.audiences.iter().any(String::is_empty) {
            return Err(Error::new(Kind::Config, "the audiences must not be empty"));
        }
        let endpoint = Url::parse(&self.endpoint).map_err(|error| {
            Error::new(Kind::Config, "the introspection endpoint is not a URL").with_source(error)
        })?;
        self.fetch_policy.check(&endpoint)?;
        let service = match self.http_service {
            Some(service) => service,
            None => self.fetch_policy.guarded_service()?,
        };
        Ok(IntrospectionVerifier {
            inner: Arc::new(Inner {
                endpoint,
                audiences: self.audiences,
                issuer: self.issuer,
                authentication: self.authentication,
                leeway: self.leeway,
                fetcher: Fetcher::new(service, self.fetch_policy),
                cache_ttl: self.cache_ttl,
                cache_capacity: self.cache_capacity,
                cache: Mutex::new(HashMap::new()),
            }),
        })
    }
}

impl fmt::Debug for IntrospectionVerifierBuilder {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("IntrospectionVerifierBuilder")
            .field("endpoint", &self.endpoint)
            .field("audiences", &self.audiences)
            .field("issuer", &self.issuer)
            .field("leeway", &self.leeway)
            .field("fetch_policy", &self.fetch_policy)
            .field("cache_ttl", &self.cache_ttl)
            .field("cache_capacity", &self.cache_capacity)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::UNIX_EPOCH;

    use bytes::Bytes;
    use http::{Request, Response};
    use http_body_util::{BodyExt as _, Full};
    use mcpwire_http::client::{BoxError, RequestBody, ResponseBody};
    use serde_json::json;
    use tower::util::BoxCloneSyncService;

    use super::*;

    const ENDPOINT: &str = "https://as.example.com/introspect";
    const RESOURCE: &str = "https://mcp.example.com/mcp";

    /// What the endpoint saw: its requests' `Authorization` and form bodies.
    type Seen = Arc<Mutex<Vec<(Option<String>, String)>>>;

    /// An introspection endpoint answering `answer(token)`; `None` fails the exchange.
    fn endpoint<F>(answer: F, seen: Seen) -> HttpClientService
    where
        F: Fn(&str) -> Option<(StatusCode, Value)> + Clone + Send + Sync + 'static,
    {
        BoxCloneSyncService::new(tower::service_fn(move |request: Request<RequestBody>| {
            let answer = answer.clone();
            let seen = seen.clone();
            async move {
                assert_eq!(request.uri(), ENDPOINT);
                let authorization = request
                    .headers()
                    .get("authorization")
                    .map(|value| value.to_str().unwrap().to_owned());
                let body = request.into_body().collect().await?.to_bytes();
                let body = String::from_utf8(body.to_vec())?;
                let token: String = url::form_urlencoded::parse(body.as_bytes())
                    .find(|(name, _)| name == "token")
                    .map(|(_, value)| value.into_owned())
                    .unwrap_or_default();
                seen.lock().unwrap().push((authorization, body));
                let Some((status, document)) = answer(&token) else {
                    return Err::<Response<ResponseBody>, BoxError>("connection refused".into());
                };
                let body: ResponseBody = Full::new(Bytes::from(document.to_string()))
                    .map_err(|never| match never {})
                    .boxed_unsync();
                Ok(Response::builder().status(status).body(body).unwrap())
            }
        }))
    }

    fn in_an_hour() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600
    }

    fn answers(token: &str) -> Option<(StatusCode, Value)> {
        let exp = in_an_hour();
        let active = |extra: Value| {
            let mut document = json!({
                "active": true, "exp": exp, "aud": RESOURCE, "iss": "https://as.example.com",
                "scope": "mcp:tools", "sub": "alice", "client_id": "app",
            });
            for (name, value) in extra.as_object().unwrap() {
                if value.is_null() {
                    document.as_object_mut().unwrap().remove(name);
                } else {
                    document[name] = value.clone();
                }
            }
            (StatusCode::OK, document)
        };
        Some(match token {
            "good" => active(json!({})),
            "inactive" => (StatusCode::OK, json!({"active": false})),
            "expired" => active(json!({"exp": 1000})),
            "no-exp" => active(json!({"exp": null})),
            "future" => active(json!({"nbf": exp})),
            "other-audience" => active(json!({"aud": ["https://other.example.com"]})),
            "no-audience" => active(json!({"aud": null})),
            "other-issuer" => active(json!({"iss": "https://evil.example.com"})),
            "refresh" => active(json!({"token_type": "refresh_token"})),
            "string-active" => active(json!({"active": "true"})),
            "server-error" => (StatusCode::INTERNAL_SERVER_ERROR, json!({})),
            "not-an-object" => (StatusCode::OK, json!([1])),
            _ => return None,
        })
    }

    fn verifier(seen: &Seen) -> IntrospectionVerifier {
        IntrospectionVerifier::builder(ENDPOINT, RESOURCE)
            .issuer("https://as.example.com")
            .client_secret_basic("rs client", "s3cret:")
            .http_service(endpoint(answers, seen.clone()))
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn an_active_token_for_this_resource_is_accepted() {
        let seen = Seen::default();
        let verifier = verifier(&seen);
        let principal = verifier.verify(&Secret::new("good")).await.unwrap();
        assert_eq!(principal.subject.as_deref(), Some("alice"));
        assert_eq!(principal.client_id.as_deref(), Some("app"));
        assert_eq!(principal.scopes, ["mcp:tools"]);
        let seen = seen.lock().unwrap();
        let (authorization, body) = &seen[0];
        // `rs client` and `s3cret:` form-encoded, then Base64 (RFC 6749 §2.3.1).
        assert_eq!(
            authorization.as_deref(),
            Some(format!("Basic {}", STANDARD.encode("rs+client:s3cret%3A")).as_str())
        );
        assert_eq!(body, "token=good&token_type_hint=access_token");
    }

    #[tokio::test]
    async fn every_other_answer_is_refused_and_failures_are_unavailable() {
        let seen = Seen::default();
        let verifier = verifier(&seen);
        for (token, description) in [
            ("inactive", "the token is not active"),
            ("string-active", "the token is not active"),
            ("expired", "the token has expired"),
            ("no-exp", "the token has no expiry"),
            ("future", "the token is not valid yet"),
            ("other-audience", "the token is not for this resource"),
            ("no-audience", "the token is not for this resource"),
            ("other-issuer", "the token's issuer is not trusted"),
            ("refresh", "the token is not an access token"),
        ] {
            let rejection = verifier.verify(&Secret::new(token)).await.unwrap_err();
            assert!(rejection.is_invalid_token(), "{token}");
            assert_eq!(rejection.description(), description, "{token}");
        }
        for token in ["server-error", "not-an-object", "no-connection"] {
            let rejection = verifier.verify(&Secret::new(token)).await.unwrap_err();
            assert!(rejection.is_unavailable(), "{token}");
            assert!(!rejection.to_string().contains(token), "{token}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn accepted_results_are_cached_briefly_and_in_bounds() {
        let count = Arc::new(AtomicUsize::new(0));
        let counted = count.clone();
        let service = endpoint(
            move |_token| {
                counted.fetch_add(1, Ordering::SeqCst);
                answers("good")
            },
            Seen::default(),
        );
        let verifier = IntrospectionVerifier::builder(ENDPOINT, RESOURCE)
            .client_secret_post("rs", "secret")
            .cache_capacity(2)
            .http_service(service)
            .build()
            .unwrap();
        let token = Secret::new("a");
        verifier.verify(&token).await.unwrap();
        verifier.verify(&token).await.unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 1);
        tokio::time::advance(DEFAULT_INTROSPECTION_CACHE_TTL).await;
        verifier.verify(&token).await.unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 2);
        for other in ["b", "c", "d"] {
            verifier.verify(&Secret::new(other)).await.unwrap();
        }
        assert_eq!(verifier.inner.cache.lock().unwrap().len(), 2);
    }

    #[test]
    fn the_endpoint_must_pass_the_fetch_policy() {
        let plain = IntrospectionVerifier::builder("http://as.example.com/introspect", RESOURCE);
        assert!(plain.build().unwrap_err().is_fetch());
        let debug = format!(
            "{:?}",
            IntrospectionVerifier::builder(ENDPOINT, RESOURCE).client_secret_post("rs", "hunter2")
        );
        assert!(!debug.contains("hunter2"), "{debug}");
    }
}
