//! The metadata documents of discovery, where to look for them, and the checks they must
//! pass: Protected Resource Metadata (RFC 9728) and authorization server metadata (RFC 8414,
//! OpenID Connect Discovery 1.0).

use serde::Deserialize;
use url::Url;

use crate::error::{Error, Kind};
use crate::fetch::origin;

/// Protected Resource Metadata (RFC 9728 §2): what the MCP server says about itself.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProtectedResourceMetadata {
    /// The resource identifier: the value of RFC 8707's `resource` parameter.
    pub resource: String,
    /// The issuers of the authorization servers that grant tokens for the resource.
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    /// The scopes the resource knows.
    #[serde(default)]
    pub scopes_supported: Option<Vec<String>>,
}

impl ProtectedResourceMetadata {
    /// Checks the document, fetched from `fetched_from`, as discovery does for the MCP
    /// endpoint `server`: its `resource` covers the endpoint (RFC 9728 §3.3: metadata for
    /// another resource must not be used), and it names an authorization server.
    ///
    /// # Errors
    ///
    /// [`Error::is_discovery`] saying which check failed.
    pub(crate) fn check(&self, server: &Url, fetched_from: &Url) -> Result<(), Error> {
        if !resource_covers(&self.resource, server) {
            return Err(Error::new(
                Kind::Discovery,
                format!(
                    "the protected resource metadata at {} is for `{}`, not for {}",
                    origin(fetched_from),
                    self.resource,
                    server
                ),
            ));
        }
        if self.authorization_servers.is_empty() {
            return Err(Error::new(
                Kind::Discovery,
                "the protected resource metadata names no authorization server",
            ));
        }
        Ok(())
    }
}

/// Authorization server metadata (RFC 8414 §2, OpenID Connect Discovery §3): the members MCP
/// uses.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizationServerMetadata {
    /// The issuer identifier, which must equal the one the document was asked for.
    pub issuer: String,
    /// Where the user agent is sent.
    pub authorization_endpoint: String,
    /// Where codes and refresh tokens are exchanged.
    pub token_endpoint: String,
    /// Dynamic Client Registration (RFC 7591), if offered.
    #[serde(default)]
    pub registration_endpoint: Option<String>,
    /// The scopes the server knows.
    #[serde(default)]
    pub scopes_supported: Option<Vec<String>>,
    /// The PKCE methods; MCP refuses a server that does not list `S256`.
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// The client authentication methods of the token endpoint; RFC 8414's default is
    /// `client_secret_basic`.
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// The JWS algorithms the token endpoint takes for `private_key_jwt` and
    /// `client_secret_jwt` client assertions.
    #[serde(default)]
    pub token_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    /// The grant types the server offers; RFC 8414's default is `authorization_code` and
    /// `implicit`.
    #[serde(default)]
    pub grant_types_supported: Option<Vec<String>>,
    /// Whether a Client ID Metadata Document URL may be used as `client_id`.
    #[serde(default)]
    pub client_id_metadata_document_supported: Option<bool>,
    /// Whether authorization responses carry `iss` (RFC 9207 §3).
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: Option<bool>,
    /// The JWS algorithms the server takes for DPoP proofs (RFC 9449 §5.1).
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
}

impl AuthorizationServerMetadata {
    /// The endpoints of the 2025-03-26 fall-back for a server without metadata:
    /// `/authorize`, `/token` and `/register` at `base`, with PKCE `S256` assumed.
    pub(crate) fn fallback(base: &Url) -> AuthorizationServerMetadata {
        let at = |path: &str| {
            base.join(path)
                .map(String::from)
                .unwrap_or_else(|_| format!("{}{path}", base.origin().ascii_serialization()))
        };
        AuthorizationServerMetadata {
            issuer: base.origin().ascii_serialization(),
            authorization_endpoint: at("/authorize"),
            token_endpoint: at("/token"),
            registration_endpoint: Some(at("/register")),
            scopes_supported: None,
            code_challenge_methods_supported: Some(vec!["S256".to_owned()]),
            token_endpoint_auth_methods_supported: None,
            token_endpoint_auth_signing_alg_values_supported: None,
            grant_types_supported: None,
            client_id_metadata_document_supported: None,
            authorization_response_iss_parameter_supported: None,
            dpop_signing_alg_values_supported: None,
        }
    }

    /// Whether the token endpoint takes the client authentication method `method`; an
    /// absent list means `client_secret_basic` only (RFC 8414 §2).
    pub fn supports_auth_method(&self, method: &str) -> bool {
        match &self.token_endpoint_auth_methods_supported {
            Some(methods) => methods.iter().any(|supported| supported == method),
            None => method == "client_secret_basic",
        }
    }

