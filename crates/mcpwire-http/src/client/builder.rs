//! The builder shared by the HTTP client transports.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, Uri};
use http_body::Body;
use tower::{Layer, Service};

use crate::client::Error as HttpError;
use crate::client::connection::Connection;
use crate::client::fallback::HttpClientTransport;
use crate::client::legacy::LegacySseClientTransport;
use crate::client::options::Options;
use crate::client::service::{
    BoxError, HttpClientService, RequestBody, ResponseBody, boxed, default_service, layered,
};
use crate::client::streamable::StreamableHttpClientTransport;
use crate::client::tls::TlsSetup;

/// Configures an HTTP client transport to one MCP server URL.
///
/// One builder makes all three transports: [`streamable`](Self::streamable) (Streamable
/// HTTP), [`legacy_sse`](Self::legacy_sse) (the 2024-11-05 HTTP+SSE transport) and
/// [`with_fallback`](Self::with_fallback) (Streamable HTTP, falling back to HTTP+SSE when the
/// server refuses the first POST, as the spec's backwards-compatibility section describes).
///
/// Every bound has a default and a setter:
///
/// | setting | default |
/// |---|---|
/// | [`connect_timeout`](Self::connect_timeout) | 10 s |
/// | [`request_timeout`](Self::request_timeout) | 30 s |
/// | [`inbound_capacity`](Self::inbound_capacity) | 64 messages |
/// | [`max_message_bytes`](Self::max_message_bytes) | 4 MiB |
/// | [`reconnect_delay`](Self::reconnect_delay) | 1 s |
/// | [`max_reconnect_delay`](Self::max_reconnect_delay) | 30 s |
/// | [`max_reconnect_attempts`](Self::max_reconnect_attempts) | 5 |
///
/// Streamable HTTP starts a new session by itself when the server ends the one in use
/// ([`reinitialize_on_session_expiry`](Self::reinitialize_on_session_expiry), on by default).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use mcpwire_http::client::HttpClientBuilder;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let transport = HttpClientBuilder::new("https://mcp.example.com/mcp")
///     .bearer_token("secret-token")
///     .header("x-tenant", "acme")
///     .request_timeout(Duration::from_secs(60))
///     .streamable()
///     .expect("a valid configuration");
/// assert!(transport.session().id().is_none(), "no session before initialize");
/// # });
/// ```
#[derive(Debug)]
pub struct HttpClientBuilder {
    url: String,
    headers: HeaderMap,
    /// The first invalid header, reported by the terminal method.
    header_error: Option<String>,
    tls: TlsSetup,
    /// The user's HTTP stack, in place of the default one.
    service: Option<HttpClientService>,
    layers: Layers,
    pub(crate) options: Options,
}

/// The layers the HTTP stack is wrapped in, in the order they were added.
#[derive(Default)]
struct Layers(Vec<Box<dyn FnOnce(HttpClientService) -> HttpClientService + Send>>);

impl fmt::Debug for Layers {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} layer(s)", self.0.len())
    }
}

/// The defaults are the builder's public `DEFAULT_*` constants, so they are set here rather
/// than beside `Options`.
impl Default for Options {
    fn default() -> Self {
        Options {
            connect_timeout: HttpClientBuilder::DEFAULT_CONNECT_TIMEOUT,
            request_timeout: HttpClientBuilder::DEFAULT_REQUEST_TIMEOUT,
            inbound_capacity: HttpClientBuilder::DEFAULT_INBOUND_CAPACITY,
            max_message_bytes: HttpClientBuilder::DEFAULT_MAX_MESSAGE_BYTES,
            reconnect_delay: HttpClientBuilder::DEFAULT_RECONNECT_DELAY,
            max_reconnect_delay: HttpClientBuilder::DEFAULT_MAX_RECONNECT_DELAY,
            max_reconnect_attempts: HttpClientBuilder::DEFAULT_MAX_RECONNECT_ATTEMPTS,
            standalone_stream: true,
            protocol_version: None,
            reinitialize_on_session_expiry: true,
        }
    }
}

