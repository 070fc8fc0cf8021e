//! The authorization scenarios of client mode: a protected MCP server and its authorization
//! server on one loopback mock, as the official suite's `auth/*` scenarios set them up (the
//! Protected Resource Metadata and the authorization server's metadata where each scenario
//! puts them, dynamic registration, an authorization endpoint that redirects at once with a
//! code, a token endpoint), and checks of each step of the client's OAuth flow.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::check::{Outcome, must, should};
use crate::client::mock::{
    Answer, AnswerFuture, Behaviour, Seen, Shared, json as json_answer, lock, status,
};
use crate::client::{ClientCheck, Evaluated};

const REVISION: &str = "2025-11-25";
/// The client the pre-registration scenario gives in its context.
const PRE_REGISTERED: (&str, &str) = ("mcpwire-pre-registered", "mcpwire-pre-registered-secret");
/// The `resource` the metadata names in the resource-mismatch scenario.
const MISMATCHED_RESOURCE: &str = "https://elsewhere.example/mcp";
/// The scope that asks for a refresh token (SEP-2207).
const OFFLINE_ACCESS: &str = "offline_access";
/// The scope every scenario's server needs at least.
const BASIC_SCOPE: &str = "mcp:basic";
/// The scope a tool call needs in the step-up scenarios.
const WRITE_SCOPE: &str = "mcp:write";
/// The most codes, tokens and clients the mock keeps.
const GRANT_LIMIT: usize = 100;

/// An authorization scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthKind {
    MetadataDefault,
    MetadataVar1,
    MetadataVar2,
    MetadataVar3,
    BasicCimd,
    ScopeFromWwwAuthenticate,
    ScopeFromScopesSupported,
    ScopeOmittedWhenUndefined,
    ScopeStepUp,
    ScopeRetryLimit,
    TokenEndpointAuthBasic,
    TokenEndpointAuthPost,
    TokenEndpointAuthNone,
    PreRegistration,
    OauthMetadataBackcompat,
    OauthEndpointFallback,
    ResourceMismatch,
    ClientCredentialsBasic,
    OfflineAccessScope,
    OfflineAccessNotSupported,
}

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientAuth {
    None,
    Basic,
    Post,
}

impl ClientAuth {
    fn name(self) -> &'static str {
        match self {
            ClientAuth::None => "none",
            ClientAuth::Basic => "client_secret_basic",
            ClientAuth::Post => "client_secret_post",
        }
    }
}

impl AuthKind {
    /// Every authorization scenario, in run order.
    pub(crate) const ALL: [AuthKind; 20] = [
        AuthKind::MetadataDefault,
        AuthKind::MetadataVar1,
        AuthKind::MetadataVar2,
        AuthKind::MetadataVar3,
        AuthKind::BasicCimd,
        AuthKind::ScopeFromWwwAuthenticate,
        AuthKind::ScopeFromScopesSupported,
        AuthKind::ScopeOmittedWhenUndefined,
        AuthKind::ScopeStepUp,
        AuthKind::ScopeRetryLimit,
        AuthKind::TokenEndpointAuthBasic,
        AuthKind::TokenEndpointAuthPost,
        AuthKind::TokenEndpointAuthNone,
        AuthKind::PreRegistration,
        AuthKind::OauthMetadataBackcompat,
        AuthKind::OauthEndpointFallback,
        AuthKind::ResourceMismatch,
        AuthKind::ClientCredentialsBasic,
        AuthKind::OfflineAccessScope,
        AuthKind::OfflineAccessNotSupported,
    ];

    /// The scenario's name, as the official suite spells it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            AuthKind::MetadataDefault => "auth/metadata-default",
            AuthKind::MetadataVar1 => "auth/metadata-var1",
            AuthKind::MetadataVar2 => "auth/metadata-var2",
            AuthKind::MetadataVar3 => "auth/metadata-var3",
            AuthKind::BasicCimd => "auth/basic-cimd",
            AuthKind::ScopeFromWwwAuthenticate => "auth/scope-from-www-authenticate",
            AuthKind::ScopeFromScopesSupported => "auth/scope-from-scopes-supported",
            AuthKind::ScopeOmittedWhenUndefined => "auth/scope-omitted-when-undefined",
            AuthKind::ScopeStepUp => "auth/scope-step-up",
            AuthKind::ScopeRetryLimit => "auth/scope-retry-limit",
            AuthKind::TokenEndpointAuthBasic => "auth/token-endpoint-auth-basic",
            AuthKind::TokenEndpointAuthPost => "auth/token-endpoint-auth-post",
            AuthKind::TokenEndpointAuthNone => "auth/token-endpoint-auth-none",
            AuthKind::PreRegistration => "auth/pre-registration",
            AuthKind::OauthMetadataBackcompat => "auth/2025-03-26-oauth-metadata-backcompat",
            AuthKind::OauthEndpointFallback => "auth/2025-03-26-oauth-endpoint-fallback",
            AuthKind::ResourceMismatch => "auth/resource-mismatch",
            AuthKind::ClientCredentialsBasic => "auth/client-credentials-basic",
            AuthKind::OfflineAccessScope => "auth/offline-access-scope",
            AuthKind::OfflineAccessNotSupported => "auth/offline-access-not-supported",
        }
    }

    /// The data the scenario gives the client in `MCP_CONFORMANCE_CONTEXT`.
    pub(crate) fn context(self) -> Option<Value> {
        matches!(
            self,
            AuthKind::PreRegistration | AuthKind::ClientCredentialsBasic
        )
        .then(|| json!({"client_id": PRE_REGISTERED.0, "client_secret": PRE_REGISTERED.1}))
    }

    /// Whether the server has Protected Resource Metadata (2025-03-26 had none).
    fn has_prm(self) -> bool {
        !matches!(
            self,
            AuthKind::OauthMetadataBackcompat | AuthKind::OauthEndpointFallback
        )
    }

    /// Whether the authorization server has metadata.
    fn has_as_metadata(self) -> bool {
        self != AuthKind::OauthEndpointFallback
    }

    /// The `resource` of the Protected Resource Metadata: the server's, but in the
    /// resource-mismatch scenario another one.
    fn prm_resource(self, origin: &str) -> String {
        if self == AuthKind::ResourceMismatch {
            return MISMATCHED_RESOURCE.to_owned();
        }
        resource(origin)
    }

    /// The path under which the authorization server's endpoints are.
    fn endpoint_prefix(self) -> &'static str {
        match self {
            AuthKind::OauthMetadataBackcompat => "/oauth",
            _ => self.issuer_path(),
        }
    }

    /// Where the Protected Resource Metadata is served.
    fn prm_path(self) -> &'static str {
        match self {
            AuthKind::MetadataVar2 => "/.well-known/oauth-protected-resource",
            AuthKind::MetadataVar3 => "/custom/metadata/location.json",
            _ => "/.well-known/oauth-protected-resource/mcp",
        }
    }

    /// Whether the challenge names the metadata (`resource_metadata`).
    fn prm_in_challenge(self) -> bool {
        self.has_prm() && !matches!(self, AuthKind::MetadataVar1 | AuthKind::MetadataVar2)
    }

    /// The path prefix of the authorization server (its issuer's path).
    fn issuer_path(self) -> &'static str {
        match self {
            AuthKind::MetadataVar2 | AuthKind::MetadataVar3 => "/tenant1",
            _ => "",
        }
    }

    /// Where the authorization server's metadata is served.
    fn as_metadata_path(self) -> &'static str {
        match self {
            AuthKind::MetadataVar1 => "/.well-known/openid-configuration",
            AuthKind::MetadataVar2 => "/.well-known/oauth-authorization-server/tenant1",
            AuthKind::MetadataVar3 => "/tenant1/.well-known/openid-configuration",
            _ => "/.well-known/oauth-authorization-server",
        }
    }

    /// The `scope` of the challenge, if any.
    fn challenge_scope(self) -> Option<&'static str> {
        match self {
            AuthKind::ScopeFromWwwAuthenticate => Some("mcp:read"),
            AuthKind::ScopeStepUp | AuthKind::ScopeRetryLimit => Some(BASIC_SCOPE),
            _ => None,
        }
    }

    /// The metadata's `scopes_supported`, if any.
    fn scopes_supported(self) -> Option<Vec<&'static str>> {
        match self {
            AuthKind::ScopeOmittedWhenUndefined => None,
            AuthKind::ScopeFromScopesSupported => Some(vec![BASIC_SCOPE, "mcp:read", WRITE_SCOPE]),
            AuthKind::ScopeFromWwwAuthenticate => Some(vec![BASIC_SCOPE, "mcp:read", WRITE_SCOPE]),
            AuthKind::ScopeStepUp | AuthKind::ScopeRetryLimit => {
                Some(vec![BASIC_SCOPE, WRITE_SCOPE])
            }
            AuthKind::OfflineAccessNotSupported => Some(vec![BASIC_SCOPE, "mcp:read"]),
            _ => Some(vec![BASIC_SCOPE]),
        }
    }

    /// The authorization server's `scopes_supported`, if it lists any.
    fn as_scopes_supported(self) -> Option<Vec<&'static str>> {
        match self {
            AuthKind::OfflineAccessScope => Some(vec![BASIC_SCOPE, OFFLINE_ACCESS]),
            AuthKind::OfflineAccessNotSupported => Some(vec![BASIC_SCOPE, "mcp:read"]),
            _ => None,
        }
    }

    /// How the client must authenticate at the token endpoint.
    fn client_auth(self) -> ClientAuth {
        match self {
            AuthKind::TokenEndpointAuthBasic
            | AuthKind::PreRegistration
            | AuthKind::ClientCredentialsBasic => ClientAuth::Basic,
            AuthKind::TokenEndpointAuthPost => ClientAuth::Post,
            _ => ClientAuth::None,
        }
    }

    /// Whether the authorization server offers dynamic registration.
    fn registers(self) -> bool {
        !matches!(
            self,
            AuthKind::PreRegistration | AuthKind::ClientCredentialsBasic
        )
    }

    /// Whether a tool call needs [`WRITE_SCOPE`] too.
    fn call_needs_write(self) -> bool {
        matches!(self, AuthKind::ScopeStepUp | AuthKind::ScopeRetryLimit)
    }

    /// Whether the scenario may end with the client giving up (a non-zero exit).
    pub(crate) fn may_give_up(self) -> bool {
        matches!(self, AuthKind::ScopeRetryLimit | AuthKind::ResourceMismatch)
    }
}

