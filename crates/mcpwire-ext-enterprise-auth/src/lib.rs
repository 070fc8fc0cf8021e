//! Enterprise-managed authorization for MCP clients of mcpwire (SEP-990, also called
//! "cross-app access"; the extension
//! `io.modelcontextprotocol/enterprise-managed-authorization`): a user who signed in to the
//! application through the enterprise's identity provider (IdP) gets access tokens for the
//! MCP servers the enterprise allows, with no browser and no consent screen per server.
//!
//! [`EnterpriseManagedAuthorization`] is a [`TokenGrant`](mcpwire_auth::client::TokenGrant)
//! for `mcpwire-auth`'s headless client ([`OAuthConfig::headless`]). On the MCP server's
//! `401` the layer discovers the server's authorization server (AS); the grant then
//!
//! 1. exchanges the user's ID token, from its [`IdTokenSource`], at the
//!    [`IdentityProvider`]'s token endpoint (RFC 8693 token exchange) for an Identity
//!    Assertion JWT Authorization Grant (ID-JAG) for that AS and the MCP server's resource;
//! 2. checks the ID-JAG (its type, and that its `aud`, `resource` and `client_id` are this
//!    AS, this resource and this client, and that it has not expired), and presents it to
//!    the AS as a JWT bearer grant (RFC 7523), authenticated as the client registered there;
//! 3. the access token the AS grants goes on every request to the MCP server, and is
//!    granted again, from the ID token as it is then, shortly before it expires.
//!
//! ```no_run
//! use mcpwire_auth::client::{AuthLayer, OAuthConfig, Secret};
//! use mcpwire_client::Client;
//! use mcpwire_ext_enterprise_auth::{EnterpriseManagedAuthorization, IdentityProvider};
//! use mcpwire_http::client::HttpClientBuilder;
//!
//! # async fn run(id_token_from_sign_in: String) -> Result<(), Box<dyn std::error::Error>> {
//! // The application's registration at the enterprise IdP, which signed the user in.
//! let idp = IdentityProvider::issuer("https://acme.idp.example", "chat-app")
//!     .client_secret(std::env::var("IDP_CLIENT_SECRET")?);
//! // The ID token from that sign-in, and the client's registration at the MCP server's AS.
//! let grant = EnterpriseManagedAuthorization::new(idp, Secret::new(id_token_from_sign_in), "chat-client")
//!     .client_secret(std::env::var("MCP_CLIENT_SECRET")?);
//! let transport = HttpClientBuilder::new("https://mcp.chat.example/mcp")
//!     .layer(AuthLayer::new(OAuthConfig::headless("chat-app", grant)))
//!     .streamable()?;
//! let client = Client::builder("chat-app", "1.0.0").connect(transport).await?;
//! # let _ = client;
//! # Ok(())
//! # }
//! ```
//!
//! An application that renews the user's ID token passes an async closure as the source
//! ([`IdTokenSource`]), which is asked at each grant.
//!
//! The checks an authorization server makes of an ID-JAG (its signature and issuer, `typ`,
//! `aud`, `client_id` against the client's authentication) are its own; an MCP server
//! behind `mcpwire-auth`'s resource server layer sees only the access tokens the AS issues,
//! and its `JwtVerifier` refuses an ID-JAG presented in their place (by its `typ`, and by an
//! audience that is not the resource).
//!
//! [`OAuthConfig::headless`]: mcpwire_auth::client::OAuthConfig::headless

mod error;
mod grant;
mod id_jag;
mod id_token;
mod identity_provider;

pub use error::Error;
pub use grant::{
    EnterpriseManagedAuthorization, ID_TOKEN_TYPE, JWT_BEARER_GRANT_TYPE, SAML2_TOKEN_TYPE,
};
pub use id_jag::{ID_JAG_JWT_TYPE, ID_JAG_TOKEN_TYPE};
pub use id_token::{IdTokenFuture, IdTokenSource};
pub use identity_provider::{IdentityProvider, TOKEN_EXCHANGE_GRANT_TYPE};

/// The extension's identifier, as a client declares it among its capabilities' `extensions`
/// (2026-07-28).
pub const EXTENSION_ID: &str = "io.modelcontextprotocol/enterprise-managed-authorization";

/// The metadata of the authorization server (or identity provider) `issuer`, with the
/// members of `extra`, for the unit tests.
#[cfg(test)]
fn metadata_for_tests(
    issuer: &str,
    extra: serde_json::Value,
) -> mcpwire_auth::client::AuthorizationServerMetadata {
    let mut metadata = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
    });
    if let (Some(metadata), serde_json::Value::Object(extra)) = (metadata.as_object_mut(), extra) {
        metadata.extend(extra);
    }
    serde_json::from_value(metadata).expect("the members of authorization server metadata")
}
