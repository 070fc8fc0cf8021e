//! Identifying the client to an authorization server, in the spec's order: pre-registered
//! credentials, a Client ID Metadata Document URL, Dynamic Client Registration (RFC 7591);
//! and how the client authenticates at the token endpoint.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use http::HeaderValue;
use serde::Deserialize;
use url::Url;

use crate::client::config::OAuthConfig;
use crate::client::metadata::AuthorizationServerMetadata;
use crate::client::token::basic_authorization;
use crate::error::{Error, Kind};
use crate::fetch::{Fetcher, origin};
use crate::secret::Secret;

/// How the client authenticates at the token endpoint (RFC 7591 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AuthMethod {
    /// HTTP Basic with the client id and secret.
    ClientSecretBasic,
    /// The client id and secret in the form body.
    ClientSecretPost,
    /// A public client: the client id in the form body.
    None,
}

impl AuthMethod {
    fn from_name(name: &str) -> Option<AuthMethod> {
        match name {
            "client_secret_basic" => Some(AuthMethod::ClientSecretBasic),
            "client_secret_post" => Some(AuthMethod::ClientSecretPost),
            "none" => Some(AuthMethod::None),
            _ => None,
        }
    }

    /// The method for a client with (or without) a secret at `server`: Basic, else Post,
    /// as the server offers them; `none` without a secret.
    fn for_secret(has_secret: bool, server: &AuthorizationServerMetadata) -> AuthMethod {
        if !has_secret {
            AuthMethod::None
        } else if server.supports_auth_method("client_secret_basic") {
            AuthMethod::ClientSecretBasic
        } else if server.supports_auth_method("client_secret_post") {
            AuthMethod::ClientSecretPost
        } else {
            AuthMethod::ClientSecretBasic
        }
    }
}

/// The client's identity at one authorization server.
#[derive(Clone)]
pub(crate) struct Registration {
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<Secret>,
    pub(crate) auth_method: AuthMethod,
}

impl fmt::Debug for Registration {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Registration")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("auth_method", &self.auth_method)
            .finish()
    }
}

impl Registration {
    /// The form members and `Authorization` header that authenticate a token request.
    pub(crate) fn authenticate(&self) -> (Vec<(&'static str, String)>, Option<HeaderValue>) {
        let secret = self.client_secret.as_ref().map(Secret::expose);
        match (self.auth_method, secret) {
            (AuthMethod::ClientSecretBasic, Some(secret)) => {
                (Vec::new(), basic_authorization(&self.client_id, secret))
            }
            (AuthMethod::ClientSecretPost, Some(secret)) => (
                vec![
                    ("client_id", self.client_id.clone()),
                    ("client_secret", secret.to_owned()),
                ],
                None,
            ),
            _ => (vec![("client_id", self.client_id.clone())], None),
        }
    }
}

/// The registrations the client holds, by the `issuer` of the server that issued them: a
/// registration is never used with another server.
#[derive(Default)]
pub(crate) struct Registrations {
    by_issuer: Mutex<HashMap<String, Registration>>,
}

/// The most authorization servers the client keeps a registration for.
const MAX_REGISTRATIONS: usize = 32;

impl Registrations {
    /// The registration for `server`: the one held, or a new one in the spec's order.
    pub(crate) async fn for_server(
        &self,
        config: &OAuthConfig,
        fetcher: &Fetcher,
        server: &AuthorizationServerMetadata,
    ) -> Result<Registration, Error> {
        if let Some(held) = self.held(&server.issuer) {
            return Ok(held);
        }
        let registration = self.identify(config, fetcher, server).await?;
        if let Ok(mut map) = self.by_issuer.lock() {
            if map.len() >= MAX_REGISTRATIONS {
                map.clear();
            }
            map.insert(server.issuer.clone(), registration.clone());
        }
        Ok(registration)
    }

    fn held(&self, issuer: &str) -> Option<Registration> {
        self.by_issuer.lock().ok()?.get(issuer).cloned()
    }

