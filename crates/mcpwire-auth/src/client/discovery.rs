//! Discovery: from a `401` to the authorization server's metadata, in the spec's order,
//! refusing what does not belong to the server asked about.

use http::StatusCode;
use url::Url;

use crate::client::metadata::{
    AuthorizationServerMetadata, ProtectedResourceMetadata, authorization_server_metadata_urls,
    protected_resource_metadata_urls,
};
use crate::error::{Error, Kind};
use crate::fetch::Fetcher;

/// What discovery found for one MCP endpoint.
#[derive(Clone, Debug)]
pub(crate) struct Discovered {
    /// The Protected Resource Metadata; `None` for a 2025-03-26 server without it.
    pub(crate) resource: Option<ProtectedResourceMetadata>,
    /// The authorization server's metadata (or the 2025-03-26 default endpoints).
    pub(crate) server: AuthorizationServerMetadata,
}

impl Discovered {
    /// The RFC 8707 `resource` parameter: the resource identifier exactly as the metadata
    /// publishes it; none for a 2025-03-26 server.
    pub(crate) fn resource_parameter(&self) -> Option<&str> {
        self.resource
            .as_ref()
            .map(|metadata| metadata.resource.as_str())
    }
}

/// Discovers the authorization server of the MCP endpoint `server`, starting from the
/// `resource_metadata` URL of its challenge, if any.
pub(crate) async fn discover(
    fetcher: &Fetcher,
    server: &Url,
    resource_metadata: Option<&str>,
) -> Result<Discovered, Error> {
    let Some(resource) = protected_resource_metadata(fetcher, server, resource_metadata).await?
    else {
        return Ok(Discovered {
            resource: None,
            server: legacy_server_metadata(fetcher, server).await?,
        });
    };
    // RFC 9728 §7.6 leaves the choice to the client: the first one listed (the checks
    // made sure there is one).
    let Some(issuer) = resource.authorization_servers.first() else {
        return Err(Error::new(
            Kind::Discovery,
            "the protected resource metadata names no authorization server",
        ));
    };
    let server = authorization_server_metadata(fetcher, issuer).await?;
    Ok(Discovered {
        resource: Some(resource),
        server,
    })
}

/// The Protected Resource Metadata of `server`, from the first place that has it; `None`
/// when no place does.
async fn protected_resource_metadata(
    fetcher: &Fetcher,
    server: &Url,
    from_challenge: Option<&str>,
) -> Result<Option<ProtectedResourceMetadata>, Error> {
    for url in protected_resource_metadata_urls(server, from_challenge) {
        let Ok(response) = fetcher.get_json(&url).await else {
            continue;
        };
        if response.status != StatusCode::OK {
            continue;
        }
        let Ok(metadata) =
            response.json::<ProtectedResourceMetadata>("protected resource metadata")
        else {
            continue;
        };
        // A server that serves metadata for another resource is not trusted further.
        metadata.check(server, &url)?;
        return Ok(Some(metadata));
    }
    Ok(None)
}

/// The metadata of the authorization server `issuer`, from the first well-known URL that
/// has it, checked: its `issuer` must be exactly `issuer`. (PKCE `S256` is checked by the
/// authorization code flow, which needs it; a grant without a user agent does not.)
pub(crate) async fn authorization_server_metadata(
    fetcher: &Fetcher,
    issuer: &str,
) -> Result<AuthorizationServerMetadata, Error> {
    for url in authorization_server_metadata_urls(issuer)? {
        let Some(metadata) = fetch_server_metadata(fetcher, &url).await else {
            continue;
        };
        metadata.check_issuer(issuer, &url)?;
        return Ok(metadata);
    }
    Err(Error::new(
        Kind::Discovery,
        format!("no authorization server metadata found for `{issuer}`"),
    ))
}

/// The 2025-03-26 way, for a server without Protected Resource Metadata: the authorization
/// server's metadata at the root of the MCP server's origin, or else the default endpoints
/// there. That revision named no issuer to compare with, so the document's `issuer` need
/// only be of the same origin.
async fn legacy_server_metadata(
    fetcher: &Fetcher,
    server: &Url,
) -> Result<AuthorizationServerMetadata, Error> {
    let base = server.origin().ascii_serialization();
    for url in authorization_server_metadata_urls(&base)? {
        let Some(metadata) = fetch_server_metadata(fetcher, &url).await else {
            continue;
        };
        metadata.check_same_origin(server, &url)?;
        return Ok(metadata);
    }
    Ok(AuthorizationServerMetadata::fallback(server))
}

async fn fetch_server_metadata(
    fetcher: &Fetcher,
    url: &Url,
) -> Option<AuthorizationServerMetadata> {
    let response = fetcher.get_json(url).await.ok()?;
    if response.status != StatusCode::OK {
        return None;
    }
    response.json("authorization server metadata").ok()
}
