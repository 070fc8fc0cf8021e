//! Entry points for the fuzz targets in `fuzz/` and the corpus replay tests; not part of the
//! public API.
//!
//! Each takes arbitrary bytes, runs them through the code that reads what a peer sends, as
//! the client runs it, and asserts what must hold for any input: no panic, output bounded
//! by the input, and the invariants named at each check.

use http::header::WWW_AUTHENTICATE;
use http::{HeaderMap, HeaderValue};
use url::Url;

use crate::client::challenge::is_tchar;
use crate::client::registration::read_registration_response;
use crate::client::scope::{initial_scopes, with_offline_access};
use crate::client::token::{TokenOutcome, read_token_response};
use crate::client::{
    AuthorizationServerMetadata, BearerChallenge, Challenge, MAX_CHALLENGES, MAX_HEADER_LENGTH,
    MAX_PARAMS, ProtectedResourceMetadata, authorization_server_metadata_urls, parse_challenges,
    protected_resource_metadata_urls, resource_covers,
};

/// The MCP endpoint the documents are checked for.
const SERVER: &str = "https://mcp.example.com/mcp";

/// Where the documents are said to come from.
const FETCHED_FROM: &str = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";

/// The `WWW-Authenticate` parser, on `bytes` as one header value and as header lines.
///
/// # Panics
///
/// When the parser panics, or accepts a value and returns challenges that break the
/// grammar or the bounds, that outgrow the input, or that do not parse again to themselves
/// once written in canonical form; or when the Bearer challenge read from the header lines
/// outgrows them.
pub fn www_authenticate(bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Ok(challenges) = parse_challenges(text)
    {
        check_challenges(text, &challenges);
    }
    let mut headers = HeaderMap::new();
    for line in bytes.split(|byte| *byte == b'\n').take(2 * MAX_CHALLENGES) {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append(WWW_AUTHENTICATE, value);
        }
    }
    if let Some(bearer) = BearerChallenge::from_headers(&headers) {
        let read = [&bearer.resource_metadata, &bearer.scope, &bearer.error]
            .into_iter()
            .flatten()
            .map(String::len)
            .sum::<usize>();
        // The lines are joined with `", "` before parsing, so a quoted value that spans
        // lines may outgrow its input by a byte a line; the parser's own bound holds.
        assert!(
            read <= MAX_HEADER_LENGTH,
            "the Bearer challenge outgrew its bound"
        );
        let scopes = bearer.scopes();
        assert!(
            scopes
                .iter()
                .all(|scope| !scope.is_empty() && !scope.contains(' ')),
            "a scope is empty or holds a space: {scopes:?}"
        );
        let _ = bearer.is_insufficient_scope();
    }
}

fn check_challenges(text: &str, challenges: &[Challenge]) {
    assert!(
        (1..=MAX_CHALLENGES).contains(&challenges.len()),
        "{} challenges",
        challenges.len()
    );
    let mut size = 0;
    for challenge in challenges {
        let scheme = challenge.scheme();
        assert!(
            !scheme.is_empty() && scheme.bytes().all(is_tchar),
            "the scheme {scheme:?} is not a token"
        );
        assert!(challenge.params().len() <= MAX_PARAMS);
        assert!(
            challenge.token68().is_none() || challenge.params().is_empty(),
            "a challenge has both a token68 and parameters"
        );
        size += scheme.len() + challenge.token68().map_or(0, str::len);
        for (index, (name, value)) in challenge.params().iter().enumerate() {
            assert!(
                !name.is_empty()
                    && name
                        .bytes()
                        .all(|byte| is_tchar(byte) && !byte.is_ascii_uppercase()),
                "the parameter name {name:?} is not a lowercase token"
            );
            assert!(
                value
                    .bytes()
                    .all(|byte| byte == b'\t' || (0x20..0x7f).contains(&byte)),
                "the value {value:?} holds a control or non-ASCII byte"
            );
            assert!(
                challenge.params()[..index]
                    .iter()
                    .all(|(earlier, _)| earlier != name),
                "the parameter {name:?} is repeated"
            );
            assert_eq!(challenge.param(name), Some(value.as_str()));
            size += name.len() + value.len();
        }
    }
    assert!(size <= text.len(), "the challenges outgrew their input");
    let written = write_challenges(challenges);
    if written.len() <= MAX_HEADER_LENGTH {
        let reparsed = parse_challenges(&written)
            .unwrap_or_else(|error| panic!("{written:?}, written from {text:?}: {error}"));
        assert_eq!(reparsed, challenges, "{written:?}, written from {text:?}");
    }
}

/// `challenges` as a `WWW-Authenticate` value: every parameter value quoted.
fn write_challenges(challenges: &[Challenge]) -> String {
    let written: Vec<String> = challenges
        .iter()
        .map(|challenge| {
            let mut text = challenge.scheme().to_owned();
            if let Some(token68) = challenge.token68() {
                text.push(' ');
                text.push_str(token68);
            }
            let params: Vec<String> = challenge
                .params()
                .iter()
                .map(|(name, value)| {
                    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
                    format!("{name}=\"{escaped}\"")
                })
                .collect();
            if !params.is_empty() {
                text.push(' ');
                text.push_str(&params.join(", "));
            }
            text
        })
        .collect();
    written.join(", ")
}

