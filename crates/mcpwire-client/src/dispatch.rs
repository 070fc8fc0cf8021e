//! The engine's handler on the client side: the server's requests (sampling, elicitation,
//! roots, ping) and notifications (progress, logging, list changes, ...).

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

#[cfg(feature = "tasks")]
use mcpwire_ext_tasks::TaskRegistry;
use mcpwire_jsonrpc::method::{NotificationMethod, RequestMethod};
use mcpwire_jsonrpc::{ErrorObject, Notification, RequestId, decode_params};
use mcpwire_rpc::{CancellationToken, Peer};
use mcpwire_schema::v2025_11_25::methods::{
    CreateMessage, Elicit, ElicitationComplete, ListRoots, LoggingMessage, Ping, Progress,
    PromptListChanged, ResourceListChanged, ResourceUpdated, ToolListChanged,
};
use mcpwire_schema::v2025_11_25::{
    CreateMessageRequestParams, ElicitRequestParams, ElicitResult, ElicitResultAction,
    ListRootsResult, ProgressNotificationParams, TaskMetadata,
};
use mcpwire_schema::v2026_07_28::NotificationMetaObject;
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::sync::Notify;

use crate::cache::ResultCache;
use crate::elicitation::{ElicitationModes, apply_defaults};
use mcpwire_protocol::progress::{Destination, ProgressRoute, ProgressRoutes};

use crate::handlers::{DynElicitation, DynRoots, DynSampling, ProgressReporter, RequestContext};
use crate::options::ProgressCallback;
use crate::subscription::Subscriptions;
use crate::{Progress as ProgressUpdate, ServerNotification};

/// How many accepted URL-mode elicitations are remembered, waiting for their completion
/// notification; beyond it the oldest is forgotten.
const MAX_PENDING_URL_ELICITATIONS: usize = 256;

pub(crate) type NotificationCallback = Arc<dyn Fn(ServerNotification) + Send + Sync>;

/// What the application registered, and the routes of progress tokens in use.
pub(crate) struct Shared {
    pub(crate) sampling: Option<Arc<dyn DynSampling>>,
    pub(crate) sampling_tools: bool,
    pub(crate) elicitation: Option<Arc<dyn DynElicitation>>,
    pub(crate) elicitation_modes: ElicitationModes,
    pub(crate) roots: Option<Arc<dyn DynRoots>>,
    pub(crate) on_notification: Option<NotificationCallback>,
    /// The tasks the server asked this client to run, when the client declared task support.
    #[cfg(feature = "tasks")]
    pub(crate) tasks: Option<TaskRegistry>,
    /// The live `subscriptions/listen` streams, by subscription id.
    pub(crate) subscriptions: Subscriptions,
    /// The fresh results of the modern era, when the client keeps them.
    pub(crate) results: Option<ResultCache>,
    /// Where the server's progress on pending calls goes; progress of a call that ended is
    /// dropped rather than handed to the application as if nobody had asked.
    progress_routes: ProgressRoutes<ProgressListener>,
    url_elicitations: Mutex<VecDeque<String>>,
}

