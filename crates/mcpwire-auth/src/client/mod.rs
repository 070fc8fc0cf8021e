//! The OAuth 2.1 client of MCP authorization, as a `tower` layer of `mcpwire-http`'s client.
//!
//! [`AuthLayer`] with an [`OAuthConfig`] does everything the spec asks of a client:
//!
//! 1. On `401`, it parses `WWW-Authenticate` ([`BearerChallenge`]), and discovers the
//!    server's Protected Resource Metadata (RFC 9728): the challenge's `resource_metadata`
//!    URL, then the well-known URL with the endpoint's path inserted, then the root one. A
//!    document whose `resource` does not cover the server is refused.
//! 2. It discovers the authorization server's metadata: RFC 8414 and OpenID Connect
//!    Discovery, with the issuer's path inserted or appended, in the spec's order. A
//!    document whose `issuer` differs from the one asked for is refused, and so, before the
//!    client registers or sends a user there, is a server that does not advertise PKCE
//!    `S256`. A server without Protected Resource Metadata gets the
//!    2025-03-26 treatment: metadata at its origin's root, or else the default endpoints
//!    `/authorize`, `/token` and `/register` there.
//! 3. It identifies the client in the spec's order: pre-registered credentials
//!    ([`PreRegistered`]), a Client ID Metadata Document URL when the server supports them
//!    ([`OAuthConfig::client_metadata_url`]), Dynamic Client Registration (RFC 7591, with
//!    `application_type`). Registrations are kept per issuer and never used with another
//!    server. At the token endpoint it authenticates as registered: `client_secret_basic`,
//!    `client_secret_post` or `none`.
//! 4. It runs the authorization code flow with PKCE `S256` and a random `state`, with the
//!    RFC 8707 `resource` in the authorization and token requests, and the scopes the spec
//!    selects (the challenge's `scope`, else the resource's `scopes_supported`, else none;
//!    `offline_access` added when the authorization server lists it). The user agent
//!    ([`UserAgent`]) returns the redirect, whose `iss` is checked by RFC 9207 §2.4 with a
//!    plain string comparison, then its `state`.
//! 5. It keeps tokens in a [`TokenStore`] by issuer and resource, sends them only to that
//!    resource, refreshes them (keeping a refresh token the server does not rotate; after
//!    `invalid_grant`, one full authorization), and steps up on `403 insufficient_scope`
//!    with a retry limit.
//!
//! With [`OAuthConfig::dpop`], tokens are bound to a key the client holds (DPoP, RFC 9449):
//! proofs on the token requests and on every request that presents a token, and the
//! servers' nonces kept and answered.
//!
//! A client with no user to send anywhere (a service, a CI job, a headless agent) takes
//! [`OAuthConfig::headless`] with a [`TokenGrant`] in place of the user agent: the grant
//! obtains tokens at the token endpoint on its own ([`GrantRequest::token_request`]), and
//! steps 1, 2 and 5 stay as they are. A grant may also discover another authorization
//! server and ask its token endpoint for a token of any type
//! ([`GrantRequest::token_request_to`]), and read a JWT it is about to present
//! ([`UnverifiedJwt`]). The official extensions build on it:
//! `mcpwire-ext-client-credentials` (the `client_credentials` grant),
//! `mcpwire-ext-workload-identity` (a workload's identity token as a JWT bearer grant) and
//! `mcpwire-ext-enterprise-auth` (an enterprise identity provider's identity assertion
//! grant, obtained by token exchange).
//!
//! Its own requests follow a [`FetchPolicy`]: `https` only (loopback `http` when opted in),
//! no redirects followed, bodies capped, a deadline per exchange. They go through the
//! policy's guarded HTTP stack, not the transport's: every address a host name resolves to,
//! and every literal address, is checked against private, loopback, link-local and cloud
//! metadata ranges (IPv4-mapped IPv6 and the other IPv6 forms of IPv4 addresses included),
//! and the connection goes only to the addresses checked, so a server cannot point the
//! client at its own network (SSRF). [`FetchPolicy::allow_private_addresses`] allows an
//! authorization server on an internal network; [`OAuthConfig::http_service`] replaces the
//! stack.
//!
//! ```no_run
//! use mcpwire_auth::client::{AuthLayer, HeadlessUserAgent, OAuthConfig};
//! use mcpwire_client::Client;
//! use mcpwire_http::client::HttpClientBuilder;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let user_agent = HeadlessUserAgent::new("http://127.0.0.1:8765/callback");
//! let config = OAuthConfig::new("my-client", user_agent)
//!     .client_metadata_url("https://app.example.com/oauth/client.json");
//! let transport = HttpClientBuilder::new("https://mcp.example.com/mcp")
//!     .layer(AuthLayer::new(config))
//!     .streamable()?;
//! let client = Client::builder("my-client", "1.0.0").connect(transport).await?;
//! # let _ = client;
//! # Ok(())
//! # }
//! ```

mod authorizer;
mod challenge;
mod config;
mod discovery;
pub(crate) mod dpop;
mod file_store;
mod flow;
#[doc(hidden)]
pub mod fuzzing;
mod grant;
mod layer;
mod loopback;
mod metadata;
mod pkce;
mod registration;
mod scope;
mod token;
mod unverified_jwt;
mod user_agent;

pub use crate::fetch::{DEFAULT_FETCH_DEADLINE, DEFAULT_MAX_BODY_BYTES, FetchPolicy};
pub use crate::guard::{Resolve, ResolveFuture, SystemResolver};
pub use crate::secret::Secret;
pub use challenge::{
    BearerChallenge, Challenge, MAX_CHALLENGES, MAX_HEADER_LENGTH, MAX_PARAMS, parse_challenges,
};
pub use config::{DEFAULT_MAX_STEP_UPS, OAuthConfig, PreRegistered};
pub use dpop::{DPOP, DPOP_NONCE, DpopProver, ProofRequest};
pub use file_store::FileTokenStore;
pub use grant::{GrantFuture, GrantRequest, IssuedToken, TokenGrant, TokenRequest};
pub use layer::{AuthLayer, AuthService};
pub use loopback::{DEFAULT_AUTHORIZATION_TIMEOUT, LoopbackUserAgent};
pub use metadata::{
    AuthorizationServerMetadata, ProtectedResourceMetadata, authorization_server_metadata_urls,
    protected_resource_metadata_urls, resource_covers,
};
pub use token::{MemoryTokenStore, TokenKey, TokenSet, TokenStore, TokenType};
pub use unverified_jwt::UnverifiedJwt;
pub use user_agent::{AuthorizationFuture, AuthorizationPrompt, HeadlessUserAgent, UserAgent};
