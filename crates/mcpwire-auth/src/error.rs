//! The crate's one error type.

use std::fmt;

/// An error of the authorization machinery.
///
/// Opaque, with a predicate per kind and the underlying error as its source. Its text never
/// contains a token, a secret, an authorization code or a PKCE verifier.
pub struct Error {
    kind: Kind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An outbound fetch failed: refused by the fetch policy, the network, a deadline, a
    /// body over its limit.
    Fetch,
    /// Protected Resource Metadata or authorization server metadata could not be found, or
    /// was refused (resource or issuer mismatch, no PKCE `S256`).
    Discovery,
    /// No way to identify the client, or the registration endpoint refused it.
    Registration,
    /// The user agent failed, or the authorization response was refused (`state`, `iss`,
    /// an `error` from the authorization server).
    Authorization,
    /// The token endpoint refused the request or answered something unreadable, or a JWT
    /// the client holds cannot be read.
    Token,
    /// A configuration value is invalid.
    Config,
    /// A token store could not be read or written, or is not private.
    Store,
}

impl Error {
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source<E>(mut self, source: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        self.source = Some(Box::new(source));
        self
    }

    pub(crate) fn with_boxed_source(
        mut self,
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    ) -> Self {
        self.source = Some(source);
        self
    }

    /// An outbound fetch failed or was refused by the fetch policy (scheme, size, deadline).
    pub fn is_fetch(&self) -> bool {
        self.kind == Kind::Fetch
    }

    /// Discovery failed, or its result was refused: a Protected Resource Metadata `resource`
    /// other than the server's, an authorization server metadata `issuer` other than the
    /// one asked for, an authorization server without PKCE `S256`.
    pub fn is_discovery(&self) -> bool {
        self.kind == Kind::Discovery
    }

    /// The client could not be identified to the authorization server.
    pub fn is_registration(&self) -> bool {
        self.kind == Kind::Registration
    }

    /// The authorization step failed: the user agent, or a refused authorization response.
    pub fn is_authorization(&self) -> bool {
        self.kind == Kind::Authorization
    }

    /// The token endpoint refused a request or answered something unreadable, or a token
    /// the client was to present is not a JWT it can read (`client::UnverifiedJwt::parse`).
    pub fn is_token(&self) -> bool {
        self.kind == Kind::Token
    }

    /// A configuration value is invalid.
    pub fn is_config(&self) -> bool {
        self.kind == Kind::Config
    }

    /// A token store could not be read or written, or its file is not private.
    pub fn is_store(&self) -> bool {
        self.kind == Kind::Store
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
            Kind::Fetch => "oauth fetch",
            Kind::Discovery => "oauth discovery",
            Kind::Registration => "oauth client registration",
            Kind::Authorization => "oauth authorization",
            Kind::Token => "oauth token request",
            Kind::Config => "oauth configuration",
            Kind::Store => "oauth token store",
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
