//! Tokens, where they are kept ([`TokenStore`]), the requests to the token endpoint and its
//! answers.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderValue;
use serde::Deserialize;
use url::Url;

use crate::client::challenge::split_scopes;
use crate::client::metadata::AuthorizationServerMetadata;
use crate::error::{Error, Kind};
use crate::fetch::{Fetcher, origin};
use crate::secret::Secret;

/// Which tokens a [`TokenStore`] entry holds: those one authorization server (by its
/// `issuer`) granted for one resource (by its RFC 8707 identifier). A token is only ever
/// sent to the resource of its key, and only after the resource's metadata named the issuer
/// of its key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenKey {
    /// The authorization server's `issuer`.
    pub issuer: String,
    /// The resource identifier, as the Protected Resource Metadata names it.
    pub resource: String,
}

/// How an access token is presented (RFC 6749 §7.1): the `token_type` of the token
/// response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenType {
    /// `Authorization: Bearer` (RFC 6750).
    #[default]
    Bearer,
    /// `Authorization: DPoP` with a proof of possession of the key the token is bound to
    /// (RFC 9449 §7.1).
    Dpop,
}

impl TokenType {
    /// The scheme of the `Authorization` header: `Bearer` or `DPoP`.
    pub fn scheme(self) -> &'static str {
        match self {
            TokenType::Bearer => "Bearer",
            TokenType::Dpop => "DPoP",
        }
    }
}

/// The tokens of one [`TokenKey`].
#[derive(Clone)]
pub struct TokenSet {
    /// The access token.
    pub access_token: Secret,
    /// How the access token is presented.
    pub token_type: TokenType,
    /// The refresh token, when the authorization server issued one.
    pub refresh_token: Option<Secret>,
    /// When the access token expires, when the server said.
    pub expires_at: Option<Instant>,
    /// The scopes asked for, which a step-up adds to.
    pub requested_scopes: Vec<String>,
    /// The scopes granted, when the server said (otherwise those asked for).
    pub granted_scopes: Vec<String>,
}

impl TokenSet {
    /// Whether the access token has expired, or will within `margin`.
    pub fn expires_within(&self, margin: Duration) -> bool {
        self.expires_at
            .is_some_and(|expires_at| expires_at <= Instant::now() + margin)
    }
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("TokenSet")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("refresh_token", &self.refresh_token)
            .field("expires_at", &self.expires_at)
            .field("requested_scopes", &self.requested_scopes)
            .field("granted_scopes", &self.granted_scopes)
            .finish()
    }
}

/// Where tokens are kept between requests (and, for a persistent store, between runs).
///
/// The methods are called briefly, from async code, without holding other locks; a store
/// that persists to disk or a keychain should keep its own cache. Implementations must keep
/// tokens confidential: never log them.
pub trait TokenStore: Send + Sync + 'static {
    /// The tokens of `key`, if any.
    fn get(&self, key: &TokenKey) -> Option<TokenSet>;
    /// Stores `tokens` under `key`, replacing what was there.
    fn put(&self, key: TokenKey, tokens: TokenSet);
    /// Forgets the tokens of `key`.
    fn remove(&self, key: &TokenKey);
}

/// The default [`TokenStore`]: in memory, bounded to [`MemoryTokenStore::DEFAULT_CAPACITY`]
/// keys (an insert beyond drops an arbitrary other key).
#[derive(Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<HashMap<TokenKey, TokenSet>>,
}

impl MemoryTokenStore {
    /// The most keys the store holds.
    pub const DEFAULT_CAPACITY: usize = 64;

    /// An empty store.
    pub fn new() -> Self {
        MemoryTokenStore::default()
    }
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.tokens.lock().map(|tokens| tokens.len()).unwrap_or(0);
        formatter
            .debug_struct("MemoryTokenStore")
            .field("keys", &keys)
            .finish()
    }
}

