//! The modern era (2026-07-28): stateless requests that carry their own protocol version,
//! client capabilities and client identity in `_meta`.
//!
//! [`serve`] is the one entry point, whatever carries the request: the connection handler of
//! the stdio and in-memory transports calls it for every request whose `_meta` is modern
//! (even on a connection that also holds a legacy session), and a stateless HTTP lane calls it
//! the same way with its own [`Link`]. It checks `_meta` (`-32602`) and the version
//! (`-32022`), then serves the method; every method the modern era removed (`initialize`,
//! `ping`, `logging/setLevel`, `resources/subscribe`, core `tasks/*`...) is `-32601`.

mod link;
pub(crate) mod listen;
mod mrtr;
pub(crate) mod request_state;
pub(crate) mod scope;
mod shape;
#[cfg(feature = "tasks")]
mod tasks;

#[cfg(all(feature = "tasks", feature = "http"))]
pub(crate) use tasks::hear as hear_task;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use mcpwire_jsonrpc::{ErrorObject, RequestId};
use mcpwire_rpc::CancellationToken;
use mcpwire_schema::meta::{self, LogLevel, MetaProbe, RequestMeta};
use mcpwire_schema::v2025_11_25 as wire;
use mcpwire_schema::{Era, JsonObject, ProtocolVersion, v2026_07_28};
use serde_json::Value;
use serde_json::value::RawValue;

pub(crate) use self::link::{Link, ParamHeaders};
use self::listen::ListenerSlots;
use self::mrtr::{InputParams, Outcome, Replay};
use self::request_state::Binding;
use self::scope::ModernScope;
use crate::custom;
use crate::error::missing_capability_error;
use crate::methods::{self, ToolFailure, decode};
use crate::router::Route;
use crate::state::Inner;
use crate::tool::{Tool, text_result};
use crate::{Context, Error, ToolError};

/// One modern request, as a transport hands it over.
pub(crate) struct Inbound {
    /// The method.
    pub(crate) method: String,
    /// The params, raw.
    pub(crate) params: Option<Box<RawValue>>,
    /// The request's `_meta`, decoded by the transport (the stateless HTTP lane), or what
    /// [`meta::probe`](mcpwire_schema::meta::probe) found in the params; `Absent` for a
    /// method only the modern era has, sent without `_meta` (answered `-32602`).
    pub(crate) meta: InboundMeta,
    /// Where the request's notifications go.
    pub(crate) link: Arc<dyn Link>,
    /// A digest of the caller's credentials (such as the `Authorization` header on HTTP), to
    /// which a `requestState` is bound; `None` where there are none (stdio).
    pub(crate) principal: Option<[u8; 32]>,
    /// The subscriptions the connection may still open, on transports with connections;
    /// `None` where only the server-wide limit applies (HTTP).
    pub(crate) listener_slots: Option<Arc<ListenerSlots>>,
}

/// The `_meta` of an [`Inbound`] request, as far as the transport has read it.
pub(crate) enum InboundMeta {
    /// Found by the probe, not yet decoded.
    Probed(MetaProbe),
    /// Decoded and checked for its required members already.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    Decoded(RequestMeta),
}

