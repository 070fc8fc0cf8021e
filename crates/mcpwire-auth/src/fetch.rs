//! The crate's own outbound requests, under one policy: the client's (metadata, registration,
//! token and authorization URLs that a server told it to fetch) and the resource server's
//! (the issuer's JWKS, the introspection endpoint).
//!
//! The policy ([`FetchPolicy`]): `https` only, plain `http` only to a loopback host and only
//! when opted in; redirects are never followed (a `3xx` is an answer like any other, so no
//! request is replayed to another origin); every exchange, name resolution and body
//! included, ends within a deadline; a body longer than its limit is an error.
//!
//! And the SSRF guard: by default the requests go through the policy's guarded HTTP stack
//! ([`FetchPolicy::guarded_service`]), which checks every address a host name resolves to,
//! and every literal address, against private, loopback, link-local, cloud metadata and
//! other special-purpose ranges (IPv6 forms of IPv4 addresses judged by the IPv4 address),
//! and connects only to the addresses it checked, without a second lookup in between. A
//! URL's literal address is also checked before any request, whatever stack it goes
//! through. The classes of addresses live in `address`, the guarded stack in `guard`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use mcpwire_http::client::{HttpClientService, RequestBody};
use tower::ServiceExt as _;
use url::{Host, Url};

use crate::error::{Error, Kind};
use crate::guard::{AddressRules, Resolve, SystemResolver, guarded_service};

/// The default limit of an outbound response body: 256 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

/// The default deadline of one outbound exchange, body included: 10 seconds.
pub const DEFAULT_FETCH_DEADLINE: Duration = Duration::from_secs(10);

/// What the crate's own outbound requests may do, and the guarded HTTP stack they go
/// through by default.
///
/// By default: `https` only; only public addresses, checked after name resolution; no
/// redirects followed; bodies up to [`DEFAULT_MAX_BODY_BYTES`]; each exchange within
/// [`DEFAULT_FETCH_DEADLINE`].
///
/// Refused whatever the opt-ins: link-local addresses (`169.254.0.0/16`, `fe80::/10`), cloud
/// metadata endpoints (`169.254.169.254`, `fd00:ec2::254`, `100.100.100.200` and the like),
/// unspecified (`0.0.0.0/8`, `::`), multicast and broadcast, and the reserved, documentation
/// and benchmarking ranges. An IPv6 address that carries an IPv4 address (IPv4-mapped
/// `::ffff:10.0.0.1`, IPv4-compatible, NAT64 `64:ff9b::/96`, 6to4) is judged by that IPv4
/// address. Decimal, octal and hexadecimal spellings of IPv4 addresses
/// (`http://2130706433/`, `http://0177.0.0.1/`) are the addresses they spell.
#[derive(Clone)]
pub struct FetchPolicy {
    allow_loopback_http: bool,
    allow_private_addresses: bool,
    max_body_bytes: usize,
    deadline: Duration,
    resolver: Arc<dyn Resolve>,
    tls_config: Option<Arc<rustls::ClientConfig>>,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            allow_loopback_http: false,
            allow_private_addresses: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            deadline: DEFAULT_FETCH_DEADLINE,
            resolver: Arc::new(SystemResolver),
            tls_config: None,
        }
    }
}

impl fmt::Debug for FetchPolicy {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("FetchPolicy")
            .field("allow_loopback_http", &self.allow_loopback_http)
            .field("allow_private_addresses", &self.allow_private_addresses)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("deadline", &self.deadline)
            .field("tls_config", &self.tls_config.is_some())
            .finish_non_exhaustive()
    }
}

impl FetchPolicy {
    /// Allows loopback hosts (`localhost`, `127.0.0.0/8`, `::1`), for development and
    /// tests: plain `http` to them, and connections to the loopback addresses they resolve
    /// to. Off by default: everything else is `https` only, and a loopback address is
    /// refused, also when another name resolves to it.
    pub fn allow_loopback_http(mut self, allow: bool) -> Self {
        self.allow_loopback_http = allow;
        self
    }

