//! [`Principal`]: who a verified token speaks for, as the MCP endpoint sees it.

use std::time::SystemTime;

use serde_json::{Map, Value};

/// The verified identity behind a request's bearer token.
///
/// [`BearerAuthLayer`](crate::server::BearerAuthLayer) inserts it into the request's
/// [`http::Extensions`] before the MCP endpoint sees the request; read it with
/// `request.extensions().get::<Principal>()`. It never holds the token itself.
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
