//! The crate's one error type.

use std::fmt;

/// An error of enterprise-managed authorization: the user's ID token could not be had, the
/// identity provider's grant is not one to present, or a server is not one to use.
///
/// Opaque, with a predicate per kind and the underlying error as its source. Its text never
/// contains the ID token, the identity assertion grant or a secret. The refusals of the
/// identity provider's and the authorization server's token endpoints, and failed
/// discovery, reach the caller as `mcpwire_auth::Error`s, from the layer.
pub struct Error {
    kind: Kind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The ID token's source failed, or gave an empty token.
    IdToken,
    /// What the identity provider issued is not an identity assertion grant for this
    /// authorization server, resource and client, or it has expired.
    IdJag,
    /// The identity provider does not offer the token exchange, or does not take the
    /// client's authentication.
    IdentityProvider,
    /// The authorization server is not the configured one, does not offer the JWT bearer
    /// grant or the client's authentication, or the MCP server names no resource.
    Server,
}

impl Error {
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The user's ID token could not be had: its [`IdTokenSource`](crate::IdTokenSource)
    /// failed (the error is the source) or gave an empty token. The application should sign
    /// the user in again.
    pub fn is_id_token(&self) -> bool {
        self.kind == Kind::IdToken
    }

    /// The identity provider issued something that is not to be presented: not an identity
    /// assertion grant (its `issued_token_type`, or its JWT `typ`), or one for another
    /// authorization server (`aud`), another resource (`resource`) or another client
    /// (`client_id`), or one that has expired. It was not presented.
    pub fn is_id_jag(&self) -> bool {
        self.kind == Kind::IdJag
    }

    /// The identity provider's metadata rules out the token exchange or the client's
    /// authentication: the ID token was not sent.
    pub fn is_identity_provider(&self) -> bool {
        self.kind == Kind::IdentityProvider
    }

    /// The authorization server is not the configured one, or its metadata rules out the
    /// JWT bearer grant or the client's authentication, or the MCP server publishes no
    /// resource identifier: nothing was sent to the identity provider.
    pub fn is_server(&self) -> bool {
        self.kind == Kind::Server
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::IdToken => "enterprise ID token",
            Kind::IdJag => "enterprise identity assertion grant",
            Kind::IdentityProvider => "enterprise identity provider",
            Kind::Server => "enterprise-managed authorization",
        };
        write!(formatter, "{kind}: {}", self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}