/// What the mock remembers of the flow.
#[derive(Debug, Default)]
pub(crate) struct AuthState {
    /// The clients registered: id to (secret, method).
    clients: HashMap<String, (Option<String>, ClientAuth)>,
    /// The codes issued, with what their authorization request asked.
    codes: HashMap<String, Grant>,
    /// The tokens issued, with their scopes.
    tokens: HashMap<String, Vec<String>>,
    /// Whether each token request's PKCE verifier matched its code's challenge.
    verifier_matches: Vec<bool>,
    /// The method each token request authenticated with, and whether it matched.
    token_auth: Vec<(ClientAuth, bool)>,
    /// The `resource` of each token request.
    token_resources: Vec<Option<String>>,
    /// Whether a tool call with a valid token succeeded.
    pub(crate) called: bool,
    /// The requests refused for want of scope, by token and JSON-RPC id: the client retries
    /// them, with the same id, once it has a wider token.
    refused: Vec<(String, Value)>,
    /// The version the last authorized `initialize` settled.
    pub(crate) negotiated: Option<String>,
    counter: u64,
}

/// What an authorization request asked for, kept with its code.
#[derive(Debug)]
struct Grant {
    /// The PKCE `code_challenge`.
    challenge: Option<String>,
    /// The `scope`.
    scope: Option<String>,
}

/// The mock of an authorization scenario.
#[derive(Debug)]
pub(crate) struct AuthMock {
    kind: AuthKind,
    state: Arc<Mutex<AuthState>>,
    /// The mock's origin, `http://localhost:PORT`, once known.
    origin: Mutex<String>,
}

impl AuthMock {
    pub(crate) fn new(kind: AuthKind) -> AuthMock {
        AuthMock {
            kind,
            state: Arc::default(),
            origin: Mutex::new(String::new()),
        }
    }

    /// Sets the origin the mock is reached at.
    pub(crate) fn set_origin(&self, origin: String) {
        *lock(&self.origin) = origin;
    }

    pub(crate) fn state(&self) -> &Arc<Mutex<AuthState>> {
        &self.state
    }
}

impl Behaviour for AuthMock {
    fn answer(&self, seen: Seen, _shared: Arc<Shared>) -> AnswerFuture {
        let origin = lock(&self.origin).clone();
        let answer = answer(self.kind, &origin, &self.state, &seen);
        Box::pin(async move { answer })
    }
}

