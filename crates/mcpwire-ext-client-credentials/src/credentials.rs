//! [`ClientCredentials`]: the `client_credentials` grant (RFC 6749 §4.4) as a
//! [`TokenGrant`] of `mcpwire-auth`'s headless client.

use std::fmt;
use std::sync::{Arc, Mutex};

use mcpwire_auth::client::{
    AuthorizationServerMetadata, GrantFuture, GrantRequest, Secret, TokenGrant, TokenRequest,
};

use crate::error::{Error, Kind};
use crate::key::PrivateKey;

/// The grant type of the client credentials grant.
pub const GRANT_TYPE: &str = "client_credentials";

/// The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const JWT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Credentials registered with an authorization server out of band, and the
/// `client_credentials` grant made with them: a [`TokenGrant`] for
/// [`OAuthConfig::headless`](mcpwire_auth::client::OAuthConfig::headless).
///
/// The client authenticates at the token endpoint as the extension specifies:
///
/// - with a private key ([`ClientCredentials::private_key_jwt`], RECOMMENDED): a JWT client
///   assertion (RFC 7523 §2.2) signed for each request, with `iss` and `sub` the client id,
///   `aud` the authorization server's issuer, a short `exp` and a unique `jti`; the
///   `client_id` parameter is left out, the assertion names the client;
/// - with a client secret ([`ClientCredentials::client_secret`]): HTTP Basic
///   (`client_secret_basic`) where the server takes it (the default of RFC 8414), else the
///   secret in the form (`client_secret_post`) where the server lists that.
///
/// The credentials go to one authorization server only: the one named by
/// [`ClientCredentials::issuer`], or else the first one they are used with. Before anything
/// secret is sent, the server's metadata must not rule out the grant, the method or the
/// key's algorithm: a server that lists `grant_types_supported`,
/// `token_endpoint_auth_methods_supported` or `token_endpoint_auth_signing_alg_values_supported`
/// without them is refused ([`Error::is_server`]).
#[derive(Clone)]
pub struct ClientCredentials {
    client_id: String,
    authentication: Authentication,
    issuer: Option<String>,
    /// The issuer the credentials were first used with, when none was configured; shared by
    /// the clones a grant makes.
    bound_to: Arc<Mutex<Option<String>>>,
}

#[derive(Clone)]
enum Authentication {
    Secret(Secret),
    PrivateKeyJwt(PrivateKey),
}

impl ClientCredentials {
    /// The credentials of `client_id` that authenticates with `secret`.
    pub fn client_secret(client_id: impl Into<String>, secret: impl Into<Secret>) -> Self {
        ClientCredentials::with(client_id.into(), Authentication::Secret(secret.into()))
    }

    /// The credentials of `client_id` that authenticates with JWT assertions signed by
    /// `key` (`private_key_jwt`).
    pub fn private_key_jwt(client_id: impl Into<String>, key: PrivateKey) -> Self {
        ClientCredentials::with(client_id.into(), Authentication::PrivateKeyJwt(key))
    }

    fn with(client_id: String, authentication: Authentication) -> Self {
        ClientCredentials {
            client_id,
            authentication,
            issuer: None,
            bound_to: Arc::new(Mutex::new(None)),
        }
    }

    /// The `issuer` of the authorization server that registered the client: the credentials
    /// are used with it only. Without one, they belong to the first authorization server
    /// they are used with.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let authentication: &dyn fmt::Debug = match &self.authentication {
            Authentication::Secret(secret) => secret,
            Authentication::PrivateKeyJwt(key) => key,
        };
        formatter
            .debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("authentication", authentication)
            .field("issuer", &self.issuer)
            .finish()
    }
}

impl TokenGrant for ClientCredentials {
    fn grant(&self, request: GrantRequest) -> GrantFuture {
        let credentials = self.clone();
        Box::pin(async move {
            // Each error is boxed as itself, so that the layer passes its own on unchanged.
            let form = credentials.token_request(request.server())?;
            Ok(request.token_request(form).await?)
        })
    }
}

impl ClientCredentials {
    /// The token request for `server`, once the server is checked.
    fn token_request(&self, server: &AuthorizationServerMetadata) -> Result<TokenRequest, Error> {
        self.check_issuer(&server.issuer)?;
        let issuer = &server.issuer;
        if let Some(grants) = &server.grant_types_supported
            && !grants.iter().any(|grant| grant == GRANT_TYPE)
        {
            return Err(refuse(format!(
                "the authorization server {issuer} does not offer the client_credentials grant"
            )));
        }
        let request = TokenRequest::new(GRANT_TYPE);
        match &self.authentication {
            Authentication::Secret(secret) => {
                let method = if server.supports_auth_method("client_secret_basic") {
                    "client_secret_basic"
                } else if server.supports_auth_method("client_secret_post") {
                    "client_secret_post"
                } else {
                    return Err(refuse(format!(
                        "the authorization server {issuer} takes neither client_secret_basic \
                         nor client_secret_post"
                    )));
                };
                tracing::debug!(client_id = %self.client_id, %issuer, method, "client credentials grant");
                Ok(if method == "client_secret_basic" {
                    request.client_secret_basic(&self.client_id, secret.clone())
                } else {
                    request
                        .parameter("client_id", self.client_id.as_str())
                        .parameter("client_secret", secret.clone())
                })
            }
            Authentication::PrivateKeyJwt(key) => {
                if server.token_endpoint_auth_methods_supported.is_some()
                    && !server.supports_auth_method("private_key_jwt")
                {
                    return Err(refuse(format!(
                        "the authorization server {issuer} does not take private_key_jwt"
                    )));
                }
                let algorithm = key.algorithm().name();
                if let Some(algorithms) = &server.token_endpoint_auth_signing_alg_values_supported
                    && !algorithms.iter().any(|listed| listed == algorithm)
                {
                    return Err(refuse(format!(
                        "the authorization server {issuer} does not take {algorithm} client \
                         assertions"
                    )));
                }
                tracing::debug!(client_id = %self.client_id, %issuer, algorithm, "client credentials grant with private_key_jwt");
                let assertion = key.client_assertion(&self.client_id, issuer)?;
                Ok(request
                    .parameter("client_assertion_type", JWT_ASSERTION_TYPE)
                    .parameter("client_assertion", assertion))
            }
        }
    }

