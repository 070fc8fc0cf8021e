//! Grants made without a user agent ([`TokenGrant`]): the client obtains its tokens at the
//! token endpoint on its own authority, as the client credentials grant and the JWT bearer
//! grant do, while the layer keeps discovery, the resource binding, scope selection, the
//! token store and step-up.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use http::HeaderValue;
use mcpwire_http::client::BoxError;
use serde::Deserialize;
use url::Url;

use crate::client::discovery::authorization_server_metadata;
use crate::client::metadata::AuthorizationServerMetadata;
use crate::client::token::{
    TokenOutcome, TokenSet, basic_authorization, read_token_response, send_token_request,
};
use crate::error::{Error, Kind};
use crate::fetch::{Fetcher, origin};
use crate::secret::Secret;

/// The future a [`TokenGrant`] answers with: the tokens granted.
pub type GrantFuture = Pin<Box<dyn Future<Output = Result<TokenSet, BoxError>> + Send>>;

/// A way for the client to obtain tokens with no user present: a grant it makes at the
/// token endpoint on its own, such as `client_credentials` (RFC 6749 §4.4) or the JWT bearer
/// grant (RFC 7523 §2.1).
///
/// [`OAuthConfig::headless`](crate::client::OAuthConfig::headless) takes one. The layer
/// calls it after discovery, with the authorization server found, the resource the token is
/// for and the scopes the spec selects; the grant adds what proves the client's identity
/// and sends the request through [`GrantRequest::token_request`], which binds it to the
/// resource and the scopes and reads the answer.
///
/// A grant is made again, not refreshed, when its token is about to expire or the server
/// refuses it: the tokens a grant returns are kept without their refresh token. One failed
/// grant fails the request that needed it; the layer does not retry it, nor fall back to
/// another grant.
pub trait TokenGrant: Send + Sync + 'static {
    /// Obtains tokens for `request`, typically with one [`GrantRequest::token_request`].
    ///
    /// An error of the crate (from [`GrantRequest::token_request`]) reaches the caller as
    /// it is; any other is wrapped as a token error with it as the source. Neither may
    /// contain a secret.
    fn grant(&self, request: GrantRequest) -> GrantFuture;
}

/// What a [`TokenGrant`] is asked for, and the means to ask the token endpoint for it.
#[derive(Clone)]
pub struct GrantRequest {
    server: AuthorizationServerMetadata,
    resource: Option<String>,
    scopes: Vec<String>,
    fetcher: Fetcher,
}

impl GrantRequest {
    pub(crate) fn new(
        server: AuthorizationServerMetadata,
        resource: Option<String>,
        scopes: Vec<String>,
        fetcher: Fetcher,
    ) -> Self {
        GrantRequest {
            server,
            resource,
            scopes,
            fetcher,
        }
    }

    /// The authorization server's metadata, as discovery found and checked it: its `issuer`
    /// is the one the resource named.
    pub fn server(&self) -> &AuthorizationServerMetadata {
        &self.server
    }

    /// The RFC 8707 resource the token is for, exactly as the resource's metadata names it;
    /// `None` for a 2025-03-26 server without Protected Resource Metadata.
    pub fn resource(&self) -> Option<&str> {
        self.resource.as_deref()
    }

    /// The scopes asked for.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// Sends `request` to the token endpoint with the `resource` and `scope` of this grant
    /// request added, under the configuration's fetch policy, and reads the tokens from the
    /// answer.
    ///
    /// # Errors
    ///
    /// [`Error::is_config`] when `request` sets `grant_type`, `resource` or `scope` as a
    /// parameter; [`Error::is_fetch`] when the request cannot be made; [`Error::is_token`]
    /// when the token endpoint refuses it (the error names the OAuth error code) or answers
    /// something other than a Bearer token.
    pub async fn token_request(&self, request: TokenRequest) -> Result<TokenSet, Error> {
        if let Some((name, _)) = request
            .parameters
            .iter()
            .find(|(name, _)| matches!(name.as_str(), "grant_type" | "resource" | "scope"))
        {
            return Err(Error::new(
                Kind::Config,
                format!("a grant may not set `{name}`: the layer sets it"),
            ));
        }
        let mut form = request.form();
        if let Some(resource) = &self.resource {
            form.push(("resource", resource.clone()));
        }
        if !self.scopes.is_empty() {
            form.push(("scope", self.scopes.join(" ")));
        }
        let basic = request.basic_authorization()?;
        tracing::debug!(
            issuer = %self.server.issuer,
            grant_type = %request.grant_type,
            scopes = %self.scopes.join(" "),
            "requesting tokens without a user agent"
        );
        match send_token_request(&self.fetcher, &self.server, &form, basic, &self.scopes).await? {
            TokenOutcome::Granted(tokens) => {
                tracing::debug!(issuer = %self.server.issuer, grant_type = %request.grant_type, "tokens were granted");
                Ok(tokens)
            }
            TokenOutcome::Refused(error) => Err(Error::new(
                Kind::Token,
                format!(
                    "the token endpoint refused the `{}` grant: {error}",
                    request.grant_type
                ),
            )),
        }
    }
}