/// Serves one modern request: the result to answer with, or the error.
///
/// Any transport can call it. The connection handler of stdio and in-memory connections
/// passes the engine's `RequestContext` as the [`Link`]. A stateless HTTP lane (no `Peer`, no
/// session) builds an [`Inbound`] from the POSTed request with a `Link` of its own, whose
/// `notify` writes to the request's reply (switching it to SSE) and whose cancellation fires
/// when the client goes away, passes `Server::inner`, a principal digest (of the
/// `Authorization` header) and no listener slots, and writes the outcome as the final message.
/// The HTTP header checks (`-32020`) and the decoding of `_meta` (`-32602`) are the lane's,
/// which hands the decoded `_meta` over; the version (`-32022`) is checked here again, which
/// is cheap. A `subscriptions/listen` stays here until
/// the link's cancellation fires or [`Server::close_subscriptions`](crate::Server::close_subscriptions).
///
/// A request cancelled through its link returns what it returns; the caller must not send it.
pub(crate) async fn serve(
    server: &Arc<Inner>,
    inbound: Inbound,
) -> Result<Box<RawValue>, ErrorObject> {
    let Inbound {
        method,
        params,
        meta,
        link,
        principal,
        listener_slots,
    } = inbound;
    let meta = match meta {
        InboundMeta::Decoded(meta) => meta,
        InboundMeta::Probed(MetaProbe::Modern(meta)) => {
            RequestMeta::from_meta(meta).map_err(|error| error.to_error_object())?
        }
        InboundMeta::Probed(MetaProbe::Absent) => {
            RequestMeta::from_params(params.as_deref()).map_err(|error| error.to_error_object())?
        }
    };
    let version = meta.check_version(&ProtocolVersion::MODERN)?;
    let request = Request::new(Arc::clone(server), meta, version, link, principal)?;
    let params = params.as_deref();
    let offered =
        Route::of(&method).filter(|&route| route.in_era(Era::Modern) && server.offers(route));
    match offered {
        Some(Route::Discover) => discover(server),
        Some(Route::ListTools) => {
            let tools = methods::list_tools(server, params, &request.client_capabilities)?;
            shape::complete(server, &method, &tools, None)
        }
        Some(Route::CallTool) => call_tool(server, params, request).await,
        Some(Route::ListResources) => shape::complete(
            server,
            &method,
            &methods::list_resources(server, params)?,
            None,
        ),
        Some(Route::ListTemplates) => shape::complete(
            server,
            &method,
            &methods::list_templates(server, params)?,
            None,
        ),
        Some(Route::ReadResource) => read_resource(server, params, request).await,
        Some(Route::ListPrompts) => shape::complete(
            server,
            &method,
            &methods::list_prompts(server, params)?,
            None,
        ),
        Some(Route::GetPrompt) => get_prompt(server, params, request).await,
        Some(Route::Complete) => shape::complete(
            server,
            &method,
            &methods::complete(server, params).await?,
            None,
        ),
        Some(Route::Listen) => {
            #[cfg(feature = "tasks")]
            let tasks = tasks::followed(server, params, &request).await?;
            #[cfg(not(feature = "tasks"))]
            let tasks = None;
            let result = listen::listen(
                server.listeners(),
                |list| server.has_list(list),
                params,
                request.link,
                listener_slots.as_ref(),
                tasks,
            )
            .await?;
            shape::finish(server, Route::Listen.method(), result)
        }
        #[cfg(feature = "tasks")]
        Some(Route::GetTask | Route::UpdateTask | Route::CancelTask) => {
            tasks::serve_method(server, &method, params, &request).await
        }
        // A method of the spec that the modern era or this server does not offer.
        Some(_) => Err(ErrorObject::method_not_found(&method)),
        None => match server.custom_method(&method) {
            Some(handler) => custom_request(server, handler, params, request).await,
            None => Err(ErrorObject::method_not_found(&method)),
        },
    }
}

/// A method registered with `ServerBuilder::request` or `request_raw`. Its handler cannot
/// ask the client: 2026-07-28 allows input rounds only on `tools/call`, `prompts/get` and
/// `resources/read`, so an ask fails. Its result (a JSON object) is completed with
/// `resultType` and the server's identity, and otherwise sent as built.
async fn custom_request(
    server: &Inner,
    handler: &custom::Handler,
    params: Option<&RawValue>,
    request: Request,
) -> Result<Box<RawValue>, ErrorObject> {
    let arguments =
        custom::params_value(params).map_err(|error| error.into_error_object(Era::Modern))?;
    let cancelled = request.link.cancellation().clone();
    let (context, _) = request.context(None);
    let result = tokio::select! {
        result = context.run(|context| handler(arguments, context)) => {
            result.map_err(|error| error.into_error_object(Era::Modern))?
        }
        () = cancelled.cancelled() => {
            return Err(ErrorObject::internal_error("the request was cancelled"));
        }
    };
    let Value::Object(mut result) = result else {
        return Err(ErrorObject::internal_error(
            "the result of a custom method is not a JSON object",
        ));
    };
    result.insert("resultType".to_owned(), Value::from("complete"));
    shape::stamp(server, result)
}

