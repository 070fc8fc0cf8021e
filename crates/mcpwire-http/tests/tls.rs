//! The HTTP client over TLS: `StreamableHttpService` behind a rustls server on 127.0.0.1
//! with a self-signed certificate, and the mcpwire client connecting with `https`, trusting
//! that certificate through `HttpClientBuilder::tls_config`, or refusing it with the default
//! roots. The server uses graviola, which offers the post-quantum X25519MLKEM768 key exchange
//! first, and records the key exchange of every handshake: the client's default provider
//! (*ring*) gets a classical one, a client given graviola gets X25519MLKEM768.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use mcpwire_http::client::HttpClientBuilder;
use mcpwire_http::client::rustls;
use mcpwire_http::server::{Config, StreamableHttpService};
use rcgen::{CertifiedKey, KeyPair};
use rustls::NamedGroup;
use rustls::crypto::{ActiveKeyExchange, CompletedKeyExchange, CryptoProvider, SupportedKxGroup};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;
use support::WAIT;
use support::echo::{Sessions, client_info, echo_server, echo_service, text_of};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

/// The most connections a test server accepts before it stops.
const MAX_CONNECTIONS: usize = 32;

/// The key exchanges a test server performed, in order.
type Exchanges = Arc<Mutex<Vec<NamedGroup>>>;

/// One of the server provider's key exchange groups, recording each exchange it completes.
/// The server completes the exchange before the client sees the certificate, so a handshake
/// the client refuses is recorded too.
#[derive(Debug)]
struct Recorded {
    group: &'static dyn SupportedKxGroup,
    exchanges: Exchanges,
}

impl SupportedKxGroup for Recorded {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, rustls::Error> {
        self.group.start()
    }

    fn start_and_complete(&self, peer: &[u8]) -> Result<CompletedKeyExchange, rustls::Error> {
        let completed = self.group.start_and_complete(peer)?;
        self.exchanges.lock().unwrap().push(self.group.name());
        Ok(completed)
    }

    fn name(&self) -> NamedGroup {
        self.group.name()
    }

    fn usable_for_version(&self, version: rustls::ProtocolVersion) -> bool {
        self.group.usable_for_version(version)
    }
}

/// graviola, as a user would plug it in.
fn graviola() -> Arc<CryptoProvider> {
    Arc::new(rustls_graviola::default_provider())
}

/// graviola with every key exchange recorded into `exchanges`. The groups live as long as
/// the test process, as rustls requires; a test makes a handful.
fn recording_graviola(exchanges: &Exchanges) -> Arc<CryptoProvider> {
    let mut provider = rustls_graviola::default_provider();
    provider.kx_groups = provider
        .kx_groups
        .iter()
        .map(|&group| {
            let recorded: &'static Recorded = Box::leak(Box::new(Recorded {
                group,
                exchanges: Arc::clone(exchanges),
            }));
            recorded as &'static dyn SupportedKxGroup
        })
        .collect();
    Arc::new(provider)
}

/// A self-signed certificate for the loopback address, as an IP SAN.
fn loopback_certificate() -> CertifiedKey<KeyPair> {
    rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])
        .expect("a self-signed certificate")
}

/// A client configuration of `provider` that trusts `certificate` alone.
fn trusting(
    certificate: &CertificateDer<'static>,
    provider: Arc<CryptoProvider>,
) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certificate.clone()).unwrap();
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// The echo server behind TLS on 127.0.0.1, until it is dropped.
struct TlsEcho {
    address: SocketAddr,
    sessions: Sessions,
    exchanges: Exchanges,
    _stop: oneshot::Sender<()>,
}

impl TlsEcho {
    async fn start(identity: &CertifiedKey<KeyPair>) -> TlsEcho {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            identity.signing_key.serialize_der(),
        ));
        let exchanges = Exchanges::default();
        let mut tls = rustls::ServerConfig::builder_with_provider(recording_graviola(&exchanges))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![identity.cert.der().clone()], key)
            .unwrap();
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(tls));
        let (service, sessions) = echo_service(&echo_server(), Config::default());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, mut stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            for _ in 0..MAX_CONNECTIONS {
                let accepted = tokio::select! {
                    accepted = listener.accept() => accepted,
                    _ = &mut stopped => return,
                };
                let Ok((stream, _)) = accepted else {
                    return;
                };
                tokio::spawn(serve_tls(acceptor.clone(), stream, service.clone()));
            }
        });
        TlsEcho {
            address,
            sessions,
            exchanges,
            _stop: stop,
        }
    }

    /// The key exchanges of the handshakes so far.
    fn exchanges(&self) -> Vec<NamedGroup> {
        self.exchanges.lock().unwrap().clone()
    }

    fn url(&self) -> String {
        format!("https://{}/mcp", self.address)
    }
}

