//! [`JwtVerifier`]: JWT access tokens (RFC 9068) verified against the issuer's JWKS.

use std::fmt;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, AlgorithmFamily, Validation};
use mcpwire_http::client::HttpClientService;
use serde_json::{Map, Value};
use url::Url;

use crate::error::{Error, Kind};
use crate::fetch::{FetchPolicy, Fetcher};
use crate::secret::Secret;
use crate::server::jwks::{Jwks, Lookup};
use crate::server::principal::{Principal, numeric_date};
use crate::server::verifier::{Rejection, TokenVerifier, VerifyFuture};

/// The default clock skew allowed on `exp`, `nbf` and `iat`: 60 seconds.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

/// The default shortest time between two fetches of the JWKS: 60 seconds.
pub const DEFAULT_JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(60);

/// The default age after which the JWKS is fetched again: one hour.
pub const DEFAULT_JWKS_MAX_AGE: Duration = Duration::from_secs(3600);

/// The claims that mark an OpenID Connect ID token, which is never an access token.
const ID_TOKEN_CLAIMS: [&str; 3] = ["nonce", "at_hash", "c_hash"];

/// A [`TokenVerifier`] of JWT access tokens signed by one issuer, with the keys of its JWKS.
///
/// A token is accepted when all of these hold:
///
/// - it is a JWS whose `alg` is asymmetric (never `none`, never an HMAC algorithm) and one
///   that its key allows: the key's own `alg` when it names one, else its family's (RSA,
///   the ECDSA algorithm of its curve, EdDSA), narrowed by
///   [`algorithms`](JwtVerifierBuilder::algorithms); no `crit` header;
/// - its key is in the issuer's JWKS: the one its `kid` names, or without a `kid` the only
///   key that fits its algorithm. The JWKS is fetched under the
///   [`FetchPolicy`] (`https` only, public addresses only, a body cap, a deadline), kept for
///   [`jwks_max_age`](JwtVerifierBuilder::jwks_max_age), and fetched again for an unknown
///   `kid` at most once per [`jwks_refresh_interval`](JwtVerifierBuilder::jwks_refresh_interval);
/// - its signature verifies;
/// - `iss` is exactly the issuer (a string, compared without normalization);
/// - `aud` is present and is, or contains, one of the audiences (this resource);
/// - `exp` is present and not past, `nbf` and `iat` are not in the future, each with the
///   [`leeway`](JwtVerifierBuilder::leeway);
/// - it is an access token, not an ID token: its header's `typ` is `at+jwt` or
///   `application/at+jwt` (RFC 9068 §4, compared without case), or, only when
///   [`allow_jwt_typ`](JwtVerifierBuilder::allow_jwt_typ) is set, `JWT` or absent; and
///   whatever its `typ`, it has no `nonce`, `at_hash` or `c_hash` claim. (An ID token
///   whose `aud` is only a client id also fails the audience check.)
///
/// The refusals are `invalid_token` with a short reason; a JWKS that cannot be fetched when
/// it is needed makes the request fail with `503`.
///
/// It uses `jsonwebtoken` with the RustCrypto primitives (no OpenSSL). When no
/// `jsonwebtoken` crypto provider is installed for the process, building the verifier
/// installs that one.
#[derive(Clone)]
pub struct JwtVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    audiences: Vec<String>,
    leeway: Duration,
    allow_jwt_typ: bool,
    algorithms: Option<Vec<Algorithm>>,
    jwks: Jwks,
}

impl JwtVerifier {
    /// A builder for tokens issued by `issuer` (its issuer identifier, as in its `iss`
    /// claims), signed with the keys at `jwks_uri`, for the resource `audience` (the
    /// canonical URI of this MCP server, as in
    /// [`ProtectedResource::new`](crate::server::ProtectedResource::new)).
    pub fn builder(
        issuer: impl Into<String>,
        jwks_uri: impl Into<String>,
        audience: impl Into<String>,
    ) -> JwtVerifierBuilder {
        JwtVerifierBuilder {
            issuer: issuer.into(),
            jwks_uri: jwks_uri.into(),
            audiences: vec![audience.into()],
            leeway: DEFAULT_LEEWAY,
            allow_jwt_typ: false,
            algorithms: None,
            fetch_policy: FetchPolicy::default(),
            http_service: None,
            refresh_interval: DEFAULT_JWKS_REFRESH_INTERVAL,
            max_age: DEFAULT_JWKS_MAX_AGE,
        }
    }