/// What a modern request declared in its `_meta`, checked.
struct Request {
    server: Arc<Inner>,
    version: ProtocolVersion,
    client_capabilities: wire::ClientCapabilities,
    client_extensions: BTreeMap<String, JsonObject>,
    client_info: Option<wire::Implementation>,
    log_level: Option<LogLevel>,
    progress_token: Option<RequestId>,
    link: Arc<dyn Link>,
    principal: Option<[u8; 32]>,
}

impl Request {
    /// Decodes the capabilities and client info of a checked `_meta`.
    ///
    /// # Errors
    ///
    /// `-32602` when they do not have the shape of 2026-07-28.
    fn new(
        server: Arc<Inner>,
        meta: RequestMeta,
        version: ProtocolVersion,
        link: Arc<dyn Link>,
        principal: Option<[u8; 32]>,
    ) -> Result<Self, ErrorObject> {
        let capabilities = Value::Object(meta.client_capabilities);
        let modern: v2026_07_28::ClientCapabilities = serde_json::from_value(capabilities.clone())
            .map_err(|error| {
                ErrorObject::invalid_params(format!("invalid client capabilities: {error}"))
            })?;
        // The 2025-11-25 type is what handlers check; it reads the same members.
        let client_capabilities = serde_json::from_value(capabilities).map_err(|error| {
            ErrorObject::invalid_params(format!("invalid client capabilities: {error}"))
        })?;
        let client_info = meta
            .client_info
            .map(|info| serde_json::from_value(Value::Object(info)))
            .transpose()
            .map_err(|error| {
                ErrorObject::invalid_params(format!("invalid client info: {error}"))
            })?;
        Ok(Request {
            server,
            version,
            client_capabilities,
            client_extensions: modern.extensions.unwrap_or_default(),
            client_info,
            log_level: meta.log_level,
            progress_token: meta.progress_token,
            link,
            principal,
        })
    }

    /// The [`Context`] of the request's handler, and the scope in it; `replay` when the handler
    /// may ask the client. The handler's cancellation fires with the request's.
    fn context(self, replay: Option<Arc<Replay>>) -> (Context, Arc<ModernScope>) {
        let cancellation = self.link.cancellation().child_token();
        let (server, scope) = self.scope(replay, cancellation);
        let scope = Arc::new(scope);
        let interval = server.settings().progress_interval;
        (Context::modern(server, Arc::clone(&scope), interval), scope)
    }

    /// The scope of the request's handler, whose cancellation is `cancellation`.
    fn scope(
        self,
        replay: Option<Arc<Replay>>,
        cancellation: CancellationToken,
    ) -> (Arc<Inner>, ModernScope) {
        let scope = ModernScope {
            replay,
            cancellation,
            version: self.version,
            client_capabilities: self.client_capabilities,
            client_extensions: self.client_extensions,
            client_info: self.client_info,
            log_level: self.log_level,
            progress_token: self.progress_token,
            link: self.link,
            #[cfg(feature = "tasks")]
            task: None,
        };
        (self.server, scope)
    }
}

/// `server/discover`: the versions served, the capabilities and the instructions.
fn discover(server: &Inner) -> Result<Box<RawValue>, ErrorObject> {
    let supported: Vec<&str> = ProtocolVersion::MODERN
        .iter()
        .map(|version| version.as_str())
        .collect();
    let mut capabilities = serde_json::to_value(server.capabilities())
        .map_err(|error| ErrorObject::internal_error(error.to_string()))?;
    let extensions = server.extensions();
    if let (false, Value::Object(capabilities)) = (extensions.is_empty(), &mut capabilities) {
        capabilities.insert("extensions".to_owned(), Value::Object(extensions));
    }
    let mut result = serde_json::json!({
        "supportedVersions": supported,
        "capabilities": capabilities,
    });
    if let (Some(instructions), Value::Object(result)) =
        (&server.settings().instructions, &mut result)
    {
        result.insert(
            "instructions".to_owned(),
            Value::from(instructions.as_str()),
        );
    }
    shape::complete(server, Route::Discover.method(), &result, None)
}

