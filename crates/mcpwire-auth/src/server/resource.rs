//! [`ProtectedResource`]: what the MCP server says about itself in its Protected Resource
//! Metadata (RFC 9728), and what every request must carry.

use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use url::Url;

use crate::error::{Error, Kind};
use crate::guard::is_loopback_host;
use crate::server::dpop::{DpopChecker, DpopSettings};
use crate::server::operation::OperationScopes;

/// The well-known URI suffix of Protected Resource Metadata (RFC 9728 §3).
pub const WELL_KNOWN_PATH: &str = "/.well-known/oauth-protected-resource";

/// The default limit of a bearer token's length: 8 KiB, which a JWT with a few dozen claims
/// stays well below.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The default limit of a request body the layer reads to find the operations it asks for
/// (only when some operation needs scopes of its own): 4 MiB, as `mcpwire-http`'s own.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// The configuration of an MCP server as an OAuth 2.1 resource server: its canonical URI,
/// the authorization servers that grant tokens for it, what its metadata says, and the
/// scopes every request needs.
///
/// [`BearerAuthLayer::new`](crate::server::BearerAuthLayer::new) checks it and serves it.
///
/// ```
/// use mcpwire_auth::server::ProtectedResource;
///
/// let resource = ProtectedResource::new("https://mcp.example.com/mcp", ["https://auth.example.com"])
///     .scopes_supported(["mcp:tools", "mcp:resources"])
///     .required_scopes(["mcp:tools"])
///     .tool_scopes("delete_file", ["mcp:files:write"])
///     .resource_name("Example MCP server");
/// # let _ = resource;
/// ```
#[derive(Clone, Debug)]
pub struct ProtectedResource {
    pub(crate) resource: String,
    pub(crate) authorization_servers: Vec<String>,
    pub(crate) scopes_supported: Option<Vec<String>>,
    pub(crate) required_scopes: Vec<String>,
    pub(crate) operations: OperationScopes,
    pub(crate) resource_name: Option<String>,
    pub(crate) resource_documentation: Option<String>,
    pub(crate) resource_policy_uri: Option<String>,
    pub(crate) resource_tos_uri: Option<String>,
    pub(crate) root_metadata: bool,
    pub(crate) max_token_bytes: usize,
    pub(crate) max_request_bytes: usize,
    pub(crate) dpop: Option<DpopSettings>,
}

impl ProtectedResource {
    /// The resource whose canonical URI is `resource` (the MCP endpoint's URL, such as
    /// `https://mcp.example.com/mcp`: lowercase scheme and host, no default port, no query or
    /// fragment), whose tokens `authorization_servers` (their issuer identifiers) grant.
    ///
    /// `resource` is written into the metadata exactly as given, and tokens must name it
    /// in their audience.
    pub fn new<I>(resource: impl Into<String>, authorization_servers: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        ProtectedResource {
            resource: resource.into(),
            authorization_servers: authorization_servers.into_iter().map(Into::into).collect(),
            scopes_supported: None,
            required_scopes: Vec::new(),
            operations: OperationScopes::default(),
            resource_name: None,
            resource_documentation: None,
            resource_policy_uri: None,
            resource_tos_uri: None,
            root_metadata: true,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            dpop: None,
        }
    }