/// The form fields of a query or a form body.
fn form(text: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

fn resource(origin: &str) -> String {
    format!("{origin}/mcp")
}

fn answer(kind: AuthKind, origin: &str, state: &Mutex<AuthState>, seen: &Seen) -> Answer {
    let issuer = format!("{origin}{}", kind.issuer_path());
    let prefix = kind.endpoint_prefix();
    let path = seen.path.as_str();
    match (&seen.method, path) {
        (&Method::GET, p) if kind.has_prm() && p == kind.prm_path() => {
            let mut document =
                json!({"resource": kind.prm_resource(origin), "authorization_servers": [issuer]});
            if let Some(scopes) = kind.scopes_supported() {
                document["scopes_supported"] = json!(scopes);
            }
            json_answer(StatusCode::OK, &document)
        }
        (&Method::GET, p) if kind.has_as_metadata() && p == kind.as_metadata_path() => {
            let mut document = json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{origin}{prefix}/authorize"),
                "token_endpoint": format!("{origin}{prefix}/token"),
                "response_types_supported": ["code"],
                "grant_types_supported": if kind == AuthKind::ClientCredentialsBasic {
                    json!(["client_credentials"])
                } else {
                    json!(["authorization_code", "refresh_token"])
                },
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [kind.client_auth().name()],
            });
            if kind.registers() {
                document["registration_endpoint"] = json!(format!("{origin}{prefix}/register"));
            }
            if kind == AuthKind::BasicCimd {
                document["client_id_metadata_document_supported"] = json!(true);
            }
            if let Some(scopes) = kind.as_scopes_supported() {
                document["scopes_supported"] = json!(scopes);
            }
            if kind.as_metadata_path().contains("openid-configuration") {
                document["jwks_uri"] = json!(format!("{issuer}/.well-known/jwks.json"));
                document["subject_types_supported"] = json!(["public"]);
                document["id_token_signing_alg_values_supported"] = json!(["RS256"]);
            }
            json_answer(StatusCode::OK, &document)
        }
        (&Method::POST, p) if p == format!("{prefix}/register") && kind.registers() => {
            register(kind, state, seen)
        }
        (&Method::GET, p) if p == format!("{prefix}/authorize") => authorize(state, seen),
        (&Method::POST, p) if p == format!("{prefix}/token") => token(kind, state, seen),
        (_, "/mcp") => mcp(kind, origin, state, seen),
        _ => status(StatusCode::NOT_FOUND),
    }
}

fn register(kind: AuthKind, state: &Mutex<AuthState>, seen: &Seen) -> Answer {
    let mut state = lock(state);
    if state.clients.len() >= GRANT_LIMIT {
        return status(StatusCode::TOO_MANY_REQUESTS);
    }
    state.counter += 1;
    let id = format!("mcpwire-client-{}", state.counter);
    let method = kind.client_auth();
    let secret = (method != ClientAuth::None).then(|| format!("secret-{}", state.counter));
    state.clients.insert(id.clone(), (secret.clone(), method));
    let body = seen.body.clone().unwrap_or_else(|| json!({}));
    let mut registered = json!({
        "client_id": id,
        "client_name": body.get("client_name").cloned().unwrap_or(json!("client")),
        "redirect_uris": body.get("redirect_uris").cloned().unwrap_or(json!([])),
        "token_endpoint_auth_method": method.name(),
    });
    if let Some(secret) = secret {
        registered["client_secret"] = json!(secret);
    }
    json_answer(StatusCode::CREATED, &registered)
}

fn authorize(state: &Mutex<AuthState>, seen: &Seen) -> Answer {
    let query = form(seen.query.as_deref().unwrap_or_default());
    let Some(redirect) = query
        .get("redirect_uri")
        .and_then(|uri| url::Url::parse(uri).ok())
    else {
        return status(StatusCode::BAD_REQUEST);
    };
    let mut state = lock(state);
    if state.codes.len() >= GRANT_LIMIT {
        return status(StatusCode::TOO_MANY_REQUESTS);
    }
    state.counter += 1;
    let code = format!("mcpwire-code-{}", state.counter);
    state.codes.insert(
        code.clone(),
        Grant {
            challenge: query.get("code_challenge").cloned(),
            scope: query.get("scope").cloned(),
        },
    );
    let mut location = redirect;
    location.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = query.get("state") {
        location.query_pairs_mut().append_pair("state", state);
    }
    let mut answer = status(StatusCode::FOUND);
    if let Ok(value) = http::HeaderValue::from_str(location.as_str()) {
        answer.headers_mut().insert(http::header::LOCATION, value);
    }
    answer
}

/// The client's credentials as it sent them: Basic, or in the form.
fn credentials(
    seen: &Seen,
    fields: &HashMap<String, String>,
) -> (ClientAuth, Option<String>, Option<String>) {
    if let Some(basic) = seen
        .header("authorization")
        .and_then(|value| value.strip_prefix("Basic "))
        && let Ok(decoded) = STANDARD.decode(basic.trim())
        && let Ok(text) = String::from_utf8(decoded)
        && let Some((id, secret)) = text.split_once(':')
    {
        let decode = |part: &str| {
            url::form_urlencoded::parse(format!("x={part}").as_bytes())
                .next()
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default()
        };
        return (ClientAuth::Basic, Some(decode(id)), Some(decode(secret)));
    }
    match fields.get("client_secret") {
        Some(secret) => (
            ClientAuth::Post,
            fields.get("client_id").cloned(),
            Some(secret.clone()),
        ),
        None => (ClientAuth::None, fields.get("client_id").cloned(), None),
    }
}

fn token(kind: AuthKind, state: &Mutex<AuthState>, seen: &Seen) -> Answer {
    let fields = form(&String::from_utf8_lossy(&seen.raw));
    let (method, client_id, secret) = credentials(seen, &fields);
    let mut state = lock(state);
    let expected = if matches!(
        kind,
        AuthKind::PreRegistration | AuthKind::ClientCredentialsBasic
    ) {
        client_id.as_deref() == Some(PRE_REGISTERED.0)
            && secret.as_deref() == Some(PRE_REGISTERED.1)
    } else {
        match client_id.as_deref().and_then(|id| state.clients.get(id)) {
            Some((registered, registered_method)) => {
                *registered_method == method && *registered == secret
            }
            // A client identified by its metadata document's URL is public.
            None => {
                kind == AuthKind::BasicCimd
                    && method == ClientAuth::None
                    && client_id
                        .as_deref()
                        .is_some_and(|id| id.starts_with("https://"))
            }
        }
    };
    let method_matches = method == kind.client_auth() && expected;
    state.token_auth.push((method, method_matches));
    state.token_resources.push(fields.get("resource").cloned());
    if kind == AuthKind::ClientCredentialsBasic {
        if fields.get("grant_type").map(String::as_str) != Some("client_credentials") {
            return json_answer(
                StatusCode::BAD_REQUEST,
                &json!({"error": "unsupported_grant_type"}),
            );
        }
        if !expected {
            return json_answer(
                StatusCode::UNAUTHORIZED,
                &json!({"error": "invalid_client"}),
            );
        }
        let scope = fields.get("scope").cloned();
        return issue(&mut state, scope.as_deref());
    }
    if fields.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return json_answer(
            StatusCode::BAD_REQUEST,
            &json!({"error": "unsupported_grant_type"}),
        );
    }
    let Some(Grant { challenge, scope }) =
        fields.get("code").and_then(|code| state.codes.remove(code))
    else {
        return json_answer(StatusCode::BAD_REQUEST, &json!({"error": "invalid_grant"}));
    };
    let computed = fields
        .get("code_verifier")
        .map(|verifier| URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())));
    let matches = challenge.is_some() && computed == challenge;
    state.verifier_matches.push(matches);
    if !matches {
        return json_answer(
            StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_grant",
            "error_description": "the code verifier does not match the challenge"}),
        );
    }
    if !expected {
        return json_answer(
            StatusCode::UNAUTHORIZED,
            &json!({"error": "invalid_client"}),
        );
    }
    issue(&mut state, scope.as_deref())
}