/// How a request that may ask the client ended.
enum Ran<T> {
    /// The handler returned.
    Complete(T),
    /// The `InputRequiredResult` to answer with.
    InputRequired(Box<RawValue>),
}

/// Runs a handler that may ask the client for input, replaying the answers of the request's
/// `inputResponses` and verified `requestState` (see [`mrtr`]).
///
/// # Errors
///
/// `-32602` for invalid `inputResponses`, a `requestState` that fails verification, an answer
/// that is not a result of its ask, or more rounds than the server allows.
async fn with_input<T, F, Fut>(
    server: &Inner,
    method: &str,
    binding: Binding,
    params: Option<&RawValue>,
    request: Request,
    handler: F,
) -> Result<Ran<T>, ErrorObject>
where
    F: FnOnce(Context, Arc<ModernScope>) -> Fut,
    Fut: Future<Output = T>,
{
    let replay = replay_of(server, &binding, params)?;
    let cancelled = request.link.cancellation().clone();
    let (context, scope) = request.context(Some(Arc::clone(&replay)));
    let stop = scope.cancellation.clone();
    match mrtr::run(&replay, &stop, &cancelled, handler(context, scope)).await {
        Outcome::Complete(output) => Ok(Ran::Complete(output)),
        // Nobody reads the answer to a cancelled request.
        Outcome::Cancelled => Err(cancelled_error()),
        Outcome::InputRequired => {
            input_required(server, method, &binding, &replay).map(Ran::InputRequired)
        }
        // `run` waits for the handler; only `run_detachable` detaches it.
        Outcome::Detached => Err(ErrorObject::internal_error(
            "a request detached unexpectedly",
        )),
    }
}

/// The error of a request the client cancelled, which nobody reads.
fn cancelled_error() -> ErrorObject {
    ErrorObject::internal_error("the request was cancelled")
}

/// The input of a run of a handler that may ask the client: the request's `inputResponses`,
/// and its `requestState` once verified against `binding`.
///
/// # Errors
///
/// `-32602` for invalid `inputResponses` or a `requestState` that fails verification.
fn replay_of(
    server: &Inner,
    binding: &Binding,
    params: Option<&RawValue>,
) -> Result<Arc<Replay>, ErrorObject> {
    let (responses, state) = InputParams::read(params)?;
    let state = state
        .map(|token| server.settings().request_state.open(&token, binding))
        .transpose()
        .map_err(|error| ErrorObject::invalid_params(error.to_string()))?;
    Ok(Arc::new(Replay::new(state, responses)))
}

/// The `InputRequiredResult` that ends a round whose handler parked on unanswered asks.
///
/// # Errors
///
/// `-32602` for an answer that is not a result of its ask or more rounds than the server
/// allows; `-32603` for a `requestState` beyond the size limit.
fn input_required(
    server: &Inner,
    method: &str,
    binding: &Binding,
    replay: &Replay,
) -> Result<Box<RawValue>, ErrorObject> {
    let states = &server.settings().request_state;
    let round = replay.finish()?;
    let next = replay.round + 1;
    if next > states.max_rounds {
        return Err(ErrorObject::invalid_params(format!(
            "the request needs more than {} rounds of input",
            states.max_rounds
        )));
    }
    let payload = states.payload(binding, next, round.consumed, round.outstanding);
    let token = states.seal(&payload).map_err(|error| {
        tracing::warn!(%method, %error, "the requestState of a request is too large");
        ErrorObject::internal_error(error.to_string())
    })?;
    let mut result = JsonObject::new();
    result.insert("resultType".to_owned(), Value::from("input_required"));
    result.insert("inputRequests".to_owned(), Value::Object(round.requests));
    result.insert("requestState".to_owned(), Value::String(token));
    shape::finish(server, method, result)
}