impl GrantRequest {
    /// Discovers the metadata of the authorization server `issuer`, another one than
    /// [`server`](Self::server) (an enterprise identity provider, for instance), as the
    /// layer discovers that one: RFC 8414, then OpenID Connect Discovery, at the well-known
    /// URLs in the spec's order, under the configuration's fetch policy, and only a document
    /// whose `issuer` is exactly `issuer`.
    ///
    /// # Errors
    ///
    /// [`Error::is_discovery`] when no well-known URL has the metadata, or the document
    /// names another issuer; [`Error::is_fetch`] when `issuer` is a URL the fetch policy
    /// refuses.
    pub async fn discover(&self, issuer: &str) -> Result<AuthorizationServerMetadata, Error> {
        authorization_server_metadata(&self.fetcher, issuer).await
    }

    /// Sends `request` to the token endpoint `endpoint` of another server than
    /// [`server`](Self::server) (an identity provider's, for an RFC 8693 token exchange),
    /// under the configuration's fetch policy and SSRF guard, and returns the token it
    /// issues, of whatever type.
    ///
    /// Unlike [`token_request`](Self::token_request), nothing is added to the form: the
    /// grant sets the parameters the other server needs, `resource` and `scope` included.
    /// Nor is the token required to be a Bearer access token: a token exchange may issue
    /// another kind (`token_type` `N_A`), which the grant then presents elsewhere. No DPoP
    /// proof goes with the request: DPoP binds the access tokens of
    /// [`token_request`](Self::token_request), not what another server issues for the grant.
    ///
    /// # Errors
    ///
    /// [`Error::is_config`] when `request` sets `grant_type` as a parameter, or `endpoint`
    /// is not a URL; [`Error::is_fetch`] when the fetch policy refuses `endpoint` or the
    /// request cannot be made; [`Error::is_token`] when the endpoint refuses it (the error
    /// names the OAuth error code) or answers without a token.
    pub async fn token_request_to(
        &self,
        endpoint: &str,
        request: TokenRequest,
    ) -> Result<IssuedToken, Error> {
        if request
            .parameters
            .iter()
            .any(|(name, _)| name == "grant_type")
        {
            return Err(Error::new(
                Kind::Config,
                "a grant may not set `grant_type` as a parameter: TokenRequest::new sets it",
            ));
        }
        let endpoint = Url::parse(endpoint).map_err(|error| {
            Error::new(Kind::Config, "the token endpoint is not a URL").with_source(error)
        })?;
        let form = request.form();
        let pairs: Vec<(&str, &str)> = form
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        tracing::debug!(
            endpoint = %origin(&endpoint),
            grant_type = %request.grant_type,
            "requesting a token from another server"
        );
        let response = self
            .fetcher
            .post_form(&endpoint, &pairs, request.basic_authorization()?, None)
            .await?;
        if !response.status.is_success() {
            let code = match read_token_response(false, &response.body, &[], false) {
                Ok(TokenOutcome::Refused(code)) => code,
                _ => "an unreadable error".to_owned(),
            };
            return Err(Error::new(
                Kind::Token,
                format!(
                    "the token endpoint at {} refused the `{}` request: {code}",
                    origin(&endpoint),
                    request.grant_type
                ),
            ));
        }
        let issued: IssuedTokenResponse =
            serde_json::from_slice(&response.body).map_err(|error| {
                Error::new(
                    Kind::Token,
                    format!(
                        "the answer of the token endpoint at {} is not the JSON expected",
                        origin(&endpoint)
                    ),
                )
                .with_source(error)
            })?;
        if issued.access_token.is_empty() {
            return Err(Error::new(
                Kind::Token,
                format!(
                    "the token endpoint at {} issued an empty token",
                    origin(&endpoint)
                ),
            ));
        }
        Ok(IssuedToken {
            access_token: Secret::new(issued.access_token),
            token_type: issued.token_type,
            issued_token_type: issued.issued_token_type,
            expires_in: issued.expires_in.map(Duration::from_secs),
            scope: issued.scope,
        })
    }
}

/// A successful answer of a token endpoint, of any token type (RFC 6749 §5.1, RFC 8693
/// §2.2.1).
#[derive(Deserialize)]
struct IssuedTokenResponse {
    access_token: String,
    token_type: String,
    #[serde(default)]
    issued_token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    scope: Option<String>,
}

