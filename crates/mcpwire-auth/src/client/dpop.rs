//! DPoP (RFC 9449) in the client: what the layer does with a [`DpopProver`] that
//! [`OAuthConfig::dpop`](crate::client::OAuthConfig::dpop) configures.
//!
//! The layer asks the prover for a fresh proof for every token request and, once it holds a
//! DPoP-bound token, for every request to the MCP server; it keeps the nonces the servers
//! hand out (`DPoP-Nonce`), per origin, and retries a request once when a server answers
//! `use_dpop_nonce`. The proof itself (the key, the JWS) is the prover's: the
//! `mcpwire-ext-dpop` crate provides one.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use http::{HeaderMap, HeaderName, HeaderValue};
use mcpwire_http::client::BoxError;
use url::Url;

use crate::client::challenge::{MAX_HEADER_LENGTH, parse_challenges};
use crate::error::{Error, Kind};
use crate::secret::Secret;

/// The `DPoP` request header, which carries a proof (RFC 9449 §4.1).
pub const DPOP: HeaderName = HeaderName::from_static("dpop");

/// The `DPoP-Nonce` response header, which carries a server's nonce (RFC 9449 §8, §9).
pub const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// The most origins whose nonce the client keeps.
const MAX_NONCES: usize = 32;

/// The longest nonce kept; a longer one is ignored.
const MAX_NONCE_BYTES: usize = 512;

/// Makes DPoP proofs (RFC 9449 §4): compact JWS of type `dpop+jwt`, signed with the client's
/// private key, with the public key in the `jwk` header.
///
/// [`OAuthConfig::dpop`](crate::client::OAuthConfig::dpop) takes one. The layer calls it
/// once per HTTP request it sends to a token endpoint or, with a DPoP-bound token, to the MCP
/// server, and never reuses a proof: each must carry a new `jti`.
pub trait DpopProver: Send + Sync + 'static {
    /// The JWS algorithm the proofs are signed with (`ES256`, ...), checked against an
    /// authorization server's `dpop_signing_alg_values_supported`.
    fn algorithm(&self) -> &str;

    /// A fresh proof for `request`.
    ///
    /// # Errors
    ///
    /// When the proof cannot be signed; the request that needed it fails with the error,
    /// which must not contain a secret.
    fn proof(&self, request: &ProofRequest<'_>) -> Result<String, BoxError>;
}

/// What one proof is for: the claims RFC 9449 §4.2 asks for, but `jti` and `iat`, which the
/// prover makes.
#[derive(Debug)]
#[non_exhaustive]
pub struct ProofRequest<'a> {
    /// The HTTP method of the request (`htm`).
    pub method: &'a str,
    /// The request's URI without query and fragment (`htu`).
    pub target: &'a Url,
    /// The access token the request presents, whose hash goes into `ath`; `None` at a token
    /// endpoint.
    pub access_token: Option<&'a Secret>,
    /// The nonce the server last handed out (`nonce`), if any.
    pub nonce: Option<&'a str>,
}

impl<'a> ProofRequest<'a> {
    /// A request for a proof of `method` `target`, with no token and no nonce.
    pub fn new(method: &'a str, target: &'a Url) -> Self {
        ProofRequest {
            method,
            target,
            access_token: None,
            nonce: None,
        }
    }

    /// With the access token the request presents.
    pub fn access_token(mut self, token: &'a Secret) -> Self {
        self.access_token = Some(token);
        self
    }

    /// With the server's nonce.
    pub fn nonce(mut self, nonce: &'a str) -> Self {
        self.nonce = Some(nonce);
        self
    }
}

/// The prover and the nonces the servers handed out, shared by a layer's requests.
#[derive(Clone)]
pub(crate) struct Dpop {
    prover: Arc<dyn DpopProver>,
    nonces: Arc<Mutex<HashMap<String, String>>>,
}

impl fmt::Debug for Dpop {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Dpop")
            .field("algorithm", &self.prover.algorithm())
            .finish_non_exhaustive()
    }
}