/// Issues a token for `scope`, and its answer.
fn issue(state: &mut AuthState, scope: Option<&str>) -> Answer {
    if state.tokens.len() >= GRANT_LIMIT {
        return status(StatusCode::TOO_MANY_REQUESTS);
    }
    state.counter += 1;
    let token = format!("mcpwire-token-{}", state.counter);
    let scopes: Vec<String> = scope
        .unwrap_or_default()
        .split(' ')
        .filter(|scope| !scope.is_empty())
        .map(str::to_owned)
        .collect();
    state.tokens.insert(token.clone(), scopes.clone());
    let mut answer = json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600});
    if !scopes.is_empty() {
        answer["scope"] = json!(scopes.join(" "));
    }
    json_answer(StatusCode::OK, &answer)
}

/// A `401` or `403` with the scenario's challenge.
fn challenge(
    kind: AuthKind,
    origin: &str,
    status_code: StatusCode,
    error: Option<&str>,
    scope: Option<&str>,
) -> Answer {
    let mut params = Vec::new();
    if let Some(error) = error {
        params.push(format!("error=\"{error}\""));
    }
    if let Some(scope) = scope {
        params.push(format!("scope=\"{scope}\""));
    }
    if kind.prm_in_challenge() {
        params.push(format!("resource_metadata=\"{origin}{}\"", kind.prm_path()));
    }
    let value = if params.is_empty() {
        "Bearer".to_owned()
    } else {
        format!("Bearer {}", params.join(", "))
    };
    let mut answer = json_answer(
        status_code,
        &json!({"error": if status_code == StatusCode::FORBIDDEN {"insufficient_scope"} else {"invalid_token"}}),
    );
    if let Ok(value) = http::HeaderValue::from_str(&value) {
        answer
            .headers_mut()
            .insert(http::header::WWW_AUTHENTICATE, value);
    }
    answer
}

fn mcp(kind: AuthKind, origin: &str, state: &Mutex<AuthState>, seen: &Seen) -> Answer {
    let token = seen
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    let scopes = token.and_then(|token| lock(state).tokens.get(token).cloned());
    let Some(scopes) = scopes else {
        return challenge(
            kind,
            origin,
            StatusCode::UNAUTHORIZED,
            token.map(|_| "invalid_token"),
            kind.challenge_scope(),
        );
    };
    if seen.method != Method::POST {
        return status(StatusCode::METHOD_NOT_ALLOWED);
    }
    let Some(message) = &seen.body else {
        return status(StatusCode::BAD_REQUEST);
    };
    let Some(id) = message.get("id").cloned() else {
        return status(StatusCode::ACCEPTED);
    };
    let method = message
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let result = match method {
        "initialize" => {
            let asked = message["params"]["protocolVersion"]
                .as_str()
                .unwrap_or(REVISION);
            let version = if ["2025-03-26", "2025-06-18", "2025-11-25"].contains(&asked) {
                asked
            } else {
                REVISION
            };
            lock(state).negotiated = Some(version.to_owned());
            json!({"protocolVersion": version, "capabilities": {"tools": {}},
                   "serverInfo": {"name": "mcpwire-conformance-auth", "version": env!("CARGO_PKG_VERSION")}})
        }
        "tools/list" => {
            json!({"tools": [{"name": "test-tool", "inputSchema": {"type": "object"}}]})
        }
        "tools/call" => {
            let refused = kind == AuthKind::ScopeRetryLimit
                || (kind.call_needs_write() && !scopes.iter().any(|scope| scope == WRITE_SCOPE));
            if refused && let Some(token) = token {
                let mut state = lock(state);
                if state.refused.len() < GRANT_LIMIT {
                    state.refused.push((token.to_owned(), id.clone()));
                }
            }
            if kind.call_needs_write() && !scopes.iter().any(|scope| scope == WRITE_SCOPE) {
                let needed = format!("{BASIC_SCOPE} {WRITE_SCOPE}");
                let retry_limit = kind == AuthKind::ScopeRetryLimit;
                // The retry-limit scenario asks for more than it ever grants.
                let needed = if retry_limit {
                    format!("{needed} mcp:admin")
                } else {
                    needed
                };
                return challenge(
                    kind,
                    origin,
                    StatusCode::FORBIDDEN,
                    Some("insufficient_scope"),
                    Some(&needed),
                );
            }
            if kind == AuthKind::ScopeRetryLimit {
                return challenge(
                    kind,
                    origin,
                    StatusCode::FORBIDDEN,
                    Some("insufficient_scope"),
                    Some(&format!("{BASIC_SCOPE} {WRITE_SCOPE} mcp:admin")),
                );
            }
            lock(state).called = true;
            json!({"content": [{"type": "text", "text": "test"}]})
        }
        "ping" => json!({}),
        _ => {
            return json_answer(
                StatusCode::OK,
                &json!({"jsonrpc": "2.0", "id": id,
                "error": {"code": -32601, "message": "Method not found"}}),
            );
        }
    };
    json_answer(
        StatusCode::OK,
        &json!({"jsonrpc": "2.0", "id": id, "result": result}),
    )
}

// ----- Checks -----

const PRM_DISCOVERED: ClientCheck = ClientCheck {
    name: "prm-discovered",
    title: "the client finds the Protected Resource Metadata where the server says",
    requirement: must(
        REVISION,
        "basic/authorization §Protected Resource Metadata Discovery Requirements",
        None,
        "MCP clients MUST use the resource metadata URL from the parsed WWW-Authenticate \
         headers when present; otherwise, they MUST fall back to the well-known URIs, \
         path-inserted first, then the root.",
    ),
    official: true,
};

const AS_METADATA: ClientCheck = ClientCheck {
    name: "authorization-server-metadata",
    title: "the client finds the authorization server's metadata",
    requirement: must(
        REVISION,
        "basic/authorization §Authorization Server Metadata Discovery",
        None,
        "MCP clients MUST attempt the OAuth 2.0 and OpenID Connect well-known endpoints, with \
         path insertion for an issuer with a path, in the spec's priority order.",
    ),
    official: true,
};

const REGISTRATION: ClientCheck = ClientCheck {
    name: "client-registration",
    title: "the client registers as the authorization server supports",
    requirement: must(
        REVISION,
        "basic/authorization §Client Registration Approaches",
        None,
        "A client uses a client ID metadata document when the server supports it, dynamic \
         registration when offered, and pre-registered credentials otherwise.",
    ),
    official: true,
};

const PKCE: ClientCheck = ClientCheck {
    name: "pkce",
    title: "the authorization request uses PKCE with S256, and the verifier matches",
    requirement: must(
        REVISION,
        "basic/authorization §Authorization Code Protection",
        None,
        "MCP clients MUST implement PKCE according to OAuth 2.1 and MUST use the S256 code \
         challenge method when technically capable.",
    ),
    official: true,
};

const RESOURCE: ClientCheck = ClientCheck {
    name: "resource-parameter",
    title: "the authorization and token requests name the server as `resource`",
    requirement: must(
        REVISION,
        "basic/authorization §Resource Parameter Implementation",
        None,
        "MCP clients MUST include the `resource` parameter in both authorization requests and \
         token requests, identifying the MCP server by its canonical URI.",
    ),
    official: false,
};

