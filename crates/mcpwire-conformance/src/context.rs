//! What a check works with: the target, the options, what the first contact learned about
//! the server, a shared session and the server's lists, gathered once.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::Options;
use crate::session::{Exchange, LATEST_LEGACY, LegacySession, MODERN, Modern};
use crate::target::{Target, Transport};

/// The most pages a list is read to; past it, the list is taken as it is.
const PAGE_LIMIT: usize = 100;

/// An era, as a check runs in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Era {
    /// `initialize` and sessions (2024-11-05 … 2025-11-25).
    Legacy,
    /// Stateless requests (2026-07-28).
    Modern,
}

/// What the first contact learned about the server.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Profile {
    /// The `initialize` result, when a legacy session could be made.
    pub initialize: Option<Value>,
    /// The version the server chose in `initialize`.
    pub legacy_version: Option<String>,
    /// Why no legacy session could be made.
    pub legacy_error: Option<String>,
    /// The `server/discover` result, when the server speaks the modern era.
    pub discover: Option<Value>,
    /// Why the modern era is not spoken (what `server/discover` gave).
    pub modern_error: Option<String>,
    /// What the server answered a request without an access token, when that was `401`: the
    /// server is protected.
    pub protection: Option<Protection>,
    /// Where an HTTP+SSE server (2024-11-05) posts messages, when the URL given is the event
    /// stream of that transport rather than a Streamable HTTP endpoint.
    pub http_sse_endpoint: Option<String>,
}

/// How a protected server answered a request without an access token.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Protection {
    /// The `WWW-Authenticate` fields, as sent.
    pub challenges: Vec<String>,
}

impl Profile {
    /// The eras the server speaks.
    pub fn eras(&self) -> Vec<Era> {
        let mut eras = Vec::new();
        if self.initialize.is_some() {
            eras.push(Era::Legacy);
        }
        if self.discover.is_some() {
            eras.push(Era::Modern);
        }
        eras
    }

    /// The server's capabilities in `era`.
    pub fn capabilities(&self, era: Era) -> Option<&Value> {
        match era {
            Era::Legacy => self.initialize.as_ref()?.get("capabilities"),
            Era::Modern => self.discover.as_ref()?.get("capabilities"),
        }
    }

    /// `serverInfo` (from `initialize`, else from `server/discover`).
    pub fn server_info(&self) -> Option<&Value> {
        self.initialize
            .as_ref()
            .and_then(|result| result.get("serverInfo"))
            .or_else(|| self.discover.as_ref()?.get("serverInfo"))
    }
}

/// What a check works with.
#[derive(Debug)]
pub struct Ctx {
    target: Target,
    options: Options,
    profile: Profile,
    era: Era,
    shared: Option<LegacySession>,
    modern: Option<Modern>,
    lists: HashMap<(Era, &'static str), Result<Vec<Value>, String>>,
}

impl Ctx {
    /// Makes first contact: `server/discover` for the modern era, `initialize` for the legacy
    /// one (each unless `options.revision` names the other era).
    pub(crate) async fn probe(target: Target, options: Options) -> Ctx {
        let mut ctx = Ctx {
            target,
            options,
            profile: Profile::default(),
            era: Era::Legacy,
            shared: None,
            modern: None,
            lists: HashMap::new(),
        };
        if let Some(wire) = ctx.http_anonymous() {
            // A `ping` outside any session changes nothing on any server: a protected one
            // refuses it for want of a token before anything else.
            let ping =
                json!({"jsonrpc": "2.0", "id": "mcpwire-conformance-probe", "method": "ping"});
            let request = crate::wire::http::HttpRequest::post(ping.to_string());
            if let Ok(reply) = wire
                .send(
                    request,
                    crate::wire::http::Until::End,
                    ctx.options.step_limit,
                )
                .await
                && reply.status.as_u16() == 401
            {
                let challenges = reply
                    .headers
                    .get_all(http::header::WWW_AUTHENTICATE)
                    .iter()
                    .filter_map(|value| value.to_str().ok().map(str::to_owned))
                    .collect();
                ctx.profile.protection = Some(Protection { challenges });
                if ctx.target.bearer().is_none() {
                    let why = "the server asks for an access token (401 without one): give \
                               one (`--bearer`) to test more than its authorization";
                    ctx.profile.legacy_error = Some(why.to_owned());
                    ctx.profile.modern_error = Some(why.to_owned());
                    return ctx;
                }
            }
        }
        let revision = ctx.options.revision.clone();
        let want_modern = revision
            .as_deref()
            .is_none_or(|revision| revision >= MODERN);
        let want_legacy = revision.as_deref().is_none_or(|revision| revision < MODERN);
        if want_modern {
            match Modern::open(&ctx.target, ctx.options.step_limit) {
                Ok(mut modern) => match modern.request("server/discover", None).await {
                    Ok(exchange) => {
                        let supported = exchange
                            .result()
                            .and_then(|result| result.get("supportedVersions"))
                            .and_then(Value::as_array)
                            .is_some_and(|versions| versions.iter().any(|v| v == MODERN));
                        if supported {
                            ctx.profile.discover = exchange.result().cloned();
                            ctx.modern = Some(modern);
                        } else {
                            ctx.profile.modern_error =
                                Some(format!("`server/discover`: {}", exchange.seen()));
                            modern.close().await;
                        }
                    }
                    Err(error) => {
                        ctx.profile.modern_error = Some(error);
                        modern.close().await;
                    }
                },
                Err(error) => ctx.profile.modern_error = Some(error),
            }
        }
        let version = revision.unwrap_or_else(|| LATEST_LEGACY.to_owned());
        if want_legacy {
            match LegacySession::open(&ctx.target, &version, json!({}), ctx.options.step_limit)
                .await
            {
                Ok(session) => {
                    ctx.profile.initialize = Some(session.initialize.clone());
                    ctx.profile.legacy_version = Some(session.version.clone());
                    ctx.shared = Some(session);
                }
                Err(error) => ctx.profile.legacy_error = Some(error),
            }
        }
        if want_legacy && ctx.profile.initialize.is_none() && ctx.profile.discover.is_none() {
            ctx.try_http_sse(&version).await;
        }
        ctx
    }