impl Dpop {
    pub(crate) fn new(prover: Arc<dyn DpopProver>) -> Self {
        Dpop {
            prover,
            nonces: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub(crate) fn algorithm(&self) -> &str {
        self.prover.algorithm()
    }

    /// The `DPoP` header for a request of `method` to `url`, presenting `token` if any, with
    /// the nonce last seen from the URL's origin.
    pub(crate) fn header(
        &self,
        method: &str,
        url: &Url,
        token: Option<&Secret>,
    ) -> Result<HeaderValue, Error> {
        let mut target = url.clone();
        target.set_query(None);
        target.set_fragment(None);
        let nonce = self.nonce(url);
        let mut request = ProofRequest::new(method, &target);
        if let Some(token) = token {
            request = request.access_token(token);
        }
        if let Some(nonce) = nonce.as_deref() {
            request = request.nonce(nonce);
        }
        let proof = self.prover.proof(&request).map_err(|error| {
            Error::new(Kind::Token, "the DPoP proof could not be made").with_boxed_source(error)
        })?;
        HeaderValue::from_str(&proof)
            .map_err(|_| Error::new(Kind::Token, "the DPoP proof is not a header value"))
    }

    fn nonce(&self, url: &Url) -> Option<String> {
        self.nonces.lock().ok()?.get(&origin_key(url)).cloned()
    }

    /// Keeps the `DPoP-Nonce` of a response from `url`'s origin, if it has one; whether it
    /// had.
    pub(crate) fn remember(&self, url: &Url, headers: &HeaderMap) -> bool {
        let Some(nonce) = headers
            .get(DPOP_NONCE)
            .and_then(|value| value.to_str().ok())
            .filter(|nonce| is_nonce(nonce))
        else {
            return false;
        };
        if let Ok(mut nonces) = self.nonces.lock() {
            let key = origin_key(url);
            if nonces.len() >= MAX_NONCES && !nonces.contains_key(&key) {
                nonces.clear();
            }
            nonces.insert(key, nonce.to_owned());
        }
        true
    }
}

/// Whether `headers` carry a `DPoP` challenge with `error="use_dpop_nonce"` (RFC 9449 §9).
pub(crate) fn is_nonce_challenge(headers: &HeaderMap) -> bool {
    headers
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|line| line.to_str().ok())
        .filter(|line| line.len() <= MAX_HEADER_LENGTH)
        .filter_map(|line| parse_challenges(line).ok())
        .flatten()
        .any(|challenge| {
            challenge.scheme().eq_ignore_ascii_case("dpop")
                && challenge.param("error") == Some("use_dpop_nonce")
        })
}

/// A nonce is `1*NQCHAR` (RFC 9449 §8.1): printable ASCII but `"` and `\`, within a bound.
fn is_nonce(nonce: &str) -> bool {
    !nonce.is_empty()
        && nonce.len() <= MAX_NONCE_BYTES
        && nonce
            .bytes()
            .all(|byte| matches!(byte, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

fn origin_key(url: &Url) -> String {
    url.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo;

    impl DpopProver for Echo {
        fn algorithm(&self) -> &str {
            "ES256"
        }

        fn proof(&self, request: &ProofRequest<'_>) -> Result<String, BoxError> {
            Ok(format!(
                "{} {} {} {}",
                request.method,
                request.target,
                request.access_token.map_or("-", Secret::expose),
                request.nonce.unwrap_or("-")
            ))
        }
    }

    #[test]
    fn nonces_are_kept_per_origin_and_proofs_target_the_url_without_query() {
        let dpop = Dpop::new(Arc::new(Echo));
        let url = Url::parse("https://as.example.com/token?x=1#f").unwrap();
        let header = dpop.header("POST", &url, None).unwrap();
        assert_eq!(header, "POST https://as.example.com/token - -");
        let mut headers = HeaderMap::new();
        headers.insert(DPOP_NONCE, HeaderValue::from_static("n-1"));
        assert!(dpop.remember(&url, &headers));
        let other = Url::parse("https://mcp.example.com/mcp").unwrap();
        let token = Secret::new("tok");
        assert_eq!(
            dpop.header("GET", &other, Some(&token)).unwrap(),
            "GET https://mcp.example.com/mcp tok -"
        );
        let again = Url::parse("https://as.example.com/other").unwrap();
        assert_eq!(
            dpop.header("POST", &again, None).unwrap(),
            "POST https://as.example.com/other - n-1"
        );
        for bad in ["", "a\"b", "a b", "é"] {
            let mut headers = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(bad) {
                headers.insert(DPOP_NONCE, value);
            }
            assert!(!dpop.remember(&url, &headers), "{bad:?}");
        }
    }

    #[test]
    fn nonce_challenges_are_read_from_dpop_challenges_only() {
        let headers = |lines: &[&'static str]| {
            let mut headers = HeaderMap::new();
            for line in lines {
                headers.append(
                    http::header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(line),
                );
            }
            headers
        };
        assert!(is_nonce_challenge(&headers(&[
            r#"DPoP error="use_dpop_nonce", error_description="fresh nonce""#
        ])));
        assert!(is_nonce_challenge(&headers(&[
            r#"Bearer resource_metadata="https://x""#,
            r#"DPoP algs="ES256", error="use_dpop_nonce""#,
        ])));
        assert!(!is_nonce_challenge(&headers(&[
            r#"Bearer error="use_dpop_nonce""#
        ])));
        assert!(!is_nonce_challenge(&headers(&[
            r#"DPoP error="invalid_token""#
        ])));
    }
}
