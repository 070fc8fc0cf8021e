//! The error type of the client side.

use std::fmt;

/// A failure of an HTTP client transport.
///
/// Building a client transport returns it directly. Once a client transport runs, its failures
/// reach the engine as a [`mcpwire_transport::Error`] whose
/// [`source`](std::error::Error::source) is an `Error` of this crate; [`Error::find`] digs it
/// out of any error chain, for example the one of a failed client request.
///
/// Opaque: ask with the `is_*` predicates, and find the underlying cause through
/// [`std::error::Error::source`].
pub struct Error {
    kind: Kind,
    detail: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
    /// The JSON-RPC error response that the body of an unexpected status held.
    refusal: Option<Box<mcpwire_jsonrpc::ErrorResponse>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Builder,
    Connect,
    Timeout,
    /// An unexpected HTTP status, as its code.
    Status(u16),
    SessionExpired,
    Protocol,
    TooLarge,
}

impl Error {
    pub(crate) fn builder(detail: impl Into<String>) -> Self {
        Error::new(Kind::Builder, Some(detail.into()))
    }

    pub(crate) fn connect(source: Box<dyn std::error::Error + Send + Sync + 'static>) -> Self {
        Error {
            kind: Kind::Connect,
            detail: None,
            source: Some(source),
            refusal: None,
        }
    }

    pub(crate) fn timeout(what: &str) -> Self {
        Error::new(Kind::Timeout, Some(what.to_owned()))
    }

    pub(crate) fn unexpected_status(status: http::StatusCode, detail: Option<String>) -> Self {
        Error::new(Kind::Status(status.as_u16()), detail)
    }

    /// An unexpected status whose body was a JSON-RPC error response: the server's own
    /// explanation, which a failed request is answered with.
    pub(crate) fn refused(
        status: http::StatusCode,
        refusal: mcpwire_jsonrpc::ErrorResponse,
    ) -> Self {
        let mut error = Error::unexpected_status(status, Some(refusal.error.message.clone()));
        error.refusal = Some(Box::new(refusal));
        error
    }

    /// The JSON-RPC error response the body of an unexpected status held, if any.
    pub(crate) fn refusal(&self) -> Option<&mcpwire_jsonrpc::ErrorResponse> {
        self.refusal.as_deref()
    }

    pub(crate) fn session_expired() -> Self {
        Error::new(Kind::SessionExpired, None)
    }

    /// A session expiry that starting a new session could not repair, for `reason`.
    pub(crate) fn session_expired_because(reason: impl Into<String>) -> Self {
        Error::new(Kind::SessionExpired, Some(reason.into()))
    }

    pub(crate) fn protocol(detail: impl Into<String>) -> Self {
        Error::new(Kind::Protocol, Some(detail.into()))
    }

    pub(crate) fn too_large(limit: usize) -> Self {
        Error::new(
            Kind::TooLarge,
            Some(format!("a body exceeded the limit of {limit} bytes")),
        )
    }

    fn new(kind: Kind, detail: Option<String>) -> Self {
        Error {
            kind,
            detail,
            source: None,
            refusal: None,
        }
    }

    /// Finds an `Error` of this crate in the source chain of `error`, `error` itself included.
    ///
    /// # Examples
    ///
    /// ```
    /// let error = std::io::Error::other("not from http");
    /// assert!(mcpwire_http::client::Error::find(&error).is_none());
    /// ```
    pub fn find<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Error> {
        let mut current = Some(error);
        while let Some(error) = current {
            if let Some(found) = error.downcast_ref::<Error>() {
                return Some(found);
            }
            current = error.source();
        }
        None
    }

    /// Returns `true` when the server answered 404 to a request carrying the session id:
    /// the session has ended, and the client must start a new one with `initialize`.
    ///
    /// A Streamable HTTP client transport starts the new session by itself unless
    /// `HttpClientBuilder::reinitialize_on_session_expiry` is off; this error then means that
    /// it could not (the details say why).
    pub fn is_session_expired(&self) -> bool {
        self.kind == Kind::SessionExpired
    }

    /// Returns `true` when a client transport's configuration is invalid (a bad URL or
    /// header).
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

    /// The unexpected HTTP status, for [`is_status`](Self::is_status) and
    /// [`is_session_expired`](Self::is_session_expired) errors.
    pub fn status(&self) -> Option<http::StatusCode> {
        match self.kind {
            Kind::Status(status) => http::StatusCode::from_u16(status).ok(),
            Kind::SessionExpired => Some(http::StatusCode::NOT_FOUND),
            _ => None,
        }
    }

    /// Wraps this error as the transport error the engine sees.
    pub(crate) fn into_transport(self) -> mcpwire_transport::Error {
        mcpwire_transport::Error::io(self)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = formatter.debug_struct("Error");
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

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Builder => formatter.write_str("invalid http transport configuration")?,
            Kind::Connect => formatter.write_str("http connection failed")?,
            Kind::Timeout => formatter.write_str("http request timed out")?,
            Kind::Status(status) => match http_status_text(status) {
                Some(text) => write!(formatter, "server answered http {status} {text}")?,
                None => write!(formatter, "server answered http {status}")?,
            },
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

/// The reason phrase of a status code, as `http::StatusCode`'s `Display` adds it.
fn http_status_text(status: u16) -> Option<&'static str> {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|status| status.canonical_reason())
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
    use http::StatusCode;

    use super::*;

    #[test]
    fn found_through_a_transport_error() {
        let transport = Error::session_expired().into_transport();
        let found = Error::find(&transport).expect("the source is an Error");
        assert!(found.is_session_expired());
        assert_eq!(found.status(), Some(StatusCode::NOT_FOUND));
        assert!(found.to_string().contains("initialize"));
    }

    #[test]
    fn status_errors_carry_their_status() {
        let error = Error::unexpected_status(StatusCode::BAD_GATEWAY, Some("upstream".into()));
        assert!(error.is_status());
        assert_eq!(error.status(), Some(StatusCode::BAD_GATEWAY));
        assert_eq!(
            error.to_string(),
            "server answered http 502 Bad Gateway: upstream"
        );
    }
}
