//! The crate's own outbound requests, under one policy: the client's (metadata, registration,
//! token and authorization URLs that a server told it to fetch, through the HTTP stack below
//! its layer) and the resource server's (the issuer's JWKS, the introspection endpoint).
//!
//! The policy ([`FetchPolicy`]): `https` only, plain `http` only to a loopback host and only
//! when opted in; redirects are never followed (a `3xx` is an answer like any other, so no
//! request is replayed to another origin); every exchange, body included, ends within a
//! deadline; a body longer than its limit is an error. Host names are not resolved and
//! checked against private ranges here: that SSRF guard is future work.

use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use mcpwire_http::client::{HttpClientService, RequestBody};
use tower::ServiceExt as _;
use url::{Host, Url};

use crate::error::{Error, Kind};

/// The default limit of an outbound response body: 256 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

/// The default deadline of one outbound exchange, body included: 10 seconds.
pub const DEFAULT_FETCH_DEADLINE: Duration = Duration::from_secs(10);

/// What the client's own outbound requests may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchPolicy {
    allow_loopback_http: bool,
    max_body_bytes: usize,
    deadline: Duration,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            allow_loopback_http: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            deadline: DEFAULT_FETCH_DEADLINE,
        }
    }
}

impl FetchPolicy {
    /// Allows plain `http` to loopback hosts (`localhost`, `127.0.0.0/8`, `::1`), for
    /// development and tests. Off by default: everything else is `https` only.
    pub fn allow_loopback_http(mut self, allow: bool) -> Self {
        self.allow_loopback_http = allow;
        self
    }

    /// The largest response body read ([`DEFAULT_MAX_BODY_BYTES`] by default).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// The deadline of one exchange, body included ([`DEFAULT_FETCH_DEADLINE`] by default).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Checks that `url` may be fetched: `https`, or `http` to a loopback host when allowed;
    /// no user information in the URL.
    ///
    /// # Errors
    ///
    /// [`Error::is_fetch`] naming the refused URL's scheme and host.
    pub fn check(&self, url: &Url) -> Result<(), Error> {
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::new(
                Kind::Fetch,
                "a URL with user information is refused",
            ));
        }
        let Some(host) = url.host() else {
            return Err(Error::new(Kind::Fetch, "a URL without a host is refused"));
        };
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.allow_loopback_http && is_loopback(&host) => Ok(()),
            "http" => Err(Error::new(
                Kind::Fetch,
                format!("plain http to {host} is refused (https only; loopback http is opt-in)"),
            )),
            scheme => Err(Error::new(
                Kind::Fetch,
                format!("the URL scheme `{scheme}` is refused"),
            )),
        }
    }
}

/// Whether `host` is a loopback host.
pub(crate) fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => {
            let name = name.trim_end_matches('.');
            name.eq_ignore_ascii_case("localhost")
        }
        Host::Ipv4(address) => address.is_loopback(),
        Host::Ipv6(address) => address.is_loopback(),
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
}

impl Fetcher {
    pub(crate) fn new(service: HttpClientService, policy: FetchPolicy) -> Self {
        Fetcher { service, policy }
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

    /// `POST url` with a form body, and HTTP Basic authentication when `basic` is given.
    pub(crate) async fn post_form(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        basic: Option<HeaderValue>,
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
}
