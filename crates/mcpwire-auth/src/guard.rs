//! The SSRF guard of the crate's own fetches: which destinations a `FetchPolicy` lets a
//! connection reach, the resolver that checks every address of a host name, and the guarded
//! HTTP stack (hyper-util's client over rustls) that connects only to addresses that passed.
//!
//! The check and the connection use the same lookup: the guarded resolver hands hyper-util's
//! connector only the addresses it allowed, and the connector connects to those, so a name
//! whose DNS answer changes between a check and a connection (DNS rebinding) cannot steer the
//! connection anywhere unchecked. IP literals never reach a resolver; the connector checks
//! them itself before connecting.

use std::future::{Future, ready};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Response, Uri};
use http_body_util::BodyExt as _;
use hyper_rustls::ConfigBuilderExt as _;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::{TokioExecutor, TokioIo};
use mcpwire_http::client::{BoxError, HttpClientService, RequestBody};
use rustls::crypto::CryptoProvider;
use tokio::net::TcpStream;
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceExt as _};

use crate::address::{AddressClass, classify};
use crate::error::{Error, Kind};

/// The most addresses of one host name that are checked and tried; the rest of a longer
/// answer is ignored.
pub(crate) const MAX_ADDRESSES: usize = 16;

/// The longest a connection may take to establish, within the policy's deadline.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The future of [`Resolve::resolve`]: the addresses of a host name.
pub type ResolveFuture = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// Resolves host names for the guarded HTTP stack of a
/// [`FetchPolicy`](crate::fetch::FetchPolicy): [`SystemResolver`] by default; another for
/// a DNS of your own, or to map names to chosen addresses in tests.
///
/// Every address it returns is checked, and the connection goes only to those that pass:
/// the name is not resolved again in between.
pub trait Resolve: Send + Sync + 'static {
    /// The addresses of `host`, a host name as the URL has it (IP literals are checked
    /// without a resolver). Ports are ignored.
    fn resolve(&self, host: &str) -> ResolveFuture;
}

/// The system's resolver (`getaddrinfo`, through `tokio::net::lookup_host`).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, host: &str) -> ResolveFuture {
        let host = host.to_owned();
        Box::pin(async move {
            let addresses = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addresses
                .map(|address| address.ip())
                .take(MAX_ADDRESSES)
                .collect())
        })
    }
}

/// Which destinations a connection may reach: what a [`FetchPolicy`] allows beyond public
/// addresses over `https`.
///
/// [`FetchPolicy`]: crate::fetch::FetchPolicy
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AddressRules {
    /// Loopback hosts (`localhost` and loopback literals): plain `http` to them, and their
    /// loopback addresses.
    pub(crate) allow_loopback: bool,
    /// Private networks' addresses (RFC 1918, unique local, carrier-grade NAT).
    pub(crate) allow_private: bool,
}

/// Whether `host` is the name `localhost` (RFC 6761 §6.3), written in any case, with or
/// without the root's dot.
pub(crate) fn is_loopback_name(host: &str) -> bool {
    host.strip_suffix('.')
        .unwrap_or(host)
        .eq_ignore_ascii_case("localhost")
}

/// The IP address `host` spells, with or without the brackets of an IPv6 literal.
fn literal(host: &str) -> Option<IpAddr> {
    let bare = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

/// Whether `host` (a name, or an IP literal with or without brackets) is a loopback host:
/// `localhost`, or a loopback address.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    match literal(host) {
        Some(address) => classify(address) == AddressClass::Loopback,
        None => is_loopback_name(host),
    }
}

impl AddressRules {
    /// Whether a connection for `host` may go to `address`; the refused address's class
    /// otherwise.
    fn admits(&self, address: IpAddr, loopback_host: bool) -> Result<(), AddressClass> {
        match classify(address) {
            AddressClass::Public => Ok(()),
            AddressClass::Loopback if self.allow_loopback && loopback_host => Ok(()),
            AddressClass::Private if self.allow_private => Ok(()),
            class => Err(class),
        }
    }