/// `tools/call`.
async fn call_tool(
    server: &Inner,
    params: Option<&RawValue>,
    request: Request,
) -> Result<Box<RawValue>, ErrorObject> {
    // A `task` param is ignored: core tasks do not exist in the modern era.
    let params_raw = params;
    let params: wire::CallToolRequestParams = decode(params)?;
    let tool = methods::find_tool(server, &params.name, Era::Modern, || {
        request.client_capabilities.clone()
    })?;
    if let Some(headers) = request.link.param_headers() {
        check_param_headers(headers, &tool, params.arguments.as_ref())?;
    }
    #[cfg(feature = "tasks")]
    let slot = tasks::slot(server, &tool, &request)?;
    let arguments = params.arguments.unwrap_or_default();
    let binding = Binding::new(
        Route::CallTool.method(),
        &params.name,
        &Value::Object(arguments.clone()),
        request.principal,
    );
    #[cfg(feature = "tasks")]
    if let Some(slot) = slot {
        let call = tasks::Call {
            tool,
            arguments,
            binding,
            params: params_raw,
        };
        return tasks::call_tool(call, request, slot).await;
    }
    let ran = with_input(
        server,
        Route::CallTool.method(),
        binding,
        params_raw,
        request,
        |context, scope| run_tool(tool, arguments, context, scope),
    )
    .await?;
    match ran {
        Ran::InputRequired(result) => Ok(result),
        Ran::Complete(outcome) => tool_result(server, outcome),
    }
}

/// The answer to a `tools/call` whose handler returned: its result, or the error a failure
/// is answered with in the modern era.
fn tool_result(
    server: &Inner,
    outcome: Result<wire::CallToolResult, ToolFailure>,
) -> Result<Box<RawValue>, ErrorObject> {
    let result = match outcome {
        Ok(result) => result,
        Err(ToolFailure::Protocol(error)) => return Err(error),
        Err(ToolFailure::Tool(error)) => match &error.capability {
            Some(capability) => return Err(missing_capability_error(capability)),
            None => text_result(error.message().to_owned(), true),
        },
    };
    shape::complete(server, Route::CallTool.method(), &result, None)
}

/// Runs a tool for a modern request: the URL-mode elicitations it waits for become input
/// requests of the round, unless the request became a task (which fails on them).
async fn run_tool(
    tool: Tool,
    arguments: JsonObject,
    context: Context,
    scope: Arc<ModernScope>,
) -> Result<wire::CallToolResult, ToolFailure> {
    let outcome = methods::run_tool(&tool, arguments, context).await;
    match outcome {
        Err(ToolFailure::Tool(error)) if error.capability.is_none() && !scope.runs_as_task() => {
            match error.url_elicitations {
                Some(elicitations) => Err(url_elicitations(&scope, elicitations).await),
                None => Err(ToolFailure::Tool(error)),
            }
        }
        outcome => outcome,
    }
}

/// Checks that the headers mirror the arguments `tool` declares with `x-mcp-header`: each
/// present argument has its header with the same value, after decoding, and no header stands
/// for an absent one. Headers the tool does not declare are ignored.
fn check_param_headers(
    headers: &dyn ParamHeaders,
    tool: &Tool,
    arguments: Option<&JsonObject>,
) -> Result<(), ErrorObject> {
    for (name, expected) in tool.header_params.values(arguments) {
        let problem = match (headers.get(name), expected) {
            (None, None) => continue,
            (Some(Ok(header)), Some(expected)) if header == expected => continue,
            (Some(Err(error)), _) => format!("the Mcp-Param-{name} header is invalid: {error}"),
            (None, Some(_)) => format!(
                "the Mcp-Param-{name} header is missing; tool `{}` mirrors this argument",
                tool.name()
            ),
            (Some(Ok(_)), None) => {
                format!("the Mcp-Param-{name} header is sent for an argument that is absent")
            }
            (Some(Ok(_)), Some(_)) => {
                format!("the Mcp-Param-{name} header does not match its argument")
            }
        };
        return Err(meta::header_mismatch(problem));
    }
    Ok(())
}

