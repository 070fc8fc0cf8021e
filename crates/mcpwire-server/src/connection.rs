//! One connection: the engine's handler of its messages, with the lifecycle of its legacy
//! session (initialize, initialized) and the routing of its requests; modern requests go to
//! `modern::serve`.

use std::sync::Arc;

use mcpwire_jsonrpc::{ErrorCode, ErrorObject, Notification, RequestId};
use mcpwire_rpc::{Peer, RequestContext};
use mcpwire_schema::v2025_11_25 as wire;
use mcpwire_schema::{Era, ProtocolVersion, meta};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::Context;
use crate::custom;
use crate::methods::{self, ToolFailure, decode, encode};
use crate::modern::{self, listen::ListenerSlots};
use crate::router::{Notice, Route};
use crate::session::{Session, SessionState};
use crate::state::Inner;
use crate::tool::text_result;
use crate::version::{negotiate, project_result};

/// The engine's handler for one connection: its legacy session, and the modern requests that
/// come over the same connection.
pub(crate) struct ConnectionHandler {
    pub(crate) server: Arc<Inner>,
    pub(crate) state: Arc<SessionState>,
    /// The `subscriptions/listen` requests this connection may still open.
    pub(crate) listener_slots: Arc<ListenerSlots>,
}

/// The answer of a modern-only server to `initialize`: `-32022` naming the modern revisions
/// and the one the client asked for, in `data` and in the message (the spec asks a
/// modern-only server to name its versions in any error to `initialize`).
fn refuse_initialize(params: Option<&RawValue>) -> ErrorObject {
    #[derive(Deserialize)]
    struct Requested {
        #[serde(rename = "protocolVersion")]
        protocol_version: String,
    }
    let requested = params
        .and_then(|params| serde_json::from_str::<Requested>(params.get()).ok())
        .map(|requested| requested.protocol_version)
        .unwrap_or_default();
    let mut error = meta::unsupported_protocol_version(&requested, &ProtocolVersion::MODERN);
    // A legacy client may show only the message: it names what the server speaks.
    let names: Vec<&str> = ProtocolVersion::MODERN
        .iter()
        .map(|version| version.as_str())
        .collect();
    error.message = format!(
        "unsupported protocol version: {requested}; this server supports only {}",
        names.join(", ")
    );
    error
}

/// The progress token in any request's `_meta`, read without decoding the rest.
#[derive(Deserialize)]
struct ProgressProbe {
    #[serde(rename = "_meta")]
    meta: Option<ProgressMeta>,
}

#[derive(Deserialize)]
struct ProgressMeta {
    #[serde(rename = "progressToken")]
    progress_token: Option<RequestId>,
}

fn empty() -> Box<RawValue> {
    RawValue::from_string("{}".to_owned()).expect("an empty object is JSON")
}

impl mcpwire_rpc::Handler for ConnectionHandler {
    async fn request(
        &self,
        params: Option<Box<RawValue>>,
        request: RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let method = request.method().to_owned();
        let server = &self.server;
        let route = Route::of(&method);
        // A modern request is served statelessly, whatever the session did before.
        let probe = meta::probe(params.as_deref());
        let modern_only = route.is_some_and(|route| !route.in_era(Era::Legacy));
        let modern_request = probe.is_modern() || modern_only;
        if !server.serves_legacy() && !modern_request && route == Some(Route::Initialize) {
            return Err(refuse_initialize(params.as_deref()));
        }
        if !server.serves_modern() && modern_only {
            return Err(ErrorObject::method_not_found(&method));
        }
        if (modern_request && server.serves_modern()) || !server.serves_legacy() {
            let inbound = modern::Inbound {
                method,
                params,
                meta: modern::InboundMeta::Probed(probe),
                link: Arc::new(request),
                principal: None,
                listener_slots: Some(Arc::clone(&self.listener_slots)),
            };
            return modern::serve(&self.server, inbound).await;
        }
        match route {
            Some(Route::Initialize) => return self.initialize(params.as_deref()).await,
            // Ping is answered in every phase.
            Some(Route::Ping) => return Ok(empty()),
            _ => {}
        }
        let Some(version) = self.state.negotiated_version() else {
            return Err(ErrorObject::new(
                ErrorCode::INVALID_REQUEST,
                format!("`{method}` before `initialize`: the session is not initialized"),
            ));
        };
        // Most requests carry no `_meta`: skip the second read of their params. A key written
        // with `\u` escapes still goes through the probe.
        let progress_token = params
            .as_deref()
            .filter(|params| params.get().contains("_meta") || params.get().contains("\\u"))
            .and_then(|params| serde_json::from_str::<ProgressProbe>(params.get()).ok())
            .and_then(|probe| probe.meta)
            .and_then(|meta| meta.progress_token);
        let params = params.as_deref();
        let offered = route.filter(|&route| route.in_era(Era::Legacy) && server.offers(route));
        let result = match offered {
            Some(Route::ListTools) => encode(&methods::list_tools(
                server,
                params,
                &self.state.client_capabilities(),
            )?),
            Some(Route::CallTool) => self.call_tool(params, request, progress_token).await,
            Some(Route::ListResources) => encode(&methods::list_resources(server, params)?),
            Some(Route::ListTemplates) => encode(&methods::list_templates(server, params)?),
            Some(Route::ReadResource) => {
                let context = self.context(request, progress_token);
                self.read_resource(params, context).await
            }
            Some(Route::Subscribe) => self.subscribe(params, true).await,
            Some(Route::Unsubscribe) => self.subscribe(params, false).await,
            Some(Route::ListPrompts) => encode(&methods::list_prompts(server, params)?),
            Some(Route::GetPrompt) => {
                let context = self.context(request, progress_token);
                self.get_prompt(params, context).await
            }
            Some(Route::Complete) => encode(&methods::complete(server, params).await?),
            Some(Route::SetLevel) => self.set_level(params).await,
            #[cfg(feature = "tasks")]
            Some(route) if route.is_task() && self.tasks_active() => {
                self.serve_task_method(&method, params, &request).await
            }
            // A method of the spec the session does not offer, or one answered above.
            Some(_) => Err(ErrorObject::method_not_found(&method)),
            None => match server.custom_method(&method) {
                // A custom method's result is its handler's, sent as built.
                Some(handler) => {
                    let context = self.context(request, progress_token);
                    return custom::serve_legacy(handler, params, context).await;
                }
                None => Err(ErrorObject::method_not_found(&method)),
            },
        }?;
        Ok(project_result(version, &method, result))
    }