    /// Checks a destination before any lookup: `scheme` is `https`, or `http` to a
    /// loopback host when allowed; `localhost` only when loopback hosts are allowed; a
    /// literal `host` is an address the rules admit.
    ///
    /// # Errors
    ///
    /// [`Error::is_fetch`] naming the refused scheme, host or address.
    pub(crate) fn check_destination(&self, scheme: &str, host: &str) -> Result<(), Error> {
        let address = literal(host);
        let loopback_host = is_loopback_host(host);
        match scheme {
            "https" => {}
            "http" if self.allow_loopback && loopback_host => {}
            "http" => {
                return Err(Error::new(
                    Kind::Fetch,
                    format!(
                        "plain http to {host} is refused (https only; loopback http is opt-in)"
                    ),
                ));
            }
            scheme => {
                return Err(Error::new(
                    Kind::Fetch,
                    format!("the URL scheme `{scheme}` is refused"),
                ));
            }
        }
        match address {
            Some(address) => self
                .admits(address, true)
                .map_err(|class| refused(host, address, class)),
            None if loopback_host && !self.allow_loopback => Err(Error::new(
                Kind::Fetch,
                format!("{host} is a loopback host, allowed only with allow_loopback_http"),
            )),
            None => Ok(()),
        }
    }

    /// The addresses of `host` that a connection may go to, at most [`MAX_ADDRESSES`].
    ///
    /// # Errors
    ///
    /// [`Error::is_fetch`] when there are none, naming the first refused address.
    pub(crate) fn filter(&self, host: &str, addresses: Vec<IpAddr>) -> Result<Vec<IpAddr>, Error> {
        let loopback_host = is_loopback_name(host);
        let mut first_refusal = None;
        let mut admitted = Vec::new();
        for address in addresses.into_iter().take(MAX_ADDRESSES) {
            match self.admits(address, loopback_host) {
                Ok(()) => admitted.push(address),
                Err(class) => {
                    first_refusal.get_or_insert((address, class));
                }
            }
        }
        if !admitted.is_empty() {
            return Ok(admitted);
        }
        Err(match first_refusal {
            Some((address, class)) => refused(host, address, class),
            None => Error::new(Kind::Fetch, format!("{host} resolves to no address")),
        })
    }
}

/// The error of a destination the rules refuse, saying which opt-in would allow it.
fn refused(host: &str, address: IpAddr, class: AddressClass) -> Error {
    let why = match class {
        AddressClass::Loopback => {
            "allowed only for `localhost` and loopback literals, with allow_loopback_http"
        }
        AddressClass::Private => "allowed with allow_private_addresses",
        _ => "never fetched",
    };
    let subject = if literal(host) == Some(address) {
        format!("the address {address}")
    } else {
        format!("{host} resolves to {address}, which")
    };
    Error::new(
        Kind::Fetch,
        format!("{subject} is {class} ({why}): refused"),
    )
}

/// hyper-util's resolver: the policy's [`Resolve`], with every answer filtered through the
/// rules.
#[derive(Clone)]
pub(crate) struct GuardedResolver {
    pub(crate) resolver: Arc<dyn Resolve>,
    pub(crate) rules: AddressRules,
}

impl Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let host = name.as_str().to_owned();
        let lookup = self.resolver.resolve(&host);
        let rules = self.rules;
        Box::pin(async move {
            let addresses = lookup.await.map_err(|error| {
                Error::new(Kind::Fetch, format!("cannot resolve {host}")).with_source(error)
            })?;
            let admitted = rules.filter(&host, addresses)?;
            // The connector sets the URL's port on each.
            Ok(admitted
                .into_iter()
                .map(|address| SocketAddr::new(address, 0))
                .collect::<Vec<_>>()
                .into_iter())
        })
    }
}

