//! The metadata documents of discovery, where to look for them, and the checks they must
//! pass: Protected Resource Metadata (RFC 9728) and authorization server metadata (RFC 8414,
//! OpenID Connect Discovery 1.0).

use serde::Deserialize;
use url::Url;

use crate::error::{Error, Kind};

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

    /// Checks that the server offers PKCE with `S256`.
    ///
    /// # Errors
    ///
    /// [`Error::is_discovery`] when `code_challenge_methods_supported` is absent or lacks
    /// `S256`.
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

/// Where the metadata of the authorization server `issuer` is looked for, in the spec's
/// order: for an issuer with a path, RFC 8414 with the path inserted, OpenID Connect with the
/// path inserted, OpenID Connect with the path appended; for one without, RFC 8414, then
/// OpenID Connect.
///
/// # Errors
///
/// [`Error::is_discovery`] when `issuer` is not an absolute URL without query or fragment.
pub fn authorization_server_metadata_urls(issuer: &str) -> Result<Vec<Url>, Error> {
    let parsed = Url::parse(issuer).map_err(|error| {
        Error::new(Kind::Discovery, "the issuer is not a URL").with_source(error)
    })?;
    if parsed.query().is_some() || parsed.fragment().is_some() || parsed.cannot_be_a_base() {
        return Err(Error::new(
            Kind::Discovery,
            "the issuer has a query or fragment, or no host",
        ));
    }
    let origin = parsed.origin().ascii_serialization();
    let path = parsed.path().trim_end_matches('/');
    let candidates = if path.is_empty() {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server"),
            format!("{origin}/.well-known/openid-configuration"),
        ]
    } else {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server{path}"),
            format!("{origin}/.well-known/openid-configuration{path}"),
            format!("{origin}{path}/.well-known/openid-configuration"),
        ]
    };
    candidates
        .iter()
        .map(|text| {
            Url::parse(text).map_err(|error| {
                Error::new(Kind::Discovery, "cannot build a metadata URL").with_source(error)
            })
        })
        .collect()
}

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
