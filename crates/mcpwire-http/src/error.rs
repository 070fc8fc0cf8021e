//! The error type of mcpwire-http.

use std::fmt;

/// A failure of the HTTP transport or of an [`EventStore`](crate::server::EventStore).
///
/// Opaque: ask with the `is_*` predicates, and find the underlying cause through
/// [`std::error::Error::source`].
pub struct Error {
    kind: Kind,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Evicted,
    UnknownEvent,
    Store,
    Io,
}

impl Error {
    /// The events after the requested one are no longer stored, so the stream cannot be
    /// resumed without a gap.
    pub fn evicted() -> Self {
        Error {
            kind: Kind::Evicted,
            source: None,
        }
    }

    /// The requested event id names no event the store knows of.
    pub fn unknown_event() -> Self {
        Error {
            kind: Kind::UnknownEvent,
            source: None,
        }
    }

    /// The event store failed, for a store backed by another service.
    pub fn store(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error {
            kind: Kind::Store,
            source: Some(source.into()),
        }
    }

    #[cfg(feature = "server")]
    pub(crate) fn io(source: std::io::Error) -> Self {
        Error {
            kind: Kind::Io,
            source: Some(Box::new(source)),
        }
    }

    /// Returns `true` when the events to replay were evicted.
    pub fn is_evicted(&self) -> bool {
        self.kind == Kind::Evicted
    }

    /// Returns `true` when the event id names no stored event.
    pub fn is_unknown_event(&self) -> bool {
        self.kind == Kind::UnknownEvent
    }

    /// Returns `true` when an event store backed by another service failed.
    pub fn is_store(&self) -> bool {
        self.kind == Kind::Store
    }

    /// Returns `true` when listening or accepting failed.
    pub fn is_io(&self) -> bool {
        self.kind == Kind::Io
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
        formatter.write_str(match self.kind {
            Kind::Evicted => "the events after this id are no longer stored",
            Kind::UnknownEvent => "no stored event has this id",
            Kind::Store => "the event store failed",
            Kind::Io => "http i/o failed",
        })
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}
