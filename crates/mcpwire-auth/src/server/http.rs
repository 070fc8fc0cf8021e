//! The HTTP stack of the verifiers' own requests (JWKS, introspection), when the user gives
//! none: hyper-util's pooled HTTP/1.1 client over rustls, as `mcpwire-http`'s client uses.

use std::sync::Arc;
use std::time::Duration;

use http::Response;
use http_body_util::BodyExt as _;
use hyper_rustls::ConfigBuilderExt as _;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mcpwire_http::client::{BoxError, HttpClientService, RequestBody};
use rustls::crypto::CryptoProvider;
use tower::ServiceExt as _;
use tower::util::BoxCloneSyncService;

use crate::error::{Error, Kind};

/// How long a connection may take to establish.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The default stack: `https` with the process's rustls crypto provider (else *ring*) and
/// the Mozilla roots; plain `http` too, which the [`FetchPolicy`](crate::client::FetchPolicy)
/// allows only to loopback hosts when opted in.
pub(crate) fn default_service() -> Result<HttpClientService, Error> {
    let provider = match CryptoProvider::get_default() {
        Some(installed) => Arc::clone(installed),
        // As in `mcpwire-http`: *ring* is deprecated for lacking post-quantum key exchange,
        // but it is the pure-Rust-friendly default; an application installs another.
        #[allow(deprecated)]
        None => Arc::new(rustls::crypto::ring::default_provider()),
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| Error::new(Kind::Config, "cannot set up TLS").with_source(error))?
        .with_webpki_roots()
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    http.set_nodelay(true);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
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