    /// Checks that the credentials may go to `issuer`, binding them to it when no issuer was
    /// configured and they were not used yet.
    fn check_issuer(&self, issuer: &str) -> Result<(), Error> {
        let allowed = match &self.issuer {
            Some(configured) => configured == issuer,
            None => {
                let mut bound_to = self
                    .bound_to
                    .lock()
                    .map_err(|_| refuse("the issuer binding is poisoned".to_owned()))?;
                bound_to.get_or_insert_with(|| issuer.to_owned()) == issuer
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(refuse(format!(
                "the credentials of `{}` are not for the authorization server {issuer}",
                self.client_id
            )))
        }
    }
}

fn refuse(message: String) -> Error {
    Error::new(Kind::Server, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::SigningAlgorithm;
    use serde_json::{Value, json};

    fn server(issuer: &str, extra: Value) -> AuthorizationServerMetadata {
        let mut metadata = json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
        });
        metadata
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(metadata).unwrap()
    }

    fn es256() -> PrivateKey {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        PrivateKey::from_pem(key.serialize_pem(), SigningAlgorithm::Es256).unwrap()
    }

    /// The names of the form parameters and whether HTTP Basic is used, from the request's
    /// `Debug` output (which shows no value).
    fn shape(request: &TokenRequest) -> String {
        format!("{request:?}")
    }

    #[test]
    fn a_secret_goes_by_basic_unless_the_server_takes_only_post() {
        let credentials = ClientCredentials::client_secret("svc", "s3cret");
        let basic = credentials
            .token_request(&server("https://a.example.com", json!({})))
            .unwrap();
        assert_eq!(
            shape(&basic),
            r#"TokenRequest { grant_type: "client_credentials", parameters: [], client_secret_basic: Some("svc") }"#
        );
        let post_only = json!({"token_endpoint_auth_methods_supported": ["client_secret_post"]});
        let post = credentials
            .token_request(&server("https://a.example.com", post_only))
            .unwrap();
        assert_eq!(
            shape(&post),
            r#"TokenRequest { grant_type: "client_credentials", parameters: ["client_id", "client_secret"], client_secret_basic: None }"#
        );
        let neither = json!({"token_endpoint_auth_methods_supported": ["private_key_jwt"]});
        let error = credentials
            .token_request(&server("https://a.example.com", neither))
            .unwrap_err();
        assert!(error.is_server(), "{error}");
        assert!(!format!("{error} {credentials:?}").contains("s3cret"));
    }

    #[test]
    fn a_key_signs_an_assertion_where_the_server_takes_it() {
        let credentials = ClientCredentials::private_key_jwt("svc", es256());
        let takes = json!({
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
            "grant_types_supported": ["client_credentials"],
        });
        let request = credentials
            .token_request(&server("https://a.example.com", takes))
            .unwrap();
        assert_eq!(
            shape(&request),
            r#"TokenRequest { grant_type: "client_credentials", parameters: ["client_assertion_type", "client_assertion"], client_secret_basic: None }"#
        );
        let refusals = [
            json!({"token_endpoint_auth_methods_supported": ["client_secret_basic"]}),
            json!({"token_endpoint_auth_signing_alg_values_supported": ["RS256"]}),
            json!({"grant_types_supported": ["authorization_code"]}),
        ];
        for metadata in refusals {
            let error = credentials
                .token_request(&server("https://a.example.com", metadata.clone()))
                .unwrap_err();
            assert!(error.is_server(), "{metadata}: {error}");
        }
    }

    #[test]
    fn credentials_go_to_one_authorization_server_only() {
        let configured =
            ClientCredentials::client_secret("svc", "s3cret").issuer("https://a.example.com");
        assert!(
            configured
                .token_request(&server("https://a.example.com", json!({})))
                .is_ok()
        );
        let error = configured
            .token_request(&server("https://b.example.com", json!({})))
            .unwrap_err();
        assert!(error.is_server(), "{error}");

        // Without an issuer, the first server used binds them, clones included.
        let unbound = ClientCredentials::client_secret("svc", "s3cret");
        let clone = unbound.clone();
        assert!(
            unbound
                .token_request(&server("https://a.example.com", json!({})))
                .is_ok()
        );
        assert!(
            clone
                .token_request(&server("https://b.example.com", json!({})))
                .unwrap_err()
                .is_server()
        );
        assert!(
            clone
                .token_request(&server("https://a.example.com", json!({})))
                .is_ok()
        );
    }
}
