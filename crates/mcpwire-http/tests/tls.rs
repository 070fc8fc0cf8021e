//! The HTTP client over TLS: `StreamableHttpService` behind a rustls server on 127.0.0.1
//! with a self-signed certificate, and the mcpwire client connecting with `https`, trusting
//! that certificate through `HttpClientBuilder::tls_config`, or refusing it with the default
//! roots. Both sides use rustls with the ring provider.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use mcpwire_client::Client;
use mcpwire_http::client::HttpClientBuilder;
use mcpwire_http::server::{Config, StreamableHttpService};
use mcpwire_jsonrpc::ErrorObject;
use rcgen::{CertifiedKey, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;
use support::WAIT;
use support::echo::{Sessions, client_info, echo_server, echo_service, text_of};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

/// The most connections a test server accepts before it stops.
const MAX_CONNECTIONS: usize = 32;

fn ring() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A self-signed certificate for the loopback address, as an IP SAN.
fn loopback_certificate() -> CertifiedKey<KeyPair> {
    rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])
        .expect("a self-signed certificate")
}

/// A client configuration that trusts `certificate` alone.
fn trusting(certificate: &CertificateDer<'static>) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certificate.clone()).unwrap();
    rustls::ClientConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// The echo server behind TLS on 127.0.0.1, until it is dropped.
struct TlsEcho {
    address: SocketAddr,
    sessions: Sessions,
    _stop: oneshot::Sender<()>,
}

impl TlsEcho {
    async fn start(identity: &CertifiedKey<KeyPair>) -> TlsEcho {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            identity.signing_key.serialize_der(),
        ));
        let mut tls = rustls::ServerConfig::builder_with_provider(ring())
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
            _stop: stop,
        }
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

/// Connects with `builder`'s transport, which must fail, and returns the error response
/// that the transport answered `initialize` with: it fails the request itself, with a message
/// that names the cause.
async fn refused(builder: HttpClientBuilder) -> ErrorObject {
    let transport = builder.streamable().unwrap();
    let connected = tokio::time::timeout(WAIT, Client::builder(client_info()).connect(transport))
        .await
        .expect("the handshake fails in time");
    let Err(error) = connected else {
        panic!("connected to a server whose certificate is not trusted");
    };
    error.remote().cloned().expect("an error response")
}

#[tokio::test]
async fn a_client_that_trusts_the_certificate_initializes_and_calls_over_https() {
    let identity = loopback_certificate();
    let server = TlsEcho::start(&identity).await;
    let transport = HttpClientBuilder::new(server.url())
        .tls_config(trusting(identity.cert.der()))
        .streamable()
        .unwrap();
    let session = transport.session();
    let client = tokio::time::timeout(WAIT, Client::builder(client_info()).connect(transport))
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
}

#[tokio::test]
async fn a_self_signed_certificate_is_refused_with_the_default_roots() {
    let identity = loopback_certificate();
    let server = TlsEcho::start(&identity).await;
    let refusal = refused(HttpClientBuilder::new(server.url())).await;
    assert!(
        refusal.message.contains("http connection failed")
            && refusal
                .message
                .contains("invalid peer certificate: UnknownIssuer"),
        "{}",
        refusal.message
    );
    assert_eq!(server.sessions.count(), 0);
}

#[tokio::test]
async fn a_certificate_other_than_the_trusted_one_is_refused() {
    let server = TlsEcho::start(&loopback_certificate()).await;
    let other = loopback_certificate();
    let refusal =
        refused(HttpClientBuilder::new(server.url()).tls_config(trusting(other.cert.der()))).await;
    assert!(
        refusal.message.contains("invalid peer certificate"),
        "{}",
        refusal.message
    );
}
