//! Which rustls crypto provider secures `https` connections.
//!
//! The choice and what it means for post-quantum key exchange are documented on the
//! [`client`](crate::client) module, under *TLS*.

use std::sync::Arc;

use hyper_rustls::ConfigBuilderExt as _;
use rustls::crypto::CryptoProvider;

use crate::client::Error as HttpError;

/// How the transports set up TLS, as the builder was told.
#[derive(Debug, Default)]
pub(crate) enum TlsSetup {
    /// The process default provider, else *ring*; the Mozilla roots.
    #[default]
    Default,
    /// This provider with the Mozilla roots.
    Provider(Arc<CryptoProvider>),
    /// This whole configuration.
    Config(Box<rustls::ClientConfig>),
}

impl TlsSetup {
    /// The client configuration; the connector adds the ALPN protocols.
    pub(crate) fn into_config(self) -> Result<rustls::ClientConfig, HttpError> {
        let provider = match self {
            TlsSetup::Config(config) => return Ok(*config),
            TlsSetup::Provider(provider) => provider,
            TlsSetup::Default => default_provider(),
        };
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| HttpError::builder(format!("tls setup failed: {error}")))?
            .with_webpki_roots()
            .with_no_client_auth();
        Ok(config)
    }
}

/// The provider of a builder that was given none: the one the application installed for the
/// process, else *ring*.
pub(crate) fn default_provider() -> Arc<CryptoProvider> {
    if let Some(installed) = CryptoProvider::get_default() {
        return Arc::clone(installed);
    }
    // rustls deprecated this constructor because *ring* has no post-quantum key exchange.
    // There is no portable, non-deprecated pure-Rust provider to put in its place (see the
    // module documentation), so the default stays *ring* and the user chooses another with
    // `crypto_provider` or `CryptoProvider::install_default`.
    #[allow(deprecated)]
    let ring = rustls::crypto::ring::default_provider();
    Arc::new(ring)
}
