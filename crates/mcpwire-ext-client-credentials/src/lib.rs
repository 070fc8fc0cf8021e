//! The OAuth client credentials extension of the Model Context Protocol
//! (`io.modelcontextprotocol/oauth-client-credentials`), for mcpwire: a client with no user
//! (a service, a CI job, a headless agent) connects to a protected MCP server with
//! credentials registered out of band, and no browser.
//!
//! [`ClientCredentials`] is a [`TokenGrant`](mcpwire_auth::client::TokenGrant) for
//! `mcpwire-auth`'s headless client ([`OAuthConfig::headless`]): on the server's `401` the
//! layer discovers the authorization server, the grant authenticates the client at its
//! token endpoint with a private key JWT ([`PrivateKey`], ES256 or RS256 from PEM) or a
//! client secret, and the token (bound to the server's resource) goes on every request;
//! a token about to expire is granted again.
//!
//! ```no_run
//! use mcpwire_auth::client::{AuthLayer, OAuthConfig};
//! use mcpwire_client::Client;
//! use mcpwire_ext_client_credentials::{ClientCredentials, PrivateKey, SigningAlgorithm};
//! use mcpwire_http::client::HttpClientBuilder;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let key = PrivateKey::from_pem(std::fs::read("client-key.pem")?, SigningAlgorithm::Es256)?;
//! let credentials = ClientCredentials::private_key_jwt("reporting-agent", key)
//!     .issuer("https://auth.example.com");
//! let transport = HttpClientBuilder::new("https://mcp.example.com/mcp")
//!     .layer(AuthLayer::new(OAuthConfig::headless("reporting-agent", credentials)))
//!     .streamable()?;
//! let client = Client::builder("reporting-agent", "1.0.0").connect(transport).await?;
//! # let _ = client;
//! # Ok(())
//! # }
//! ```
//!
//! [`OAuthConfig::headless`]: mcpwire_auth::client::OAuthConfig::headless

mod credentials;
mod error;
mod key;

pub use credentials::{ClientCredentials, GRANT_TYPE, JWT_ASSERTION_TYPE};
pub use error::Error;
pub use key::{ASSERTION_LIFETIME, MAX_PEM_BYTES, PrivateKey, SigningAlgorithm};

/// The extension's identifier, as a client declares it among its capabilities' `extensions`
/// and a server in `server/discover` (2026-07-28).
pub const EXTENSION_ID: &str = "io.modelcontextprotocol/oauth-client-credentials";