impl HttpClientBuilder {
    /// Default for [`connect_timeout`](Self::connect_timeout).
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default for [`request_timeout`](Self::request_timeout).
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default for [`inbound_capacity`](Self::inbound_capacity).
    pub const DEFAULT_INBOUND_CAPACITY: usize = 64;
    /// Default for [`max_message_bytes`](Self::max_message_bytes): the envelope parser's
    /// default size limit.
    pub const DEFAULT_MAX_MESSAGE_BYTES: usize = mcpwire_jsonrpc::DEFAULT_MAX_SIZE;
    /// Default for [`reconnect_delay`](Self::reconnect_delay).
    pub const DEFAULT_RECONNECT_DELAY: Duration = Duration::from_secs(1);
    /// Default for [`max_reconnect_delay`](Self::max_reconnect_delay).
    pub const DEFAULT_MAX_RECONNECT_DELAY: Duration = Duration::from_secs(30);
    /// Default for [`max_reconnect_attempts`](Self::max_reconnect_attempts).
    pub const DEFAULT_MAX_RECONNECT_ATTEMPTS: u32 = 5;

    /// A builder for the server at `url` (`http` or `https`), with the defaults.
    ///
    /// The URL is checked by the terminal methods.
    pub fn new(url: impl Into<String>) -> Self {
        HttpClientBuilder {
            url: url.into(),
            headers: HeaderMap::new(),
            header_error: None,
            tls: TlsSetup::Default,
            service: None,
            layers: Layers::default(),
            options: Options::default(),
        }
    }