/// The documents of discovery and registration, on `bytes` as each of them: Protected
/// Resource Metadata, authorization server metadata, a Dynamic Client Registration
/// response and a token response, read and checked as the client reads and checks them.
///
/// # Panics
///
/// When reading or checking panics, or a check's verdict contradicts what the document
/// says: Protected Resource Metadata passing for a resource that does not cover the
/// endpoint or without an authorization server; authorization server metadata passing for
/// another issuer, or its verdict for its own issuer differing from whether it offers
/// PKCE `S256`; a metadata URL of another origin than its issuer; a registration without
/// a client id; a token response without an access token.
pub fn auth_metadata(bytes: &[u8]) {
    let server = Url::parse(SERVER).expect("a valid URL");
    let fetched_from = Url::parse(FETCHED_FROM).expect("a valid URL");

    let resource = serde_json::from_slice::<ProtectedResourceMetadata>(bytes).ok();
    if let Some(resource) = &resource {
        check_resource_metadata(resource, &server, &fetched_from);
    }

    let metadata = serde_json::from_slice::<AuthorizationServerMetadata>(bytes).ok();
    if let Some(metadata) = &metadata {
        check_server_metadata(metadata, &server, &fetched_from);
        let challenged = initial_scopes(&[], resource.as_ref());
        let scopes = with_offline_access(challenged.clone(), true, metadata);
        assert!(scopes.len() <= challenged.len() + 1);
    }

    let server_metadata =
        metadata.unwrap_or_else(|| AuthorizationServerMetadata::fallback(&server));
    if let Ok(registration) = read_registration_response(bytes, &server_metadata) {
        assert!(!registration.client_id.is_empty());
        assert!(registration.client_id.len() <= bytes.len());
        let _ = registration.authenticate();
    }

    let requested = ["mcp:tools".to_owned()];
    for success in [true, false] {
        match read_token_response(success, bytes, &requested, true) {
            Ok(TokenOutcome::Granted(tokens)) => {
                assert!(success);
                assert!(!tokens.access_token.expose().is_empty());
                let _ = tokens.expires_within(std::time::Duration::from_secs(30));
            }
            Ok(TokenOutcome::Refused(error)) => {
                assert!(!success);
                assert!(error.len() <= bytes.len().max("an unreadable error".len()));
            }
            Err(_) => assert!(success),
        }
    }
}

fn check_resource_metadata(resource: &ProtectedResourceMetadata, server: &Url, fetched_from: &Url) {
    let verdict = resource.check(server, fetched_from);
    let covers = resource_covers(&resource.resource, server);
    assert_eq!(
        verdict.is_ok(),
        covers && !resource.authorization_servers.is_empty(),
        "{resource:?}: {verdict:?}"
    );
    // A resource covers its own endpoint, when it is one.
    if let Ok(own) = Url::parse(&resource.resource)
        && matches!(own.scheme(), "http" | "https")
        && own.query().is_none()
        && own.fragment().is_none()
    {
        assert!(
            resource_covers(&resource.resource, &own),
            "{} does not cover itself",
            resource.resource
        );
    }
    // Where discovery looks for each issuer's metadata: its own origin, and nowhere else.
    for issuer in resource.authorization_servers.iter().take(4) {
        if let Ok(urls) = authorization_server_metadata_urls(issuer) {
            let issuer = Url::parse(issuer).expect("the issuer parsed before");
            assert!((2..=3).contains(&urls.len()));
            for url in &urls {
                assert_eq!(url.origin(), issuer.origin(), "{url} for {issuer}");
            }
        }
    }
    // The document's `resource` given as a challenge's `resource_metadata` URL.
    let urls = protected_resource_metadata_urls(server, Some(&resource.resource));
    assert!((1..=3).contains(&urls.len()));
}

fn check_server_metadata(metadata: &AuthorizationServerMetadata, server: &Url, fetched_from: &Url) {
    let offers_s256 = metadata
        .code_challenge_methods_supported
        .as_ref()
        .is_some_and(|methods| methods.iter().any(|method| method == "S256"));
    let own = metadata.check_issuer(&metadata.issuer, fetched_from);
    assert!(own.is_ok(), "{metadata:?}: {own:?}");
    let pkce = metadata.check_pkce();
    assert_eq!(pkce.is_ok(), offers_s256, "{metadata:?}: {pkce:?}");
    let other_issuer = format!("{}/other", metadata.issuer);
    assert!(metadata.check_issuer(&other_issuer, fetched_from).is_err());
    let legacy = metadata.check_same_origin(server, fetched_from);
    let same_origin =
        Url::parse(&metadata.issuer).is_ok_and(|issuer| issuer.origin() == server.origin());
    assert_eq!(legacy.is_ok(), same_origin, "{metadata:?}: {legacy:?}");
    for method in ["none", "client_secret_basic", "client_secret_post"] {
        let _ = metadata.supports_auth_method(method);
    }
}
