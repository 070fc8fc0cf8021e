//! [`EnterpriseManagedAuthorization`]: the token exchange at the identity provider, then the
//! JWT bearer grant at the authorization server, as a [`TokenGrant`] of `mcpwire-auth`'s
//! headless client.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use mcpwire_auth::client::{
    AuthorizationServerMetadata, GrantFuture, GrantRequest, Secret, TokenGrant, TokenRequest,
};

use crate::error::{Error, Kind};
use crate::id_jag::{self, Expected, ID_JAG_TOKEN_TYPE};
use crate::id_token::IdTokenSource;
use crate::identity_provider::{IdentityProvider, TOKEN_EXCHANGE_GRANT_TYPE, authenticate};

/// The grant type of the JWT bearer grant (RFC 7523 §2.1), in which the identity assertion
/// grant is presented.
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The `subject_token_type` of an OpenID Connect ID token (RFC 8693 §3), the default.
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";

/// The `subject_token_type` of a SAML 2.0 assertion (RFC 8693 §3).
pub const SAML2_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:saml2";

/// Enterprise-managed authorization (SEP-990, "cross-app access"; the extension
/// `io.modelcontextprotocol/enterprise-managed-authorization`): the user, signed in to the
/// application through the enterprise identity provider, gets access tokens for MCP servers
/// without a browser and without a consent screen, as far as the enterprise's policy at the
/// identity provider allows. A [`TokenGrant`] for
/// [`OAuthConfig::headless`](mcpwire_auth::client::OAuthConfig::headless).
///
/// On the MCP server's `401`, the layer discovers the server's authorization server; then
/// the grant
///
/// 1. checks that authorization server: the configured one, if any
///    ([`issuer`](Self::issuer)); offering the JWT bearer grant, when its metadata lists
///    `grant_types_supported`; taking the client's authentication (below); and the MCP
///    server has published its resource identifier (Protected Resource Metadata);
/// 2. asks the [`IdTokenSource`] for the user's ID token, and exchanges it at the
///    [`IdentityProvider`]'s token endpoint (RFC 8693): `requested_token_type` the
///    identity assertion grant (ID-JAG), `audience` the authorization server's issuer,
///    `resource` the MCP server's resource identifier, `scope` the scopes the layer selected;
/// 3. checks what the identity provider issued before presenting it: an ID-JAG
///    (`issued_token_type`, and its JWT `typ` `oauth-id-jag+jwt`) whose `aud` names the
///    authorization server, whose `resource` (when present) is the one asked for, whose
///    `client_id` (when present) is the client's id at the authorization server, and which
///    has not expired;
/// 4. presents it to the authorization server in a JWT bearer grant (RFC 7523 §2.1), with the
///    `resource` and `scope` the layer adds, authenticated as the client is registered there:
///    with its secret by `client_secret_basic` (or `client_secret_post` where the server
///    lists only that), or by its `client_id` alone.
///
/// The access token goes on every request to the MCP server, and when it is about to expire
/// the grant is made again, from the ID token the source then gives. A refusal at either
/// token endpoint (`invalid_grant`: the ID token has expired, or the enterprise's policy
/// does not allow this client this MCP server) fails the request that needed the token,
/// without a retry. The ID token, the ID-JAG and the secrets are [`Secret`]s: never in
/// `Debug` output, logs or errors.
///
/// The client's secret at the authorization server goes only to an authorization server that
/// the identity provider issued an ID-JAG for, and that for this client when the ID-JAG names
/// its client: the identity provider, which knows which authorization servers the enterprise
/// uses and the client's id at each, vouches for it. [`issuer`](Self::issuer) narrows that
/// to one.
#[derive(Clone)]
pub struct EnterpriseManagedAuthorization {
    identity_provider: IdentityProvider,
    id_token: Arc<dyn IdTokenSource>,
    subject_token_type: String,
    client_id: String,
    client_secret: Option<Secret>,
    issuer: Option<String>,
}

impl EnterpriseManagedAuthorization {
    /// Exchanges the ID token from `id_token` at `identity_provider`, and presents the grant
    /// to the MCP server's authorization server as its client `client_id` (registered there
    /// beforehand; the identity provider knows this id, and names it in the grant).
    pub fn new(
        identity_provider: IdentityProvider,
        id_token: impl IdTokenSource,
        client_id: impl Into<String>,
    ) -> Self {
        EnterpriseManagedAuthorization {
            identity_provider,
            id_token: Arc::new(id_token),
            subject_token_type: ID_TOKEN_TYPE.to_owned(),
            client_id: client_id.into(),
            client_secret: None,
            issuer: None,
        }
    }

    /// The client's secret at the authorization server, for a confidential client.
    pub fn client_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// Uses the authorization server with the issuer identifier `issuer` only: the MCP
    /// server's Protected Resource Metadata must name it.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The type of the identity assertion the source gives: [`ID_TOKEN_TYPE`] (the
    /// default) or [`SAML2_TOKEN_TYPE`].
    pub fn subject_token_type(mut self, token_type: impl Into<String>) -> Self {
        self.subject_token_type = token_type.into();
        self
    }