    /// Whether pre-registered credentials without an issuer were already bound to another
    /// server.
    fn bound_elsewhere(&self, client_id: &str, issuer: &str) -> bool {
        self.by_issuer.lock().is_ok_and(|map| {
            map.iter()
                .any(|(other, held)| other != issuer && held.client_id == client_id)
        })
    }

    async fn identify(
        &self,
        config: &OAuthConfig,
        fetcher: &Fetcher,
        server: &AuthorizationServerMetadata,
    ) -> Result<Registration, Error> {
        // 1. Pre-registered credentials for this server.
        let pre_registered =
            config
                .pre_registered
                .iter()
                .find(|credentials| match &credentials.issuer {
                    Some(issuer) => *issuer == server.issuer,
                    None => !self.bound_elsewhere(&credentials.client_id, &server.issuer),
                });
        if let Some(credentials) = pre_registered {
            return Ok(Registration {
                client_id: credentials.client_id.clone(),
                client_secret: credentials.client_secret.clone(),
                auth_method: AuthMethod::for_secret(credentials.client_secret.is_some(), server),
            });
        }
        // 2. A Client ID Metadata Document URL, where the server takes one.
        if server.client_id_metadata_document_supported == Some(true)
            && let Some(url) = &config.client_metadata_url
        {
            check_client_metadata_url(url)?;
            return Ok(Registration {
                client_id: url.clone(),
                client_secret: None,
                auth_method: AuthMethod::None,
            });
        }
        // 3. Dynamic Client Registration.
        let Some(endpoint) = &server.registration_endpoint else {
            return Err(Error::new(
                Kind::Registration,
                format!(
                    "no way to identify the client to {}: no pre-registered credentials, no \
                     client metadata document it accepts, and no registration endpoint",
                    server.issuer
                ),
            ));
        };
        register(config, fetcher, server, endpoint).await
    }
}

/// A Client ID Metadata Document URL must be `https` with a path (SEP-991).
fn check_client_metadata_url(url: &str) -> Result<(), Error> {
    let parsed = Url::parse(url).map_err(|error| {
        Error::new(Kind::Config, "the client metadata URL is not a URL").with_source(error)
    })?;
    if parsed.scheme() != "https" || parsed.path().trim_matches('/').is_empty() {
        return Err(Error::new(
            Kind::Config,
            "the client metadata URL must be https with a path",
        ));
    }
    Ok(())
}

/// The answer of a registration endpoint (RFC 7591 §3.2.1).
#[derive(Deserialize)]
struct RegistrationResponse {
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
}

/// Registers the client at `endpoint` (RFC 7591).
async fn register(
    config: &OAuthConfig,
    fetcher: &Fetcher,
    server: &AuthorizationServerMetadata,
    endpoint: &str,
) -> Result<Registration, Error> {
    let endpoint = Url::parse(endpoint).map_err(|error| {
        Error::new(Kind::Registration, "the registration endpoint is not a URL").with_source(error)
    })?;
    // A public client, where the server takes one; otherwise a secret sent as it prefers.
    let requested = if server.supports_auth_method("none") {
        "none"
    } else if server.supports_auth_method("client_secret_basic") {
        "client_secret_basic"
    } else if server.supports_auth_method("client_secret_post") {
        "client_secret_post"
    } else {
        "none"
    };
    let response = fetcher
        .post_json(&endpoint, &config.client_metadata(requested))
        .await
        .map_err(|error| {
            Error::new(Kind::Registration, "the registration request failed").with_source(error)
        })?;
    if !response.status.is_success() {
        return Err(Error::new(
            Kind::Registration,
            format!(
                "the registration endpoint at {} refused the client ({})",
                origin(&endpoint),
                response.status
            ),
        ));
    }
    read_registration_response(&response.body, server)
}

/// Reads a registration endpoint's successful answer (RFC 7591 §3.2.1): the client id it
/// assigned (not empty), the secret if any (an empty one is none), and how to authenticate
/// at `server`'s token endpoint (as registered, else as the secret and the server allow).
///
/// # Errors
///
/// [`Error::is_fetch`] when the body is not the JSON expected; [`Error::is_registration`]
/// when the client id is empty.
pub(crate) fn read_registration_response(
    body: &[u8],
    server: &AuthorizationServerMetadata,
) -> Result<Registration, Error> {
    let registered: RegistrationResponse = serde_json::from_slice(body).map_err(|error| {
        Error::new(
            Kind::Fetch,
            "the registration response is not the JSON expected",
        )
        .with_source(error)
    })?;
    if registered.client_id.is_empty() {
        return Err(Error::new(
            Kind::Registration,
            "the registration response has an empty client_id",
        ));
    }
    let client_secret = registered
        .client_secret
        .filter(|secret| !secret.is_empty())
        .map(Secret::new);
    let auth_method = registered
        .token_endpoint_auth_method
        .as_deref()
        .and_then(AuthMethod::from_name)
        .unwrap_or_else(|| AuthMethod::for_secret(client_secret.is_some(), server));
    Ok(Registration {
        client_id: registered.client_id,
        client_secret,
        auth_method,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    fn registration(method: AuthMethod, secret: Option<&str>) -> Registration {
        Registration {
            client_id: "client:1".to_owned(),
            client_secret: secret.map(Secret::from),
            auth_method: method,
        }
    }

    #[test]
    fn token_requests_are_authenticated_as_registered() {
        let (form, header) =
            registration(AuthMethod::ClientSecretBasic, Some("s&cret")).authenticate();
        assert!(form.is_empty());
        let header = header.unwrap();
        assert!(header.is_sensitive());
        let encoded = header.to_str().unwrap().strip_prefix("Basic ").unwrap();
        let decoded = String::from_utf8(STANDARD.decode(encoded).unwrap()).unwrap();
        assert_eq!(decoded, "client%3A1:s%26cret");

        let (form, header) = registration(AuthMethod::ClientSecretPost, Some("s")).authenticate();
        assert!(header.is_none());
        assert_eq!(
            form,
            [
                ("client_id", "client:1".to_owned()),
                ("client_secret", "s".to_owned())
            ]
        );

        let (form, header) = registration(AuthMethod::None, None).authenticate();
        assert!(header.is_none());
        assert_eq!(form, [("client_id", "client:1".to_owned())]);
        assert!(
            !format!(
                "{:?}",
                registration(AuthMethod::ClientSecretPost, Some("s3cr3t"))
            )
            .contains("s3cr3t")
        );
    }

    #[test]
    fn the_auth_method_follows_the_secret_and_the_server() {
        let mut server =
            AuthorizationServerMetadata::fallback(&Url::parse("https://as.example.com").unwrap());
        assert_eq!(AuthMethod::for_secret(false, &server), AuthMethod::None);
        assert_eq!(
            AuthMethod::for_secret(true, &server),
            AuthMethod::ClientSecretBasic
        );
        server.token_endpoint_auth_methods_supported = Some(vec!["client_secret_post".to_owned()]);
        assert_eq!(
            AuthMethod::for_secret(true, &server),
            AuthMethod::ClientSecretPost
        );
    }

    #[test]
    fn registration_responses_are_read_strictly() {
        let server =
            AuthorizationServerMetadata::fallback(&Url::parse("https://as.example.com").unwrap());
        let read = |body: &str| read_registration_response(body.as_bytes(), &server);
        let registered = read(r#"{"client_id":"c1","client_secret":"s"}"#).unwrap();
        assert_eq!(registered.client_id, "c1");
        assert_eq!(registered.auth_method, AuthMethod::ClientSecretBasic);
        let public = read(r#"{"client_id":"c2","client_secret":""}"#).unwrap();
        assert!(public.client_secret.is_none());
        assert_eq!(public.auth_method, AuthMethod::None);
        assert!(read(r#"{"client_id":""}"#).unwrap_err().is_registration());
        assert!(read("{}").unwrap_err().is_fetch());
        assert!(read("not json").unwrap_err().is_fetch());
    }

    #[test]
    fn client_metadata_urls_are_https_with_a_path() {
        assert!(check_client_metadata_url("https://app.example.com/client.json").is_ok());
        assert!(check_client_metadata_url("https://app.example.com/").is_err());
        assert!(check_client_metadata_url("http://app.example.com/client.json").is_err());
    }
}