/// Serves one connection: the TLS handshake, then HTTP/1.1 or HTTP/2 as the client speaks.
async fn serve_tls(
    acceptor: TlsAcceptor,
    stream: tokio::net::TcpStream,
    service: StreamableHttpService,
) {
    // A client that refuses the certificate ends the handshake; nothing to serve then.
    let Ok(tls) = acceptor.accept(stream).await else {
        return;
    };
    let _ = auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(tls), TowerToHyperService::new(service))
        .await;
}

/// Asserts that there were handshakes, each with the post-quantum hybrid key exchange.
fn assert_post_quantum(exchanges: &[NamedGroup]) {
    assert!(!exchanges.is_empty());
    assert!(
        exchanges
            .iter()
            .all(|&group| group == NamedGroup::X25519MLKEM768),
        "{exchanges:?}"
    );
}

/// Connects with `builder`'s transport, which must fail, and returns the error the client's
/// `initialize` failed with, as a transport failure of the request, with its sources in one
/// line: they name the cause.
async fn refused(builder: HttpClientBuilder) -> String {
    let transport = builder.streamable().unwrap();
    let connected = tokio::time::timeout(
        WAIT,
        mcpwire_client::ClientBuilder::new(client_info()).connect(transport),
    )
    .await
    .expect("the handshake fails in time");
    let Err(error) = connected else {
        panic!("connected to a server whose certificate is not trusted");
    };
    assert!(error.is_transport(), "{error:?}");
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[tokio::test]
async fn a_client_that_trusts_the_certificate_initializes_and_calls_over_https() {
    let identity = loopback_certificate();
    let server = TlsEcho::start(&identity).await;
    let transport = HttpClientBuilder::new(server.url())
        .tls_config(trusting(identity.cert.der(), graviola()))
        .streamable()
        .unwrap();
    let session = transport.session();
    let client = tokio::time::timeout(
        WAIT,
        mcpwire_client::ClientBuilder::new(client_info()).connect(transport),
    )
    .await
    .expect("initialize in time")
    .expect("initialize over https");
    assert_eq!(client.server_info().name, "http-echo-test");
    assert!(session.id().is_some());

    let result = tokio::time::timeout(WAIT, client.call_tool("echo", json!({"text": "sealed"})))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(text_of(&result), "sealed");
    assert_eq!(server.sessions.count(), 1);
    client.close().await;
    assert_post_quantum(&server.exchanges());
}

#[tokio::test]
async fn a_self_signed_certificate_is_refused_with_the_default_roots() {
    let identity = loopback_certificate();
    let server = TlsEcho::start(&identity).await;
    let refusal = refused(HttpClientBuilder::new(server.url())).await;
    assert!(
        refusal.contains("http connection failed")
            && refusal.contains("invalid peer certificate: UnknownIssuer"),
        "{}",
        refusal
    );
    assert_eq!(server.sessions.count(), 0);
    // The default provider, *ring*, has no post-quantum key exchange.
    let exchanges = server.exchanges();
    assert!(!exchanges.is_empty());
    assert!(
        exchanges.iter().all(|group| [
            NamedGroup::X25519,
            NamedGroup::secp256r1,
            NamedGroup::secp384r1
        ]
        .contains(group)),
        "{exchanges:?}"
    );
}

#[tokio::test]
async fn a_crypto_provider_replaces_the_default_and_keeps_the_default_roots() {
    let server = TlsEcho::start(&loopback_certificate()).await;
    let refusal = refused(HttpClientBuilder::new(server.url()).crypto_provider(graviola())).await;
    assert!(
        refusal.contains("invalid peer certificate: UnknownIssuer"),
        "{}",
        refusal
    );
    assert_post_quantum(&server.exchanges());
}

#[tokio::test]
async fn the_later_of_tls_config_and_crypto_provider_wins() {
    let identity = loopback_certificate();
    let server = TlsEcho::start(&identity).await;
    let trusted = trusting(identity.cert.der(), graviola());
    let refusal = refused(
        HttpClientBuilder::new(server.url())
            .tls_config(trusted.clone())
            .crypto_provider(graviola()),
    )
    .await;
    assert!(refusal.contains("UnknownIssuer"), "{}", refusal);

    let transport = HttpClientBuilder::new(server.url())
        .crypto_provider(graviola())
        .tls_config(trusted)
        .streamable()
        .unwrap();
    let client = tokio::time::timeout(
        WAIT,
        mcpwire_client::ClientBuilder::new(client_info()).connect(transport),
    )
    .await
    .expect("initialize in time")
    .expect("initialize over https with the trusting configuration");
    client.close().await;
}

#[tokio::test]
async fn a_certificate_other_than_the_trusted_one_is_refused() {
    let server = TlsEcho::start(&loopback_certificate()).await;
    let other = loopback_certificate();
    let refusal = refused(
        HttpClientBuilder::new(server.url()).tls_config(trusting(other.cert.der(), graviola())),
    )
    .await;
    assert!(refusal.contains("invalid peer certificate"), "{}", refusal);
}
