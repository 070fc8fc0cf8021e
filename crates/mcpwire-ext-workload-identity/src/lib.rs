//! Workload identity federation for MCP clients of mcpwire (SEP-1933, the extension
//! `io.modelcontextprotocol/auth/wif`): a client running as a workload (in Kubernetes, a CI
//! job, a SPIFFE-enabled service) presents the identity token its platform issued as a JWT
//! bearer grant (RFC 7523 §2.1) and gets an access token for the MCP server, with no client
//! secret, no client id and no registration.
//!
//! [`WorkloadIdentity`] is a [`TokenGrant`](mcpwire_auth::client::TokenGrant) for
//! `mcpwire-auth`'s headless client ([`OAuthConfig::headless`]): on the server's `401` the
//! layer discovers the authorization server; the grant reads the workload's token from its
//! [`WorkloadToken`] source (a file, an environment variable, or a value), checks that it
//! has not expired and is for that authorization server, and presents it; the access token
//! (bound to the server's resource) goes on every request, and is granted again, from the
//! token as it is then, shortly before it expires.
//!
//! ```no_run
//! use mcpwire_auth::client::{AuthLayer, OAuthConfig};
//! use mcpwire_client::Client;
//! use mcpwire_ext_workload_identity::{WorkloadIdentity, WorkloadToken};
//! use mcpwire_http::client::HttpClientBuilder;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // A Kubernetes projected service account token, with the authorization server's token
//! // endpoint as its audience.
//! let token = WorkloadToken::file("/var/run/secrets/tokens/mcp-token");
//! let config = OAuthConfig::headless("report-builder", WorkloadIdentity::new(token));
//! let transport = HttpClientBuilder::new("https://mcp.example.com/mcp")
//!     .layer(AuthLayer::new(config))
//!     .streamable()?;
//! let client = Client::builder("report-builder", "1.0.0").connect(transport).await?;
//! # let _ = client;
//! # Ok(())
//! # }
//! ```
//!
//! [`OAuthConfig::headless`]: mcpwire_auth::client::OAuthConfig::headless

mod error;
mod grant;
mod source;

pub use error::Error;
pub use grant::{JWT_BEARER_GRANT_TYPE, WorkloadIdentity};
pub use source::{MAX_TOKEN_BYTES, WorkloadToken};

/// The extension's identifier, as a client declares it among its capabilities' `extensions`
/// (2026-07-28).
pub const EXTENSION_ID: &str = "io.modelcontextprotocol/auth/wif";