    /// Tries the URL as the event stream of the HTTP+SSE transport (2024-11-05), for a server
    /// that speaks neither era over Streamable HTTP; when it is one, the run goes on over it.
    async fn try_http_sse(&mut self, version: &str) {
        let Target::Http { url, bearer } = &self.target else {
            return;
        };
        let candidate = Target::HttpSse {
            url: url.clone(),
            bearer: bearer.clone(),
        };
        let Ok(wire) = crate::wire::http::HttpWire::for_target(&candidate) else {
            return;
        };
        let endpoint =
            match crate::wire::legacy_sse::SseWire::open(&wire, self.options.step_limit).await {
                Ok(stream) => stream.endpoint().to_owned(),
                Err(_) => return,
            };
        match LegacySession::open(&candidate, version, json!({}), self.options.step_limit).await {
            Ok(session) => {
                self.profile.initialize = Some(session.initialize.clone());
                self.profile.legacy_version = Some(session.version.clone());
                self.profile.legacy_error = None;
                self.profile.modern_error = Some(
                    "the server speaks the HTTP+SSE transport of 2024-11-05, which has no \
                     modern era"
                        .to_owned(),
                );
                self.profile.http_sse_endpoint = Some(endpoint);
                self.shared = Some(session);
                self.target = candidate;
            }
            Err(error) => {
                self.profile.legacy_error = Some(format!(
                    "over HTTP+SSE (its `endpoint` event names {endpoint}): {error}"
                ));
            }
        }
    }

    /// Ends the shared connections.
    pub(crate) async fn close(mut self) {
        if let Some(session) = self.shared.take() {
            session.close().await;
        }
        if let Some(modern) = self.modern.take() {
            modern.close().await;
        }
    }

    /// Sets the era the next check runs in.
    pub(crate) fn set_era(&mut self, era: Era) {
        self.era = era;
    }

    /// Forgets the shared legacy session (a check that timed out may have left it midway).
    pub(crate) fn reset_shared(&mut self) {
        self.shared = None;
        self.modern = None;
    }

    /// The server under test.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The transport of the server under test.
    pub fn transport(&self) -> Transport {
        self.target.transport()
    }

    /// The options of the run.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// What first contact learned.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The era this check runs in.
    pub fn era(&self) -> Era {
        self.era
    }

    /// How long one exchange may take.
    pub fn step_limit(&self) -> Duration {
        self.options.step_limit
    }

    /// The server's capabilities in the current era (`{}` when unknown).
    pub fn capabilities(&self) -> Value {
        self.profile
            .capabilities(self.era)
            .cloned()
            .unwrap_or_else(|| json!({}))
    }

    /// Whether the server declared capability `name` in the current era.
    pub fn declares(&self, name: &str) -> bool {
        self.profile
            .capabilities(self.era)
            .and_then(|capabilities| capabilities.get(name))
            .is_some_and(|value| !value.is_null())
    }