const SCOPE: ClientCheck = ClientCheck {
    name: "scope-selection",
    title: "the client asks for the scope the selection strategy gives",
    requirement: should(
        REVISION,
        "basic/authorization §Scope Selection Strategy",
        None,
        "Use the `scope` of the challenge; else every scope of `scopes_supported`; else omit \
         `scope`. On `insufficient_scope`, ask for the scopes the challenge names.",
    ),
    official: true,
};

const TOKEN_AUTH: ClientCheck = ClientCheck {
    name: "token-endpoint-auth",
    title: "the client authenticates at the token endpoint as it registered",
    requirement: must(
        REVISION,
        "basic/authorization §Token Requirements; OAuth 2.1 §2.4",
        None,
        "A confidential client authenticates at the token endpoint with the method it \
         registered (client_secret_basic or client_secret_post); a public client sends its \
         client_id alone.",
    ),
    official: true,
};

const BEARER: ClientCheck = ClientCheck {
    name: "bearer-every-request",
    title: "once authorized, every request carries the bearer token in its header",
    requirement: must(
        REVISION,
        "basic/authorization §Token Requirements",
        None,
        "Authorization MUST be included in every HTTP request from client to server, in the \
         Authorization header, never in the query string.",
    ),
    official: false,
};

const COMPLETED: ClientCheck = ClientCheck {
    name: "flow-completed",
    title: "with its token, the client calls the server's tool",
    requirement: must(
        REVISION,
        "basic/authorization §Authorization Flow Steps",
        None,
        "After authorization, the client retries the MCP request with the access token and \
         goes on (`initialize`, `tools/list`, `tools/call test-tool`).",
    ),
    official: true,
};

const RETRY_LIMIT: ClientCheck = ClientCheck {
    name: "retry-limit",
    title: "a client refused for scope again and again stops re-authorizing",
    requirement: should(
        REVISION,
        "basic/authorization §Scope Challenge Handling",
        None,
        "Clients SHOULD implement retry limits and SHOULD track scope upgrade attempts to \
         avoid repeated failures for the same resource and operation.",
    ),
    official: true,
};

const OFFLINE_GRANT: ClientCheck = ClientCheck {
    name: "offline-access-refresh-grant",
    title: "a client asking for `offline_access` registers the refresh_token grant",
    requirement: should(
        "draft",
        "SEP-2207 §Refresh tokens",
        None,
        "A client that wants a refresh token requests `offline_access` when the authorization \
         server lists it, and includes `refresh_token` in its metadata's `grant_types`.",
    ),
    official: true,
};

const OFFLINE_NOT_ASKED: ClientCheck = ClientCheck {
    name: "offline-access-not-requested",
    title: "no `offline_access` when the authorization server does not list it",
    requirement: must(
        "draft",
        "SEP-2207 §Refresh tokens",
        None,
        "A client MUST NOT request `offline_access` when the authorization server does not \
         list it in `scopes_supported`.",
    ),
    official: true,
};

const MISMATCH_REFUSED: ClientCheck = ClientCheck {
    name: "resource-mismatch-rejected",
    title: "the client refuses metadata that names another resource",
    requirement: must(
        REVISION,
        "basic/authorization §Resource Parameter Implementation; RFC 9728 §3.3",
        None,
        "A client MUST check that the `resource` of the Protected Resource Metadata is the \
         server it connects to, and not proceed with authorization otherwise.",
    ),
    official: true,
};

/// The checks of scenario `kind`, in the order [`evaluate`] makes them.
pub(crate) fn checks_of(kind: AuthKind) -> Vec<ClientCheck> {
    // The checks of an authorization code flow, up to the token.
    let code_flow = [
        PRM_DISCOVERED,
        AS_METADATA,
        REGISTRATION,
        PKCE,
        RESOURCE,
        SCOPE,
    ];
    let mut checks: Vec<ClientCheck> = match kind {
        // The official suite judges this scenario by the refusal alone: a client that does
        // not even read the metadata refuses too.
        AuthKind::ResourceMismatch => {
            return vec![
                ClientCheck {
                    official: false,
                    ..PRM_DISCOVERED
                },
                MISMATCH_REFUSED,
            ];
        }
        AuthKind::ClientCredentialsBasic => vec![PRM_DISCOVERED, AS_METADATA],
        AuthKind::OauthMetadataBackcompat => vec![AS_METADATA, REGISTRATION, PKCE],
        AuthKind::OauthEndpointFallback => vec![REGISTRATION, PKCE],
        AuthKind::OfflineAccessScope => [&code_flow[..], &[OFFLINE_GRANT]].concat(),
        AuthKind::OfflineAccessNotSupported => [&code_flow[..], &[OFFLINE_NOT_ASKED]].concat(),
        _ => code_flow.to_vec(),
    };
    checks.extend([TOKEN_AUTH, BEARER]);
    checks.push(if kind == AuthKind::ScopeRetryLimit {
        RETRY_LIMIT
    } else {
        COMPLETED
    });
    checks
}

/// The requests to the MCP endpoint that carried a token the mock issued and were not
/// refused for want of scope (the client retries those with their id, as a new attempt).
pub(crate) fn authorized(log: &[Seen], state: &AuthState) -> Vec<Seen> {
    log.iter()
        .filter(|seen| {
            seen.path == "/mcp"
                && bearer(seen).is_some_and(|token| {
                    state.tokens.contains_key(token)
                        && !state
                            .refused
                            .iter()
                            .any(|(refused, id)| refused == token && seen.rpc_id() == Some(id))
                })
        })
        .cloned()
        .collect()
}

fn bearer(seen: &Seen) -> Option<&str> {
    seen.header("authorization")?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn queries<'a>(
    log: &'a [Seen],
    path: &'a str,
) -> impl Iterator<Item = HashMap<String, String>> + 'a {
    log.iter()
        .filter(move |seen| seen.method == Method::GET && seen.path == path)
        .map(|seen| form(seen.query.as_deref().unwrap_or_default()))
}

