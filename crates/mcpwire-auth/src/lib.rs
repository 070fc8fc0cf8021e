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
//! The resource-server side (bearer validation, Protected Resource Metadata, challenges as
//! server layers) will live beside it in a `server` module.
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

#[cfg(feature = "client")]
mod error;
#[cfg(feature = "client")]
mod fetch;
#[cfg(feature = "client")]
mod secret;

#[cfg(feature = "client")]
pub use error::Error;