    /// Adds a header to every HTTP request (for example `Authorization`). Adding the same
    /// name twice sends both values. The transport's own headers (`Accept`, `Content-Type`,
    /// `Mcp-Session-Id`, `MCP-Protocol-Version`, `Last-Event-ID`) always win.
    ///
    /// An invalid name or value makes the terminal method fail with
    /// [`HttpError::is_builder`].
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        HeaderValue: TryFrom<V>,
    {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(name), Ok(value)) => {
                self.headers.append(name, value);
            }
            (Err(_), _) => {
                self.header_error
                    .get_or_insert_with(|| "invalid header name".to_owned());
            }
            (_, Err(_)) => {
                self.header_error
                    .get_or_insert_with(|| "invalid header value".to_owned());
            }
        }
        self
    }

    /// Sends `Authorization: Bearer <token>` with every request, marked sensitive so that it
    /// is not logged: a fixed token. A token that changes (refreshed, per request, obtained
    /// by OAuth) belongs in a [`layer`](Self::layer).
    pub fn bearer_token(mut self, token: &str) -> Self {
        match HeaderValue::try_from(format!("Bearer {token}")) {
            Ok(mut value) => {
                value.set_sensitive(true);
                self.headers.insert(http::header::AUTHORIZATION, value);
            }
            Err(_) => {
                self.header_error
                    .get_or_insert_with(|| "invalid bearer token".to_owned());
            }
        }
        self
    }

    /// How long establishing a TCP connection (and its TLS handshake) may take.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.options.connect_timeout = timeout;
        self
    }

    /// How long the server may take to answer an HTTP request with its status and headers
    /// (and, for a JSON answer, its body). An SSE stream, once open, has no deadline, and
    /// neither has the answer to the POST of a JSON-RPC request, which a server in JSON mode
    /// sends only with the result: the engine's request timeout bounds that one (the first
    /// POST of [`with_fallback`](Self::with_fallback) excepted, which decides the transport).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.options.request_timeout = timeout;
        self
    }

    /// How many received messages wait for the engine before the transport stops reading
    /// from the server (back-pressure). At least 1.
    pub fn inbound_capacity(mut self, capacity: usize) -> Self {
        self.options.inbound_capacity = capacity.max(1);
        self
    }

    /// The largest JSON response body, and the largest SSE event, accepted. A larger SSE
    /// event arrives as a `-32700` parse error and reading goes on; a larger JSON body fails
    /// the request it answers.
    pub fn max_message_bytes(mut self, bytes: usize) -> Self {
        self.options.max_message_bytes = bytes;
        self
    }

    /// The wait before reconnecting to an SSE stream when the server sent no `retry` field.
    pub fn reconnect_delay(mut self, delay: Duration) -> Self {
        self.options.reconnect_delay = delay;
        self
    }

    /// The longest wait between reconnection attempts as the backoff doubles it.
    pub fn max_reconnect_delay(mut self, delay: Duration) -> Self {
        self.options.max_reconnect_delay = delay;
        self
    }

    /// How many reconnections in a row may fail before a stream is given up. An attempt
    /// that receives at least one event resets the count.
    pub fn max_reconnect_attempts(mut self, attempts: u32) -> Self {
        self.options.max_reconnect_attempts = attempts;
        self
    }

    /// Whether Streamable HTTP opens the optional standalone GET stream after initialization
    /// (default `true`). It carries the server's requests and notifications that belong to
    /// no request of the client.
    pub fn standalone_stream(mut self, enabled: bool) -> Self {
        self.options.standalone_stream = enabled;
        self
    }

    /// Whether Streamable HTTP starts a new session when the server ends the one in use
    /// (default `true`).
    ///
    /// A server that ended a session answers `404` to its id, and the spec then requires the
    /// client to initialize a new session. With this setting the transport does it by
    /// itself: it repeats the client's `initialize` request (under an id of its own, whose
    /// response it keeps from the client role) without a session id, checks that the server
    /// negotiates the same protocol version, sends `notifications/initialized`, reopens the
    /// standalone stream, and sends the refused message again on the new session. A message
    /// causes at most one new session, and failures that arrive together share one.
    /// [`SessionHandle::reinitializations`](crate::client::SessionHandle::reinitializations)
    /// counts the new sessions and [`SessionHandle::id`](crate::client::SessionHandle::id)
    /// shows the current one.
    ///
    /// The client role above the transport is not told. Whatever state the server kept for
    /// the old session is lost: resource subscriptions, the logging level, server requests
    /// and SSE streams in flight, and anything a tool remembered per session. The new
    /// session may also advertise other capabilities than the old one did. A client that
    /// depends on such state should turn this off, or watch
    /// [`SessionHandle::reinitializations`](crate::client::SessionHandle::reinitializations)
    /// and set the state up again.
    ///
    /// When it is off, or when starting the new session fails (the server refuses it or
    /// negotiates another protocol version), the transport fails with an error whose
    /// [`Error`](crate::client::Error) source [`is_session_expired`](HttpError::is_session_expired), and the
    /// client must initialize a new session on a new transport.
    pub fn reinitialize_on_session_expiry(mut self, enabled: bool) -> Self {
        self.options.reinitialize_on_session_expiry = enabled;
        self
    }

    /// Sends `MCP-Protocol-Version: version` on every request but `initialize`, instead of
    /// the version read from the `initialize` result.
    pub fn protocol_version(mut self, version: &str) -> Self {
        match HeaderValue::try_from(version) {
            Ok(value) => self.options.protocol_version = Some(value),
            Err(_) => {
                self.header_error
                    .get_or_insert_with(|| "invalid protocol version".to_owned());
            }
        }
        self
    }

    /// Secures `https` connections with this rustls crypto provider and the Mozilla roots of
    /// `webpki-roots`, instead of the process default provider or *ring*: for example
    /// `rustls_graviola::default_provider()` for post-quantum key exchange (see the
    /// [module documentation](crate::client#tls)). Replaces an earlier
    /// [`tls_config`](Self::tls_config).
    pub fn crypto_provider(mut self, provider: Arc<rustls::crypto::CryptoProvider>) -> Self {
        self.tls = TlsSetup::Provider(provider);
        self
    }

    /// Uses this whole rustls configuration for `https` URLs, for example to trust a private
    /// certificate authority or to present a client certificate. Replaces an earlier
    /// [`crypto_provider`](Self::crypto_provider); the connector sets the ALPN protocols.
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.tls = TlsSetup::Config(Box::new(config));
        self
    }

    /// Sends every HTTP request through `service` instead of the default stack (hyper-util's
    /// pooled client over rustls): any `tower` service of [`RequestBody`] requests whose
    /// responses have a body of bytes, such as a client of another HTTP library, a proxy, or
    /// an MCP server's service in the same process. The connect timeout and the TLS settings
    /// belong to the default stack and do not apply to it; the request timeout, the message
    /// limits and the layers do.
    pub fn service<S, B>(mut self, service: S) -> Self
    where
        S: Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + Sync + 'static,
        S::Error: Into<BoxError>,
        S::Future: Send + 'static,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.service = Some(boxed(service));
        self
    }

    /// Wraps the HTTP stack in a `tower` layer: authorization, extra or signed headers,
    /// retries, tracing, metrics. The first layer added is the outermost, as with
    /// `tower::ServiceBuilder`: it sees each request first and each response last. A layer
    /// must keep the stack's request, response and error types ([`HttpClientService`]'s).
    ///
    /// ```
    /// use http::HeaderValue;
    /// use mcpwire_http::client::{HttpClientBuilder, RequestBody};
    /// use tower::util::MapRequestLayer;
    ///
    /// let with_tenant = MapRequestLayer::new(|mut request: http::Request<RequestBody>| {
    ///     let tenant = HeaderValue::from_static("acme");
    ///     request.headers_mut().insert("x-tenant", tenant);
    ///     request
    /// });
    /// let transport = HttpClientBuilder::new("https://mcp.example.com/mcp")
    ///     .layer(with_tenant)
    ///     .streamable()
    ///     .expect("a valid configuration");
    /// # drop(transport);
    /// ```
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<HttpClientService> + Send + 'static,
        L::Service: Service<Request<RequestBody>, Response = Response<ResponseBody>, Error = BoxError>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as Service<Request<RequestBody>>>::Future: Send + 'static,
    {
        self.layers
            .0
            .push(Box::new(move |service| layered(&layer, service)));
        self
    }

    /// Builds a Streamable HTTP transport. Nothing is sent until the first message.
    ///
    /// Must be called inside a tokio runtime, which the transport spawns its HTTP
    /// exchanges on.
    ///
    /// # Errors
    ///
    /// [`HttpError::is_builder`] for an invalid URL, header or TLS setup.
    pub fn streamable(self) -> Result<StreamableHttpClientTransport, HttpError> {
        let (connection, options) = self.into_parts()?;
        Ok(StreamableHttpClientTransport::new(connection, options))
    }

    /// Connects with the legacy HTTP+SSE transport of 2024-11-05: opens the SSE stream at
    /// the URL and waits for the server's `endpoint` event.
    ///
    /// # Errors
    ///
    /// [`HttpError::is_builder`] for an invalid configuration; otherwise the failure to open
    /// the stream or to receive a valid `endpoint` event within the request timeout.
    pub async fn legacy_sse(self) -> Result<LegacySseClientTransport, HttpError> {
        let (connection, options) = self.into_parts()?;
        LegacySseClientTransport::connect(connection, options).await
    }

    /// Builds a transport that speaks Streamable HTTP, unless the server answers the first
    /// POST (the `initialize` request) with 400, 404 or 405: then it opens the legacy
    /// HTTP+SSE stream at the same URL and goes on with that transport.
    ///
    /// # Errors
    ///
    /// [`HttpError::is_builder`] for an invalid URL, header or TLS setup.
    pub fn with_fallback(self) -> Result<HttpClientTransport, HttpError> {
        let (connection, options) = self.into_parts()?;
        Ok(HttpClientTransport::new(connection, options))
    }

    fn into_parts(self) -> Result<(Arc<Connection>, Options), HttpError> {
        if let Some(error) = self.header_error {
            return Err(HttpError::builder(error));
        }
        let url: Uri = self
            .url
            .parse()
            .map_err(|_| HttpError::builder(format!("invalid url `{}`", self.url)))?;
        match url.scheme_str() {
            Some("http" | "https") if url.authority().is_some() => {}
            _ => {
                return Err(HttpError::builder(format!(
                    "the url `{}` is not an absolute http or https url",
                    self.url
                )));
            }
        }
        let mut service = match self.service {
            Some(service) => service,
            None => default_service(self.tls, self.options.connect_timeout)?,
        };
        // The first layer added ends up outermost.
        for layer in self.layers.0.into_iter().rev() {
            service = layer(service);
        }
        let connection = Connection::new(url, self.headers, service, &self.options);
        Ok((Arc::new(connection), self.options))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_settings_fail_the_build() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let _guard = runtime.enter();
        let bad_header = HttpClientBuilder::new("http://127.0.0.1:1/mcp")
            .header("bad name", "x")
            .streamable()
            .unwrap_err();
        assert!(bad_header.is_builder());
        let bad_url = HttpClientBuilder::new("ftp://example/")
            .streamable()
            .unwrap_err();
        assert!(bad_url.is_builder());
        let relative = HttpClientBuilder::new("/mcp").streamable().unwrap_err();
        assert!(relative.is_builder());
    }
}
