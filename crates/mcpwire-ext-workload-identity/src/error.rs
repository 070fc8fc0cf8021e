//! The crate's one error type.

use std::fmt;

/// An error of workload identity federation: the workload's token could not be read, is not
/// one to present, or the authorization server is not one it is for.
///
/// Opaque, with a predicate per kind and the underlying error as its source. Its text never
/// contains the token. The token endpoint's own refusals reach the caller as
/// `mcpwire_auth::Error`s, from the layer.
pub struct Error {
    kind: Kind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The token's file or environment variable is missing, unreadable, empty or too long.
    Source,
    /// The token is not a JWT, or it has expired.
    Token,
    /// The authorization server is not one the token is for, or does not offer the grant.
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

    /// The workload's token could not be read: its file or environment variable is missing
    /// or unreadable, or what it holds is empty or longer than
    /// [`MAX_TOKEN_BYTES`](crate::MAX_TOKEN_BYTES).
    pub fn is_source(&self) -> bool {
        self.kind == Kind::Source
    }

    /// The workload's token is not a JWT whose claims can be read, or its `exp` has passed:
    /// it was not presented.
    pub fn is_token(&self) -> bool {
        self.kind == Kind::Token
    }

    /// The authorization server is not one the token may go to (not its audience, or not the
    /// configured issuer), or it does not offer the JWT bearer grant: the token was not
    /// presented.
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
            Kind::Source => "workload token source",
            Kind::Token => "workload token",
            Kind::Server => "workload identity",
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