    async fn notification(&self, notification: Notification, _peer: &Peer) {
        let Some(notice) = Notice::of(&notification.method) else {
            tracing::debug!(method = %notification.method, "ignoring a notification");
            return;
        };
        match notice {
            Notice::Initialized => {
                // The first `notifications/initialized` completes the handshake; a repeat
                // does not run the callback again.
                let first = self.state.complete_handshake();
                if first && let Err(error) = self.state.persist().await {
                    tracing::debug!(message = %error.message, "the end of the handshake was not saved");
                }
                if let (true, Some(callback), Some(peer)) = (
                    first,
                    &self.server.settings().on_initialized,
                    self.state.peer(),
                ) {
                    (callback.0)(Session::new(peer.clone(), Arc::clone(&self.state)));
                }
            }
            Notice::RootsListChanged => {
                if let (Some(callback), Some(peer)) = (
                    &self.server.settings().on_roots_list_changed,
                    self.state.peer(),
                ) {
                    (callback.0)(Session::new(peer.clone(), Arc::clone(&self.state)));
                }
            }
            Notice::Progress => {
                self.state
                    .route_client_progress(notification.params.as_deref());
            }
            Notice::TaskStatus => {
                let (Some(callback), Some(peer)) = (
                    &self.server.settings().on_client_task_status,
                    self.state.peer(),
                ) else {
                    return;
                };
                match decode::<wire::Task>(notification.params.as_deref()) {
                    Ok(task) => {
                        (callback.0)(Session::new(peer.clone(), Arc::clone(&self.state)), task)
                    }
                    Err(_) => tracing::debug!("dropping a task status with invalid params"),
                }
            }
        }
    }
}

impl ConnectionHandler {
    async fn initialize(&self, params: Option<&RawValue>) -> Result<Box<RawValue>, ErrorObject> {
        let params: wire::InitializeRequestParams = decode(params)?;
        let version = negotiate(&params.protocol_version);
        if !self
            .state
            .record_negotiation(version, params.capabilities, params.client_info)
        {
            return Err(ErrorObject::new(
                ErrorCode::INVALID_REQUEST,
                "the session is already initialized",
            ));
        }
        let result = wire::InitializeResult {
            meta: None,
            capabilities: self.server.capabilities(),
            instructions: self.server.settings().instructions.clone(),
            protocol_version: version.as_str().to_owned(),
            server_info: self.server.settings().info.clone(),
        };
        // A shared session is saved before the answer, so that the client's next request
        // finds it on any instance.
        self.state.persist().await?;
        Ok(project_result(version, "initialize", encode(&result)?))
    }

    async fn set_level(&self, params: Option<&RawValue>) -> Result<Box<RawValue>, ErrorObject> {
        let params: wire::SetLevelRequestParams = decode(params)?;
        if params.level.is_unknown() {
            return Err(ErrorObject::invalid_params(format!(
                "unknown logging level `{}`",
                params.level
            )));
        }
        self.state.set_log_level(params.level);
        self.state.persist().await?;
        Ok(empty())
    }