    /// Checks the document, fetched from `fetched_from`, as discovery does for the issuer
    /// `issuer`: its `issuer` is exactly that one (RFC 8414 §3.3). PKCE is checked apart
    /// ([`check_pkce`](Self::check_pkce)), before a user is sent there: a server for machine
    /// grants only need not offer it.
    ///
    /// # Errors
    ///
    /// [`Error::is_discovery`] saying which check failed.
    pub(crate) fn check_issuer(&self, issuer: &str, fetched_from: &Url) -> Result<(), Error> {
        if self.issuer != issuer {
            return Err(Error::new(
                Kind::Discovery,
                format!(
                    "the authorization server metadata at {} names the issuer `{}`, not `{issuer}`",
                    origin(fetched_from),
                    self.issuer
                ),
            ));
        }
        Ok(())
    }

    /// Checks the document, fetched from `fetched_from`, as the 2025-03-26 discovery does
    /// for the MCP endpoint `server`, which named no issuer to compare with: its `issuer`
    /// is of the endpoint's origin.
    ///
    /// # Errors
    ///
    /// [`Error::is_discovery`] saying which check failed.
    pub(crate) fn check_same_origin(&self, server: &Url, fetched_from: &Url) -> Result<(), Error> {
        let same_origin =
            Url::parse(&self.issuer).is_ok_and(|issuer| issuer.origin() == server.origin());
        if !same_origin {
            return Err(Error::new(
                Kind::Discovery,
                format!(
                    "the authorization server metadata at {} names the issuer `{}` of another origin",
                    origin(fetched_from),
                    self.issuer
                ),
            ));
        }
        Ok(())
    }

