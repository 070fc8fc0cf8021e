//! OAuth 2.1 authorization as the Model Context Protocol specifies it, for mcpwire.
//!
//! - [`client`] (feature `client`): the client side. [`client::AuthLayer`] is a `tower`
//!   layer for the HTTP client of `mcpwire-http` that answers a server's `401` and `403`
//!   challenges: it discovers the server's Protected Resource Metadata (RFC 9728) and its
//!   authorization server's metadata (RFC 8414, OpenID Connect Discovery), identifies the
//!   client (pre-registered credentials, a Client ID Metadata Document, or Dynamic Client
//!   Registration), runs the authorization code flow with PKCE through a pluggable
//!   [`client::UserAgent`], and sends the token it gets on every later request, refreshing
//!   it and stepping its scopes up as the server asks.
//!
//! - [`server`] (feature `server`): the resource-server side, an MCP server protecting
//!   itself. [`server::BearerAuthLayer`] is a `tower` layer in front of the MCP endpoint
//!   (`mcpwire-http`'s `StreamableHttpService`, or any HTTP service): it serves the
//!   endpoint's Protected Resource Metadata (RFC 9728), checks the bearer token of every
//!   request with a [`server::TokenVerifier`] (JWT access tokens against the issuer's JWKS,
//!   RFC 7662 introspection, or a closure), answers `401` and `403` with the challenges MCP
//!   specifies, and hands the verified [`server::Principal`] to the endpoint in the
//!   request's extensions.
//!
//! ```no_run
//! # #[cfg(feature = "client")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use mcpwire_auth::client::{AuthLayer, OAuthConfig};
//! use mcpwire_http::client::HttpClientBuilder;
//!
//! let user_agent = mcpwire_auth::client::HeadlessUserAgent::new("http://127.0.0.1:8765/callback");
//! let config = OAuthConfig::new("my-client", user_agent);
//! let transport = HttpClientBuilder::new("https://mcp.example.com/mcp")
//!     .layer(AuthLayer::new(config))
//!     .streamable()?;
//! # let _ = transport;
//! # Ok(())
//! # }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod client;

#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub mod server;

#[cfg(any(feature = "client", feature = "server"))]
mod address;
#[cfg(any(feature = "client", feature = "server"))]
mod error;
#[cfg(any(feature = "client", feature = "server"))]
mod fetch;
#[cfg(any(feature = "client", feature = "server"))]
mod guard;
#[cfg(any(feature = "client", feature = "server"))]
mod secret;
#[cfg(any(feature = "client", feature = "server"))]
mod well_known;

#[cfg(any(feature = "client", feature = "server"))]
pub use error::Error;

/// Entry points for the fuzz targets; not part of the public API.
#[cfg(feature = "client")]
#[doc(hidden)]
pub use client::fuzzing;