pub(crate) fn evaluate(
    kind: AuthKind,
    origin: &str,
    log: &[Seen],
    state: &AuthState,
) -> Vec<Evaluated> {
    let prefix = kind.endpoint_prefix();
    let authorize_path = format!("{prefix}/authorize");
    let authorizations: Vec<HashMap<String, String>> = queries(log, &authorize_path).collect();
    let fetched = |path: &str| {
        log.iter()
            .any(|seen| seen.method == Method::GET && seen.path == path)
    };

    let prm = if fetched(kind.prm_path()) {
        if kind == AuthKind::MetadataDefault && fetched("/.well-known/oauth-protected-resource") {
            Outcome::Violated("the client fetched the root metadata although the challenge named the path-inserted one".into())
        } else {
            Outcome::Pass(format!("GET {}", kind.prm_path()))
        }
    } else {
        Outcome::Violated(format!("the client never fetched {}", kind.prm_path()))
    };
    let as_metadata = if fetched(kind.as_metadata_path()) {
        Outcome::Pass(format!("GET {}", kind.as_metadata_path()))
    } else {
        Outcome::Violated(format!(
            "the client never fetched {}",
            kind.as_metadata_path()
        ))
    };
    let registered = log
        .iter()
        .any(|seen| seen.method == Method::POST && seen.path == format!("{prefix}/register"));
    let client_ids: Vec<&str> = authorizations
        .iter()
        .filter_map(|query| query.get("client_id").map(String::as_str))
        .collect();
    let registration = match kind {
        AuthKind::BasicCimd => match client_ids.first() {
            Some(id) if id.starts_with("https://") && !registered => {
                Outcome::Pass(format!("client ID metadata document {id}"))
            }
            Some(id) => Outcome::Violated(format!(
                "the server supports client ID metadata documents, but the client used `{id}`{}",
                if registered {
                    " after registering dynamically"
                } else {
                    ""
                }
            )),
            None => Outcome::Violated("the client made no authorization request".into()),
        },
        AuthKind::PreRegistration => match client_ids.first() {
            Some(id) if *id == PRE_REGISTERED.0 => {
                Outcome::Pass("the pre-registered client".into())
            }
            Some(id) => Outcome::Violated(format!(
                "the client used `{id}`, not the pre-registered client"
            )),
            None => Outcome::Violated("the client made no authorization request".into()),
        },
        _ if registered => Outcome::Pass("dynamic registration".into()),
        _ => Outcome::Violated("the client did not register with the registration endpoint".into()),
    };
    let pkce = if authorizations.is_empty() {
        Outcome::Violated("the client made no authorization request".into())
    } else if let Some(query) = authorizations.iter().find(|query| {
        query.get("code_challenge_method").map(String::as_str) != Some("S256")
            || !query.contains_key("code_challenge")
    }) {
        Outcome::Violated(format!(
            "an authorization request without an S256 challenge: method {:?}",
            query.get("code_challenge_method")
        ))
    } else if state.verifier_matches.is_empty() {
        Outcome::Violated("the client made no token request".into())
    } else if state.verifier_matches.iter().all(|matches| *matches) {
        Outcome::Pass(format!(
            "{} authorization requests with S256, verifiers matching",
            authorizations.len()
        ))
    } else {
        Outcome::Violated("a token request's code_verifier does not match its challenge".into())
    };
    let wanted = resource(origin);
    let resource_outcome = {
        let mut problems = Vec::new();
        for query in &authorizations {
            if query.get("resource") != Some(&wanted) {
                problems.push(format!(
                    "authorization request: resource {:?}",
                    query.get("resource")
                ));
            }
        }
        for sent in &state.token_resources {
            if sent.as_ref() != Some(&wanted) {
                problems.push(format!("token request: resource {sent:?}"));
            }
        }
        if authorizations.is_empty() {
            Outcome::Violated("the client made no authorization request".into())
        } else if problems.is_empty() {
            Outcome::Pass(format!(
                "`resource={wanted}` in every authorization and token request"
            ))
        } else {
            Outcome::Violated(format!(
                "expected `resource={wanted}`: {}",
                problems.join("; ")
            ))
        }
    };
    let scope = scope_outcome(kind, &authorizations);
    let token_auth = match state.token_auth.first() {
        None => Outcome::Violated("the client made no token request".into()),
        Some(_) if state.token_auth.iter().all(|(_, matches)| *matches) => Outcome::Pass(format!(
            "`{}` at every token request",
            kind.client_auth().name()
        )),
        Some(_) => Outcome::Violated(format!(
            "expected `{}` with the registered credentials, saw {:?}",
            kind.client_auth().name(),
            state
                .token_auth
                .iter()
                .map(|(method, _)| method.name())
                .collect::<Vec<_>>()
        )),
    };
    let first_token = log.iter().position(|seen| {
        seen.path == "/mcp" && bearer(seen).is_some_and(|token| state.tokens.contains_key(token))
    });
    let bearer_outcome = match first_token {
        None => {
            Outcome::Violated("no request carried a token the authorization server issued".into())
        }
        Some(start) => match log[start..].iter().find(|seen| {
            seen.path == "/mcp"
                && bearer(seen).is_none_or(|token| !state.tokens.contains_key(token))
        }) {
            Some(seen) => Outcome::Violated(format!(
                "after authorization, {} carried no valid token",
                seen.describe()
            )),
            None => Outcome::Pass("every request after authorization carried its token".into()),
        },
    };
    let attempts = authorizations.len();
    let retry_limit = if attempts <= 3 {
        Outcome::Pass(format!(
            "{attempts} authorization requests, then it stopped"
        ))
    } else {
        Outcome::Violated(format!(
            "{attempts} authorization requests for a scope never granted"
        ))
    };
    let completed = if state.called {
        Outcome::Pass("`tools/call test-tool` succeeded with the token".into())
    } else {
        Outcome::Violated("the client never called `test-tool` with a valid token".into())
    };
    let mismatch = if authorizations.is_empty() && state.token_auth.is_empty() {
        Outcome::Pass(format!(
            "the metadata names `{MISMATCHED_RESOURCE}`, and the client did not authorize"
        ))
    } else {
        Outcome::Violated(format!(
            "the metadata names `{MISMATCHED_RESOURCE}`, not the server, yet the client went on \
             to authorize"
        ))
    };
    let requested_offline = authorizations.iter().any(|query| {
        query
            .get("scope")
            .is_some_and(|scope| scope.split(' ').any(|part| part == OFFLINE_ACCESS))
    });
    let registered_grants: Vec<String> = log
        .iter()
        .filter(|seen| seen.method == Method::POST && seen.path == format!("{prefix}/register"))
        .filter_map(|seen| seen.body.as_ref()?.get("grant_types")?.as_array().cloned())
        .flatten()
        .filter_map(|grant| grant.as_str().map(str::to_owned))
        .collect();
    let offline_grant = if !requested_offline {
        Outcome::Pass(
            "the client did not ask for `offline_access` (it may not want a refresh token)".into(),
        )
    } else if !registered
        || registered_grants
            .iter()
            .any(|grant| grant == "refresh_token")
    {
        Outcome::Pass("`offline_access` requested, with the refresh_token grant registered".into())
    } else {
        Outcome::Violated(format!(
            "`offline_access` requested, but the registration's grant_types are {registered_grants:?}"
        ))
    };
    let offline_not_asked = if requested_offline {
        Outcome::Violated(
            "the client asked for `offline_access`, which the server does not list".into(),
        )
    } else {
        Outcome::Pass("no `offline_access`".into())
    };
    let mut all = vec![
        (OFFLINE_GRANT, offline_grant),
        (OFFLINE_NOT_ASKED, offline_not_asked),
        (PRM_DISCOVERED, prm),
        (AS_METADATA, as_metadata),
        (REGISTRATION, registration),
        (PKCE, pkce),
        (RESOURCE, resource_outcome),
        (SCOPE, scope),
        (TOKEN_AUTH, token_auth),
        (BEARER, bearer_outcome),
        (RETRY_LIMIT, retry_limit),
        (COMPLETED, completed),
        (MISMATCH_REFUSED, mismatch),
    ];
    checks_of(kind)
        .into_iter()
        .filter_map(|check| {
            let index = all.iter().position(|(known, _)| known.name == check.name)?;
            Some((check, all.swap_remove(index).1))
        })
        .collect()
}