/// Where the progress of one outbound request goes.
pub(crate) struct ProgressListener {
    callback: Option<ProgressCallback>,
    /// Signalled on each update, for the caller that extends its timeout.
    pub(crate) signal: Notify,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section is a single insert, remove or scan, so a poisoned lock still
    // guards consistent data.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(crate) fn new(
        sampling: Option<Arc<dyn DynSampling>>,
        sampling_tools: bool,
        elicitation: Option<Arc<dyn DynElicitation>>,
        elicitation_modes: ElicitationModes,
        roots: Option<Arc<dyn DynRoots>>,
        on_notification: Option<NotificationCallback>,
    ) -> Self {
        Shared {
            sampling,
            sampling_tools,
            elicitation,
            elicitation_modes,
            roots,
            on_notification,
            #[cfg(feature = "tasks")]
            tasks: None,
            subscriptions: Subscriptions::default(),
            results: None,
            progress_routes: ProgressRoutes::new(MAX_PROGRESS_ROUTES),
            url_elicitations: Mutex::new(VecDeque::new()),
        }
    }

    /// Routes the progress of a fresh token to `callback` until the returned guard is
    /// dropped; `None` when too many calls follow their progress already, and the call then
    /// goes without a token.
    pub(crate) fn route_progress(
        &self,
        callback: Option<ProgressCallback>,
    ) -> Option<ProgressRegistration> {
        let registration = self.progress_routes.route(ProgressListener {
            callback,
            signal: Notify::new(),
        });
        if registration.is_none() {
            tracing::debug!("too many calls follow their progress; sending one without a token");
        }
        registration
    }

    fn notify_application(&self, notification: ServerNotification) {
        if let Some(callback) = &self.on_notification {
            callback(notification);
        }
    }

    fn remember_url_elicitation(&self, id: String) {
        let mut pending = lock(&self.url_elicitations);
        if pending.len() >= MAX_PENDING_URL_ELICITATIONS {
            pending.pop_front();
        }
        pending.push_back(id);
    }

    /// Whether `id` names an accepted URL elicitation still waiting; it is forgotten now.
    fn complete_url_elicitation(&self, id: &str) -> bool {
        let mut pending = lock(&self.url_elicitations);
        match pending.iter().position(|pending_id| pending_id == id) {
            Some(index) => {
                pending.remove(index);
                true
            }
            None => false,
        }
    }
}

/// Keeps a progress route registered; dropping it removes the route.
pub(crate) type ProgressRegistration = ProgressRoute<ProgressListener>;

/// Most calls whose progress is followed at once.
const MAX_PROGRESS_ROUTES: usize = 4096;

/// The handler the engine calls for everything the server sends.
pub(crate) struct Dispatcher {
    pub(crate) shared: Arc<Shared>,
}

impl mcpwire_rpc::Handler for Dispatcher {
    async fn request(
        &self,
        params: Option<Box<RawValue>>,
        context: mcpwire_rpc::RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let cancellation = context.cancellation().clone();
        let serve = fulfil(
            &self.shared,
            context.method(),
            params.as_deref(),
            Origin::Request(&context),
        );
        tokio::select! {
            outcome = serve => outcome,
            // The engine sends no response to a cancelled request; stop the work now.
            () = cancellation.cancelled() => Err(ErrorObject::internal_error("request cancelled")),
        }
    }

    async fn notification(&self, notification: Notification, _peer: &Peer) {
        self.notification(notification);
    }
}

/// Where a request for the client's handlers comes from.
#[derive(Clone, Copy)]
pub(crate) enum Origin<'a> {
    /// A JSON-RPC request the server sent (legacy era): it may ask for progress and to run as
    /// a task, and a URL elicitation it opens is completed by a later notification.
    Request(&'a mcpwire_rpc::RequestContext),
    /// An input request inside an `InputRequiredResult` (modern era), under its key.
    Input {
        key: &'a str,
        cancellation: &'a CancellationToken,
    },
}

impl Origin<'_> {
    fn cancellation(&self) -> &CancellationToken {
        match self {
            Origin::Request(rpc) => rpc.cancellation(),
            Origin::Input { cancellation, .. } => cancellation,
        }
    }
}

