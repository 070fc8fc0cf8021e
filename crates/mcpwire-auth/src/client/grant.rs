//! Grants made without a user agent ([`TokenGrant`]): the client obtains its tokens at the
//! token endpoint on its own authority, as the client credentials grant and the JWT bearer
//! grant do, while the layer keeps discovery, the resource binding, scope selection, the
//! token store and step-up.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use mcpwire_http::client::BoxError;

use crate::client::metadata::AuthorizationServerMetadata;
use crate::client::token::{TokenOutcome, TokenSet, basic_authorization, send_token_request};
use crate::error::{Error, Kind};
use crate::fetch::Fetcher;
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
        let mut form: Vec<(&str, String)> = vec![("grant_type", request.grant_type.clone())];
        form.extend(
            request
                .parameters
                .iter()
                .map(|(name, value)| (name.as_str(), value.expose().to_owned())),
        );
        if let Some(resource) = &self.resource {
            form.push(("resource", resource.clone()));
        }
        if !self.scopes.is_empty() {
            form.push(("scope", self.scopes.join(" ")));
        }
        let basic = match &request.basic {
            Some((client_id, secret)) => Some(
                basic_authorization(client_id, secret.expose()).ok_or_else(|| {
                    Error::new(Kind::Config, "the client id is not a header value")
                })?,
            ),
            None => None,
        };
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