    /// The version the legacy session negotiated.
    pub fn legacy_version(&self) -> &str {
        self.profile
            .legacy_version
            .as_deref()
            .unwrap_or(LATEST_LEGACY)
    }

    /// The legacy session shared by checks that leave it as they found it.
    pub async fn shared(&mut self) -> Result<&mut LegacySession, String> {
        if self.shared.is_none() {
            let session = self.fresh_legacy().await?;
            self.shared = Some(session);
        }
        self.shared
            .as_mut()
            .ok_or_else(|| "no legacy session".to_owned())
    }

    /// A new legacy session (over stdio, a new process) with no client capabilities; the
    /// check closes it.
    pub async fn fresh_legacy(&self) -> Result<LegacySession, String> {
        self.fresh_legacy_with(json!({})).await
    }

    /// A new legacy session declaring `capabilities`.
    pub async fn fresh_legacy_with(&self, capabilities: Value) -> Result<LegacySession, String> {
        let version = self.legacy_version().to_owned();
        LegacySession::open(
            &self.target,
            &version,
            capabilities,
            self.options.step_limit,
        )
        .await
    }

    /// The server's HTTP endpoint, when it is reached over HTTP: for checks that send raw
    /// requests with headers of their choosing.
    pub fn http(&self) -> Option<crate::wire::http::HttpWire> {
        match &self.target {
            Target::Http { .. } => crate::wire::http::HttpWire::for_target(&self.target).ok(),
            Target::Stdio(_) | Target::HttpSse { .. } => None,
        }
    }

    /// The server's HTTP endpoint without the run's access token: for the checks of a
    /// protected server's answers to requests that carry none.
    pub fn http_anonymous(&self) -> Option<crate::wire::http::HttpWire> {
        match &self.target {
            Target::Http { url, .. } => crate::wire::http::HttpWire::new(url).ok(),
            Target::Stdio(_) | Target::HttpSse { .. } => None,
        }
    }

    /// The modern client shared by checks.
    pub fn modern(&mut self) -> Result<&mut Modern, String> {
        if self.modern.is_none() {
            self.modern = Some(Modern::open(&self.target, self.options.step_limit)?);
        }
        self.modern
            .as_mut()
            .ok_or_else(|| "no modern connection".to_owned())
    }

    /// A new modern connection (over stdio, a new process); the check closes it.
    pub fn fresh_modern(&self) -> Result<Modern, String> {
        Modern::open(&self.target, self.options.step_limit)
    }

    /// Sends a request in the current era: in the shared legacy session, or as a modern
    /// request with no client capabilities.
    pub async fn request(
        &mut self,
        method: &str,
        params: Option<Value>,
    ) -> Result<Exchange, String> {
        match self.era {
            Era::Legacy => self.shared().await?.request(method, params).await,
            Era::Modern => self.modern()?.request(method, params).await,
        }
    }

    /// Every item of a paginated list (`tools/list` with key `tools`, …) in the current
    /// era, read once per run; at most 100 pages.
    pub async fn list(
        &mut self,
        method: &'static str,
        key: &'static str,
    ) -> Result<Vec<Value>, String> {
        if let Some(list) = self.lists.get(&(self.era, method)) {
            return list.clone();
        }
        let list = self.read_list(method, key).await;
        self.lists.insert((self.era, method), list.clone());
        list
    }

    async fn read_list(&mut self, method: &str, key: &str) -> Result<Vec<Value>, String> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..PAGE_LIMIT {
            let params = cursor.as_ref().map(|cursor| json!({"cursor": cursor}));
            let exchange = self.request(method, params).await?;
            let Some(result) = exchange.result() else {
                return Err(format!("`{method}` failed: {}", exchange.seen()));
            };
            let Some(page) = result.get(key).and_then(Value::as_array) else {
                return Err(format!(
                    "`{method}` has no `{key}` array: {}",
                    exchange.seen()
                ));
            };
            items.extend(page.iter().cloned());
            match result.get("nextCursor").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => cursor = Some(next.to_owned()),
                _ => return Ok(items),
            }
        }
        Ok(items)
    }

    /// Whether a check may call `tool`: when the user allowed tool calls, or when the tool
    /// says it is read-only and not destructive.
    pub fn may_call(&self, tool: &Value) -> bool {
        if self.options.call_tools {
            return true;
        }
        let annotations = tool.get("annotations");
        let flag = |name: &str| {
            annotations
                .and_then(|annotations| annotations.get(name))
                .and_then(Value::as_bool)
        };
        flag("readOnlyHint") == Some(true) && flag("destructiveHint") != Some(true)
    }
}