    /// Allows the addresses of private networks: `10.0.0.0/8`, `172.16.0.0/12`,
    /// `192.168.0.0/16`, carrier-grade NAT `100.64.0.0/10`, unique local `fc00::/7` (and the
    /// deprecated site-local `fec0::/10`), local-use NAT64 `64:ff9b:1::/48`. Off by
    /// default.
    ///
    /// Turn it on for a deployment whose authorization server (or JWKS, or introspection
    /// endpoint) is on an internal network. A client that talks to servers it does not
    /// trust should leave it off: with it, any MCP server can make the client send requests
    /// into the client's network. Cloud metadata endpoints, link-local and the other
    /// special ranges stay refused, and `https` is still required.
    pub fn allow_private_addresses(mut self, allow: bool) -> Self {
        self.allow_private_addresses = allow;
        self
    }

    /// The largest response body read ([`DEFAULT_MAX_BODY_BYTES`] by default).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// The deadline of one exchange, name resolution and body included
    /// ([`DEFAULT_FETCH_DEADLINE`] by default).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Resolves host names with `resolver` instead of the system's ([`SystemResolver`]):
    /// for a DNS of your own, or to map names to chosen addresses in tests. Its answers are
    /// checked like the system's.
    pub fn resolver(mut self, resolver: impl Resolve) -> Self {
        self.resolver = Arc::new(resolver);
        self
    }

    /// The rustls configuration of the guarded stack's `https` connections, for a private
    /// certificate authority; by default the process's crypto provider (else *ring*) with
    /// the Mozilla roots.
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.tls_config = Some(Arc::new(config));
        self
    }

    /// What the rules of the address checks are.
    pub(crate) fn rules(&self) -> AddressRules {
        AddressRules {
            allow_loopback: self.allow_loopback_http,
            allow_private: self.allow_private_addresses,
        }
    }

    /// Checks that `url` may be fetched, before any name is resolved: `https`, or `http` to
    /// a loopback host when allowed; no user information; `localhost` only when loopback
    /// hosts are allowed; a literal address only when the policy admits it (see the type's
    /// documentation).
    ///
    /// # Errors
    ///
    /// [`Error::is_fetch`] naming the refused URL's scheme, host or address.
    pub fn check(&self, url: &Url) -> Result<(), Error> {
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::new(
                Kind::Fetch,
                "a URL with user information is refused",
            ));
        }
        let host = match url.host() {
            None => return Err(Error::new(Kind::Fetch, "a URL without a host is refused")),
            // The URL parser has already turned every spelling of an IPv4 address
            // (`2130706433`, `0177.0.0.1`, `0x7f.1`) into the address.
            Some(Host::Domain(name)) => name.to_owned(),
            Some(Host::Ipv4(address)) => address.to_string(),
            Some(Host::Ipv6(address)) => address.to_string(),
        };
        self.rules().check_destination(url.scheme(), &host)
    }

    /// The guarded HTTP stack this policy's fetches go through unless you give your own:
    /// hyper-util's HTTP/1.1 client over rustls, whose connector refuses every destination
    /// the policy does not admit, resolves host names with the policy's [`Resolve`],
    /// connects only to the resolved addresses that pass the checks, and never follows a
    /// redirect. Any client may use it for requests to URLs it does not trust, the MCP
    /// transport of `mcpwire-http` among them
    /// (`HttpClientBuilder::service(policy.guarded_service()?)`).
    ///
    /// The body limit and the deadline are not part of the stack; the crate's own fetches
    /// apply them around it.
    ///
    /// # Errors
    ///
    /// [`Error::is_config`] when TLS cannot be set up with the process's crypto provider.
    pub fn guarded_service(&self) -> Result<HttpClientService, Error> {
        guarded_service(
            self.resolver.clone(),
            self.rules(),
            self.tls_config.as_deref(),
            self.deadline,
        )
    }
}

/// A response read whole.
pub(crate) struct Fetched {
    pub(crate) status: StatusCode,
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Fetched {
    /// The body as JSON, when the status is a success.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self, what: &str) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|error| {
            Error::new(Kind::Fetch, format!("{what} is not the JSON expected")).with_source(error)
        })
    }
}

/// Sends the client's own requests through the HTTP stack under a [`FetchPolicy`].
#[derive(Clone)]
pub(crate) struct Fetcher {
    service: HttpClientService,
    policy: FetchPolicy,
    #[cfg(feature = "client")]
    dpop: Option<crate::client::dpop::Dpop>,
}

