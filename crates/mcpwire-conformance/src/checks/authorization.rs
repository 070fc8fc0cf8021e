//! Checks of a protected server (an OAuth resource server, 2025-11-25 `basic/authorization`):
//! its challenge to a request without a token, its Protected Resource Metadata (RFC 9728),
//! and how it treats invalid, malformed and misplaced tokens. They apply when the server
//! answers a request without a token with `401`; the ones that need a valid token run when
//! the run has one (`Target::with_bearer`).

use std::time::Duration;

use http::Method;
use serde_json::{Value, json};

use crate::check::{Area, Check, Checked, EraNeed, Outcome, must, should};
use crate::context::Ctx;
use crate::target::Transport;
use crate::wire::http::{HttpReply, HttpRequest, HttpWire, Until};

const R: &str = "2025-11-25";

/// A token no authorization server issued.
const INVALID_TOKEN: &str = "mcpwire-conformance-invalid-token";

pub(crate) fn checks() -> Vec<Check> {
    let check = |id, title, requirement, run| {
        Check::new(
            id,
            Area::Authorization,
            EraNeed::Any,
            title,
            requirement,
            run,
        )
        .over(Transport::Http)
    };
    vec![
        check(
            "authorization/challenge",
            "a request without a token gets 401 with a Bearer challenge",
            must(
                R,
                "basic/authorization §Protected Resource Metadata Discovery Requirements; RFC 6750 §3",
                Some(121),
                "A protected resource answers a request without a token with 401 and a \
                 `WWW-Authenticate` header naming the Bearer scheme.",
            ),
            crate::run_fn!(challenge),
        ),
        check(
            "authorization/metadata-discoverable",
            "the Protected Resource Metadata is found from the challenge or the well-known URI",
            must(
                R,
                "basic/authorization §Protected Resource Metadata Discovery Requirements",
                Some(121),
                "MCP servers MUST implement one of the following discovery mechanisms: the \
                 `resource_metadata` of the `WWW-Authenticate` header, or the well-known URI \
                 (path-inserted or at the root).",
            ),
            crate::run_fn!(metadata_discoverable),
        ),
        check(
            "authorization/metadata-resource",
            "the metadata's `resource` is the server's own URL",
            must(
                R,
                "basic/authorization §Authorization Server Location; RFC 9728 §3.3",
                Some(120),
                "The `resource` value of the Protected Resource Metadata MUST be identical to \
                 the protected resource's identifier: the MCP endpoint's canonical URL.",
            ),
            crate::run_fn!(metadata_resource),
        ),
        check(
            "authorization/metadata-authorization-servers",
            "the metadata names at least one authorization server",
            must(
                R,
                AUTH_LOCATION,
                Some(120),
                "The Protected Resource Metadata document returned by the MCP server MUST \
                 include the `authorization_servers` field containing at least one \
                 authorization server.",
            ),
            crate::run_fn!(metadata_authorization_servers),
        ),
        check(
            "authorization/invalid-token",
            "an invalid token gets 401 with `error=\"invalid_token\"`",
            must(
                R,
                "basic/authorization §Token Handling; RFC 6750 §3.1",
                Some(122),
                "Invalid or expired tokens MUST receive a HTTP 401 response.",
            ),
            crate::run_fn!(invalid_token),
        ),
        check(
            "authorization/malformed-authorization",
            "a malformed `Authorization` header gets 400 or 401",
            must(
                R,
                "basic/authorization §Error Handling; RFC 6750 §3.1",
                Some(124),
                "Authorization errors get the statuses of the spec's table: 401 for a missing \
                 or invalid token, 400 for a malformed authorization request.",
            ),
            crate::run_fn!(malformed_authorization),
        ),
        check(
            "authorization/scope-in-challenge",
            "the 401 challenge names the scopes needed",
            should(
                R,
                "basic/authorization §Protected Resource Metadata Discovery Requirements",
                None,
                "MCP servers SHOULD include a `scope` parameter in the `WWW-Authenticate` \
                 header as defined in RFC 6750 Section 3.",
            ),
            crate::run_fn!(scope_in_challenge),
        ),
        check(
            "authorization/valid-token",
            "the run's access token is accepted",
            must(
                R,
                "basic/authorization §Token Handling",
                Some(122),
                "A resource server accepts the valid tokens issued for it (the other checks \
                 of a protected server rely on it).",
            ),
            crate::run_fn!(valid_token),
        ),
        check(
            "authorization/every-request",
            "a request of an authorized session without its token gets 401",
            must(
                R,
                "security best practices §Session Hijacking; basic/authorization §Token Requirements",
                None,
                "MCP servers that implement authorization MUST verify all inbound requests and \
                 MUST NOT use sessions for authentication: authorization is included in every \
                 HTTP request, even within one session.",
            ),
            crate::run_fn!(every_request),
        ),
        check(
            "authorization/token-in-query",
            "a token in the query string is not accepted",
            should(
                R,
                "basic/authorization §Token Requirements",
                None,
                "Access tokens MUST NOT be included in the URI query string: a server that \
                 accepts them there makes clients that leak them into logs work.",
            ),
            crate::run_fn!(token_in_query),
        ),
    ]
}