    /// The client's id at the authorization server.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Checks the authorization server `server` and the `resource`, before anything is
    /// sent: the JWT bearer grant with the client's authentication, short of the assertion.
    fn jwt_bearer_request(
        &self,
        server: &AuthorizationServerMetadata,
        resource: Option<&str>,
    ) -> Result<TokenRequest, Error> {
        let issuer = &server.issuer;
        let refuse = |message: String| Error::new(Kind::Server, message);
        if let Some(configured) = &self.issuer
            && configured != issuer
        {
            return Err(refuse(format!(
                "the authorization server is {issuer}, not the configured {configured}"
            )));
        }
        if let Some(grants) = &server.grant_types_supported
            && !grants.iter().any(|grant| grant == JWT_BEARER_GRANT_TYPE)
        {
            return Err(refuse(format!(
                "the authorization server {issuer} does not offer the JWT bearer grant"
            )));
        }
        if resource.is_none() {
            return Err(refuse(
                "the MCP server publishes no Protected Resource Metadata, so there is no \
                 resource identifier to ask the identity provider for"
                    .to_owned(),
            ));
        }
        let request = TokenRequest::new(JWT_BEARER_GRANT_TYPE);
        authenticate(
            request,
            &self.client_id,
            self.client_secret.as_ref(),
            Some(server),
        )
        .ok_or_else(|| {
            refuse(format!(
                "the authorization server {issuer} takes neither client_secret_basic nor \
                     client_secret_post"
            ))
        })
    }

    /// The token exchange for a grant for `issuer` and `resource`, with `scopes`, short of
    /// the user's ID token and the client's authentication at the identity provider.
    fn token_exchange_request(
        &self,
        issuer: &str,
        resource: &str,
        scopes: &[String],
    ) -> TokenRequest {
        let request = TokenRequest::new(TOKEN_EXCHANGE_GRANT_TYPE)
            .parameter("requested_token_type", ID_JAG_TOKEN_TYPE)
            .parameter("audience", issuer)
            .parameter("resource", resource);
        if scopes.is_empty() {
            request
        } else {
            request.parameter("scope", scopes.join(" "))
        }
    }

    /// The token exchange `request` with the user's `id_token` as its subject.
    fn with_subject_token(&self, request: TokenRequest, id_token: Secret) -> TokenRequest {
        request
            .parameter("subject_token", id_token)
            .parameter("subject_token_type", self.subject_token_type.as_str())
    }

    /// The user's ID token, from the source.
    async fn read_id_token(&self) -> Result<Secret, Error> {
        let token = self.id_token.id_token().await.map_err(|error| {
            Error::new(Kind::IdToken, "the ID token's source failed").with_source(error)
        })?;
        if token.expose().trim().is_empty() {
            return Err(Error::new(
                Kind::IdToken,
                "the ID token's source gave an empty token",
            ));
        }
        Ok(token)
    }

    async fn make(
        &self,
        request: GrantRequest,
    ) -> Result<mcpwire_auth::client::TokenSet, Box<dyn std::error::Error + Send + Sync>> {
        // Each error is boxed as itself, so that the layer passes `mcpwire_auth`'s on
        // unchanged and wraps this crate's.
        let server = request.server();
        let jwt_bearer = self.jwt_bearer_request(server, request.resource())?;
        let resource = request.resource().unwrap_or_default();
        let issuer = server.issuer.as_str();
        let exchange = self.token_exchange_request(issuer, resource, request.scopes());
        let (endpoint, exchange) = self.identity_provider.prepare(&request, exchange).await?;
        // The source is asked only once both servers are known to take the grant.
        let exchange = self.with_subject_token(exchange, self.read_id_token().await?);
        tracing::debug!(%issuer, %resource, "exchanging the ID token for an identity assertion grant");
        let issued = request.token_request_to(&endpoint, exchange).await?;
        let expected = Expected {
            issuer,
            resource,
            client_id: &self.client_id,
        };
        id_jag::check(
            issued.issued_token_type.as_deref(),
            &issued.access_token,
            &expected,
            SystemTime::now(),
        )?;
        tracing::debug!(%issuer, "presenting the identity assertion grant");
        let jwt_bearer = jwt_bearer.parameter("assertion", issued.access_token);
        Ok(request.token_request(jwt_bearer).await?)
    }
}