impl Fetcher {
    pub(crate) fn new(service: HttpClientService, policy: FetchPolicy) -> Self {
        Fetcher {
            service,
            policy,
            #[cfg(feature = "client")]
            dpop: None,
        }
    }

    /// The fetcher, with DPoP proofs on its token requests.
    #[cfg(feature = "client")]
    pub(crate) fn with_dpop(mut self, dpop: Option<crate::client::dpop::Dpop>) -> Self {
        self.dpop = dpop;
        self
    }

    /// The DPoP state of the token requests, when DPoP is configured.
    #[cfg(feature = "client")]
    pub(crate) fn dpop(&self) -> Option<&crate::client::dpop::Dpop> {
        self.dpop.as_ref()
    }

    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// `GET url` with `Accept: application/json`.
    pub(crate) async fn get_json(&self, url: &Url) -> Result<Fetched, Error> {
        let request = Request::builder()
            .method(Method::GET)
            .uri(url.as_str())
            .header(ACCEPT, "application/json")
            .body(Full::new(Bytes::new()));
        self.send(url, request).await
    }

    /// `GET url`, for the headless user agent; the answer's `Location` is read, not followed.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) async fn get(&self, url: &Url) -> Result<Fetched, Error> {
        let request = Request::builder()
            .method(Method::GET)
            .uri(url.as_str())
            .body(Full::new(Bytes::new()));
        self.send(url, request).await
    }

    /// `POST url` with a form body, HTTP Basic authentication when `basic` is given, and the
    /// DPoP proof `dpop` when given.
    pub(crate) async fn post_form(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        basic: Option<HeaderValue>,
        dpop: Option<HeaderValue>,
    ) -> Result<Fetched, Error> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(url.as_str())
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(basic) = basic {
            request = request.header(AUTHORIZATION, basic);
        }
        if let Some(proof) = dpop {
            request = request.header("dpop", proof);
        }
        self.send(url, request.body(Full::new(Bytes::from(body))))
            .await
    }

    /// `POST url` with a JSON body.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) async fn post_json(
        &self,
        url: &Url,
        body: &serde_json::Value,
    ) -> Result<Fetched, Error> {
        let request = Request::builder()
            .method(Method::POST)
            .uri(url.as_str())
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.to_string())));
        self.send(url, request).await
    }

    async fn send(
        &self,
        url: &Url,
        request: Result<Request<RequestBody>, http::Error>,
    ) -> Result<Fetched, Error> {
        self.policy.check(url)?;
        let request = request.map_err(|error| {
            Error::new(Kind::Fetch, "cannot build the request").with_source(error)
        })?;
        let limit = self.policy.max_body_bytes;
        let exchange = async {
            let response = self
                .service
                .clone()
                .oneshot(request)
                .await
                .map_err(|error| {
                    Error::new(
                        Kind::Fetch,
                        format!("GET or POST to {} failed", origin(url)),
                    )
                    .with_boxed_source(error)
                })?;
            let (parts, mut body) = response.into_parts();
            let mut collected = Vec::new();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|error| {
                    Error::new(
                        Kind::Fetch,
                        format!("the body from {} is unreadable", origin(url)),
                    )
                    .with_boxed_source(error)
                })?;
                if let Ok(data) = frame.into_data() {
                    if collected.len() + data.len() > limit {
                        return Err(Error::new(
                            Kind::Fetch,
                            format!("the body from {} is over {limit} bytes", origin(url)),
                        ));
                    }
                    collected.extend_from_slice(&data);
                }
            }
            let body = Bytes::from(collected);
            Ok(Fetched {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        match tokio::time::timeout(self.policy.deadline, exchange).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Error::new(
                Kind::Fetch,
                format!(
                    "{} did not answer within {:?}",
                    origin(url),
                    self.policy.deadline
                ),
            )),
        }
    }
}

