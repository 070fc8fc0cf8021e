//! The engine's error type.

use std::fmt;

use mcpwire_jsonrpc::ErrorObject;

/// Why an outbound request or notification failed.
///
/// Opaque: ask with the `is_*` predicates; [`Error::remote`] gives the peer's error object.
pub struct Error {
    kind: Kind,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

enum Kind {
    Closed,
    Transport,
    Timeout,
    Remote(ErrorObject),
    InvalidResponse,
    Encode,
    Decode,
}

impl Error {
    pub(crate) fn closed() -> Self {
        Error {
            kind: Kind::Closed,
            source: None,
        }
    }

    pub(crate) fn closed_by(source: mcpwire_transport::Error) -> Self {
        Error {
            kind: Kind::Closed,
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn transport(source: mcpwire_transport::Error) -> Self {
        Error {
            kind: Kind::Transport,
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn timeout() -> Self {
        Error {
            kind: Kind::Timeout,
            source: None,
        }
    }

    pub(crate) fn from_remote(error: ErrorObject) -> Self {
        Error {
            kind: Kind::Remote(error),
            source: None,
        }
    }

    pub(crate) fn invalid_response(source: mcpwire_jsonrpc::ParseError) -> Self {
        Error {
            kind: Kind::InvalidResponse,
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn encode(source: serde_json::Error) -> Self {
        Error {
            kind: Kind::Encode,
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn decode(source: serde_json::Error) -> Self {
        Error {
            kind: Kind::Decode,
            source: Some(Box::new(source)),
        }
    }

    /// The peer answered with a message that is neither a result nor an error object (it had
    /// both, neither, or a malformed `error`); the source says what was wrong.
    pub fn is_invalid_response(&self) -> bool {
        matches!(self.kind, Kind::InvalidResponse)
    }

    /// The connection is closed (or closed while the request was pending).
    pub fn is_closed(&self) -> bool {
        matches!(self.kind, Kind::Closed)
    }

    /// The transport could not deliver the request or get its answer (an HTTP exchange
    /// failed, a layer of the HTTP client refused it), though the connection goes on; the
    /// source says why. No answer of the peer's is involved.
    pub fn is_transport(&self) -> bool {
        matches!(self.kind, Kind::Transport)
    }

    /// No response arrived within the request's timeout; a cancellation was sent.
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, Kind::Timeout)
    }

    /// The peer answered with an error response.
    pub fn is_remote(&self) -> bool {
        matches!(self.kind, Kind::Remote(_))
    }

    /// The params could not be encoded.
    pub fn is_encode(&self) -> bool {
        matches!(self.kind, Kind::Encode)
    }

    /// The result did not have the shape of the method's result type.
    pub fn is_decode(&self) -> bool {
        matches!(self.kind, Kind::Decode)
    }

    /// The peer's error object, for an error response.
    pub fn remote(&self) -> Option<&ErrorObject> {
        match &self.kind {
            Kind::Remote(error) => Some(error),
            _ => None,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = formatter.debug_struct("Error");
        match &self.kind {
            Kind::Remote(error) => debug.field("remote", error),
            _ => debug.field("kind", &self.to_string()),
        };
        if let Some(source) = &self.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Closed => formatter.write_str("connection closed"),
            Kind::Transport => {
                formatter.write_str("the transport could not deliver the request or its answer")
            }
            Kind::Timeout => formatter.write_str("request timed out"),
            Kind::Remote(error) => write!(formatter, "peer answered with an error: {error}"),
            Kind::InvalidResponse => formatter.write_str("peer answered with an invalid response"),
            Kind::Encode => formatter.write_str("params could not be encoded"),
            Kind::Decode => formatter.write_str("result could not be decoded"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            // The display text already gives the peer's code and message.
            Kind::Remote(_) => None,
            _ => self
                .source
                .as_deref()
                .map(|source| source as &(dyn std::error::Error + 'static)),
        }
    }
}