const AUTH_LOCATION: &str = "basic/authorization §Authorization Server Location";

/// A `ping`, the most harmless request there is.
fn ping() -> HttpRequest {
    HttpRequest::post(
        json!({"jsonrpc": "2.0", "id": "mcpwire-conformance-auth", "method": "ping"}).to_string(),
    )
}

/// One challenge of a `WWW-Authenticate` header: its scheme and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    pub(crate) scheme: String,
    pub(crate) params: Vec<(String, String)>,
}

impl Challenge {
    /// The parameter `name` (case-insensitive).
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// The challenges of every `WWW-Authenticate` field of `reply` (RFC 9110 §11.6.1: a scheme,
/// then comma-separated `name=value` parameters, values quoted or tokens; a `token68` is
/// kept as a parameter with an empty name).
pub(crate) fn challenges(reply: &HttpReply) -> Vec<Challenge> {
    let mut found = Vec::new();
    for value in reply.headers.get_all(http::header::WWW_AUTHENTICATE) {
        if let Ok(text) = value.to_str() {
            parse_challenges(text, &mut found);
        }
    }
    found
}

fn parse_challenges(text: &str, found: &mut Vec<Challenge>) {
    let bytes = text.as_bytes();
    let mut at = 0;
    let skip = |at: &mut usize, what: &[u8]| {
        while *at < bytes.len() && what.contains(&bytes[*at]) {
            *at += 1;
        }
    };
    let token = |at: &mut usize| -> String {
        let start = *at;
        while *at < bytes.len() && !b" \t,=\"".contains(&bytes[*at]) {
            *at += 1;
        }
        text[start..*at].to_owned()
    };
    loop {
        skip(&mut at, b" \t,");
        if at >= bytes.len() {
            return;
        }
        let name = token(&mut at);
        if name.is_empty() {
            // Not a token where one must be: the rest cannot be read.
            return;
        }
        skip(&mut at, b" \t");
        if at < bytes.len() && bytes[at] == b'=' {
            // A parameter of the current challenge.
            at += 1;
            skip(&mut at, b" \t");
            let value = if at < bytes.len() && bytes[at] == b'"' {
                at += 1;
                let mut value = String::new();
                while at < bytes.len() && bytes[at] != b'"' {
                    if bytes[at] == b'\\' && at + 1 < bytes.len() {
                        at += 1;
                    }
                    let character = text[at..].chars().next().unwrap_or('\u{fffd}');
                    value.push(character);
                    at += character.len_utf8();
                }
                at += 1;
                value
            } else {
                token(&mut at)
            };
            match found.last_mut() {
                Some(challenge) => challenge.params.push((name, value)),
                None => return,
            }
        } else {
            found.push(Challenge {
                scheme: name,
                params: Vec::new(),
            });
        }
    }
}

/// The Bearer challenge of `reply`, if it has one.
fn bearer(reply: &HttpReply) -> Option<Challenge> {
    challenges(reply)
        .into_iter()
        .find(|challenge| challenge.scheme.eq_ignore_ascii_case("bearer"))
}

/// The answer to a `ping` without a token, or a skip when the server asks for none.
async fn unauthenticated(ctx: &Ctx) -> Result<HttpReply, Outcome> {
    protected(ctx)?;
    let wire = anonymous(ctx)?;
    Ok(wire.send(ping(), Until::End, ctx.step_limit()).await?)
}

/// A skip unless the server is protected (first contact saw its `401`): for checks that
/// send requests of their own and need no answer to a request without a token.
fn protected(ctx: &Ctx) -> Result<(), Outcome> {
    match ctx.profile().protection {
        Some(_) => Ok(()),
        None => Err(Outcome::Skip(
            "the server asks for no access token (a request without one got no 401)".into(),
        )),
    }
}

fn anonymous(ctx: &Ctx) -> Result<HttpWire, Outcome> {
    ctx.http_anonymous()
        .ok_or_else(|| Outcome::Skip("the server is not reached over HTTP".into()))
}

/// The run's token, or a skip.
fn run_token(ctx: &Ctx) -> Result<String, Outcome> {
    ctx.target()
        .bearer()
        .map(|bearer| bearer.expose().to_owned())
        .ok_or_else(|| Outcome::Skip("the run has no access token (`--bearer`)".into()))
}

async fn challenge(ctx: &mut Ctx) -> Checked {
    let reply = unauthenticated(ctx).await?;
    if reply.status.as_u16() != 401 {
        return Ok(Outcome::Violated(format!(
            "a request without a token: expected 401, saw {}",
            reply.summary()
        )));
    }
    Ok(match bearer(&reply) {
        Some(challenge) => Outcome::Pass(format!(
            "401 with `WWW-Authenticate: Bearer` ({} parameters)",
            challenge.params.len()
        )),
        None => Outcome::Violated(format!(
            "401 without a Bearer challenge in `WWW-Authenticate`: {:?}",
            reply.header("www-authenticate")
        )),
    })
}

/// The Protected Resource Metadata: where it was found and the document.
struct Metadata {
    url: String,
    document: Value,
}

/// The well-known URLs of the metadata of the endpoint at `url`, in the order clients try
/// them: the path-inserted one, then the root one.
fn well_known(url: &str) -> Vec<String> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Vec::new();
    };
    let mut origin = parsed.clone();
    origin.set_query(None);
    origin.set_fragment(None);
    let path = parsed.path().trim_end_matches('/');
    let mut urls = Vec::new();
    if !path.is_empty() {
        origin.set_path(&format!("/.well-known/oauth-protected-resource{path}"));
        urls.push(origin.to_string());
    }
    origin.set_path("/.well-known/oauth-protected-resource");
    urls.push(origin.to_string());
    urls
}