impl TokenStore for MemoryTokenStore {
    fn get(&self, key: &TokenKey) -> Option<TokenSet> {
        self.tokens.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: TokenKey, tokens: TokenSet) {
        if let Ok(mut map) = self.tokens.lock() {
            if !map.contains_key(&key)
                && map.len() >= Self::DEFAULT_CAPACITY
                && let Some(other) = map.keys().next().cloned()
            {
                map.remove(&other);
            }
            map.insert(key, tokens);
        }
    }

    fn remove(&self, key: &TokenKey) {
        if let Ok(mut map) = self.tokens.lock() {
            map.remove(key);
        }
    }
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    token_type: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

/// An error response of the token endpoint (RFC 6749 §5.2).
#[derive(Deserialize)]
struct TokenErrorResponse {
    error: String,
}

/// What the token endpoint answered.
#[derive(Debug)]
pub(crate) enum TokenOutcome {
    /// New tokens.
    Granted(TokenSet),
    /// An OAuth error, by its code (`invalid_grant`, ...).
    Refused(String),
}

/// Posts `form` to the token endpoint of `server`, with the `Authorization` header `basic`
/// when given, and reads the answer to a request for `scopes`.
///
/// With DPoP configured on the fetcher, each attempt carries a fresh proof, a `DPoP-Nonce`
/// of the answer is kept, and a `use_dpop_nonce` refusal that brings a nonce is retried once
/// with it (RFC 9449 §8).
pub(crate) async fn send_token_request(
    fetcher: &Fetcher,
    server: &AuthorizationServerMetadata,
    form: &[(&str, String)],
    basic: Option<HeaderValue>,
    scopes: &[String],
) -> Result<TokenOutcome, Error> {
    let endpoint = Url::parse(&server.token_endpoint).map_err(|error| {
        Error::new(Kind::Token, "the token endpoint is not a URL").with_source(error)
    })?;
    let dpop = fetcher.dpop();
    if let Some(dpop) = dpop {
        server.check_dpop_algorithm(dpop.algorithm())?;
    }
    let pairs: Vec<(&str, &str)> = form
        .iter()
        .map(|(key, value)| (*key, value.as_str()))
        .collect();
    let mut nonce_retried = false;
    loop {
        let proof = match dpop {
            Some(dpop) => Some(dpop.header("POST", &endpoint, None)?),
            None => None,
        };
        let response = fetcher
            .post_form(&endpoint, &pairs, basic.clone(), proof)
            .await
            .map_err(|error| {
                Error::new(
                    Kind::Token,
                    format!("the token request to {} failed", origin(&endpoint)),
                )
                .with_source(error)
            })?;
        let outcome = read_token_response(
            response.status.is_success(),
            &response.body,
            scopes,
            dpop.is_some(),
        )?;
        let new_nonce = dpop.is_some_and(|dpop| dpop.remember(&endpoint, &response.headers));
        match outcome {
            TokenOutcome::Refused(error)
                if error == "use_dpop_nonce" && new_nonce && !nonce_retried =>
            {
                tracing::debug!(issuer = %server.issuer, "the token endpoint asked for a DPoP nonce; retrying with it");
                nonce_retried = true;
            }
            outcome => return Ok(outcome),
        }
    }
}

/// The `Authorization` header of `client_secret_basic` (RFC 6749 §2.3.1: both parts
/// form-encoded before Base64), marked sensitive.
pub(crate) fn basic_authorization(client_id: &str, secret: &str) -> Option<HeaderValue> {
    let encode =
        |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    let credentials = STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)));
    let mut header = HeaderValue::from_str(&format!("Basic {credentials}")).ok()?;
    header.set_sensitive(true);
    Some(header)
}