    /// A builder for tokens issued by `issuer` for the resource `audience`, whose keys are
    /// found from the issuer's metadata: finish it with
    /// [`discover`](JwtVerifierBuilder::discover), which reads the metadata (RFC 8414, then
    /// OpenID Connect Discovery, at the issuer's well-known URLs), checks that it names
    /// `issuer` exactly, and takes its `jwks_uri`.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), mcpwire_auth::Error> {
    /// use mcpwire_auth::server::JwtVerifier;
    ///
    /// let verifier = JwtVerifier::discovering("https://auth.example.com", "https://mcp.example.com/mcp")
    ///     .discover()
    ///     .await?;
    /// # let _ = verifier;
    /// # Ok(())
    /// # }
    /// ```
    pub fn discovering(
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> JwtVerifierBuilder {
        JwtVerifier::builder(issuer, String::new(), audience)
    }

    async fn verify_token(&self, token: &str) -> Result<Principal, Rejection> {
        let inner = &*self.inner;
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            Rejection::invalid_token("the token is not a JWT with a known algorithm")
        })?;
        if header.alg.family() == AlgorithmFamily::Hmac {
            return Err(Rejection::invalid_token("HMAC-signed tokens are refused"));
        }
        if header.crit.is_some() {
            return Err(Rejection::invalid_token(
                "the token has critical header parameters",
            ));
        }
        if !typ_accepted(header.typ.as_deref(), inner.allow_jwt_typ) {
            return Err(Rejection::invalid_token(
                "the token is not an access token (typ at+jwt)",
            ));
        }
        if inner
            .algorithms
            .as_ref()
            .is_some_and(|allowed| !allowed.contains(&header.alg))
        {
            return Err(Rejection::invalid_token(
                "the token's algorithm is not allowed",
            ));
        }
        let key = match inner.jwks.key(header.kid.as_deref(), header.alg).await {
            Lookup::Found(key) => key,
            Lookup::Unknown => {
                return Err(Rejection::invalid_token(
                    "the token's key is not the issuer's",
                ));
            }
            Lookup::Unavailable => {
                return Err(Rejection::unavailable(
                    "the issuer's keys cannot be fetched",
                ));
            }
        };
        if !key.algorithms.contains(&header.alg) {
            return Err(Rejection::invalid_token(
                "the token's algorithm does not match its key",
            ));
        }
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_issuer(&[&inner.issuer]);
        validation.set_audience(&inner.audiences);
        validation.leeway = inner.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key.decoding, &validation)
            .map_err(|error| Rejection::invalid_token(reason(error.kind())))?
            .claims;
        // `jsonwebtoken` accepts an array `iss` that contains the issuer; RFC 7519 has one.
        if claims.get("iss").and_then(Value::as_str) != Some(inner.issuer.as_str()) {
            return Err(Rejection::invalid_token(
                "the token's issuer is not trusted",
            ));
        }
        if ID_TOKEN_CLAIMS
            .iter()
            .any(|claim| claims.contains_key(*claim))
        {
            return Err(Rejection::invalid_token("ID tokens are not access tokens"));
        }
        if let Some(issued_at) = claims.get("iat") {
            let latest = SystemTime::now() + inner.leeway;
            if numeric_date(issued_at).is_none_or(|issued_at| issued_at > latest) {
                return Err(Rejection::invalid_token(
                    "the token is issued in the future",
                ));
            }
        }
        Ok(Principal::from_claims(claims))
    }
}

impl TokenVerifier for JwtVerifier {
    fn verify<'a>(&'a self, token: &'a Secret) -> VerifyFuture<'a> {
        Box::pin(self.verify_token(token.expose()))
    }
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("JwtVerifier")
            .field("issuer", &self.inner.issuer)
            .field("audiences", &self.inner.audiences)
            .field("leeway", &self.inner.leeway)
            .field("allow_jwt_typ", &self.inner.allow_jwt_typ)
            .finish_non_exhaustive()
    }
}

/// Whether a JWS `typ` marks an access token: `at+jwt` in either form (RFC 9068 §2.1,
/// media types compare without case), or, when allowed, the generic `JWT` or nothing.
fn typ_accepted(typ: Option<&str>, allow_jwt_typ: bool) -> bool {
    match typ {
        Some(typ) if typ.eq_ignore_ascii_case("at+jwt") => true,
        Some(typ) if typ.eq_ignore_ascii_case("application/at+jwt") => true,
        Some(typ) if typ.eq_ignore_ascii_case("JWT") => allow_jwt_typ,
        Some(_) => false,
        None => allow_jwt_typ,
    }
}

/// The reason a refusal gives, in a few words that never quote the token.
fn reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet",
        ErrorKind::InvalidIssuer => "the token's issuer is not trusted",
        ErrorKind::InvalidAudience => "the token is not for this resource",
        ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
            "aud" => "the token is not for this resource",
            "exp" => "the token has no expiry",
            _ => "the token has no issuer",
        },
        ErrorKind::InvalidSignature => "the token's signature is invalid",
        ErrorKind::InvalidAlgorithm => "the token's algorithm does not match its key",
        ErrorKind::InvalidClaimFormat(_) => "the token has a malformed claim",
        _ => "the token is malformed",
    }
}