/// Fetches the document at `url`: a JSON object with `200`, or why not.
async fn fetch_metadata(url: &str, limit: Duration) -> Result<Value, String> {
    let wire = HttpWire::new(url)?;
    let request = HttpRequest::bare(Method::GET).header("accept", "application/json");
    let reply = wire.send(request, Until::End, limit).await?;
    if reply.status.as_u16() != 200 {
        return Err(format!("GET {url}: {}", reply.summary()));
    }
    match serde_json::from_slice::<Value>(&reply.body) {
        Ok(document @ Value::Object(_)) => Ok(document),
        _ => Err(format!("GET {url}: not a JSON object: {}", reply.summary())),
    }
}

/// Finds the metadata as a client does: the challenge's `resource_metadata`, else the
/// well-known URIs in order.
async fn discover(ctx: &Ctx) -> Result<Result<Metadata, String>, Outcome> {
    let reply = unauthenticated(ctx).await?;
    let url = ctx.target().describe();
    let mut tried = Vec::new();
    let linked = bearer(&reply)
        .and_then(|challenge| challenge.param("resource_metadata").map(str::to_owned));
    let candidates: Vec<String> = match linked {
        Some(linked) => vec![linked],
        None => well_known(&url),
    };
    for candidate in candidates {
        match fetch_metadata(&candidate, ctx.step_limit()).await {
            Ok(document) => {
                return Ok(Ok(Metadata {
                    url: candidate,
                    document,
                }));
            }
            Err(error) => tried.push(error),
        }
    }
    Ok(Err(tried.join("; ")))
}

async fn metadata_discoverable(ctx: &mut Ctx) -> Checked {
    Ok(match discover(ctx).await? {
        Ok(metadata) => Outcome::Pass(format!("the metadata is at {}", metadata.url)),
        Err(tried) => Outcome::Violated(format!(
            "no Protected Resource Metadata through the challenge's `resource_metadata` or \
             the well-known URIs: {tried}"
        )),
    })
}

/// The metadata, or a skip when it cannot be found (its own check fails then).
async fn metadata(ctx: &Ctx) -> Result<Metadata, Outcome> {
    discover(ctx).await?.map_err(|tried| {
        Outcome::Skip(format!(
            "no Protected Resource Metadata was found ({tried})"
        ))
    })
}

/// A URL in the canonical form of a resource identifier: lowercase scheme and host, no
/// default port, no fragment or query, no trailing slash.
fn canonical(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?.to_ascii_lowercase();
    let port = match parsed.port() {
        Some(port) => format!(":{port}"),
        None => String::new(),
    };
    Some(format!(
        "{}://{host}{port}{}",
        parsed.scheme(),
        parsed.path().trim_end_matches('/')
    ))
}