    /// Checks that the server offers PKCE with `S256`.
    ///
    /// # Errors
    ///
    /// [`Error::is_discovery`] when `code_challenge_methods_supported` is absent or lacks
    /// `S256`.
    /// Refuses a server whose `dpop_signing_alg_values_supported` leaves out `algorithm`;
    /// a server that does not list any takes what it is sent.
    pub(crate) fn check_dpop_algorithm(&self, algorithm: &str) -> Result<(), Error> {
        match &self.dpop_signing_alg_values_supported {
            Some(algorithms) if !algorithms.iter().any(|offered| offered == algorithm) => {
                Err(Error::new(
                    Kind::Discovery,
                    format!(
                        "the authorization server {} does not take DPoP proofs signed with {algorithm}",
                        self.issuer
                    ),
                ))
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn check_pkce(&self) -> Result<(), Error> {
        let offered = self
            .code_challenge_methods_supported
            .as_ref()
            .is_some_and(|methods| methods.iter().any(|method| method == "S256"));
        if offered {
            Ok(())
        } else {
            Err(Error::new(
                Kind::Discovery,
                format!(
                    "the authorization server {} does not advertise PKCE S256",
                    self.issuer
                ),
            ))
        }
    }
}

/// The MCP endpoint `server` without query or fragment: what a resource is matched against.
pub(crate) fn server_resource(server: &Url) -> Url {
    let mut resource = server.clone();
    resource.set_query(None);
    resource.set_fragment(None);
    resource
}

/// Where Protected Resource Metadata is looked for, in the spec's order: the URL of the
/// challenge's `resource_metadata`, then the well-known URL with the endpoint's path
/// inserted (unless the endpoint is the root), then the root well-known URL.
pub fn protected_resource_metadata_urls(server: &Url, from_challenge: Option<&str>) -> Vec<Url> {
    const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";
    let mut urls = Vec::new();
    if let Some(url) = from_challenge.and_then(|text| Url::parse(text).ok()) {
        urls.push(url);
    }
    let origin = server.origin().ascii_serialization();
    let path = server.path().trim_end_matches('/');
    if !path.is_empty()
        && let Ok(url) = Url::parse(&format!("{origin}{WELL_KNOWN}{path}"))
    {
        urls.push(url);
    }
    if let Ok(url) = Url::parse(&format!("{origin}{WELL_KNOWN}")) {
        urls.push(url);
    }
    urls.dedup();
    urls
}

pub use crate::well_known::authorization_server_metadata_urls;

/// Whether the resource a Protected Resource Metadata document names covers the MCP
/// endpoint `server`: the same origin (scheme and host compared without case, default ports
/// made explicit), and a path that is the endpoint's path or a parent of it on a segment
/// boundary (a metadata document at the root names the origin).
pub fn resource_covers(resource: &str, server: &Url) -> bool {
    let Ok(resource) = Url::parse(resource) else {
        return false;
    };
    if resource.fragment().is_some() || resource.query().is_some() {
        return false;
    }
    if resource.origin() != server.origin() {
        return false;
    }
    let resource_path = resource.path().trim_end_matches('/');
    let server_path = server.path().trim_end_matches('/');
    server_path == resource_path
        || server_path
            .strip_prefix(resource_path)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(urls: &[Url]) -> Vec<&str> {
        urls.iter().map(Url::as_str).collect()
    }

    #[test]
    fn protected_resource_metadata_is_looked_for_in_the_spec_order() {
        let server = Url::parse("https://mcp.example.com/public/mcp").unwrap();
        assert_eq!(
            strings(&protected_resource_metadata_urls(
                &server,
                Some("https://mcp.example.com/custom/location.json")
            )),
            [
                "https://mcp.example.com/custom/location.json",
                "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp",
                "https://mcp.example.com/.well-known/oauth-protected-resource",
            ]
        );
        let root = Url::parse("https://mcp.example.com/").unwrap();
        assert_eq!(
            strings(&protected_resource_metadata_urls(&root, None)),
            ["https://mcp.example.com/.well-known/oauth-protected-resource"]
        );
    }

    #[test]
    fn authorization_server_metadata_is_looked_for_in_the_spec_order() {
        assert_eq!(
            strings(
                &authorization_server_metadata_urls("https://auth.example.com/tenant1").unwrap()
            ),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example.com/.well-known/openid-configuration/tenant1",
                "https://auth.example.com/tenant1/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            strings(&authorization_server_metadata_urls("https://auth.example.com").unwrap()),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server",
                "https://auth.example.com/.well-known/openid-configuration",
            ]
        );
        assert!(authorization_server_metadata_urls("https://a.example.com/?x=1").is_err());
        assert!(authorization_server_metadata_urls("not a url").is_err());
    }

    #[test]
    fn a_resource_covers_its_endpoint_and_nothing_else() {
        let server = Url::parse("https://mcp.example.com/public/mcp").unwrap();
        for covering in [
            "https://mcp.example.com/public/mcp",
            "https://mcp.example.com/public/mcp/",
            "https://MCP.example.com:443/public",
            "https://mcp.example.com",
        ] {
            assert!(resource_covers(covering, &server), "{covering}");
        }
        for foreign in [
            "https://evil.example.com/public/mcp",
            "http://mcp.example.com/public/mcp",
            "https://mcp.example.com:8443/public/mcp",
            "https://mcp.example.com/pub",
            "https://mcp.example.com/public/mcp/deeper",
            "https://mcp.example.com/public/mcp#fragment",
            "mcp.example.com",
        ] {
            assert!(!resource_covers(foreign, &server), "{foreign}");
        }
    }

    #[test]
    fn documents_are_checked_for_the_endpoint_and_issuer_they_serve() {
        let server = Url::parse("https://mcp.example.com/mcp").unwrap();
        let from = Url::parse("https://mcp.example.com/.well-known/x?secret=1").unwrap();
        let resource = |resource: &str, servers: &[&str]| ProtectedResourceMetadata {
            resource: resource.to_owned(),
            authorization_servers: servers.iter().map(|server| (*server).to_owned()).collect(),
            scopes_supported: None,
        };
        let issuer = ["https://as.example.com"];
        assert!(resource(SERVER_URL, &issuer).check(&server, &from).is_ok());
        let foreign = resource("https://evil.example.com/mcp", &issuer)
            .check(&server, &from)
            .unwrap_err();
        assert!(foreign.is_discovery());
        // Errors name where a document came from by its origin, never its query.
        assert!(!foreign.to_string().contains("secret"), "{foreign}");
        assert!(resource(SERVER_URL, &[]).check(&server, &from).is_err());

        let metadata =
            AuthorizationServerMetadata::fallback(&Url::parse("https://mcp.example.com").unwrap());
        assert!(
            metadata
                .check_issuer("https://mcp.example.com", &from)
                .is_ok()
        );
        assert!(
            metadata
                .check_issuer("https://mcp.example.com/", &from)
                .is_err()
        );
        assert!(metadata.check_same_origin(&server, &from).is_ok());
        let elsewhere = Url::parse("https://other.example.com/mcp").unwrap();
        assert!(metadata.check_same_origin(&elsewhere, &from).is_err());
        // PKCE is checked apart, where a user would be sent to the server.
        let mut plain = metadata;
        plain.code_challenge_methods_supported = Some(vec!["plain".to_owned()]);
        assert!(plain.check_issuer("https://mcp.example.com", &from).is_ok());
        assert!(plain.check_same_origin(&server, &from).is_ok());
        assert!(plain.check_pkce().unwrap_err().is_discovery());
    }

    const SERVER_URL: &str = "https://mcp.example.com/mcp";

    #[test]
    fn pkce_s256_and_auth_methods_are_read_from_metadata() {
        let mut metadata = AuthorizationServerMetadata::fallback(
            &Url::parse("https://as.example.com/mcp").unwrap(),
        );
        assert_eq!(metadata.token_endpoint, "https://as.example.com/token");
        assert!(metadata.check_pkce().is_ok());
        metadata.code_challenge_methods_supported = Some(vec!["plain".to_owned()]);
        assert!(metadata.check_pkce().unwrap_err().is_discovery());
        metadata.code_challenge_methods_supported = None;
        assert!(metadata.check_pkce().is_err());
        assert!(metadata.supports_auth_method("client_secret_basic"));
        assert!(!metadata.supports_auth_method("none"));
        metadata.token_endpoint_auth_methods_supported = Some(vec!["none".to_owned()]);
        assert!(metadata.supports_auth_method("none"));
        assert!(!metadata.supports_auth_method("client_secret_basic"));
    }
}