/// The configuration of a [`JwtVerifier`]; [`JwtVerifier::builder`] makes one.
#[derive(Clone)]
pub struct JwtVerifierBuilder {
    issuer: String,
    jwks_uri: String,
    audiences: Vec<String>,
    leeway: Duration,
    allow_jwt_typ: bool,
    algorithms: Option<Vec<String>>,
    fetch_policy: FetchPolicy,
    http_service: Option<HttpClientService>,
    refresh_interval: Duration,
    max_age: Duration,
}

impl JwtVerifierBuilder {
    /// Accepts tokens for `audience` too (another name of this resource).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// The clock skew allowed on `exp`, `nbf` and `iat` ([`DEFAULT_LEEWAY`] by default),
    /// in whole seconds.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Accepts tokens whose `typ` is `JWT` or absent, for authorization servers that do not
    /// type their access tokens (off by default). Tokens with ID token claims (`nonce`,
    /// `at_hash`, `c_hash`) are refused all the same, and so is any token whose audience is
    /// not this resource.
    pub fn allow_jwt_typ(mut self, allow: bool) -> Self {
        self.allow_jwt_typ = allow;
        self
    }

    /// The only signature algorithms accepted (JWA names such as `RS256`, `ES256`,
    /// `EdDSA`), within those each key allows. By default, whatever the key allows.
    pub fn algorithms<I>(mut self, algorithms: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.algorithms = Some(algorithms.into_iter().map(Into::into).collect());
        self
    }

    /// The policy of the JWKS fetches: `https` only to public addresses by default, a
    /// 256 KiB body cap, a 10 second deadline. Allow loopback `http` here for tests, and
    /// private addresses for an issuer on an internal network.
    pub fn fetch_policy(mut self, policy: FetchPolicy) -> Self {
        self.fetch_policy = policy;
        self
    }

    /// The HTTP stack the JWKS is fetched through, instead of the fetch policy's guarded
    /// stack ([`FetchPolicy::guarded_service`]): for a proxy, or tests. The policy's URL
    /// checks, body cap and deadline still apply; which addresses the stack connects to is
    /// then up to it.
    pub fn http_service(mut self, service: HttpClientService) -> Self {
        self.http_service = Some(service);
        self
    }

    /// The shortest time between two fetches of the JWKS
    /// ([`DEFAULT_JWKS_REFRESH_INTERVAL`] by default): tokens naming unknown keys cannot
    /// make the verifier fetch more often. After a failed fetch, the next may come after
    /// five seconds at most.
    pub fn jwks_refresh_interval(mut self, interval: Duration) -> Self {
        self.refresh_interval = interval;
        self
    }

    /// How long the JWKS is used before it is fetched again ([`DEFAULT_JWKS_MAX_AGE`] by
    /// default). When that fetch fails, the old keys are used until it succeeds.
    pub fn jwks_max_age(mut self, age: Duration) -> Self {
        self.max_age = age;
        self
    }

    /// The verifier.
    ///
    /// Reads the issuer's authorization server metadata, through the fetch policy (or the
    /// [HTTP stack](Self::http_service)) set here, from the first of its well-known URLs that
    /// has it (RFC 8414 with the issuer's path inserted, then OpenID Connect Discovery),
    /// checks that its `issuer` is exactly this builder's, takes its `jwks_uri` (which the
    /// fetch policy must allow), and builds the verifier.
    ///
    /// # Errors
    ///
    /// [`Error::is_discovery`] when no metadata is found, or it names another issuer or no
    /// `jwks_uri`; [`Error::is_fetch`] when the policy refuses a URL; and the errors of
    /// [`build`](Self::build).
    pub async fn discover(mut self) -> Result<JwtVerifier, Error> {
        let service = match &self.http_service {
            Some(service) => service.clone(),
            None => self.fetch_policy.guarded_service()?,
        };
        let fetcher = Fetcher::new(service, self.fetch_policy.clone());
        self.jwks_uri = discover_jwks_uri(&fetcher, &self.issuer).await?;
        self.build()
    }

