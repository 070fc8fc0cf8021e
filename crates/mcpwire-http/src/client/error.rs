//! The error type of the HTTP client transports.

use std::fmt;

use http::StatusCode;

/// A failure of an HTTP client transport.
///
/// Building a transport returns it directly. Once a transport runs, its failures reach the
/// engine as a [`mcpwire_transport::Error`] whose [`source`](std::error::Error::source) is an
/// `HttpError`; [`HttpError::find`] digs it out of any error chain, for example the one of a
/// failed client request.
///
/// Opaque: ask with the `is_*` predicates.
pub struct HttpError {
    kind: Kind,
    detail: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Builder,
    Connect,
    Timeout,
    Status(StatusCode),
    SessionExpired,
    Protocol,
    TooLarge,
}

impl HttpError {
    pub(crate) fn builder(detail: impl Into<String>) -> Self {
        HttpError::new(Kind::Builder, Some(detail.into()))
    }

    pub(crate) fn connect(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        HttpError {
            kind: Kind::Connect,
            detail: None,
            source: Some(source.into()),
        }
    }

    pub(crate) fn timeout(what: &str) -> Self {
        HttpError::new(Kind::Timeout, Some(what.to_owned()))
    }

    pub(crate) fn unexpected_status(status: StatusCode, detail: Option<String>) -> Self {
        HttpError::new(Kind::Status(status), detail)
    }

    pub(crate) fn session_expired() -> Self {
        HttpError::new(Kind::SessionExpired, None)
    }

    /// A session expiry that starting a new session could not repair, for `reason`.
    pub(crate) fn session_expired_because(reason: impl Into<String>) -> Self {
        HttpError::new(Kind::SessionExpired, Some(reason.into()))
    }

    pub(crate) fn protocol(detail: impl Into<String>) -> Self {
        HttpError::new(Kind::Protocol, Some(detail.into()))
    }

    pub(crate) fn too_large(limit: usize) -> Self {
        HttpError::new(
            Kind::TooLarge,
            Some(format!("a body exceeded the limit of {limit} bytes")),
        )
    }

    fn new(kind: Kind, detail: Option<String>) -> Self {
        HttpError {
            kind,
            detail,
            source: None,
        }
    }

    /// Finds an `HttpError` in the source chain of `error`, `error` itself included.
    ///
    /// # Examples
    ///
    /// ```
    /// use mcpwire_http::client::HttpError;
    ///
    /// let error = std::io::Error::other("not from http");
    /// assert!(HttpError::find(&error).is_none());
    /// ```
    pub fn find<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a HttpError> {
        let mut current = Some(error);
        while let Some(error) = current {
            if let Some(found) = error.downcast_ref::<HttpError>() {
                return Some(found);
            }
            current = error.source();
        }
        None
    }

    /// Returns `true` when the server answered 404 to a request carrying the session id:
    /// the session has ended, and the client must start a new one with `initialize`.
    ///
    /// A Streamable HTTP transport starts the new session by itself unless
    /// [`reinitialize_on_session_expiry`](crate::client::HttpClientBuilder::reinitialize_on_session_expiry)
    /// is off; this error then means that it could not (the details say why).
    pub fn is_session_expired(&self) -> bool {
        self.kind == Kind::SessionExpired
    }

    /// Returns `true` when the transport's configuration is invalid (a bad URL or header).
    pub fn is_builder(&self) -> bool {
        self.kind == Kind::Builder
    }

    /// Returns `true` when connecting or talking to the server failed below HTTP.
    pub fn is_connect(&self) -> bool {
        self.kind == Kind::Connect
    }

    /// Returns `true` when the server did not answer in time.
    pub fn is_timeout(&self) -> bool {
        self.kind == Kind::Timeout
    }

    /// Returns `true` when the server answered with an unexpected HTTP status.
    pub fn is_status(&self) -> bool {
        matches!(self.kind, Kind::Status(_))
    }

    /// Returns `true` when the server broke the transport's rules (a wrong content type, a
    /// missing `endpoint` event, an invalid session id).
    pub fn is_protocol(&self) -> bool {
        self.kind == Kind::Protocol
    }

    /// Returns `true` when a body or event exceeded the size limit.
    pub fn is_too_large(&self) -> bool {
        self.kind == Kind::TooLarge
    }

    /// The unexpected HTTP status, for [`is_status`](Self::is_status) errors.
    pub fn status(&self) -> Option<StatusCode> {
        match self.kind {
            Kind::Status(status) => Some(status),
            Kind::SessionExpired => Some(StatusCode::NOT_FOUND),
            _ => None,
        }
    }

    /// This error and its sources in one line, for a message that must stand alone, such as
    /// the error response of a failed request: `http connection failed: client error
    /// (Connect): invalid peer certificate: UnknownIssuer`. A source whose text the line
    /// already holds is left out.
    pub(crate) fn with_sources(&self) -> String {
        /// Error chains are short; a longer one is cut rather than followed.
        const MAX_SOURCES: usize = 8;
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        for _ in 0..MAX_SOURCES {
            let Some(error) = source else {
                break;
            };
            let part = error.to_string();
            if !text.contains(&part) {
                text.push_str(": ");
                text.push_str(&part);
            }
            source = error.source();
        }
        text
    }

    /// Wraps this error as the transport error the engine sees.
    pub(crate) fn into_transport(self) -> mcpwire_transport::Error {
        mcpwire_transport::Error::io(self)
    }
}

impl fmt::Debug for HttpError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = formatter.debug_struct("HttpError");
        debug.field("kind", &self.kind);
        if let Some(detail) = &self.detail {
            debug.field("detail", detail);
        }
        if let Some(source) = &self.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Builder => formatter.write_str("invalid http transport configuration")?,
            Kind::Connect => formatter.write_str("http connection failed")?,
            Kind::Timeout => formatter.write_str("http request timed out")?,
            Kind::Status(status) => write!(formatter, "server answered http {status}")?,
            Kind::SessionExpired => formatter.write_str(
                "the server ended the mcp session (http 404 for the session id); initialize a new session",
            )?,
            Kind::Protocol => formatter.write_str("the server broke the http transport's rules")?,
            Kind::TooLarge => formatter.write_str("http body too large")?,
        }
        if let Some(detail) = &self.detail {
            write!(formatter, ": {detail}")?;
        }
        Ok(())
    }
}

impl std::error::Error for HttpError {
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
    fn found_through_a_transport_error() {
        let transport = HttpError::session_expired().into_transport();
        let found = HttpError::find(&transport).expect("the source is an HttpError");
        assert!(found.is_session_expired());
        assert_eq!(found.status(), Some(StatusCode::NOT_FOUND));
        assert!(found.to_string().contains("initialize"));
    }

    #[test]
    fn sources_are_joined_once() {
        let inner = std::io::Error::other("invalid peer certificate: UnknownIssuer");
        let error = HttpError::connect(inner);
        assert_eq!(
            error.with_sources(),
            "http connection failed: invalid peer certificate: UnknownIssuer"
        );
        let plain = HttpError::timeout("no response headers");
        assert_eq!(plain.with_sources(), plain.to_string());
    }

    #[test]
    fn status_errors_carry_their_status() {
        let error = HttpError::unexpected_status(StatusCode::BAD_GATEWAY, Some("upstream".into()));
        assert!(error.is_status());
        assert_eq!(error.status(), Some(StatusCode::BAD_GATEWAY));
        assert_eq!(
            error.to_string(),
            "server answered http 502 Bad Gateway: upstream"
        );
    }
}
