//! DPoP (Demonstrating Proof of Possession, RFC 9449) for mcpwire, as the MCP DPoP
//! extension (SEP-1932) profiles it: access tokens bound to a key the client holds, so
//! that a stolen token is useless without the key.
//!
//! - **Client** (feature `client`): [`DpopKey`], a key per client (ES256 by default,
//!   generated in memory, or read from PEM), is the prover of `mcpwire-auth`'s
//!   [`OAuthConfig::dpop`](mcpwire_auth::client::OAuthConfig::dpop). The layer then sends a
//!   fresh proof (`htm`, `htu`, `iat`, a unique `jti`, and `ath` with a token) with every
//!   token request and with every MCP request that presents a DPoP-bound token as
//!   `Authorization: DPoP`, keeps the nonces servers hand out, and retries once on
//!   `use_dpop_nonce`.
//! - **Resource server** (feature `server`): [`DpopVerifier`] is the checker of
//!   `mcpwire-auth`'s [`ProtectedResource::dpop`](mcpwire_auth::server::ProtectedResource::dpop).
//!   It checks each proof's form (`typ` `dpop+jwt`, an accepted asymmetric algorithm, a
//!   public `jwk` only), its signature, `htm` and `htu` against the request, `iat` within a
//!   window, `ath` against the token and, when configured, a nonce it issues and rotates; the
//!   layer requires the token's `cnf.jkt` to be the proof key's thumbprint; then a bounded
//!   replay cache refuses a `jti` seen before. A bound token presented as `Bearer` is
//!   refused.
//!
//! ```no_run
//! # #[cfg(all(feature = "client", feature = "server"))]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use mcpwire_auth::client::{HeadlessUserAgent, OAuthConfig};
//! use mcpwire_auth::server::ProtectedResource;
//! use mcpwire_ext_dpop::{DpopKey, DpopVerifier};
//!
//! // A client whose tokens are bound to a key of its own.
//! let config = OAuthConfig::new("agent", HeadlessUserAgent::new("http://127.0.0.1:9/cb"))
//!     .dpop(DpopKey::generate()?);
//!
//! // A resource server that takes DPoP-bound tokens, with nonces.
//! let resource = ProtectedResource::new("https://mcp.example.com/mcp", ["https://as.example.com"])
//!     .dpop(DpopVerifier::builder().nonces(std::time::Duration::from_secs(300)).build());
//! # let _ = (config, resource);
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "client", feature = "server")))]
//! # fn main() {}
//! ```

#[cfg(not(any(feature = "client", feature = "server")))]
compile_error!("mcpwire-ext-dpop needs the `client` feature, the `server` feature, or both");

#[cfg(feature = "client")]
pub(crate) use mcpwire_auth::client::Secret;
#[cfg(all(feature = "server", not(feature = "client")))]
pub(crate) use mcpwire_auth::server::Secret;

mod error;
#[cfg(feature = "client")]
mod key;
mod proof;
#[cfg(feature = "server")]
mod verifier;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use error::Error;
#[cfg(feature = "client")]
pub use key::{DpopKey, KeyAlgorithm};
pub use proof::ProofClaims;
#[cfg(feature = "server")]
pub use verifier::{
    DEFAULT_MAX_PROOF_AGE, DEFAULT_MAX_PROOF_BYTES, DEFAULT_REPLAY_CAPACITY, DpopVerifier,
    DpopVerifierBuilder,
};

/// The extension's identifier, as a client declares it among its capabilities' `extensions`
/// and a server in `server/discover` (2026-07-28).
pub const EXTENSION_ID: &str = "io.modelcontextprotocol/auth/dpop";