async fn metadata_resource(ctx: &mut Ctx) -> Checked {
    let metadata = metadata(ctx).await?;
    let endpoint = ctx.target().describe();
    let Some(resource) = metadata.document.get("resource").and_then(Value::as_str) else {
        return Ok(Outcome::Violated(format!(
            "the metadata at {} has no `resource` string",
            metadata.url
        )));
    };
    let (Some(ours), Some(theirs)) = (canonical(&endpoint), canonical(resource)) else {
        return Ok(Outcome::Violated(format!(
            "`resource` `{resource}` is not an absolute URL"
        )));
    };
    if ours == theirs {
        return Ok(Outcome::Pass(format!("`resource` is `{resource}`")));
    }
    if ours.starts_with(&format!("{theirs}/")) {
        return Ok(Outcome::Violated(format!(
            "`resource` `{resource}` names a parent of the endpoint {endpoint}, not the \
             endpoint: clients that check the resource (RFC 9728 §3.3) refuse it"
        )));
    }
    Ok(Outcome::Violated(format!(
        "`resource` `{resource}` is not the endpoint {endpoint}"
    )))
}

async fn metadata_authorization_servers(ctx: &mut Ctx) -> Checked {
    let metadata = metadata(ctx).await?;
    let Some(servers) = metadata
        .document
        .get("authorization_servers")
        .and_then(Value::as_array)
    else {
        return Ok(Outcome::Violated(format!(
            "the metadata at {} has no `authorization_servers` array",
            metadata.url
        )));
    };
    if servers.is_empty() {
        return Ok(Outcome::Violated("`authorization_servers` is empty".into()));
    }
    for server in servers {
        let issuer = server.as_str().and_then(|text| url::Url::parse(text).ok());
        if issuer.is_none_or(|issuer| !matches!(issuer.scheme(), "https" | "http")) {
            return Ok(Outcome::Violated(format!(
                "`authorization_servers` has {server}, which is not an issuer URL"
            )));
        }
    }
    Ok(Outcome::Pass(format!(
        "`authorization_servers`: {}",
        crate::clip(&Value::Array(servers.clone()).to_string())
    )))
}

async fn invalid_token(ctx: &mut Ctx) -> Checked {
    protected(ctx)?;
    let wire = anonymous(ctx)?;
    let request = ping().header("authorization", &format!("Bearer {INVALID_TOKEN}"));
    let reply = wire.send(request, Until::End, ctx.step_limit()).await?;
    if reply.status.as_u16() != 401 {
        return Ok(Outcome::Violated(format!(
            "a request with a token no one issued: expected 401, saw {}",
            reply.summary()
        )));
    }
    Ok(match bearer(&reply) {
        Some(challenge) if challenge.param("error") == Some("invalid_token") => {
            Outcome::Pass("401 with `error=\"invalid_token\"`".into())
        }
        _ => Outcome::Warn(format!(
            "401, but the challenge does not say `error=\"invalid_token\"` (RFC 6750 §3.1 \
             SHOULD): {:?}",
            reply.header("www-authenticate")
        )),
    })
}

async fn malformed_authorization(ctx: &mut Ctx) -> Checked {
    protected(ctx)?;
    let wire = anonymous(ctx)?;
    let mut seen = Vec::new();
    for value in ["Bearer", "Bearer two tokens", "Bearer ,,,"] {
        let request = ping().header("authorization", value);
        let reply = wire.send(request, Until::End, ctx.step_limit()).await?;
        let status = reply.status.as_u16();
        if status != 400 && status != 401 {
            return Ok(Outcome::Violated(format!(
                "`Authorization: {value}`: expected 400 or 401, saw {}",
                reply.summary()
            )));
        }
        seen.push(format!("`{value}`: {status}"));
    }
    Ok(Outcome::Pass(seen.join(", ")))
}

async fn scope_in_challenge(ctx: &mut Ctx) -> Checked {
    let reply = unauthenticated(ctx).await?;
    Ok(
        match bearer(&reply).as_ref().and_then(|c| c.param("scope")) {
            Some(scope) => Outcome::Pass(format!("`scope=\"{scope}\"`")),
            None => Outcome::Violated(format!(
                "the challenge names no `scope`: {:?}",
                reply.header("www-authenticate")
            )),
        },
    )
}