/// hyper-util's TCP connector over the [`GuardedResolver`], which first checks the
/// destination's scheme and, for an IP literal, its address (hyper-util connects to a
/// literal without asking the resolver).
#[derive(Clone)]
pub(crate) struct GuardedConnector {
    inner: HttpConnector<GuardedResolver>,
    rules: AddressRules,
}

type Connecting = Pin<Box<dyn Future<Output = Result<TokioIo<TcpStream>, BoxError>> + Send>>;

impl GuardedConnector {
    pub(crate) fn new(
        resolver: Arc<dyn Resolve>,
        rules: AddressRules,
        connect_timeout: Duration,
    ) -> Self {
        let mut inner = HttpConnector::new_with_resolver(GuardedResolver { resolver, rules });
        inner.enforce_http(false);
        inner.set_connect_timeout(Some(connect_timeout));
        inner.set_nodelay(true);
        GuardedConnector { inner, rules }
    }
}

impl Service<Uri> for GuardedConnector {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Connecting;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(context).map_err(Into::into)
    }

    fn call(&mut self, destination: Uri) -> Connecting {
        let checked = match destination.host() {
            Some(host) => self
                .rules
                .check_destination(destination.scheme_str().unwrap_or_default(), host),
            None => Err(Error::new(Kind::Fetch, "a URL without a host is refused")),
        };
        if let Err(error) = checked {
            return Box::pin(ready(Err(error.into())));
        }
        let connecting = self.inner.call(destination);
        Box::pin(async move { connecting.await.map_err(Into::into) })
    }
}

/// The guarded stack: hyper-util's pooled HTTP/1.1 client over rustls (`tls`, else the
/// process's crypto provider, else *ring*, with the Mozilla roots) on the
/// [`GuardedConnector`].
pub(crate) fn guarded_service(
    resolver: Arc<dyn Resolve>,
    rules: AddressRules,
    tls: Option<&rustls::ClientConfig>,
    deadline: Duration,
) -> Result<HttpClientService, Error> {
    let tls = match tls {
        Some(config) => config.clone(),
        None => default_tls()?,
    };
    let connector = GuardedConnector::new(resolver, rules, CONNECT_TIMEOUT.min(deadline));
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(connector);
    let client: Client<_, RequestBody> = Client::builder(TokioExecutor::new()).build(connector);
    Ok(BoxCloneSyncService::new(
        client
            .map_response(|response: Response<_>| {
                response.map(|body| {
                    body.map_err(|error| Box::new(error) as BoxError)
                        .boxed_unsync()
                })
            })
            .map_err(|error| Box::new(error) as BoxError),
    ))
}

/// A stack that fails every request with `error`: what a client fetches through when its
/// guarded stack cannot be built, so that the failure shows where a fetch is needed.
#[cfg(feature = "client")]
pub(crate) fn failing_service(error: &Error) -> HttpClientService {
    let reason = error.to_string();
    BoxCloneSyncService::new(tower::service_fn(move |_: http::Request<RequestBody>| {
        let reason = reason.clone();
        async move { Err::<Response<mcpwire_http::client::ResponseBody>, BoxError>(reason.into()) }
    }))
}