/// Reads the token endpoint's answer to a request that asked for `requested_scopes`.
///
/// `DPoP` tokens are accepted only when the client sent a proof (`dpop`).
pub(crate) fn read_token_response(
    success: bool,
    body: &[u8],
    requested_scopes: &[String],
    dpop: bool,
) -> Result<TokenOutcome, Error> {
    if !success {
        let error = serde_json::from_slice::<TokenErrorResponse>(body)
            .map(|response| response.error)
            .unwrap_or_else(|_| "an unreadable error".to_owned());
        return Ok(TokenOutcome::Refused(error));
    }
    let response: TokenResponse = serde_json::from_slice(body).map_err(|error| {
        Error::new(Kind::Token, "the token response is not the JSON expected").with_source(error)
    })?;
    let token_type = if response.token_type.eq_ignore_ascii_case("bearer") {
        TokenType::Bearer
    } else if dpop && response.token_type.eq_ignore_ascii_case("dpop") {
        TokenType::Dpop
    } else {
        return Err(Error::new(
            Kind::Token,
            format!(
                "the token type `{}` is not supported ({})",
                response.token_type,
                if dpop {
                    "only Bearer and DPoP"
                } else {
                    "only Bearer: DPoP is not configured"
                }
            ),
        ));
    };
    if response.access_token.is_empty() {
        return Err(Error::new(Kind::Token, "the access token is empty"));
    }
    let granted = match response.scope.as_deref() {
        Some(scope) => split_scopes(Some(scope)),
        None => requested_scopes.to_vec(),
    };
    Ok(TokenOutcome::Granted(TokenSet {
        access_token: Secret::new(response.access_token),
        token_type,
        refresh_token: response.refresh_token.map(Secret::new),
        expires_at: response
            .expires_in
            .map(|seconds| Instant::now() + Duration::from_secs(seconds.min(10 * 365 * 86_400))),
        requested_scopes: requested_scopes.to_vec(),
        granted_scopes: granted,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(issuer: &str) -> TokenKey {
        TokenKey {
            issuer: issuer.to_owned(),
            resource: "https://mcp.example.com/mcp".to_owned(),
        }
    }

    #[test]
    fn tokens_are_kept_per_issuer_and_resource() {
        let store = MemoryTokenStore::new();
        let granted = |body: &str| match read_token_response(true, body.as_bytes(), &[], false) {
            Ok(TokenOutcome::Granted(tokens)) => tokens,
            _ => panic!("not granted"),
        };
        store.put(
            key("https://a.example.com"),
            granted(r#"{"access_token":"a-token","token_type":"Bearer"}"#),
        );
        assert!(store.get(&key("https://b.example.com")).is_none());
        let tokens = store.get(&key("https://a.example.com")).unwrap();
        assert_eq!(tokens.access_token.expose(), "a-token");
        store.remove(&key("https://a.example.com"));
        assert!(store.get(&key("https://a.example.com")).is_none());
    }

    #[test]
    fn token_responses_are_read_and_redacted() {
        let requested = vec!["mcp:basic".to_owned()];
        let body = br#"{"access_token":"t0ken","token_type":"bearer","expires_in":60,"refresh_token":"r3fresh"}"#;
        let Ok(TokenOutcome::Granted(tokens)) = read_token_response(true, body, &requested, false)
        else {
            panic!("not granted");
        };
        assert_eq!(tokens.granted_scopes, requested);
        assert!(!tokens.expires_within(Duration::from_secs(1)));
        assert!(tokens.expires_within(Duration::from_secs(120)));
        let debug = format!("{tokens:?}");
        assert!(
            !debug.contains("t0ken") && !debug.contains("r3fresh"),
            "{debug}"
        );
        let dpop = br#"{"access_token":"x","token_type":"DPoP"}"#;
        assert!(
            read_token_response(true, dpop, &requested, false)
                .unwrap_err()
                .is_token()
        );
        let Ok(TokenOutcome::Granted(bound)) = read_token_response(true, dpop, &requested, true)
        else {
            panic!("not granted");
        };
        assert_eq!(bound.token_type, TokenType::Dpop);
        assert_eq!(tokens.token_type, TokenType::Bearer);
        let refused =
            read_token_response(false, br#"{"error":"invalid_grant"}"#, &requested, false);
        assert!(matches!(refused, Ok(TokenOutcome::Refused(code)) if code == "invalid_grant"));
    }
}