impl fmt::Debug for EnterpriseManagedAuthorization {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("EnterpriseManagedAuthorization")
            .field("identity_provider", &self.identity_provider)
            .field("subject_token_type", &self.subject_token_type)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl TokenGrant for EnterpriseManagedAuthorization {
    fn grant(&self, request: GrantRequest) -> GrantFuture {
        let grant = self.clone();
        Box::pin(async move { grant.make(request).await })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const ISSUER: &str = "https://auth.chat.example";
    const RESOURCE: &str = "https://mcp.chat.example/mcp";

    fn server(extra: Value) -> AuthorizationServerMetadata {
        crate::metadata_for_tests(ISSUER, extra)
    }

    fn grant() -> EnterpriseManagedAuthorization {
        let identity_provider =
            IdentityProvider::token_endpoint("https://idp.example/token", "app")
                .client_secret("idp-hunter2");
        EnterpriseManagedAuthorization::new(
            identity_provider,
            Secret::new("id.t0ken.sig"),
            "chat-client",
        )
        .client_secret("as-hunter2")
    }

    #[test]
    fn the_jwt_bearer_grant_authenticates_as_the_server_takes_it() {
        let offered = json!({"grant_types_supported": [JWT_BEARER_GRANT_TYPE]});
        let request = grant()
            .jwt_bearer_request(&server(offered), Some(RESOURCE))
            .unwrap();
        assert_eq!(request.grant_type(), JWT_BEARER_GRANT_TYPE);
        let debug = format!("{request:?}");
        assert!(
            debug.contains(r#"client_secret_basic: Some("chat-client")"#),
            "{debug}"
        );
        let post = json!({"token_endpoint_auth_methods_supported": ["client_secret_post"]});
        let request = grant()
            .jwt_bearer_request(&server(post), Some(RESOURCE))
            .unwrap();
        let debug = format!("{request:?}");
        assert!(
            debug.contains(r#"parameters: ["client_id", "client_secret"]"#),
            "{debug}"
        );
        let public = EnterpriseManagedAuthorization::new(
            IdentityProvider::issuer("https://idp.example", "app"),
            Secret::new("id.t0ken.sig"),
            "chat-client",
        );
        let request = public
            .jwt_bearer_request(&server(json!({})), Some(RESOURCE))
            .unwrap();
        assert!(
            format!("{request:?}").contains(r#"parameters: ["client_id"]"#),
            "{request:?}"
        );
    }

    #[test]
    fn a_server_that_is_not_the_one_or_rules_out_the_grant_gets_nothing() {
        let cases = [
            (
                "no jwt bearer grant",
                json!({"grant_types_supported": ["client_credentials"]}),
                Some(RESOURCE),
            ),
            (
                "no secret method",
                json!({"token_endpoint_auth_methods_supported": ["private_key_jwt"]}),
                Some(RESOURCE),
            ),
            ("no resource", json!({}), None),
        ];
        for (what, extra, resource) in cases {
            let error = grant()
                .jwt_bearer_request(&server(extra), resource)
                .unwrap_err();
            assert!(error.is_server(), "{what}: {error}");
        }
        let elsewhere = grant().issuer("https://auth.other.example");
        let error = elsewhere
            .jwt_bearer_request(&server(json!({})), Some(RESOURCE))
            .unwrap_err();
        assert!(error.is_server(), "{error}");
        assert!(
            grant()
                .issuer(ISSUER)
                .jwt_bearer_request(&server(json!({})), Some(RESOURCE))
                .is_ok()
        );
    }

    #[test]
    fn the_exchange_asks_for_an_id_jag_for_the_server_and_resource() {
        let scopes = ["chat.read".to_owned(), "chat.history".to_owned()];
        let grant = grant();
        let request = grant.token_exchange_request(ISSUER, RESOURCE, &scopes);
        let request = grant.with_subject_token(request, Secret::new("id.t0ken.sig"));
        assert_eq!(request.grant_type(), TOKEN_EXCHANGE_GRANT_TYPE);
        let debug = format!("{request:?}");
        assert!(
            debug.contains(
                r#"["requested_token_type", "audience", "resource", "scope", "subject_token", "subject_token_type"]"#
            ),
            "{debug}"
        );
        assert!(!debug.contains("t0ken"), "{debug}");
        // Without scopes, no `scope`: the identity provider decides.
        let request = grant.token_exchange_request(ISSUER, RESOURCE, &[]);
        assert!(!format!("{request:?}").contains("\"scope\""), "{request:?}");
    }

    #[tokio::test]
    async fn an_empty_or_failing_id_token_source_is_an_id_token_error() {
        let identity_provider = || IdentityProvider::issuer("https://idp.example", "app");
        let empty = EnterpriseManagedAuthorization::new(identity_provider(), Secret::new(" "), "c");
        assert!(empty.read_id_token().await.unwrap_err().is_id_token());
        let failing = EnterpriseManagedAuthorization::new(
            identity_provider(),
            || async { Err::<Secret, _>("the user signed out") },
            "c",
        );
        let error = failing.read_id_token().await.unwrap_err();
        assert!(error.is_id_token(), "{error}");
        let source = std::error::Error::source(&error).unwrap();
        assert_eq!(source.to_string(), "the user signed out");
    }

    #[test]
    fn debug_output_shows_no_token_or_secret() {
        let debug = format!("{:?}", grant().issuer(ISSUER));
        for secret in ["id.t0ken.sig", "idp-hunter2", "as-hunter2"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert!(
            debug.contains("chat-client") && debug.contains(ISSUER),
            "{debug}"
        );
    }
}