/// Answers one request of the server with the application's handlers, whichever era it
/// comes from: sampling, elicitation (with the form's defaults filled in) and roots, plus
/// `ping` and the tasks the client runs for a legacy server.
///
/// A method the client did not register a handler for is `-32601`; sampling with tools
/// without `sampling.tools`, and an elicitation in an undeclared mode, `-32602`.
pub(crate) async fn fulfil(
    shared: &Arc<Shared>,
    method: &str,
    params: Option<&RawValue>,
    origin: Origin<'_>,
) -> Result<Box<RawValue>, ErrorObject> {
    let rpc = match origin {
        Origin::Request(rpc) => Some(rpc),
        Origin::Input { .. } => None,
    };
    match method {
        Ping::METHOD if rpc.is_some() => encode(&serde_json::Map::new()),
        CreateMessage::METHOD => {
            let Some(handler) = &shared.sampling else {
                return Err(ErrorObject::method_not_found(method));
            };
            let params: CreateMessageRequestParams = decode_params(params)?;
            if !shared.sampling_tools && (params.tools.is_some() || params.tool_choice.is_some()) {
                return Err(ErrorObject::invalid_params(
                    "the client did not declare the sampling.tools capability",
                ));
            }
            let progress_token = params
                .meta
                .as_ref()
                .and_then(|meta| meta.progress_token.clone());
            let handler = Arc::clone(handler);
            let task = params.task.clone();
            run(
                shared,
                origin,
                task.as_ref(),
                progress_token,
                move |context| async move { handler.create_message(params, context).await },
            )
            .await
        }
        Elicit::METHOD => {
            let Some(handler) = &shared.elicitation else {
                return Err(ErrorObject::method_not_found(method));
            };
            let params: ElicitRequestParams = match origin {
                Origin::Request(_) => decode_params(params)?,
                Origin::Input { key, .. } => decode_input_elicitation(params, key)?,
            };
            let modes = shared.elicitation_modes;
            let (task, progress_token) = match &params {
                ElicitRequestParams::ElicitRequestFormParams(form) => {
                    if !modes.form() {
                        return Err(undeclared_mode("form"));
                    }
                    let token = form
                        .meta
                        .as_ref()
                        .and_then(|meta| meta.progress_token.clone());
                    (form.task.clone(), token)
                }
                ElicitRequestParams::ElicitRequestURLParams(url) => {
                    if !modes.url() {
                        return Err(undeclared_mode("url"));
                    }
                    let token = url
                        .meta
                        .as_ref()
                        .and_then(|meta| meta.progress_token.clone());
                    (url.task.clone(), token)
                }
                ElicitRequestParams::Unknown(value) => {
                    let mode = value.get("mode").and_then(|mode| mode.as_str());
                    return Err(undeclared_mode(mode.unwrap_or("unknown")));
                }
            };
            let handler = Arc::clone(handler);
            let shared_for_handler = Arc::clone(shared);
            // Only a legacy server announces the end of a URL elicitation.
            let completes = rpc.is_some();
            run(
                shared,
                origin,
                task.as_ref(),
                progress_token,
                move |context| async move {
                    elicit(
                        &shared_for_handler,
                        handler.as_ref(),
                        params,
                        context,
                        completes,
                    )
                    .await
                },
            )
            .await
        }
        ListRoots::METHOD => {
            let Some(provider) = &shared.roots else {
                return Err(ErrorObject::method_not_found(method));
            };
            let progress_token = progress_token_of(params);
            let context = request_context(origin, origin.cancellation().clone(), progress_token);
            let roots = provider.list_roots(context).await?;
            encode(&ListRootsResult { meta: None, roots })
        }
        #[cfg(feature = "tasks")]
        "tasks/get" | "tasks/result" | "tasks/list" | "tasks/cancel" => {
            let (Some(tasks), Some(rpc)) = (&shared.tasks, rpc) else {
                return Err(ErrorObject::method_not_found(method));
            };
            tasks
                .serve(method, params, rpc.peer(), rpc.cancellation())
                .await
                .unwrap_or_else(|| Err(ErrorObject::method_not_found(method)))
        }
        _ => Err(ErrorObject::method_not_found(method)),
    }
}

/// Runs a handler for a request: as a task when a legacy server asked for one and the client
/// declared task support, answering `CreateTaskResult` at once; otherwise to its result. A
/// `task` param the client did not declare support for is ignored, as the spec asks of
/// receivers.
#[cfg_attr(
    not(feature = "tasks"),
    expect(
        unused_variables,
        reason = "without tasks, every request runs to its result"
    )
)]
async fn run<W, F, T>(
    shared: &Shared,
    origin: Origin<'_>,
    task: Option<&TaskMetadata>,
    progress_token: Option<RequestId>,
    work: W,
) -> Result<Box<RawValue>, ErrorObject>
where
    W: FnOnce(RequestContext) -> F,
    F: Future<Output = Result<T, ErrorObject>> + Send + 'static,
    T: Serialize + Send + 'static,
{
    #[cfg(feature = "tasks")]
    if let (Some(tasks), Some(task), Origin::Request(rpc)) = (&shared.tasks, task, origin) {
        let entry = tasks.create(task.ttl)?;
        let mut context = request_context(origin, entry.cancellation().clone(), progress_token);
        context.task_id = Some(entry.id());
        TaskRegistry::spawn(Arc::clone(&entry), rpc.peer().clone(), work(context));
        return mcpwire_ext_tasks::created(&entry);
    }
    let context = request_context(origin, origin.cancellation().clone(), progress_token);
    encode(&work(context).await?)
}

