//! The transport error type.

use std::fmt;

/// A transport failure.
///
/// Opaque: ask with the `is_*` predicates, and find the underlying cause through
/// [`std::error::Error::source`].
pub struct Error {
    kind: Kind,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Closed,
    Io,
    TooLarge,
}

impl Error {
    /// The transport is closed: nothing more can be sent.
    pub fn closed() -> Self {
        Error {
            kind: Kind::Closed,
            source: None,
        }
    }

    /// The underlying channel failed.
    pub fn io(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error {
            kind: Kind::Io,
            source: Some(source.into()),
        }
    }

    /// A frame exceeded the transport's size limit.
    pub fn too_large(limit: usize) -> Self {
        Error {
            kind: Kind::TooLarge,
            source: Some(format!("a frame exceeded the limit of {limit} bytes").into()),
        }
    }

    /// Returns `true` when the transport is closed.
    pub fn is_closed(&self) -> bool {
        self.kind == Kind::Closed
    }

    /// Returns `true` when the underlying channel failed.
    pub fn is_io(&self) -> bool {
        self.kind == Kind::Io
    }

    /// Returns `true` when a frame exceeded the size limit.
    pub fn is_too_large(&self) -> bool {
        self.kind == Kind::TooLarge
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = formatter.debug_struct("Error");
        debug.field("kind", &self.kind);
        if let Some(source) = &self.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Closed => formatter.write_str("transport closed"),
            Kind::Io => formatter.write_str("transport i/o failed"),
            Kind::TooLarge => formatter.write_str("frame too large"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_sources() {
        assert!(Error::closed().is_closed());
        assert_eq!(Error::closed().to_string(), "transport closed");
        let io = Error::io(std::io::Error::other("pipe broke"));
        assert!(io.is_io() && !io.is_closed());
        let source = std::error::Error::source(&io).expect("has a source");
        assert_eq!(source.to_string(), "pipe broke");
        let large = Error::too_large(10);
        assert!(large.is_too_large());
        assert!(
            std::error::Error::source(&large)
                .expect("source")
                .to_string()
                .contains("10 bytes")
        );
    }
}