/// The origin of `url`, which is what errors name (a query may carry a secret).
pub(crate) fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_and_opted_in_loopback_http_pass() {
        let strict = FetchPolicy::default();
        let loose = FetchPolicy::default().allow_loopback_http(true);
        let url = |text: &str| Url::parse(text).unwrap();
        assert!(strict.check(&url("https://as.example.com/token")).is_ok());
        assert!(strict.check(&url("http://localhost:3000/x")).is_err());
        for loopback in [
            "http://localhost:3000/x",
            "http://127.0.0.1/x",
            "http://127.8.9.1/x",
            "http://[::1]:80/x",
            "http://LOCALHOST./x",
        ] {
            assert!(loose.check(&url(loopback)).is_ok(), "{loopback}");
        }
        for refused in [
            "http://example.com/x",
            "http://10.0.0.1/x",
            "http://localhost.example.com/x",
            "ftp://localhost/x",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://user:pass@as.example.com/",
        ] {
            assert!(loose.check(&url(refused)).is_err(), "{refused}");
        }
    }

    #[test]
    fn every_spelling_of_a_literal_address_is_checked_as_that_address() {
        let url = |text: &str| Url::parse(text).unwrap();
        let strict = FetchPolicy::default();
        let loopback = FetchPolicy::default().allow_loopback_http(true);
        let private = FetchPolicy::default().allow_private_addresses(true);
        let both = private.clone().allow_loopback_http(true);
        // Decimal, octal and hexadecimal forms of 127.0.0.1: loopback, so opt-in.
        for spelling in [
            "http://2130706433/x",
            "http://0177.0.0.1/x",
            "http://0x7f.1/x",
            "http://0x7f000001/x",
            "http://127.1/x",
            "https://017700000001/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://[::ffff:7f00:1]/x",
        ] {
            let error = strict.check(&url(spelling)).unwrap_err();
            assert!(error.is_fetch(), "{spelling}");
            assert!(loopback.check(&url(spelling)).is_ok(), "{spelling}");
        }
        // Private addresses in any spelling: opt-in.
        for spelling in [
            "https://10.0.0.1/x",
            "https://0x0a.0.0.1/x",
            "https://012.0.0.1/x",
            "https://167772161/x",
            "https://192.168.0.1/x",
            "https://0300.0250.0.1/x",
            "https://[::ffff:10.0.0.1]/x",
            "https://[::ffff:a00:1]/x",
            "https://[64:ff9b::10.0.0.1]/x",
            "https://[fc00::1]/x",
            "https://100.64.0.1/x",
        ] {
            let error = loopback.check(&url(spelling)).unwrap_err();
            assert!(error.to_string().contains("private"), "{spelling}: {error}");
            assert!(private.check(&url(spelling)).is_ok(), "{spelling}");
        }
        // Never, whatever the opt-ins.
        for spelling in [
            "https://169.254.169.254/latest/meta-data/",
            "https://2852039166/latest/meta-data/",
            "https://0xa9.0xfe.0xa9.0xfe/",
            "https://0251.0376.0251.0376/",
            "https://[::ffff:169.254.169.254]/",
            "https://[::ffff:a9fe:a9fe]/",
            "https://[fd00:ec2::254]/",
            "https://100.100.100.200/",
            "https://169.254.0.1/",
            "https://[fe80::1]/",
            "https://0.0.0.0/",
            "https://0/",
            "https://[::]/",
            "https://224.0.0.1/",
            "https://255.255.255.255/",
            "https://192.0.2.1/",
            "https://[2001:db8::1]/",
        ] {
            let error = both.check(&url(spelling)).unwrap_err();
            assert!(error.is_fetch(), "{spelling}");
        }
        // Public addresses and names pass without any opt-in.
        for spelling in [
            "https://1.1.1.1/x",
            "https://16843009/x",
            "https://[2606:4700:4700::1111]/x",
            "https://[::ffff:1.1.1.1]/x",
            "https://as.example.com/x",
        ] {
            assert!(strict.check(&url(spelling)).is_ok(), "{spelling}");
        }
        // `localhost` is a loopback host, whatever the scheme.
        assert!(strict.check(&url("https://localhost/x")).is_err());
        assert!(loopback.check(&url("https://localhost/x")).is_ok());
    }

    #[test]
    fn the_policy_shows_its_settings_in_debug_output() {
        let policy = FetchPolicy::default()
            .allow_private_addresses(true)
            .resolver(crate::guard::SystemResolver);
        let debug = format!("{policy:?}");
        assert!(debug.contains("allow_private_addresses: true"), "{debug}");
        assert!(debug.contains("allow_loopback_http: false"), "{debug}");
    }
}