/// Decodes the params of an elicitation input request. The modern era's URL mode has no
/// `elicitationId` (the retry itself tells the server the interaction finished), so the
/// input's key stands in for it.
fn decode_input_elicitation(
    params: Option<&RawValue>,
    key: &str,
) -> Result<ElicitRequestParams, ErrorObject> {
    let mut value: serde_json::Value = decode_params(params)?;
    if let Some(object) = value.as_object_mut()
        && object.get("mode").and_then(|mode| mode.as_str()) == Some("url")
    {
        object
            .entry("elicitationId")
            .or_insert_with(|| serde_json::Value::String(key.to_owned()));
    }
    serde_json::from_value(value).map_err(|error| ErrorObject::invalid_params(error.to_string()))
}

impl Dispatcher {
    fn notification(&self, notification: Notification) {
        let Notification { method, params } = notification;
        let shared = &self.shared;
        if let Some(results) = &shared.results {
            results.invalidate(&method, params.as_deref());
        }
        // A notification of a `subscriptions/listen` stream goes to its subscription only.
        if let Some(subscription) = subscription_of(params.as_deref()) {
            shared.subscriptions.deliver(
                &subscription,
                method,
                params.as_deref(),
                |method, params| shared.decode_notification(method, params),
            );
            return;
        }
        if let Some(decoded) = shared.decode_notification(method, params.as_deref()) {
            shared.notify_application(decoded);
        }
    }
}

impl Shared {
    /// Decodes a notification for the application, or acts on it and returns `None`: progress
    /// of a call goes to the call, a completed elicitation counts only once, and invalid params
    /// drop the notification.
    pub(crate) fn decode_notification(
        &self,
        method: String,
        params: Option<&RawValue>,
    ) -> Option<ServerNotification> {
        let shared = self;
        let decoded = match method.as_str() {
            Progress::METHOD => {
                let params = decode::<ProgressNotificationParams>(&method, params)?;
                let update = ProgressUpdate {
                    token: params.progress_token,
                    progress: params.progress,
                    total: params.total,
                    message: params.message,
                };
                match shared.progress_routes.destination(&update.token) {
                    Destination::Route(route) => {
                        if let Some(callback) = &route.callback {
                            callback(update);
                        }
                        route.signal.notify_one();
                        return None;
                    }
                    // Progress of a call of this client that ended: nobody waits for it.
                    Destination::Ended => {
                        tracing::debug!(token = ?update.token, "dropping progress of an ended call");
                        return None;
                    }
                    Destination::Unknown => ServerNotification::Progress(update),
                }
            }
            LoggingMessage::METHOD => ServerNotification::LoggingMessage(decode(&method, params)?),
            ToolListChanged::METHOD => ServerNotification::ToolListChanged,
            ResourceListChanged::METHOD => ServerNotification::ResourceListChanged,
            PromptListChanged::METHOD => ServerNotification::PromptListChanged,
            ResourceUpdated::METHOD => {
                ServerNotification::ResourceUpdated(decode(&method, params)?)
            }
            ElicitationComplete::METHOD => {
                let params =
                    decode::<<ElicitationComplete as NotificationMethod>::Params>(&method, params)?;
                // Only completions of elicitations this client accepted count, and each once.
                if !shared.complete_url_elicitation(&params.elicitation_id) {
                    tracing::debug!(
                        elicitation_id = %params.elicitation_id,
                        "ignoring the completion of an unknown elicitation"
                    );
                    return None;
                }
                ServerNotification::ElicitationComplete(params)
            }
            "notifications/tasks/status" => {
                ServerNotification::TaskStatus(decode(&method, params)?)
            }
            // A cancellation the engine did not act on names no request of ours.
            "notifications/cancelled" => return None,
            _ => ServerNotification::Other {
                params: params.and_then(|params| serde_json::from_str(params.get()).ok()),
                method,
            },
        };
        Some(decoded)
    }
}

