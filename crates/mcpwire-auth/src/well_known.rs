//! Where an authorization server's metadata is published (RFC 8414 §3, OpenID Connect
//! Discovery), for the client's discovery and the resource server's key discovery alike.

use url::Url;

use crate::error::{Error, Kind};

/// Where the metadata of the authorization server `issuer` is looked for, in the spec's
/// order: for an issuer with a path, RFC 8414 with the path inserted, OpenID Connect with the
/// path inserted, OpenID Connect with the path appended; for one without, RFC 8414, then
/// OpenID Connect.
///
/// # Errors
///
/// [`Error::is_discovery`] when `issuer` is not an absolute URL without query or fragment.
#[cfg_attr(
    not(feature = "client"),
    expect(unreachable_pub, reason = "public through `client::metadata` only")
)]
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