/// The scopes of a `scope` parameter, as a sorted list.
fn scope_set(scope: Option<&String>) -> Vec<String> {
    let mut scopes: Vec<String> = scope
        .map(|scope| {
            scope
                .split(' ')
                .filter(|part| !part.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    scopes.sort();
    scopes.dedup();
    scopes
}

fn scope_outcome(kind: AuthKind, authorizations: &[HashMap<String, String>]) -> Outcome {
    let Some(first) = authorizations.first() else {
        return Outcome::Violated("the client made no authorization request".into());
    };
    let mut asked = scope_set(first.get("scope"));
    if kind == AuthKind::OfflineAccessScope {
        // The server lists `offline_access`: a client that wants a refresh token may add it.
        asked.retain(|scope| scope != OFFLINE_ACCESS);
    }
    let expected: Option<Vec<String>> = match (kind.challenge_scope(), kind.scopes_supported()) {
        (Some(challenge), _) => Some(scope_set(Some(&challenge.to_owned()))),
        (None, Some(supported)) => Some(scope_set(Some(&supported.join(" ")))),
        (None, None) => None,
    };
    let first_ok = match &expected {
        Some(expected) => &asked == expected,
        None => first.get("scope").is_none(),
    };
    if !first_ok {
        return Outcome::Violated(format!(
            "the first authorization request asked for {:?}, expected {}",
            first.get("scope"),
            expected.map_or_else(
                || "no `scope`".to_owned(),
                |scopes| format!("`{}`", scopes.join(" "))
            )
        ));
    }
    if kind == AuthKind::ScopeStepUp {
        let Some(second) = authorizations.get(1) else {
            return Outcome::Violated(
                "after `insufficient_scope`, the client did not authorize again".into(),
            );
        };
        let again = scope_set(second.get("scope"));
        let union = scope_set(Some(&format!("{BASIC_SCOPE} {WRITE_SCOPE}")));
        if union.iter().all(|scope| again.contains(scope)) {
            return Outcome::Pass(format!(
                "`{}`, then `{}` after the step-up challenge",
                asked.join(" "),
                again.join(" ")
            ));
        }
        return Outcome::Violated(format!(
            "after `insufficient_scope` naming `{}`, the client asked for {:?}",
            union.join(" "),
            second.get("scope")
        ));
    }
    Outcome::Pass(match first.get("scope") {
        Some(scope) => format!("`scope={scope}`"),
        None => "no `scope`, as none was defined".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use bytes::Bytes;
    use http::HeaderMap;

    use super::*;

    const ORIGIN: &str = "http://localhost:9";
    const VERIFIER: &str = "a-verifier-of-enough-length-for-pkce-0123456789";

    /// One departure of the scripted client from a sound OAuth flow.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Flaw {
        None,
        RootMetadataToo,
        NoRegistration,
        PlainPkce,
        NoResource,
        WrongScope,
        PostInsteadOfBasic,
        TokenlessRequest,
        NeverCalls,
        AsksOffline,
    }

    fn seen(method: Method, path_and_query: &str, headers: &[(&str, &str)], body: &[u8]) -> Seen {
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (path_and_query, None),
        };
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        Seen {
            at: Instant::now(),
            method,
            path: path.to_owned(),
            query,
            headers: map,
            body: serde_json::from_slice(body).ok(),
            raw: Bytes::copy_from_slice(body),
        }
    }

    /// Sends `request` to the mock, logging it; returns the answer.
    fn send(
        kind: AuthKind,
        state: &Mutex<AuthState>,
        log: &mut Vec<Seen>,
        request: Seen,
    ) -> Answer {
        log.push(request.clone());
        answer(kind, ORIGIN, state, &request)
    }

    fn rpc(id: u64, method: &str) -> Vec<u8> {
        json!({"jsonrpc": "2.0", "id": id, "method": method,
               "params": {"protocolVersion": REVISION, "capabilities": {}, "name": "test-tool",
                          "clientInfo": {"name": "scripted", "version": "1"}}})
        .to_string()
        .into_bytes()
    }

    /// A scripted client's flow through scenario `kind`, with `flaw`.
    fn flow(kind: AuthKind, flaw: Flaw) -> Vec<(&'static str, bool)> {
        let state = Mutex::new(AuthState::default());
        let mut log = Vec::new();
        let json_post = [
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
        ];
        send(
            kind,
            &state,
            &mut log,
            seen(Method::POST, "/mcp", &json_post, &rpc(0, "initialize")),
        );
        send(
            kind,
            &state,
            &mut log,
            seen(Method::GET, kind.prm_path(), &[], b""),
        );
        if flaw == Flaw::RootMetadataToo {
            send(
                kind,
                &state,
                &mut log,
                seen(
                    Method::GET,
                    "/.well-known/oauth-protected-resource",
                    &[],
                    b"",
                ),
            );
        }
        send(
            kind,
            &state,
            &mut log,
            seen(Method::GET, kind.as_metadata_path(), &[], b""),
        );
        let prefix = kind.endpoint_prefix();
        let (client_id, secret) = match kind {
            AuthKind::PreRegistration => (
                PRE_REGISTERED.0.to_owned(),
                Some(PRE_REGISTERED.1.to_owned()),
            ),
            AuthKind::BasicCimd => ("https://client.example/metadata.json".to_owned(), None),
            _ if flaw == Flaw::NoRegistration => ("unregistered".to_owned(), None),
            _ => {
                let registered = send(
                    kind,
                    &state,
                    &mut log,
                    seen(
                        Method::POST,
                        &format!("{prefix}/register"),
                        &[("content-type", "application/json")],
                        br#"{"client_name":"scripted","redirect_uris":["http://localhost:1/cb"]}"#,
                    ),
                );
                let MockBodyBytes(bytes) = body_of(registered);
                let registered: Value = serde_json::from_slice(&bytes).unwrap();
                (
                    registered["client_id"].as_str().unwrap().to_owned(),
                    registered["client_secret"].as_str().map(str::to_owned),
                )
            }
        };
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
        let scope = match (kind.challenge_scope(), kind.scopes_supported()) {
            _ if flaw == Flaw::WrongScope => Some("everything".to_owned()),
            (Some(scope), _) => Some(scope.to_owned()),
            (None, Some(scopes)) => Some(scopes.join(" ")),
            (None, None) => None,
        };
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &client_id)
            .append_pair("redirect_uri", "http://localhost:1/cb")
            .append_pair("state", "s");
        if flaw == Flaw::PlainPkce {
            query
                .append_pair("code_challenge", VERIFIER)
                .append_pair("code_challenge_method", "plain");
        } else {
            query
                .append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", "S256");
        }
        if flaw != Flaw::NoResource {
            query.append_pair("resource", &resource(ORIGIN));
        }
        let scope = match (flaw, scope) {
            (Flaw::AsksOffline, Some(scope)) => Some(format!("{scope} {OFFLINE_ACCESS}")),
            (_, scope) => scope,
        };
        if let Some(scope) = &scope {
            query.append_pair("scope", scope);
        }
        let redirected = send(
            kind,
            &state,
            &mut log,
            seen(
                Method::GET,
                &format!("{prefix}/authorize?{}", query.finish()),
                &[],
                b"",
            ),
        );
        let location = redirected
            .headers()
            .get("location")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let code = url::Url::parse(&location)
            .unwrap()
            .query_pairs()
            .find(|(key, _)| key == "code")
            .unwrap()
            .1
            .into_owned();
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "authorization_code")
            .append_pair("code", &code)
            .append_pair("code_verifier", VERIFIER)
            .append_pair("redirect_uri", "http://localhost:1/cb");
        if flaw != Flaw::NoResource {
            form.append_pair("resource", &resource(ORIGIN));
        }
        let method = if flaw == Flaw::PostInsteadOfBasic && kind.client_auth() == ClientAuth::Basic
        {
            ClientAuth::Post
        } else {
            kind.client_auth()
        };
        let mut headers = vec![(
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        )];
        match method {
            ClientAuth::Basic => headers.push((
                "authorization".to_owned(),
                format!(
                    "Basic {}",
                    STANDARD.encode(format!(
                        "{client_id}:{}",
                        secret.clone().unwrap_or_default()
                    ))
                ),
            )),
            ClientAuth::Post => {
                form.append_pair("client_id", &client_id)
                    .append_pair("client_secret", &secret.clone().unwrap_or_default());
            }
            ClientAuth::None => {
                form.append_pair("client_id", &client_id);
            }
        }
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let issued = send(
            kind,
            &state,
            &mut log,
            seen(
                Method::POST,
                &format!("{prefix}/token"),
                &headers,
                form.finish().as_bytes(),
            ),
        );
        let MockBodyBytes(bytes) = body_of(issued);
        let token = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|issued| issued["access_token"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let bearer = format!("Bearer {token}");
        let authorized = [
            json_post[0],
            json_post[1],
            ("authorization", bearer.as_str()),
            ("mcp-protocol-version", REVISION),
        ];
        send(
            kind,
            &state,
            &mut log,
            seen(
                Method::POST,
                "/mcp",
                &authorized[..3],
                &rpc(1, "initialize"),
            ),
        );
        send(
            kind,
            &state,
            &mut log,
            seen(
                Method::POST,
                "/mcp",
                &authorized,
                br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            ),
        );
        let list_headers: &[(&str, &str)] = if flaw == Flaw::TokenlessRequest {
            &json_post
        } else {
            &authorized
        };
        send(
            kind,
            &state,
            &mut log,
            seen(Method::POST, "/mcp", list_headers, &rpc(2, "tools/list")),
        );
        if flaw != Flaw::NeverCalls {
            send(
                kind,
                &state,
                &mut log,
                seen(Method::POST, "/mcp", &authorized, &rpc(3, "tools/call")),
            );
        }
        let state = lock(&state);
        evaluate(kind, ORIGIN, &log, &state)
            .into_iter()
            .map(|(check, outcome)| (check.name, matches!(outcome, Outcome::Pass(_))))
            .collect()
    }

    struct MockBodyBytes(Vec<u8>);

    fn body_of(answer: Answer) -> MockBodyBytes {
        match answer.into_body() {
            crate::client::mock::MockBody::Full(bytes) => {
                MockBodyBytes(bytes.map(|bytes| bytes.to_vec()).unwrap_or_default())
            }
            crate::client::mock::MockBody::Channel(_) => MockBodyBytes(Vec::new()),
        }
    }

    fn failed(results: &[(&'static str, bool)]) -> Vec<&'static str> {
        results
            .iter()
            .filter(|(_, passed)| !passed)
            .map(|(name, _)| *name)
            .collect()
    }

    #[test]
    fn a_sound_flow_passes_every_scenario_it_completes() {
        for kind in AuthKind::ALL {
            // The step-up scenarios need a second authorization, the mismatch none at all,
            // and client credentials another grant: the scripted client does one code flow.
            if kind.call_needs_write()
                || matches!(
                    kind,
                    AuthKind::ResourceMismatch | AuthKind::ClientCredentialsBasic
                )
            {
                continue;
            }
            assert_eq!(
                failed(&flow(kind, Flaw::None)),
                Vec::<&str>::new(),
                "{}",
                kind.name()
            );
        }
    }

    #[test]
    fn each_flaw_fails_its_check() {
        let cases = [
            (
                AuthKind::MetadataDefault,
                Flaw::RootMetadataToo,
                "prm-discovered",
            ),
            (
                AuthKind::MetadataDefault,
                Flaw::NoRegistration,
                "client-registration",
            ),
            (AuthKind::MetadataVar2, Flaw::PlainPkce, "pkce"),
            (
                AuthKind::MetadataVar3,
                Flaw::NoResource,
                "resource-parameter",
            ),
            (
                AuthKind::ScopeFromWwwAuthenticate,
                Flaw::WrongScope,
                "scope-selection",
            ),
            (
                AuthKind::ScopeFromScopesSupported,
                Flaw::WrongScope,
                "scope-selection",
            ),
            (
                AuthKind::TokenEndpointAuthBasic,
                Flaw::PostInsteadOfBasic,
                "token-endpoint-auth",
            ),
            (
                AuthKind::PreRegistration,
                Flaw::PostInsteadOfBasic,
                "token-endpoint-auth",
            ),
            (
                AuthKind::MetadataVar1,
                Flaw::TokenlessRequest,
                "bearer-every-request",
            ),
            (
                AuthKind::TokenEndpointAuthNone,
                Flaw::NeverCalls,
                "flow-completed",
            ),
            (AuthKind::OauthEndpointFallback, Flaw::PlainPkce, "pkce"),
            (
                AuthKind::OauthMetadataBackcompat,
                Flaw::NoRegistration,
                "client-registration",
            ),
            (
                AuthKind::OfflineAccessNotSupported,
                Flaw::AsksOffline,
                "offline-access-not-requested",
            ),
            // Asks for a refresh token without registering the refresh_token grant.
            (
                AuthKind::OfflineAccessScope,
                Flaw::AsksOffline,
                "offline-access-refresh-grant",
            ),
            // A client that goes on with metadata naming another resource.
            (
                AuthKind::ResourceMismatch,
                Flaw::None,
                "resource-mismatch-rejected",
            ),
        ];
        for (kind, flaw, check) in cases {
            let failures = failed(&flow(kind, flaw));
            assert!(
                failures.contains(&check),
                "{} with {flaw:?}: failed {failures:?}, not {check}",
                kind.name()
            );
        }
    }

    #[test]
    fn a_step_up_without_the_wider_scope_never_completes() {
        let results = flow(AuthKind::ScopeStepUp, Flaw::None);
        assert_eq!(failed(&results), vec!["scope-selection", "flow-completed"]);
    }
}