async fn valid_token(ctx: &mut Ctx) -> Checked {
    protected(ctx)?;
    run_token(ctx)?;
    let wire = ctx
        .http()
        .ok_or_else(|| Outcome::Skip("the server is not reached over HTTP".into()))?;
    let reply = wire.send(ping(), Until::End, ctx.step_limit()).await?;
    Ok(match reply.status.as_u16() {
        401 | 403 => Outcome::Violated(format!(
            "a request with the run's token was refused: {}; the checks that need it fail \
             or skip",
            reply.summary()
        )),
        _ => Outcome::Pass(format!(
            "the token is accepted (a `ping` outside a session: HTTP {})",
            reply.status.as_u16()
        )),
    })
}

async fn every_request(ctx: &mut Ctx) -> Checked {
    protected(ctx)?;
    run_token(ctx)?;
    let session = ctx.fresh_legacy().await.map_err(|error| {
        Outcome::Skip(format!("no legacy session with the run's token: {error}"))
    })?;
    let Some(id) = session.session_id.clone() else {
        session.close().await;
        return Err(Outcome::Skip("the server issued no session id".into()));
    };
    let version = session.version.clone();
    let wire = anonymous(ctx)?;
    let request = ping()
        .header("mcp-session-id", &id)
        .header("mcp-protocol-version", &version);
    let reply = wire.send(request, Until::End, ctx.step_limit()).await;
    session.close().await;
    let reply = reply?;
    Ok(if reply.status.as_u16() == 401 {
        Outcome::Pass("a request in the session without its token: 401".into())
    } else {
        Outcome::Violated(format!(
            "a request in an authorized session without a token: expected 401, saw {}",
            reply.summary()
        ))
    })
}

async fn token_in_query(ctx: &mut Ctx) -> Checked {
    protected(ctx)?;
    let token = run_token(ctx)?;
    let endpoint = ctx.target().describe();
    let mut url = url::Url::parse(&endpoint)
        .map_err(|error| Outcome::Skip(format!("the endpoint is not a URL: {error}")))?;
    url.query_pairs_mut().append_pair("access_token", &token);
    let wire = HttpWire::new(url.as_str())?;
    let reply = wire.send(ping(), Until::End, ctx.step_limit()).await?;
    Ok(if reply.status.as_u16() == 401 {
        Outcome::Pass("the token in the query string: 401".into())
    } else {
        Outcome::Violated(format!(
            "the token in the query string was not refused with 401: {}",
            reply.summary()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Challenge> {
        let mut found = Vec::new();
        parse_challenges(text, &mut found);
        found
    }

    #[test]
    fn challenges_are_read_with_their_parameters() {
        let found = parse(
            r#"DPoP algs="ES256 PS256", Bearer realm="mcp", error="invalid_token", error_description="the \"token\" expired", resource_metadata="https://a.example/.well-known/oauth-protected-resource/mcp", scope=files"#,
        );
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].scheme, "DPoP");
        assert_eq!(found[0].param("algs"), Some("ES256 PS256"));
        assert_eq!(found[1].scheme, "Bearer");
        assert_eq!(found[1].param("ERROR"), Some("invalid_token"));
        assert_eq!(
            found[1].param("error_description"),
            Some(r#"the "token" expired"#)
        );
        assert_eq!(found[1].param("scope"), Some("files"));
        assert_eq!(
            parse("Bearer"),
            vec![Challenge {
                scheme: "Bearer".into(),
                params: Vec::new()
            }]
        );
        assert!(parse("=broken").is_empty());
        assert!(parse("").is_empty());
    }

    #[test]
    fn well_known_urls_insert_the_path_then_try_the_root() {
        assert_eq!(
            well_known("https://example.com/public/mcp?x=1"),
            vec![
                "https://example.com/.well-known/oauth-protected-resource/public/mcp",
                "https://example.com/.well-known/oauth-protected-resource",
            ]
        );
        assert_eq!(
            well_known("http://127.0.0.1:8080/"),
            vec!["http://127.0.0.1:8080/.well-known/oauth-protected-resource"]
        );
    }

    #[test]
    fn canonical_urls_ignore_case_default_ports_and_trailing_slashes() {
        assert_eq!(
            canonical("HTTPS://MCP.Example.com:443/mcp/"),
            canonical("https://mcp.example.com/mcp")
        );
        assert_ne!(
            canonical("https://mcp.example.com/mcp"),
            canonical("https://mcp.example.com:8443/mcp")
        );
    }
}
