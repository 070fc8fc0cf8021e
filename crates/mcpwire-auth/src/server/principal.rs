//! [`Principal`]: who a verified token speaks for, as the MCP endpoint sees it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

/// The verified identity behind a request's bearer token.
///
/// [`BearerAuthLayer`](crate::server::BearerAuthLayer) inserts it into the request's
/// [`http::Extensions`] before the MCP endpoint sees the request; read it with
/// `request.extensions().get::<Principal>()`, or in a handler of `mcpwire-server` with
/// `context.http_extensions()`. It never holds the token itself.
///
/// A [`TokenVerifier`](crate::server::TokenVerifier) of your own builds one from
/// [`Principal::default`] and sets the fields it knows.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Principal {
    /// The subject (`sub`): the user, or the client itself for a client credentials grant.
    pub subject: Option<String>,
    /// The OAuth client the token was issued to (`client_id`, else `azp`).
    pub client_id: Option<String>,
    /// The scopes granted (`scope`, space-separated, or `scp`).
    pub scopes: Vec<String>,
    /// When the token expires (`exp`).
    pub expires_at: Option<SystemTime>,
    /// The issuer (`iss`).
    pub issuer: Option<String>,
    /// The audiences (`aud`).
    pub audiences: Vec<String>,
    /// Every claim of the token (a JWT's payload, or the introspection response).
    pub claims: Map<String, Value>,
}

impl Principal {
    /// Whether the token grants `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|granted| granted == scope)
    }

    /// The JWK thumbprint the token is bound to (`cnf.jkt`, RFC 9449 §6), for a DPoP-bound
    /// token.
    pub fn confirmation_thumbprint(&self) -> Option<&str> {
        self.claims.get("cnf")?.get("jkt")?.as_str()
    }

    /// An opaque key naming this principal, the same for every token of it: a digest of the
    /// issuer and the subject (the client id when there is no subject). The bearer layer
    /// binds sessions to it, so another principal cannot use them.
    pub fn owner_key(&self) -> std::sync::Arc<str> {
        use sha2::{Digest, Sha256};

        let mut digest = Sha256::new();
        digest.update(self.issuer.as_deref().unwrap_or_default().as_bytes());
        digest.update([0]);
        let who = self.subject.as_deref().or(self.client_id.as_deref());
        digest.update(who.unwrap_or_default().as_bytes());
        let digest = digest.finalize();
        std::sync::Arc::from(
            digest
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect::<String>(),
        )
    }

    /// The principal the claims of a JWT payload or an introspection response describe.
    pub(crate) fn from_claims(claims: Map<String, Value>) -> Principal {
        let string = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let scopes = match (claims.get("scope"), claims.get("scp")) {
            (Some(Value::String(scope)), _) | (None, Some(Value::String(scope))) => scope
                .split(' ')
                .filter(|scope| !scope.is_empty())
                .map(str::to_owned)
                .collect(),
            (None, Some(Value::Array(scopes))) => scopes
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        let audiences = match claims.get("aud") {
            Some(Value::String(audience)) => vec![audience.clone()],
            Some(Value::Array(audiences)) => audiences
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        Principal {
            subject: string("sub"),
            client_id: string("client_id").or_else(|| string("azp")),
            scopes,
            expires_at: claims.get("exp").and_then(numeric_date),
            issuer: string("iss"),
            audiences,
            claims,
        }
    }
}

/// A JWT `NumericDate` (seconds since the epoch, possibly fractional) as a time.
pub(crate) fn numeric_date(value: &Value) -> Option<SystemTime> {
    let seconds = value
        .as_f64()
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)?;
    UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(seconds).ok()?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn principal(claims: Value) -> Principal {
        let Value::Object(claims) = claims else {
            unreachable!()
        };
        Principal::from_claims(claims)
    }

    #[test]
    fn claims_become_a_principal() {
        let read = principal(json!({
            "sub": "alice", "azp": "app", "scope": "a  b", "exp": 1000,
            "iss": "https://as", "aud": ["x", "y"],
        }));
        assert_eq!(read.subject.as_deref(), Some("alice"));
        assert_eq!(read.client_id.as_deref(), Some("app"));
        assert_eq!(read.scopes, ["a", "b"]);
        assert!(read.has_scope("b") && !read.has_scope("c"));
        assert_eq!(
            read.expires_at,
            Some(UNIX_EPOCH + Duration::from_secs(1000))
        );
        assert_eq!(read.audiences, ["x", "y"]);
        assert_eq!(read.claims["sub"], "alice");
        let scp = principal(json!({"client_id": "c", "azp": "d", "scp": ["r", "w"], "aud": "x"}));
        assert_eq!(scp.client_id.as_deref(), Some("c"));
        assert_eq!(scp.scopes, ["r", "w"]);
        assert_eq!(scp.audiences, ["x"]);
        assert_eq!(principal(json!({"exp": -1})).expires_at, None);
    }

    #[test]
    fn a_scope_is_granted_only_when_listed() {
        let principal = Principal {
            scopes: vec!["a".to_owned(), "b".to_owned()],
            ..Principal::default()
        };
        assert!(principal.has_scope("b"));
        assert!(!principal.has_scope("c") && !principal.has_scope("a b"));
    }
}