    /// The scopes the metadata lists as `scopes_supported`. The spec advises against
    /// listing `offline_access`.
    pub fn scopes_supported<I>(mut self, scopes: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.scopes_supported = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// The scopes every request must carry: a valid token without all of them gets `403`
    /// with `error="insufficient_scope"`. They are also the `scope` of the `401` challenge.
    /// None by default.
    pub fn required_scopes<I>(mut self, scopes: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.required_scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The scopes a JSON-RPC `method` needs beyond the [required ones](Self::required_scopes):
    /// a request calling it with a token that lacks one gets `403` with
    /// `error="insufficient_scope"` and a `scope` naming what it needs, so that the client
    /// can step up. Calling it again for the same method adds to its scopes.
    ///
    /// The layer reads the bodies of `POST` requests to know what they call once any method
    /// or [tool](Self::tool_scopes) has scopes of its own (and only then), within
    /// [a limit](Self::max_request_bytes).
    pub fn method_scopes<I>(mut self, method: impl Into<String>, scopes: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let entry = self.operations.methods.entry(method.into()).or_default();
        entry.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// The scopes calling the tool `name` (`tools/call`) needs beyond the
    /// [required ones](Self::required_scopes) and those of the method `tools/call`: as for
    /// [`method_scopes`](Self::method_scopes), a token without them gets `403` with a
    /// challenge to step up.
    pub fn tool_scopes<I>(mut self, name: impl Into<String>, scopes: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let entry = self.operations.tools.entry(name.into()).or_default();
        entry.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// The longest request body read to find the operations a request asks for
    /// ([`DEFAULT_MAX_REQUEST_BYTES`] by default); a longer one gets `413`. Bodies are read
    /// only when some operation has scopes of its own.
    pub fn max_request_bytes(mut self, limit: usize) -> Self {
        self.max_request_bytes = limit.max(1);
        self
    }

    /// The human-readable `resource_name` of the metadata.
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// The `resource_documentation` URL of the metadata: where developers read about the
    /// resource.
    pub fn resource_documentation(mut self, url: impl Into<String>) -> Self {
        self.resource_documentation = Some(url.into());
        self
    }

    /// The `resource_policy_uri` of the metadata: how the resource uses data.
    pub fn resource_policy_uri(mut self, url: impl Into<String>) -> Self {
        self.resource_policy_uri = Some(url.into());
        self
    }

    /// The `resource_tos_uri` of the metadata: the resource's terms of service.
    pub fn resource_tos_uri(mut self, url: impl Into<String>) -> Self {
        self.resource_tos_uri = Some(url.into());
        self
    }

    /// Whether the metadata is served at the root well-known URI
    /// (`/.well-known/oauth-protected-resource`) as well as at the path-inserted one, for
    /// MCP clients that look there (on by default; RFC 9728 itself would only have it at
    /// the path-inserted URI of a resource with a path).
    pub fn root_metadata(mut self, serve: bool) -> Self {
        self.root_metadata = serve;
        self
    }

    /// The longest bearer token looked at ([`DEFAULT_MAX_TOKEN_BYTES`] by default): a longer
    /// one is refused before any verification.
    pub fn max_token_bytes(mut self, limit: usize) -> Self {
        self.max_token_bytes = limit;
        self
    }

    /// Accepts DPoP-bound tokens (RFC 9449): `Authorization: DPoP` with a `DPoP` proof that
    /// `checker` accepts for the request, from the key the token's `cnf.jkt` names. A token
    /// bound to a key and presented as `Bearer` is refused, and so is a replayed proof.
    /// Plain Bearer tokens stay accepted unless [`dpop_required`](Self::dpop_required).
    ///
    /// The metadata lists the checker's algorithms as `dpop_signing_alg_values_supported`,
    /// and the challenges offer `DPoP` with them (`algs`). `mcpwire-ext-dpop` provides the
    /// checker.
    pub fn dpop(mut self, checker: impl DpopChecker) -> Self {
        let required = self.dpop.as_ref().is_some_and(|dpop| dpop.required);
        self.dpop = Some(DpopSettings {
            checker: Arc::new(checker),
            required,
        });
        self
    }

    /// Whether every token must be DPoP-bound (off by default): then Bearer tokens are
    /// refused, the challenges offer `DPoP` only, and the metadata says
    /// `dpop_bound_access_tokens_required`. Has no effect without [`dpop`](Self::dpop).
    pub fn dpop_required(mut self, required: bool) -> Self {
        if let Some(dpop) = &mut self.dpop {
            dpop.required = required;
        }
        self
    }

    /// Checks the configuration and prepares what is served.
    pub(crate) fn compile(self) -> Result<Compiled, Error> {
        let url = check_resource(&self.resource)?;
        if self.authorization_servers.is_empty() {
            return Err(config(
                "the resource needs at least one authorization server",
            ));
        }
        for issuer in &self.authorization_servers {
            check_url("an authorization server", issuer)?;
        }
        for url in [
            &self.resource_documentation,
            &self.resource_policy_uri,
            &self.resource_tos_uri,
        ]
        .into_iter()
        .flatten()
        {
            check_url("a metadata URL", url)?;
        }
        let listed = self.scopes_supported.iter().flatten();
        let operations = self
            .operations
            .methods
            .values()
            .chain(self.operations.tools.values());
        for scope in listed
            .chain(&self.required_scopes)
            .chain(operations.flatten())
        {
            if !is_scope_token(scope) {
                return Err(config(format!("`{scope}` is not a valid scope")));
            }
        }
        let origin = url.origin().ascii_serialization();
        let inserted = match url.path() {
            "/" => WELL_KNOWN_PATH.to_owned(),
            path => format!("{WELL_KNOWN_PATH}{path}"),
        };
        let metadata_url = format!("{origin}{inserted}");
        let mut metadata_paths = vec![inserted];
        if self.root_metadata && metadata_paths[0] != WELL_KNOWN_PATH {
            metadata_paths.push(WELL_KNOWN_PATH.to_owned());
        }
        let document = Document {
            resource: &self.resource,
            authorization_servers: &self.authorization_servers,
            scopes_supported: self.scopes_supported.as_deref(),
            bearer_methods_supported: &["header"],
            resource_name: self.resource_name.as_deref(),
            resource_documentation: self.resource_documentation.as_deref(),
            resource_policy_uri: self.resource_policy_uri.as_deref(),
            resource_tos_uri: self.resource_tos_uri.as_deref(),
            dpop_signing_alg_values_supported: self
                .dpop
                .as_ref()
                .map(|dpop| dpop.checker.algorithms()),
            dpop_bound_access_tokens_required: self
                .dpop
                .as_ref()
                .and_then(|dpop| dpop.required.then_some(true)),
        };
        let document = serde_json::to_vec(&document)
            .map_err(|error| config("cannot write the metadata").with_source(error))?;
        let challenge_scope = if self.required_scopes.is_empty() {
            self.scopes_supported
                .as_ref()
                .filter(|scopes| !scopes.is_empty())
                .map(|scopes| scopes.join(" "))
        } else {
            Some(self.required_scopes.join(" "))
        };
        Ok(Compiled {
            url,
            dpop: self.dpop,
            resource: self.resource,
            document: Bytes::from(document),
            metadata_url,
            metadata_paths,
            challenge_scope,
            required_scopes: self.required_scopes,
            operations: self.operations,
            scopes_supported: self.scopes_supported,
            max_token_bytes: self.max_token_bytes,
            max_request_bytes: self.max_request_bytes,
        })
    }
}

/// The Protected Resource Metadata document, in the member order of RFC 9728 §2.
#[derive(Serialize)]
struct Document<'a> {
    resource: &'a str,
    authorization_servers: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    scopes_supported: Option<&'a [String]>,
    bearer_methods_supported: &'a [&'a str],
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_documentation: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_policy_uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_tos_uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dpop_signing_alg_values_supported: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dpop_bound_access_tokens_required: Option<bool>,
}

/// A checked [`ProtectedResource`], with what the layer serves ready.
#[derive(Debug)]
pub(crate) struct Compiled {
    /// The canonical URI, as configured.
    pub(crate) resource: String,
    /// The canonical URI, parsed: the scheme and authority of the `htu` of DPoP proofs.
    pub(crate) url: Url,
    /// The DPoP settings, when DPoP-bound tokens are accepted.
    pub(crate) dpop: Option<DpopSettings>,
    /// The metadata document's bytes.
    pub(crate) document: Bytes,
    /// The URL of the metadata at the path-inserted well-known URI: the challenges'
    /// `resource_metadata`.
    pub(crate) metadata_url: String,
    /// The paths the metadata is served at: the path-inserted one first.
    pub(crate) metadata_paths: Vec<String>,
    /// The `scope` of the `401` challenge: the required scopes, else those supported.
    pub(crate) challenge_scope: Option<String>,
    pub(crate) required_scopes: Vec<String>,
    /// The scopes of methods and tools, beyond the required ones.
    pub(crate) operations: OperationScopes,
    pub(crate) scopes_supported: Option<Vec<String>>,
    pub(crate) max_token_bytes: usize,
    pub(crate) max_request_bytes: usize,
}

/// Parses `resource` and checks that it is canonical: `https` (or `http` to a loopback
/// host), no user information, query or fragment, and written as the URL parser writes it
/// (lowercase scheme and host, no default port, the root without its slash allowed).
fn check_resource(resource: &str) -> Result<Url, Error> {
    let url = check_url("the resource", resource)?;
    if url.query().is_some() {
        return Err(config("the resource must not have a query"));
    }
    let written = url.as_str();
    if written != resource && written.strip_suffix('/') != Some(resource) {
        return Err(config(format!(
            "the resource `{resource}` is not canonical; write it as `{}`",
            written.trim_end_matches('/')
        )));
    }
    Ok(url)
}

/// Parses `url`: `https`, or `http` to a loopback host, without user information or fragment.
fn check_url(what: &str, url: &str) -> Result<Url, Error> {
    let parsed = Url::parse(url)
        .map_err(|error| config(format!("{what} is not a URL: `{url}`")).with_source(error))?;
    let host_ok = parsed.host().is_some_and(|host| match parsed.scheme() {
        "https" => true,
        "http" => is_loopback_host(&host.to_string()),
        _ => false,
    });
    if !host_ok {
        return Err(config(format!(
            "{what} must be an https URL (http only to a loopback host): `{url}`"
        )));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(config(format!("{what} must not carry user information")));
    }
    if parsed.fragment().is_some() {
        return Err(config(format!("{what} must not have a fragment: `{url}`")));
    }
    Ok(parsed)
}

/// Whether `scope` is a `scope-token` of RFC 6749 §3.3: printable ASCII but space, `"` and
/// `\`.
pub(crate) fn is_scope_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|byte| matches!(byte, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

fn config(message: impl Into<String>) -> Error {
    Error::new(Kind::Config, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(resource: &str) -> Result<Compiled, Error> {
        ProtectedResource::new(resource, ["https://auth.example.com"]).compile()
    }

    #[test]
    fn the_metadata_is_written_exactly_in_the_rfc_order() {
        let compiled = ProtectedResource::new(
            "https://mcp.example.com/mcp",
            [
                "https://auth.example.com",
                "https://other.example.com/tenant",
            ],
        )
        .scopes_supported(["mcp:tools", "mcp:resources"])
        .required_scopes(["mcp:tools"])
        .resource_name("Example")
        .resource_documentation("https://mcp.example.com/docs")
        .resource_policy_uri("https://mcp.example.com/policy")
        .resource_tos_uri("https://mcp.example.com/tos")
        .compile()
        .unwrap();
        assert_eq!(
            std::str::from_utf8(&compiled.document).unwrap(),
            concat!(
                r#"{"resource":"https://mcp.example.com/mcp","#,
                r#""authorization_servers":["https://auth.example.com","https://other.example.com/tenant"],"#,
                r#""scopes_supported":["mcp:tools","mcp:resources"],"#,
                r#""bearer_methods_supported":["header"],"#,
                r#""resource_name":"Example","#,
                r#""resource_documentation":"https://mcp.example.com/docs","#,
                r#""resource_policy_uri":"https://mcp.example.com/policy","#,
                r#""resource_tos_uri":"https://mcp.example.com/tos"}"#,
            )
        );
        assert_eq!(
            compiled.metadata_url,
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            compiled.metadata_paths,
            [
                "/.well-known/oauth-protected-resource/mcp",
                "/.well-known/oauth-protected-resource"
            ]
        );
        assert_eq!(compiled.challenge_scope.as_deref(), Some("mcp:tools"));
    }

    #[test]
    fn a_minimal_document_has_only_the_required_members() {
        let compiled = compile("https://mcp.example.com").unwrap();
        assert_eq!(
            std::str::from_utf8(&compiled.document).unwrap(),
            r#"{"resource":"https://mcp.example.com","authorization_servers":["https://auth.example.com"],"bearer_methods_supported":["header"]}"#
        );
        assert_eq!(
            compiled.metadata_paths,
            ["/.well-known/oauth-protected-resource"]
        );
        assert_eq!(compiled.challenge_scope, None);
        let without_root = ProtectedResource::new("http://127.0.0.1:8080/a/mcp", ["https://as"])
            .root_metadata(false)
            .scopes_supported(["read"])
            .compile()
            .unwrap();
        assert_eq!(
            without_root.metadata_url,
            "http://127.0.0.1:8080/.well-known/oauth-protected-resource/a/mcp"
        );
        assert_eq!(without_root.metadata_paths.len(), 1);
        assert_eq!(without_root.challenge_scope.as_deref(), Some("read"));
    }

    #[test]
    fn only_a_canonical_resource_is_accepted() {
        for canonical in [
            "https://mcp.example.com",
            "https://mcp.example.com/",
            "https://mcp.example.com/mcp",
            "https://mcp.example.com:8443/mcp",
            "http://127.0.0.1:3000/mcp",
            "http://localhost:3000/mcp",
        ] {
            assert!(compile(canonical).is_ok(), "{canonical}");
        }
        for refused in [
            "HTTPS://mcp.example.com/mcp",
            "https://MCP.example.com/mcp",
            "https://mcp.example.com:443/mcp",
            "https://mcp.example.com/mcp?x=1",
            "https://mcp.example.com/mcp#top",
            "https://user@mcp.example.com/mcp",
            "http://mcp.example.com/mcp",
            "ftp://mcp.example.com/mcp",
            "mcp.example.com/mcp",
        ] {
            assert!(compile(refused).unwrap_err().is_config(), "{refused}");
        }
    }

    #[test]
    fn authorization_servers_and_scopes_are_checked() {
        let none: [&str; 0] = [];
        assert!(
            ProtectedResource::new("https://mcp.example.com", none)
                .compile()
                .is_err()
        );
        assert!(
            ProtectedResource::new("https://mcp.example.com", ["http://as.example.com"])
                .compile()
                .is_err()
        );
        for scope in ["", "two words", "quote\"d", "back\\slash", "é"] {
            let resource = ProtectedResource::new("https://mcp.example.com", ["https://as"]);
            assert!(
                resource.clone().required_scopes([scope]).compile().is_err(),
                "{scope}"
            );
            assert!(
                resource.tool_scopes("t", [scope]).compile().is_err(),
                "{scope}"
            );
        }
    }
}
