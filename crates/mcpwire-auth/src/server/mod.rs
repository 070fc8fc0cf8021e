//! The resource server of MCP authorization: an MCP server protecting itself, as a `tower`
//! layer in front of its endpoint.
//!
//! [`BearerAuthLayer`] takes a [`ProtectedResource`] (the server's canonical URI, its
//! authorization servers, its scopes) and a [`TokenVerifier`], and does what the spec asks
//! of a resource server:
//!
//! 1. It serves the Protected Resource Metadata (RFC 9728) at the path-inserted well-known
//!    URI (`/.well-known/oauth-protected-resource/mcp` for an endpoint at `/mcp`) and at the
//!    root one, with `resource` exactly the configured URI and `bearer_methods_supported`
//!    `["header"]`. In a router, mount [`BearerAuthLayer::metadata_service`] at
//!    [`BearerAuthLayer::metadata_paths`].
//! 2. It checks every request to the endpoint, whatever its method: one `Authorization:
//!    Bearer` header with a `token68` within a size limit, read before any cryptography;
//!    never a token in the query string or a form body. A missing or invalid token gets
//!    `401` with `WWW-Authenticate: Bearer resource_metadata="…", scope="…"` (and
//!    `error="invalid_token"` when a token was presented); a token without the required
//!    scopes gets `403` with `error="insufficient_scope"`.
//! 3. It verifies the token with a [`TokenVerifier`]: [`JwtVerifier`] for JWT access
//!    tokens (RFC 9068) against the issuer's JWKS, with an exact issuer, this resource in
//!    the audience, `exp` required, `nbf` checked, a small leeway, the algorithms each key
//!    allows (never `none` or HMAC), `typ` `at+jwt`, and ID tokens refused;
//!    [`IntrospectionVerifier`] for opaque tokens (RFC 7662, failing closed with `503`,
//!    results cached briefly); or a closure ([`verify_fn`]).
//! 4. It checks the scopes of the methods and tools a request calls, when some have scopes of
//!    their own ([`ProtectedResource::tool_scopes`]), and asks for a step-up with `403`.
//! 5. It inserts the verified [`Principal`] into the request's `http::Extensions`, where
//!    `mcpwire-server`'s handlers read it (`Context::http_extensions`), and binds MCP
//!    sessions to it.
//! 6. It calls the endpoint only after all that: a refused request never reaches it, so it
//!    never creates an MCP session.
//!
//! Tokens are [`Secret`]s: they never show in `Debug` output, logs or error messages, and
//! the `Authorization` header the endpoint receives is marked sensitive.

mod bearer;
mod challenge;
mod dpop;
mod introspection;
mod jwks;
mod jwt;
mod layer;
mod operation;
mod principal;
mod resource;
mod verifier;

pub use crate::fetch::{DEFAULT_FETCH_DEADLINE, DEFAULT_MAX_BODY_BYTES, FetchPolicy};
pub use crate::guard::{Resolve, ResolveFuture, SystemResolver};
pub use crate::secret::Secret;
pub use dpop::{CheckedProof, DpopChecker, DpopRejection, ProofTarget};
pub use introspection::{
    DEFAULT_INTROSPECTION_CACHE_CAPACITY, DEFAULT_INTROSPECTION_CACHE_TTL, IntrospectionVerifier,
    IntrospectionVerifierBuilder,
};
pub use jwt::{
    DEFAULT_JWKS_MAX_AGE, DEFAULT_JWKS_REFRESH_INTERVAL, DEFAULT_LEEWAY, JwtVerifier,
    JwtVerifierBuilder,
};
pub use layer::{AuthBody, AuthRequestBody, BearerAuthLayer, BearerAuthService, MetadataService};
pub use principal::Principal;
pub use resource::{
    DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_TOKEN_BYTES, ProtectedResource, WELL_KNOWN_PATH,
};
pub use verifier::{FnVerifier, Rejection, TokenVerifier, VerifyFuture, verify_fn};