/// rustls with the process's crypto provider (else *ring*) and the Mozilla roots.
fn default_tls() -> Result<rustls::ClientConfig, Error> {
    let provider = match CryptoProvider::get_default() {
        Some(installed) => Arc::clone(installed),
        // As in `mcpwire-http`: *ring* is deprecated for lacking post-quantum key exchange,
        // but it is the pure-Rust-friendly default; an application installs another.
        #[allow(deprecated)]
        None => Arc::new(rustls::crypto::ring::default_provider()),
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| Error::new(Kind::Config, "cannot set up TLS").with_source(error))?
        .with_webpki_roots()
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::str::FromStr as _;
    use std::sync::Mutex;

    use bytes::Bytes;
    use http::{Request, StatusCode};
    use http_body_util::Full;

    use super::*;

    /// A resolver that answers from a table, and remembers what it was asked.
    #[derive(Clone, Default)]
    struct TableResolver {
        table: HashMap<&'static str, Vec<IpAddr>>,
        asked: Arc<Mutex<Vec<String>>>,
    }

    impl TableResolver {
        fn new(entries: &[(&'static str, &[&str])]) -> Self {
            TableResolver {
                table: entries
                    .iter()
                    .map(|(name, addresses)| {
                        let parsed = addresses.iter().map(|text| text.parse().unwrap()).collect();
                        (*name, parsed)
                    })
                    .collect(),
                asked: Arc::default(),
            }
        }

        fn asked(&self) -> Vec<String> {
            self.asked.lock().unwrap().clone()
        }
    }

    impl Resolve for TableResolver {
        fn resolve(&self, host: &str) -> ResolveFuture {
            self.asked.lock().unwrap().push(host.to_owned());
            let answer = self.table.get(host).cloned().ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("no such name {host}"))
            });
            Box::pin(ready(answer))
        }
    }

    const STRICT: AddressRules = AddressRules {
        allow_loopback: false,
        allow_private: false,
    };
    const LOOPBACK: AddressRules = AddressRules {
        allow_loopback: true,
        allow_private: false,
    };
    const PRIVATE: AddressRules = AddressRules {
        allow_loopback: false,
        allow_private: true,
    };
    const BOTH: AddressRules = AddressRules {
        allow_loopback: true,
        allow_private: true,
    };

    async fn resolve(
        resolver: impl Resolve,
        rules: AddressRules,
        host: &str,
    ) -> Result<Vec<IpAddr>, Error> {
        let mut guarded = GuardedResolver {
            resolver: Arc::new(resolver),
            rules,
        };
        let addresses = guarded.call(Name::from_str(host).unwrap()).await?;
        Ok(addresses.map(|address| address.ip()).collect())
    }

    fn addresses(texts: &[&str]) -> Vec<IpAddr> {
        texts.iter().map(|text| text.parse().unwrap()).collect()
    }

    #[test]
    fn literal_destinations_are_checked_by_class_and_opt_in() {
        for (host, admitted_by) in [
            ("1.1.1.1", [true, true, true, true]),
            ("2606:4700:4700::1111", [true, true, true, true]),
            ("[2606:4700:4700::1111]", [true, true, true, true]),
            ("127.0.0.1", [false, true, false, true]),
            ("[::1]", [false, true, false, true]),
            ("::ffff:127.0.0.1", [false, true, false, true]),
            ("localhost", [false, true, false, true]),
            ("LocalHost.", [false, true, false, true]),
            ("10.0.0.1", [false, false, true, true]),
            ("::ffff:10.0.0.1", [false, false, true, true]),
            ("[::ffff:192.168.0.1]", [false, false, true, true]),
            ("64:ff9b::10.1.2.3", [false, false, true, true]),
            ("fd12:3456::1", [false, false, true, true]),
            ("100.64.0.1", [false, false, true, true]),
            ("169.254.169.254", [false; 4]),
            ("::ffff:169.254.169.254", [false; 4]),
            ("fd00:ec2::254", [false; 4]),
            ("100.100.100.200", [false; 4]),
            ("169.254.1.1", [false; 4]),
            ("fe80::1", [false; 4]),
            ("0.0.0.0", [false; 4]),
            ("::", [false; 4]),
            ("224.0.0.1", [false; 4]),
            ("255.255.255.255", [false; 4]),
            ("192.0.2.1", [false; 4]),
            // Names other than `localhost` are checked once resolved.
            ("as.example.com", [true; 4]),
        ] {
            for (rules, admitted) in [STRICT, LOOPBACK, PRIVATE, BOTH].iter().zip(admitted_by) {
                let outcome = rules.check_destination("https", host);
                assert_eq!(
                    outcome.is_ok(),
                    admitted,
                    "{host} under {rules:?}: {outcome:?}"
                );
                if let Err(error) = outcome {
                    assert!(error.is_fetch());
                }
            }
        }
    }

    #[test]
    fn plain_http_reaches_only_opted_in_loopback_hosts() {
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"] {
            assert!(STRICT.check_destination("http", host).is_err(), "{host}");
            assert!(LOOPBACK.check_destination("http", host).is_ok(), "{host}");
        }
        for host in [
            "as.example.com",
            "10.0.0.1",
            "1.1.1.1",
            "localhost.example.com",
        ] {
            assert!(BOTH.check_destination("http", host).is_err(), "{host}");
        }
        for scheme in ["ftp", "file", "ws", ""] {
            assert!(
                BOTH.check_destination(scheme, "localhost").is_err(),
                "{scheme}"
            );
        }
    }

    #[test]
    fn resolved_addresses_are_filtered_and_an_all_refused_answer_fails() {
        let public = addresses(&["1.1.1.1", "2606:4700:4700::1111"]);
        assert_eq!(
            STRICT.filter("as.example.com", public.clone()).unwrap(),
            public
        );
        // Only the public address of a mixed answer is connected to.
        let mixed = addresses(&["10.0.0.1", "169.254.169.254", "1.1.1.1", "::ffff:10.0.0.2"]);
        assert_eq!(
            STRICT.filter("as.example.com", mixed.clone()).unwrap(),
            addresses(&["1.1.1.1"])
        );
        assert_eq!(
            PRIVATE.filter("as.example.com", mixed).unwrap(),
            addresses(&["10.0.0.1", "1.1.1.1", "::ffff:10.0.0.2"])
        );
        let error = STRICT
            .filter("as.example.com", addresses(&["10.0.0.1", "192.168.1.1"]))
            .unwrap_err();
        assert!(error.is_fetch());
        let text = error.to_string();
        assert!(
            text.contains("as.example.com resolves to 10.0.0.1"),
            "{text}"
        );
        assert!(text.contains("private"), "{text}");
        assert!(text.contains("allow_private_addresses"), "{text}");
        assert!(STRICT.filter("as.example.com", Vec::new()).is_err());
        // Loopback addresses are for `localhost` alone, whatever the opt-ins.
        let loopback = addresses(&["127.0.0.1", "::1"]);
        assert_eq!(
            LOOPBACK.filter("localhost", loopback.clone()).unwrap(),
            loopback
        );
        assert!(STRICT.filter("localhost", loopback.clone()).is_err());
        let rebound = BOTH.filter("as.example.com", loopback).unwrap_err();
        assert!(rebound.to_string().contains("loopback"), "{rebound}");
        // Metadata endpoints are never reached, even in private space.
        for metadata in ["169.254.169.254", "fd00:ec2::254", "100.100.100.200"] {
            let error = BOTH
                .filter("as.example.com", addresses(&[metadata]))
                .unwrap_err();
            assert!(error.to_string().contains("metadata"), "{error}");
        }
    }

    #[test]
    fn a_long_answer_is_cut_at_the_bound() {
        let many: Vec<IpAddr> = (0..=u8::try_from(MAX_ADDRESSES).unwrap())
            .map(|n| IpAddr::from([1, 1, 1, n]))
            .collect();
        assert_eq!(
            STRICT.filter("as.example.com", many).unwrap().len(),
            MAX_ADDRESSES
        );
    }

    #[tokio::test]
    async fn the_resolver_hands_on_only_admitted_addresses() {
        let resolver = TableResolver::new(&[
            ("public.example.com", &["1.1.1.1", "2606:4700:4700::1111"]),
            ("internal.example.com", &["10.1.2.3"]),
            ("mapped.example.com", &["::ffff:10.1.2.3"]),
            ("nat64.example.com", &["64:ff9b::a01:203"]),
            ("metadata.example.com", &["169.254.169.254"]),
            ("rebinding.example.com", &["127.0.0.1"]),
            ("mixed.example.com", &["192.168.0.10", "1.0.0.1"]),
        ]);
        assert_eq!(
            resolve(resolver.clone(), STRICT, "public.example.com")
                .await
                .unwrap(),
            addresses(&["1.1.1.1", "2606:4700:4700::1111"])
        );
        assert_eq!(
            resolve(resolver.clone(), STRICT, "mixed.example.com")
                .await
                .unwrap(),
            addresses(&["1.0.0.1"])
        );
        for name in [
            "internal.example.com",
            "mapped.example.com",
            "nat64.example.com",
            "metadata.example.com",
            "rebinding.example.com",
        ] {
            let error = resolve(resolver.clone(), LOOPBACK, name).await.unwrap_err();
            assert!(error.is_fetch(), "{name}");
            assert!(error.to_string().contains(name), "{error}");
        }
        for name in [
            "internal.example.com",
            "mapped.example.com",
            "nat64.example.com",
        ] {
            assert_eq!(
                resolve(resolver.clone(), PRIVATE, name)
                    .await
                    .unwrap()
                    .len(),
                1
            );
        }
        assert!(
            resolve(resolver.clone(), BOTH, "metadata.example.com")
                .await
                .is_err()
        );
        let unknown = resolve(resolver.clone(), BOTH, "unknown.example.com").await;
        assert!(unknown.unwrap_err().to_string().contains("cannot resolve"));
        assert_eq!(resolver.asked().len(), 12);
    }

    #[tokio::test]
    async fn localhost_through_the_system_resolver_is_loopback_and_opt_in() {
        let refused = resolve(SystemResolver, STRICT, "localhost")
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("loopback"), "{refused}");
        let allowed = resolve(SystemResolver, LOOPBACK, "localhost")
            .await
            .unwrap();
        assert!(!allowed.is_empty());
        assert!(
            allowed
                .iter()
                .all(|address| classify(*address) == AddressClass::Loopback)
        );
    }

    fn get(url: &str) -> Request<RequestBody> {
        Request::get(url).body(Full::new(Bytes::new())).unwrap()
    }

    #[tokio::test]
    async fn the_guarded_stack_connects_to_the_checked_address_and_nowhere_else() {
        let (address, seen) = mcpwire_test_support::recording_listener(4).await;
        let port = address.port();
        let resolver = TableResolver::new(&[
            ("localhost", &["127.0.0.1"]),
            ("as.example.com", &["127.0.0.1"]),
        ]);
        let service = guarded_service(
            Arc::new(resolver.clone()),
            LOOPBACK,
            None,
            Duration::from_secs(5),
        )
        .unwrap();
        // `localhost` resolves once, to the listener, which gets the request.
        let response = service
            .clone()
            .oneshot(get(&format!("http://localhost:{port}/jwks")))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(resolver.asked(), ["localhost"]);
        assert_eq!(*seen.lock().unwrap(), ["GET /jwks HTTP/1.1"]);
        // Another name that resolves to the same loopback address is refused before any
        // connection, as are decimal and literal forms of the loopback address outside the
        // opt-in.
        let error = service
            .clone()
            .oneshot(get(&format!("https://as.example.com:{port}/jwks")))
            .await
            .unwrap_err();
        assert!(format!("{error:?}").contains("loopback"), "{error:?}");
        let strict = guarded_service(
            Arc::new(SystemResolver),
            STRICT,
            None,
            Duration::from_secs(5),
        )
        .unwrap();
        for url in [
            format!("https://2130706433:{port}/"),
            format!("https://127.0.0.1:{port}/"),
            format!("https://[::ffff:127.0.0.1]:{port}/"),
            format!("http://localhost:{port}/"),
        ] {
            assert!(strict.clone().oneshot(get(&url)).await.is_err(), "{url}");
        }
        assert_eq!(seen.lock().unwrap().len(), 1, "{:?}", seen.lock().unwrap());
    }
}