/// The URL-mode elicitations a tool waits for become input requests `url-1`, `url-2`...: the
/// run parks, unless the client cannot open URLs.
async fn url_elicitations(
    scope: &ModernScope,
    elicitations: Vec<wire::ElicitRequestURLParams>,
) -> ToolFailure {
    let declared = scope
        .client_capabilities
        .elicitation
        .as_ref()
        .is_some_and(|elicitation| elicitation.url.is_some());
    let Some(replay) = scope.replay.as_ref().filter(|_| declared) else {
        return ToolFailure::Tool(ToolError::from(Error::capability_missing(
            "elicitation.url",
        )));
    };
    let asks = elicitations
        .into_iter()
        .enumerate()
        .map(|(index, elicitation)| {
            let mut params = JsonObject::new();
            params.insert("mode".to_owned(), Value::from("url"));
            params.insert("message".to_owned(), Value::String(elicitation.message));
            params.insert("url".to_owned(), Value::String(elicitation.url));
            (format!("url-{}", index + 1), "elicitation/create", params)
        })
        .collect();
    let error = replay.demand(asks).await;
    ToolFailure::Protocol(ErrorObject::internal_error(error.to_string()))
}

/// `resources/read`: a missing resource is `-32602` with `data.uri`.
async fn read_resource(
    server: &Inner,
    params: Option<&RawValue>,
    request: Request,
) -> Result<Box<RawValue>, ErrorObject> {
    let params_raw = params;
    let params: wire::ReadResourceRequestParams = decode(params)?;
    let readable = methods::Readable::find(server, &params.uri, Era::Modern)?;
    let binding = Binding::new(
        Route::ReadResource.method(),
        &params.uri,
        &Value::String(params.uri.clone()),
        request.principal,
    );
    let uri = params.uri;
    let read = |context, _| readable.read(uri, context);
    let contents = match with_input(
        server,
        Route::ReadResource.method(),
        binding,
        params_raw,
        request,
        read,
    )
    .await?
    {
        Ran::InputRequired(result) => return Ok(result),
        Ran::Complete(contents) => {
            contents.map_err(|error| error.into_error_object(Era::Modern))?
        }
    };
    let result = wire::ReadResourceResult {
        meta: None,
        contents,
    };
    shape::complete(
        server,
        Route::ReadResource.method(),
        &result,
        readable.cache_hints,
    )
}

/// `prompts/get`.
async fn get_prompt(
    server: &Inner,
    params: Option<&RawValue>,
    request: Request,
) -> Result<Box<RawValue>, ErrorObject> {
    let params_raw = params;
    let params: wire::GetPromptRequestParams = decode(params)?;
    let name = params.name.clone();
    let arguments =
        serde_json::to_value(params.arguments.clone().unwrap_or_default()).unwrap_or(Value::Null);
    let binding = Binding::new(
        Route::GetPrompt.method(),
        &name,
        &arguments,
        request.principal,
    );
    let (prompt, arguments) = methods::find_prompt(server, params)?;
    let render = |context: Context, _| context.run(|context| (prompt.handler)(arguments, context));
    let messages = match with_input(
        server,
        Route::GetPrompt.method(),
        binding,
        params_raw,
        request,
        render,
    )
    .await?
    {
        Ran::InputRequired(result) => return Ok(result),
        Ran::Complete(messages) => {
            messages.map_err(|error| error.into_error_object(Era::Modern))?
        }
    };
    shape::complete(
        server,
        Route::GetPrompt.method(),
        &methods::prompt_result(&prompt, messages),
        None,
    )
}