/// A token another server issued, as its token endpoint answered
/// ([`GrantRequest::token_request_to`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct IssuedToken {
    /// The token (`access_token`, the member that RFC 8693 keeps for whatever token an
    /// exchange issues).
    pub access_token: Secret,
    /// Its `token_type`: `Bearer` for an access token, `N_A` for a token that is not one.
    pub token_type: String,
    /// The `issued_token_type` of a token exchange (RFC 8693 §2.2.1), such as
    /// `urn:ietf:params:oauth:token-type:id-jag`.
    pub issued_token_type: Option<String>,
    /// How long the token lives (`expires_in`), when the server said.
    pub expires_in: Option<Duration>,
    /// The scopes granted (`scope`, space-separated), when the server said.
    pub scope: Option<String>,
}

impl fmt::Debug for GrantRequest {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("GrantRequest")
            .field("issuer", &self.server.issuer)
            .field("resource", &self.resource)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// The form of a token request a [`TokenGrant`] makes: its grant type, its parameters and
/// how the client authenticates. The layer adds `resource` and `scope`.
///
/// Parameter values are kept as [`Secret`]s: an assertion or a client secret never shows in
/// `Debug` output.
#[derive(Clone)]
pub struct TokenRequest {
    grant_type: String,
    parameters: Vec<(String, Secret)>,
    basic: Option<(String, Secret)>,
}

impl TokenRequest {
    /// A request with the grant type `grant_type` (`client_credentials`,
    /// `urn:ietf:params:oauth:grant-type:jwt-bearer`, ...).
    pub fn new(grant_type: impl Into<String>) -> Self {
        TokenRequest {
            grant_type: grant_type.into(),
            parameters: Vec::new(),
            basic: None,
        }
    }

    /// Adds the form parameter `name` (`assertion`, `client_assertion`, `client_id`, ...).
    pub fn parameter(mut self, name: impl Into<String>, value: impl Into<Secret>) -> Self {
        self.parameters.push((name.into(), value.into()));
        self
    }

    /// Authenticates the client with HTTP Basic (`client_secret_basic`, RFC 6749 §2.3.1).
    pub fn client_secret_basic(
        mut self,
        client_id: impl Into<String>,
        secret: impl Into<Secret>,
    ) -> Self {
        self.basic = Some((client_id.into(), secret.into()));
        self
    }

    /// The grant type.
    pub fn grant_type(&self) -> &str {
        &self.grant_type
    }

    /// The form: `grant_type`, then the parameters.
    fn form(&self) -> Vec<(&str, String)> {
        let mut form = vec![("grant_type", self.grant_type.clone())];
        form.extend(
            self.parameters
                .iter()
                .map(|(name, value)| (name.as_str(), value.expose().to_owned())),
        );
        form
    }

    /// The `Authorization` header of `client_secret_basic`, when the request uses it.
    fn basic_authorization(&self) -> Result<Option<HeaderValue>, Error> {
        let Some((client_id, secret)) = &self.basic else {
            return Ok(None);
        };
        basic_authorization(client_id, secret.expose())
            .map(Some)
            .ok_or_else(|| Error::new(Kind::Config, "the client id is not a header value"))
    }
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self
            .parameters
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        formatter
            .debug_struct("TokenRequest")
            .field("grant_type", &self.grant_type)
            .field("parameters", &names)
            .field(
                "client_secret_basic",
                &self.basic.as_ref().map(|(client_id, _)| client_id),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::FetchPolicy;

    #[tokio::test]
    async fn a_request_to_another_endpoint_may_not_set_its_grant_type_twice() {
        let policy = FetchPolicy::default();
        let fetcher = Fetcher::new(policy.guarded_service().unwrap(), policy);
        let server =
            AuthorizationServerMetadata::fallback(&Url::parse("https://as.example.com").unwrap());
        let request = GrantRequest::new(server, None, Vec::new(), fetcher);
        let twice = TokenRequest::new("urn:ietf:params:oauth:grant-type:token-exchange")
            .parameter("grant_type", "client_credentials");
        let error = request
            .token_request_to("https://idp.example.com/token", twice)
            .await
            .unwrap_err();
        assert!(error.is_config(), "{error}");
        let plain = TokenRequest::new("urn:ietf:params:oauth:grant-type:token-exchange");
        for refused in ["not a url", "http://idp.example.com/token"] {
            let error = request
                .token_request_to(refused, plain.clone())
                .await
                .unwrap_err();
            assert!(error.is_config() || error.is_fetch(), "{refused}: {error}");
        }
    }

    #[test]
    fn debug_output_names_parameters_without_their_values() {
        let request = TokenRequest::new("client_credentials")
            .parameter("client_assertion", "eyJ.s3cret.sig")
            .client_secret_basic("client-1", "hunter2");
        let debug = format!("{request:?}");
        assert!(debug.contains("client_assertion"), "{debug}");
        assert!(debug.contains("client-1"), "{debug}");
        assert!(
            !debug.contains("s3cret") && !debug.contains("hunter2"),
            "{debug}"
        );
    }
}