    /// # Errors
    ///
    /// [`Error::is_config`] for an empty issuer or audience, or an algorithm that is not an
    /// asymmetric JWA name; [`Error::is_fetch`] for a JWKS URI that the fetch policy
    /// refuses.
    pub fn build(self) -> Result<JwtVerifier, Error> {
        if self.issuer.is_empty() || self.audiences.iter().any(String::is_empty) {
            return Err(Error::new(
                Kind::Config,
                "the issuer and the audiences must not be empty",
            ));
        }
        if self.jwks_uri.is_empty() {
            return Err(Error::new(
                Kind::Config,
                "no JWKS URI: give one, or finish the builder with `discover`",
            ));
        }
        let jwks_uri = Url::parse(&self.jwks_uri).map_err(|error| {
            Error::new(Kind::Config, "the JWKS URI is not a URL").with_source(error)
        })?;
        self.fetch_policy.check(&jwks_uri)?;
        let algorithms = match self.algorithms {
            None => None,
            Some(names) => Some(
                names
                    .iter()
                    .map(|name| match Algorithm::from_str(name) {
                        Ok(algorithm) if algorithm.family() != AlgorithmFamily::Hmac => {
                            Ok(algorithm)
                        }
                        _ => Err(Error::new(
                            Kind::Config,
                            format!("`{name}` is not an asymmetric JWS algorithm"),
                        )),
                    })
                    .collect::<Result<Vec<_>, Error>>()?,
            ),
        };
        let service = match self.http_service {
            Some(service) => service,
            None => self.fetch_policy.guarded_service()?,
        };
        if CryptoProvider::try_get_default().is_none() {
            // Another thread may install one first; either way there is one afterwards.
            let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        }
        let jwks = Jwks::new(
            jwks_uri,
            Fetcher::new(service, self.fetch_policy),
            self.refresh_interval,
            self.max_age,
        );
        Ok(JwtVerifier {
            inner: Arc::new(Inner {
                issuer: self.issuer,
                audiences: self.audiences,
                leeway: self.leeway,
                allow_jwt_typ: self.allow_jwt_typ,
                algorithms,
                jwks,
            }),
        })
    }
}

impl fmt::Debug for JwtVerifierBuilder {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("JwtVerifierBuilder")
            .field("issuer", &self.issuer)
            .field("jwks_uri", &self.jwks_uri)
            .field("audiences", &self.audiences)
            .field("leeway", &self.leeway)
            .field("allow_jwt_typ", &self.allow_jwt_typ)
            .field("algorithms", &self.algorithms)
            .field("fetch_policy", &self.fetch_policy)
            .field("refresh_interval", &self.refresh_interval)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

/// The `jwks_uri` of `issuer`'s metadata, from the first well-known URL that has it.
async fn discover_jwks_uri(fetcher: &Fetcher, issuer: &str) -> Result<String, Error> {
    #[derive(serde::Deserialize)]
    struct Metadata {
        issuer: String,
        #[serde(default)]
        jwks_uri: Option<String>,
    }
    for url in crate::well_known::authorization_server_metadata_urls(issuer)? {
        let response = fetcher.get_json(&url).await?;
        if response.status != http::StatusCode::OK {
            continue;
        }
        let Ok(metadata) = response.json::<Metadata>("authorization server metadata") else {
            continue;
        };
        if metadata.issuer != issuer {
            return Err(Error::new(
                Kind::Discovery,
                format!(
                    "the metadata at {} names the issuer `{}`, not `{issuer}`",
                    crate::fetch::origin(&url),
                    metadata.issuer
                ),
            ));
        }
        return metadata.jwks_uri.ok_or_else(|| {
            Error::new(
                Kind::Discovery,
                format!("the metadata of `{issuer}` has no jwks_uri"),
            )
        });
    }
    Err(Error::new(
        Kind::Discovery,
        format!("no authorization server metadata found for `{issuer}`"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_token_types_are_told_from_others() {
        for typ in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/AT+JWT",
        ] {
            assert!(typ_accepted(Some(typ), false), "{typ}");
        }
        for typ in [Some("JWT"), Some("jwt"), None] {
            assert!(!typ_accepted(typ, false), "{typ:?}");
            assert!(typ_accepted(typ, true), "{typ:?}");
        }
        for typ in ["id+jwt", "logout+jwt", "oauth-id-jag+jwt", "at+jwt "] {
            assert!(!typ_accepted(Some(typ), true), "{typ}");
        }
    }

    #[test]
    fn the_builder_refuses_what_cannot_work() {
        let builder = || JwtVerifier::builder("https://as", "https://as/jwks", "https://rs/mcp");
        assert!(builder().build().is_ok());
        assert!(
            builder()
                .algorithms(["RS256", "ES256", "EdDSA"])
                .build()
                .is_ok()
        );
        for algorithm in ["HS256", "none", "rs256"] {
            let error = builder().algorithms([algorithm]).build().unwrap_err();
            assert!(error.is_config(), "{algorithm}");
        }
        let plain = JwtVerifier::builder("https://as", "http://127.0.0.1/jwks", "https://rs");
        assert!(plain.clone().build().unwrap_err().is_fetch());
        let loopback = FetchPolicy::default().allow_loopback_http(true);
        assert!(plain.fetch_policy(loopback).build().is_ok());
        assert!(
            JwtVerifier::builder("", "https://as/jwks", "https://rs")
                .build()
                .unwrap_err()
                .is_config()
        );
    }
}
