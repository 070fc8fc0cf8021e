//! The error type of the server side.

use std::fmt;

/// A failure on the server side: serving a listener, answering a stateless request, or an
/// [`EventStore`](crate::server::EventStore).
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
    Cancelled,
    Answered,
}

impl Error {
    fn new(kind: Kind) -> Self {
        Error { kind, source: None }
    }

    /// The events after the requested one are no longer stored, so the stream cannot be
    /// resumed without a gap.
    pub fn evicted() -> Self {
        Error::new(Kind::Evicted)
    }

    /// The requested event id names no event the store knows of.
    pub fn unknown_event() -> Self {
        Error::new(Kind::UnknownEvent)
    }

    /// The event store failed, for a store backed by another service.
    pub fn store(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error {
            kind: Kind::Store,
            source: Some(source.into()),
        }
    }

    pub(crate) fn io(source: std::io::Error) -> Self {
        Error {
            kind: Kind::Io,
            source: Some(Box::new(source)),
        }
    }

    /// The client of a stateless request went away, or the service shut down.
    pub(crate) fn cancelled() -> Self {
        Error::new(Kind::Cancelled)
    }

    /// A stateless request was answered already.
    pub(crate) fn answered() -> Self {
        Error::new(Kind::Answered)
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

    /// Returns `true` when a stateless request is cancelled: its client went away (closed the
    /// connection or the SSE stream), or the service shut down. Nothing more is sent for it.
    pub fn is_cancelled(&self) -> bool {
        self.kind == Kind::Cancelled
    }

    /// Returns `true` when a stateless request was sent something after its final message,
    /// which went already.
    pub fn is_answered(&self) -> bool {
        self.kind == Kind::Answered
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
            Kind::Answered => "the request is answered already",
            Kind::Cancelled => {
                "the request is cancelled: its http client went away or the server is shutting down"
            }
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
