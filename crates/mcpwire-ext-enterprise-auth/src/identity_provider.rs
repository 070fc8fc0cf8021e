//! [`IdentityProvider`]: the enterprise identity provider the client exchanges the user's
//! ID token with, and how the client authenticates there and at the authorization server.

use std::fmt;

use mcpwire_auth::client::{AuthorizationServerMetadata, GrantRequest, Secret, TokenRequest};

use crate::error::{Error, Kind};

/// The grant type of the token exchange (RFC 8693 §2.1).
pub const TOKEN_EXCHANGE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// The enterprise identity provider (IdP) that signed the user in to the application, where
/// the client exchanges the user's ID token for an identity assertion grant, as the client
/// the application is registered as there.
///
/// Its token endpoint is named, or discovered from its issuer identifier (RFC 8414 and
/// OpenID Connect Discovery, as for any authorization server, under the layer's fetch
/// policy). The client authenticates with its client secret when it has one: by HTTP Basic
/// (`client_secret_basic`), or in the form (`client_secret_post`) when the discovered
/// metadata lists only that; a client without a secret sends its `client_id`.
#[derive(Clone)]
pub struct IdentityProvider {
    location: Location,
    client_id: String,
    client_secret: Option<Secret>,
}

#[derive(Clone, Debug)]
enum Location {
    Issuer(String),
    TokenEndpoint(String),
}

impl IdentityProvider {
    /// The identity provider with the issuer identifier `issuer` (the `iss` of its ID
    /// tokens), whose token endpoint is discovered for each grant; the application is its
    /// client `client_id`.
    pub fn issuer(issuer: impl Into<String>, client_id: impl Into<String>) -> Self {
        IdentityProvider::at(Location::Issuer(issuer.into()), client_id.into())
    }

    /// The identity provider whose token endpoint is `token_endpoint`; the application is
    /// its client `client_id`.
    pub fn token_endpoint(token_endpoint: impl Into<String>, client_id: impl Into<String>) -> Self {
        IdentityProvider::at(
            Location::TokenEndpoint(token_endpoint.into()),
            client_id.into(),
        )
    }

    fn at(location: Location, client_id: String) -> Self {
        IdentityProvider {
            location,
            client_id,
            client_secret: None,
        }
    }

    /// The application's client secret at the identity provider, for a confidential client.
    pub fn client_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// The application's client id at the identity provider.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The token endpoint to exchange at, discovered when only the issuer is known, with the
    /// exchange `request` authenticated as the identity provider takes it.
    pub(crate) async fn prepare(
        &self,
        grant: &GrantRequest,
        request: TokenRequest,
    ) -> Result<(String, TokenRequest), Box<dyn std::error::Error + Send + Sync>> {
        match &self.location {
            Location::TokenEndpoint(endpoint) => {
                let request =
                    authenticate(request, &self.client_id, self.client_secret.as_ref(), None)
                        .ok_or_else(|| refuse_method(endpoint))?;
                Ok((endpoint.clone(), request))
            }
            Location::Issuer(issuer) => {
                let metadata = grant.discover(issuer).await?;
                Ok((
                    metadata.token_endpoint.clone(),
                    self.prepare_at(&metadata, request)?,
                ))
            }
        }
    }

    /// The exchange `request`, authenticated, for the identity provider of `metadata`.
    pub(crate) fn prepare_at(
        &self,
        metadata: &AuthorizationServerMetadata,
        request: TokenRequest,
    ) -> Result<TokenRequest, Error> {
        if let Some(grants) = &metadata.grant_types_supported
            && !grants
                .iter()
                .any(|grant| grant == TOKEN_EXCHANGE_GRANT_TYPE)
        {
            return Err(Error::new(
                Kind::IdentityProvider,
                format!(
                    "the identity provider {} does not offer the token exchange",
                    metadata.issuer
                ),
            ));
        }
        authenticate(
            request,
            &self.client_id,
            self.client_secret.as_ref(),
            Some(metadata),
        )
        .ok_or_else(|| refuse_method(&metadata.issuer))
    }
}

fn refuse_method(identity_provider: &str) -> Error {
    Error::new(
        Kind::IdentityProvider,
        format!(
            "the identity provider {identity_provider} takes neither client_secret_basic nor \
             client_secret_post"
        ),
    )
}

impl fmt::Debug for IdentityProvider {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("IdentityProvider")
            .field("location", &self.location)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .finish()
    }
}

/// `request`, authenticated as the client `client_id` at the token endpoint of `server`
/// (when its metadata is known): with a secret, by `client_secret_basic` where the server
/// takes it (RFC 8414's default), else `client_secret_post` where it lists that, else
/// `None`; without a secret, the `client_id` alone.
pub(crate) fn authenticate(
    request: TokenRequest,
    client_id: &str,
    secret: Option<&Secret>,
    server: Option<&AuthorizationServerMetadata>,
) -> Option<TokenRequest> {
    let Some(secret) = secret else {
        return Some(request.parameter("client_id", client_id));
    };
    let takes = |method: &str| server.is_none_or(|server| server.supports_auth_method(method));
    if takes("client_secret_basic") {
        Some(request.client_secret_basic(client_id, secret.clone()))
    } else if takes("client_secret_post") {
        Some(
            request
                .parameter("client_id", client_id)
                .parameter("client_secret", secret.clone()),
        )
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn metadata(extra: Value) -> AuthorizationServerMetadata {
        crate::metadata_for_tests("https://idp.example.com", extra)
    }

    fn exchange() -> TokenRequest {
        TokenRequest::new(TOKEN_EXCHANGE_GRANT_TYPE)
    }

    #[test]
    fn the_client_authenticates_as_the_identity_provider_takes_it() {
        let confidential =
            IdentityProvider::issuer("https://idp.example.com", "app").client_secret("hunter2");
        let basic = confidential
            .prepare_at(&metadata(json!({})), exchange())
            .unwrap();
        assert!(
            format!("{basic:?}").contains(r#"client_secret_basic: Some("app")"#),
            "{basic:?}"
        );
        let post_only =
            metadata(json!({"token_endpoint_auth_methods_supported": ["client_secret_post"]}));
        let post = confidential.prepare_at(&post_only, exchange()).unwrap();
        assert!(
            format!("{post:?}").contains(r#"parameters: ["client_id", "client_secret"]"#),
            "{post:?}"
        );
        let public = IdentityProvider::issuer("https://idp.example.com", "app");
        let public = public.prepare_at(&post_only, exchange()).unwrap();
        assert!(
            format!("{public:?}").contains(r#"parameters: ["client_id"]"#),
            "{public:?}"
        );
        let debug = format!("{confidential:?}");
        assert!(
            debug.contains("app") && !debug.contains("hunter2"),
            "{debug}"
        );
    }

    #[test]
    fn an_identity_provider_that_rules_out_the_exchange_or_the_secret_is_refused() {
        let confidential =
            IdentityProvider::issuer("https://idp.example.com", "app").client_secret("hunter2");
        for extra in [
            json!({"grant_types_supported": ["authorization_code"]}),
            json!({"token_endpoint_auth_methods_supported": ["private_key_jwt"]}),
        ] {
            let error = confidential
                .prepare_at(&metadata(extra.clone()), exchange())
                .unwrap_err();
            assert!(error.is_identity_provider(), "{extra}: {error}");
        }
        let offered = json!({"grant_types_supported": [TOKEN_EXCHANGE_GRANT_TYPE]});
        assert!(
            confidential
                .prepare_at(&metadata(offered), exchange())
                .is_ok()
        );
    }
}