    async fn call_tool(
        &self,
        params: Option<&RawValue>,
        request: RequestContext,
        progress_token: Option<RequestId>,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let params: wire::CallToolRequestParams = decode(params)?;
        let tool = methods::find_tool(&self.server, &params.name, Era::Legacy, || {
            self.state.client_capabilities()
        })?;
        let version = self.state.version();
        // Tasks exist from 2025-11-25, and only when this server declared them; otherwise a
        // `task` param is ignored, as the spec asks of receivers without the capability.
        let tasks_active = self.tasks_active();
        let task = params.task.filter(|_| tasks_active);
        match (&task, tool.task_support()) {
            (Some(_), wire::ToolExecutionTaskSupport::Forbidden) => {
                return Err(ErrorObject::method_not_found(&format!(
                    "tools/call of `{}` as a task",
                    params.name
                )));
            }
            (None, wire::ToolExecutionTaskSupport::Required) if tasks_active => {
                return Err(ErrorObject::method_not_found(&format!(
                    "tools/call of `{}` without a task",
                    params.name
                )));
            }
            _ => {}
        }
        let arguments = params.arguments.unwrap_or_default();
        #[cfg(feature = "tasks")]
        let peer = request.peer().clone();
        let context = self.context(request, progress_token);
        #[cfg(feature = "tasks")]
        if let Some(task) = task {
            let entry = self.state.tasks().create(task.ttl)?;
            // Shared before it runs and before it is answered, so that any instance finds it.
            #[cfg(feature = "http")]
            if let Some(owner) = self.state.shared_tasks_owner()
                && let Err(error) = crate::session_tasks::share(&self.server, &entry, owner).await
            {
                entry.cancel();
                return Err(error);
            }
            let context = Context {
                task: Some(Arc::clone(&entry)),
                ..context
            };
            mcpwire_ext_tasks::TaskRegistry::spawn(Arc::clone(&entry), peer, async move {
                run_tool(&tool, arguments, context, version).await
            });
            return mcpwire_ext_tasks::created(&entry);
        }
        run_tool(&tool, arguments, context, version)
            .await
            .and_then(|result| encode(&result))
    }

    /// `tasks/get`, `tasks/result`, `tasks/list` or `tasks/cancel`: of the session's tasks
    /// here, or of those it shares with the other instances of its deployment.
    #[cfg(feature = "tasks")]
    async fn serve_task_method(
        &self,
        method: &str,
        params: Option<&RawValue>,
        request: &RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        #[cfg(feature = "http")]
        if let Some(owner) = self.state.shared_tasks_owner() {
            let shared = crate::session_tasks::serve(
                &self.server,
                &self.state,
                owner,
                method,
                params,
                request.peer(),
                request.cancellation(),
            )
            .await;
            if let Some(outcome) = shared {
                return outcome;
            }
        }
        self.state
            .tasks()
            .serve(method, params, request.peer(), request.cancellation())
            .await
            .unwrap_or_else(|| Err(ErrorObject::method_not_found(method)))
    }

    /// The context of a handler serving `request` for this session.
    fn context(&self, request: RequestContext, progress_token: Option<RequestId>) -> Context {
        let server: Arc<Inner> = Arc::clone(&self.server);
        let interval = server.settings().progress_interval;
        Context::legacy(
            server,
            request,
            Arc::clone(&self.state),
            progress_token,
            interval,
        )
    }

    /// Whether this session serves tasks: the server declared them (feature `tasks`), and
    /// the session's revision has them (2025-11-25 and later).
    fn tasks_active(&self) -> bool {
        cfg!(feature = "tasks")
            && self.server.settings().tasks_enabled
            && self.state.version() >= ProtocolVersion::V2025_11_25
    }

    async fn read_resource(
        &self,
        params: Option<&RawValue>,
        context: Context,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let params: wire::ReadResourceRequestParams = decode(params)?;
        let readable = methods::Readable::find(&self.server, &params.uri, Era::Legacy)?;
        let contents = readable
            .read(params.uri, context)
            .await
            .map_err(|error| error.into_error_object(Era::Legacy))?;
        encode(&wire::ReadResourceResult {
            meta: None,
            contents,
        })
    }

    async fn subscribe(
        &self,
        params: Option<&RawValue>,
        subscribe: bool,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let params: wire::SubscribeRequestParams = decode(params)?;
        if subscribe {
            self.state.subscribe(params.uri)?;
        } else {
            self.state.unsubscribe(&params.uri);
        }
        self.state.persist().await?;
        Ok(empty())
    }

    async fn get_prompt(
        &self,
        params: Option<&RawValue>,
        context: Context,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let (prompt, arguments) = methods::find_prompt(&self.server, decode(params)?)?;
        let messages = context
            .run(|context| (prompt.handler)(arguments, context))
            .await
            .map_err(|error| error.into_error_object(Era::Legacy))?;
        encode(&methods::prompt_result(&prompt, messages))
    }
}

/// Runs a tool for a legacy session: a URL elicitation the tool needs is the protocol error
/// -32042 (from 2025-11-25), and any other failure a tool execution error.
async fn run_tool(
    tool: &crate::Tool,
    arguments: mcpwire_schema::JsonObject,
    context: Context,
    version: ProtocolVersion,
) -> Result<wire::CallToolResult, ErrorObject> {
    match methods::run_tool(tool, arguments, context).await {
        Ok(result) => Ok(result),
        Err(ToolFailure::Protocol(error)) => Err(error),
        Err(ToolFailure::Tool(error)) => match error.url_elicitations {
            Some(elicitations) if version >= ProtocolVersion::V2025_11_25 => Err(
                crate::error::url_elicitation_required_error(error.message, &elicitations),
            ),
            _ => Ok(text_result(error.message().to_owned(), true)),
        },
    }
}
