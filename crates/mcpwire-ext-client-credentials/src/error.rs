//! The crate's one error type.

use std::fmt;

/// An error of the client credentials: a key that cannot sign, or an authorization server
/// the credentials may not be used with.
///
/// Opaque, with a predicate per kind and the underlying error as its source. Its text never
/// contains a secret or a key. The token endpoint's own refusals reach the caller as
/// `mcpwire_auth::Error`s, from the layer.
pub struct Error {
    kind: Kind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The private key could not be read, or cannot sign with its algorithm.
    Key,
    /// The authorization server is not the one the credentials are for, or does not take
    /// the grant, the authentication method or the signing algorithm.
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

    pub(crate) fn with_source<E>(mut self, source: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        self.source = Some(Box::new(source));
        self
    }

    /// The private key could not be read from its PEM, does not fit its algorithm, or
    /// failed to sign.
    pub fn is_key(&self) -> bool {
        self.kind == Kind::Key
    }

    /// The authorization server is not one these credentials may be used with: another
    /// issuer than theirs, or a server that does not take the `client_credentials` grant,
    /// the authentication method, or the key's signing algorithm. Nothing secret was sent.
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
            Kind::Key => "client credentials key",
            Kind::Server => "client credentials",
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