/// Asks the elicitation handler, then fills in the form's defaults or remembers the accepted
/// URL elicitation for its completion notification.
async fn elicit(
    shared: &Shared,
    handler: &dyn DynElicitation,
    params: ElicitRequestParams,
    context: RequestContext,
    completes: bool,
) -> Result<ElicitResult, ErrorObject> {
    match &params {
        ElicitRequestParams::ElicitRequestFormParams(form) => {
            let schema = form.requested_schema.clone();
            let mut result = handler.elicit(params, context).await?;
            apply_defaults(&schema, &mut result);
            Ok(result)
        }
        ElicitRequestParams::ElicitRequestURLParams(url) => {
            let elicitation_id = url.elicitation_id.clone();
            let result = handler.elicit(params, context).await?;
            if completes && result.action == ElicitResultAction::Accept {
                shared.remember_url_elicitation(elicitation_id);
            }
            Ok(result)
        }
        ElicitRequestParams::Unknown(_) => Err(undeclared_mode("unknown")),
    }
}

fn request_context(
    origin: Origin<'_>,
    cancellation: CancellationToken,
    progress_token: Option<RequestId>,
) -> RequestContext {
    match origin {
        Origin::Request(rpc) => RequestContext {
            id: rpc.id().clone(),
            cancellation,
            progress: progress_token.map(|token| ProgressReporter {
                peer: rpc.peer().clone(),
                updates: Arc::new(mcpwire_protocol::progress::ProgressReporter::new(token)),
            }),
            task_id: None,
        },
        // An input request has no id of its own, and nowhere to report progress to.
        Origin::Input { key, .. } => RequestContext {
            id: RequestId::from(key.to_owned()),
            cancellation,
            progress: None,
            task_id: None,
        },
    }
}

/// The progress token of a request whose params type has no typed `_meta` (`roots/list`).
fn progress_token_of(params: Option<&RawValue>) -> Option<RequestId> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "_meta")]
        meta: Option<ProbeMeta>,
    }
    #[derive(serde::Deserialize)]
    struct ProbeMeta {
        #[serde(rename = "progressToken")]
        progress_token: Option<RequestId>,
    }
    let params = params?;
    serde_json::from_str::<Probe>(params.get())
        .ok()?
        .meta?
        .progress_token
}

/// The `io.modelcontextprotocol/subscriptionId` a notification's `_meta` carries, if any.
///
/// Only params that mention the key (or escape characters, which could spell it) are decoded.
fn subscription_of(params: Option<&RawValue>) -> Option<RequestId> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "_meta")]
        meta: Option<NotificationMetaObject>,
    }
    let params = params?;
    let text = params.get();
    if !text.contains("subscriptionId") && !text.contains("\\u") {
        return None;
    }
    serde_json::from_str::<Probe>(text)
        .ok()?
        .meta?
        .io_modelcontextprotocol_subscription_id
}

fn undeclared_mode(mode: &str) -> ErrorObject {
    ErrorObject::invalid_params(format!(
        "the client did not declare the {mode} elicitation mode"
    ))
}

fn encode<T: Serialize>(result: &T) -> Result<Box<RawValue>, ErrorObject> {
    serde_json::value::to_raw_value(result).map_err(|error| {
        ErrorObject::internal_error(format!("encoding the result failed: {error}"))
    })
}

fn decode<P: serde::de::DeserializeOwned>(method: &str, params: Option<&RawValue>) -> Option<P> {
    match decode_params(params) {
        Ok(params) => Some(params),
        Err(error) => {
            tracing::debug!(%method, %error, "dropping a notification with invalid params");
            None
        }
    }
}
