//! What a handler can do while it serves a request.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use mcpwire_jsonrpc::RequestId;
use mcpwire_jsonrpc::method::RequestMethod;
use mcpwire_rpc::CancellationToken;
use mcpwire_schema::v2025_11_25::{self as wire, methods};
use mcpwire_schema::{Era, ProtocolVersion};
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::Error;
use crate::ask::{AskOptions, check_elicitation, check_sampling, decode_result};
use crate::modern::scope::ModernScope;
use crate::progress::{Decision, Progress};
use crate::session::SessionState;
use crate::version::project_params;

/// The context of one request a handler serves: cancellation, progress, logging, and requests
/// to the client (sampling, elicitation, roots).
///
/// A handler is written once for both protocol eras. Asking the client goes through one API:
/// in the legacy era it is a request on the session; in the modern era (2026-07-28), which has
/// no server-to-client requests, it is a multi round-trip request. There the first run of the
/// handler stops at the first unanswered ask, the client gets an `InputRequiredResult` with
/// every ask of that run, and its retry runs the handler again from the top: asks answered in
/// earlier rounds return their answers at once. Code before an ask may therefore run once per
/// round; keep it free of side effects that must not repeat. Each ask is checked against the
/// capabilities the client declared first.
#[derive(Clone, Debug)]
pub struct Context {
    /// The server serving the request.
    pub(crate) server: Arc<dyn ServerState>,
    pub(crate) scope: Scope,
    /// Where the handler's progress goes, when the request carried a progress token.
    pub(crate) progress: Option<Arc<Progress>>,
    /// The task this handler runs as, when the request was task-augmented.
    #[cfg(feature = "tasks")]
    pub(crate) task: Option<Arc<mcpwire_ext_tasks::TaskEntry>>,
}

/// The state of the server that serves a request, as a [`Context`] holds it.
///
/// Opaque on purpose: that state holds the tools, resources and prompts, whose handlers take a
/// `Context`, so naming its type here would make the definitions and the context depend on each
/// other. Only the server's state implements it, and [`Context::server`], defined beside
/// `Server` above both, takes the concrete state back (as `Any`, a supertrait).
pub(crate) trait ServerState: Any + Send + Sync + fmt::Debug {}

/// Which era a request is served in, with what that era needs.
#[derive(Clone, Debug)]
pub(crate) enum Scope {
    /// A request of a legacy session: the engine's context of the request, and the session.
    Legacy {
        request: mcpwire_rpc::RequestContext,
        session: Arc<SessionState>,
    },
    /// A modern, stateless request: everything comes from the request itself.
    Modern(Arc<ModernScope>),
}

impl Context {
    /// The context of a request of a legacy session.
    pub(crate) fn legacy(
        server: Arc<dyn ServerState>,
        request: mcpwire_rpc::RequestContext,
        session: Arc<SessionState>,
        progress_token: Option<RequestId>,
        progress_interval: Duration,
    ) -> Self {
        Context {
            server,
            scope: Scope::Legacy { request, session },
            progress: progress_token.map(|token| Arc::new(Progress::new(token, progress_interval))),
            #[cfg(feature = "tasks")]
            task: None,
        }
    }

    /// The context of a modern request.
    pub(crate) fn modern(
        server: Arc<dyn ServerState>,
        scope: Arc<ModernScope>,
        progress_interval: Duration,
    ) -> Self {
        Context {
            server,
            progress: scope
                .progress_token
                .clone()
                .map(|token| Arc::new(Progress::new(token, progress_interval))),
            scope: Scope::Modern(scope),
            #[cfg(feature = "tasks")]
            task: None,
        }
    }

    /// Fires when the client cancels the request or the connection ends.
    ///
    /// For a tool running as a task, it fires when the task is cancelled (`tasks/cancel`), when
    /// it expires, or (2025-11-25) when the session ends, unless the task belongs to the
    /// session's principal. In the modern era it also fires when the run
    /// stops to ask the client for input (an `InputRequiredResult`): work the handler spawned
    /// should stop then, as the retry runs the handler again.
    pub fn cancellation(&self) -> &CancellationToken {
        #[cfg(feature = "tasks")]
        if let Some(task) = &self.task {
            return task.cancellation();
        }
        match &self.scope {
            Scope::Legacy { request, .. } => request.cancellation(),
            Scope::Modern(modern) => &modern.cancellation,
        }
    }

    /// The `http::Extensions` of the HTTP request that carried this request, as the `tower`
    /// layers in front of the endpoint left them: with `mcpwire-auth`'s `BearerAuthLayer`,
    /// the verified `Principal` (who the request comes from, with its scopes and claims).
    /// `None` over other transports.
    ///
    /// In a legacy session, these are the extensions of the session's latest HTTP request
    /// that had any. A session belongs to the principal that opened it (another one's
    /// requests do not find it), so the identity they carry is the session's, and their
    /// scopes are the latest token's.
    ///
    /// ```
    /// # fn principal(context: &mcpwire_server::Context) -> Option<String> {
    /// # #[derive(Clone)] struct Principal { subject: Option<String> }
    /// let extensions = context.http_extensions()?;
    /// let principal = extensions.get::<Principal>()?;
    /// principal.subject.clone()
    /// # }
    /// ```
    #[cfg(feature = "http")]
    pub fn http_extensions(&self) -> Option<Arc<http::Extensions>> {
        match &self.scope {
            Scope::Legacy { session, .. } => session.http_extensions(),
            Scope::Modern(modern) => modern.link.http_extensions(),
        }
    }

    /// The era of the request: [`Era::Legacy`] for a request of an initialized session,
    /// [`Era::Modern`] for a stateless request that carried its own `_meta`.
    pub fn era(&self) -> Era {
        match &self.scope {
            Scope::Legacy { .. } => Era::Legacy,
            Scope::Modern(_) => Era::Modern,
        }
    }

    /// Returns `true` once the request is cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancellation().is_cancelled()
    }

    /// The id of the task this handler runs as: the task the client asked for (2025-11-25),
    /// or the task the request became (the tasks extension of 2026-07-28).
    #[cfg(feature = "tasks")]
    pub fn task_id(&self) -> Option<String> {
        match &self.scope {
            Scope::Legacy { .. } => self.task.as_ref().map(|task| task.id()),
            Scope::Modern(modern) => modern.task().map(|task| task.id().to_owned()),
        }
    }

    /// Goes on as a task, when the request can be one, and returns whether the handler now
    /// runs as a task.
    ///
    /// One handler serves both forms of tasks. In the legacy era the client decides: a
    /// `tools/call` with a `task` param (2025-11-25) runs as a task from the start, and this
    /// only tells whether it does. In the modern era the server decides (the
    /// `io.modelcontextprotocol/tasks` extension): a tool whose
    /// [`task_support`](crate::ToolBuilder::task_support) allows tasks, called by a request
    /// that declared the extension, is answered with a task handle (`CreateTaskResult`) as
    /// soon as its handler waits for anything but the client's input, or when it calls this.
    /// Asks before that are rounds of a multi round-trip request; asks after it are the task's
    /// input requests, which the client answers through `tasks/update`. Call this before
    /// asking when the questions belong to the task; a handler that returns without waiting
    /// is answered with its result, as any call.
    ///
    /// Once the request is a task, progress and log messages are dropped (the extension does
    /// not carry them), and [`Context::cancellation`] fires when the client cancels the task
    /// (`tasks/cancel`) or the task expires.
    ///
    /// When the server holds as many tasks as its
    /// [`task_limits`](crate::ServerBuilder::task_limits) allow, this never returns: the
    /// request is answered with the refusal (`-32600`) and the handler dropped.
    #[cfg(feature = "tasks")]
    pub async fn continue_as_task(&self) -> bool {
        match &self.scope {
            Scope::Legacy { .. } => self.task.is_some(),
            Scope::Modern(modern) => match &modern.task {
                None => false,
                Some(slot) => match slot.get_or_create() {
                    Ok(_) => true,
                    // The dispatch answers with the refusal when the handler waits.
                    Err(_) => std::future::pending().await,
                },
            },
        }
    }

    /// Whether this handler runs as a task, whose request was answered already.
    fn runs_as_task(&self) -> bool {
        match &self.scope {
            #[cfg(feature = "tasks")]
            Scope::Legacy { .. } => self.task.is_some(),
            #[cfg(not(feature = "tasks"))]
            Scope::Legacy { .. } => false,
            Scope::Modern(modern) => modern.runs_as_task(),
        }
    }

    /// The id of the request being served.
    pub fn request_id(&self) -> &RequestId {
        match &self.scope {
            Scope::Legacy { request, .. } => request.id(),
            Scope::Modern(modern) => modern.link.request_id(),
        }
    }

    /// The session the request came in on, to notify its client after the request is done;
    /// `None` in the modern era, which has no sessions.
    pub fn session(&self) -> Option<crate::Session> {
        match &self.scope {
            Scope::Legacy { request, session } => Some(crate::Session::new(
                request.peer().clone(),
                Arc::clone(session),
            )),
            Scope::Modern(_) => None,
        }
    }

    /// Closes the connection that carries this request's messages, and goes on serving it.
    ///
    /// On Streamable HTTP this is the polling of SEP-1699: the request's SSE stream ends
    /// after its priming event and what was sent so far, the client reconnects with
    /// `Last-Event-ID` once the server's `retry` interval has passed, and receives the rest,
    /// the result included, on the resumed stream. A long-running tool calls it so that no
    /// connection stays open while it works. Over stdio and in memory it does nothing; for a
    /// tool running as a task, whose request was answered already, neither; nor in the modern
    /// era, whose streams cannot be resumed.
    ///
    /// # Errors
    ///
    /// Fails when the session has ended.
    pub async fn close_stream(&self) -> Result<(), Error> {
        match &self.scope {
            Scope::Legacy { request, .. } if !self.runs_as_task() => {
                request.close_stream().await.map_err(Error::rpc)
            }
            _ => Ok(()),
        }
    }

    /// The revision of the request: the one the session negotiated, or in the modern era the
    /// one the request names.
    pub fn protocol_version(&self) -> ProtocolVersion {
        match &self.scope {
            Scope::Legacy { session, .. } => session.version(),
            Scope::Modern(modern) => modern.version,
        }
    }

    /// The capabilities the client declared: at `initialize`, or in the modern era in this
    /// request's `_meta` (as the 2025-11-25 type; see [`Context::client_extensions`]).
    pub fn client_capabilities(&self) -> wire::ClientCapabilities {
        match &self.scope {
            Scope::Legacy { session, .. } => session.client_capabilities(),
            Scope::Modern(modern) => modern.client_capabilities.clone(),
        }
    }

    /// The extensions the client declared in this request's capabilities (`extensions`, a
    /// 2026-07-28 member the 2025-11-25 type of [`Context::client_capabilities`] lacks): each
    /// extension's identifier with its settings. Empty in the legacy era.
    pub fn client_extensions(&self) -> BTreeMap<String, mcpwire_schema::JsonObject> {
        match &self.scope {
            Scope::Legacy { .. } => BTreeMap::new(),
            Scope::Modern(modern) => modern.client_extensions.clone(),
        }
    }

    /// The client's name and version: from `initialize`, or in the modern era from this
    /// request's `_meta` when it carried them.
    pub fn client_info(&self) -> Option<wire::Implementation> {
        match &self.scope {
            Scope::Legacy { session, .. } => session.client_info(),
            Scope::Modern(modern) => modern.client_info.clone(),
        }
    }

    /// Reports progress, when the request asked for it with a progress token.
    ///
    /// Progress must increase: a value not above the last one reported is not sent. Updates
    /// are coalesced: the first ten go out at once, then one per
    /// [`progress_interval`](crate::ServerBuilder::progress_interval) (50 ms by default; a
    /// quiet spell earns the ten back), the latest value winning. One held back is sent at
    /// the end of its interval, or at the latest just before the response. Progress reported
    /// after the handler returned (from a task it spawned) is dropped, as the spec asks that
    /// progress stop once the request completes. This returns without waiting when the
    /// update is held.
    ///
    /// # Errors
    ///
    /// Fails when the session has ended.
    pub async fn progress(
        &self,
        progress: f64,
        total: Option<f64>,
        message: Option<&str>,
    ) -> Result<(), Error> {
        let Some(reporter) = &self.progress else {
            return Ok(());
        };
        let mut state = reporter.lock().await;
        match reporter.offer(&mut state, progress, total, message) {
            // Sent with the lock held: no update can overtake this one.
            Decision::Send(params) => self.notify("notifications/progress", &params).await,
            Decision::ScheduleFlush(at) => {
                let context = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep_until(at).await;
                    let Some(reporter) = &context.progress else {
                        return;
                    };
                    let mut state = reporter.lock().await;
                    if context.cancellation().is_cancelled() {
                        return;
                    }
                    if let Some(params) = reporter.take_for_flush(&mut state)
                        && let Err(error) = context.notify("notifications/progress", &params).await
                    {
                        tracing::debug!(%error, "a held progress update could not be sent");
                    }
                });
                Ok(())
            }
            Decision::Nothing => Ok(()),
        }
    }

    /// Runs a handler on this context, then sends the progress update it left held back, so
    /// that it goes out before the response, and stops any later one.
    pub(crate) async fn run<F: Future>(self, handler: impl FnOnce(Context) -> F) -> F::Output {
        let Some(progress) = self.progress.clone() else {
            return handler(self).await;
        };
        let finishing = self.clone();
        let output = handler(self).await;
        let mut state = progress.lock().await;
        if let Some(params) = Progress::finish(&mut state)
            && let Err(error) = finishing.notify("notifications/progress", &params).await
        {
            tracing::debug!(%error, "the last progress update could not be sent");
        }
        output
    }

    /// Sends a log message, if the client's level lets it through: the session's level in the
    /// legacy era (every message until the client sets one); in the modern era the level in
    /// this request's `_meta`, and nothing at all when the request did not carry one.
    ///
    /// # Errors
    ///
    /// Fails when `data` cannot be encoded or the session has ended.
    pub async fn log(
        &self,
        level: wire::LoggingLevel,
        logger: Option<&str>,
        data: impl Serialize,
    ) -> Result<(), Error> {
        let wanted = match &self.scope {
            Scope::Legacy { session, .. } => session.should_log(&level),
            Scope::Modern(modern) => modern.should_log(&level),
        };
        if !wanted {
            return Ok(());
        }
        let data =
            serde_json::to_value(data).map_err(|error| Error::protocol(error.to_string()))?;
        let params = wire::LoggingMessageNotificationParams {
            meta: None,
            data,
            level,
            logger: logger.map(str::to_owned),
        };
        self.notify("notifications/message", &params).await
    }

    /// Asks the client's model for a completion (`sampling/createMessage`).
    ///
    /// In the modern era this is one input request of a multi round-trip request (see
    /// [`Context`]); it never returns while the client has not answered it.
    ///
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] when the client did not declare `sampling` (or
    /// `sampling.tools` when `tools` are given): returned with `?` from a tool, a prompt or a
    /// resource, the modern era answers the request with `-32021`. [`Error::is_unsupported`]
    /// in the modern era while serving a request other than `tools/call`, `prompts/get` and
    /// `resources/read`. Otherwise as the request fails.
    pub fn create_message(
        &self,
        params: wire::CreateMessageRequestParams,
    ) -> Ask<'_, wire::CreateMessageResult> {
        let checked = self
            .check_sampling(&params)
            .and_then(|()| to_object(&params));
        Ask::new(self, methods::CreateMessage::METHOD, checked)
    }

    /// Asks the client to run `sampling/createMessage` as a task (2025-11-25), and returns the
    /// task at once; follow it with [`Session::client_task`](crate::Session::client_task) and
    /// [`Session::client_task_result`](crate::Session::client_task_result). `ttl_ms` asks how
    /// long the client keeps the task.
    ///
    /// Needs the feature `tasks`.
    ///
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] when the client did not declare `sampling` or
    /// `tasks.requests.sampling.createMessage`; [`Error::is_unsupported`] in the modern era;
    /// otherwise as the request fails.
    #[cfg(feature = "tasks")]
    pub async fn create_message_as_task(
        &self,
        mut params: wire::CreateMessageRequestParams,
        ttl_ms: Option<i64>,
    ) -> Result<wire::CreateTaskResult, Error> {
        self.legacy_only("tasks on the client")?;
        self.check_sampling(&params)?;
        let declared = self
            .client_capabilities()
            .tasks
            .and_then(|tasks| tasks.requests)
            .and_then(|requests| requests.sampling)
            .and_then(|sampling| sampling.create_message);
        if declared.is_none() {
            return Err(Error::capability_missing(
                "tasks.requests.sampling.createMessage",
            ));
        }
        params.task = Some(mcpwire_ext_tasks::task_param(ttl_ms));
        let result = self
            .ask(
                methods::CreateMessage::METHOD,
                to_object(&params)?,
                AskOptions::default(),
            )
            .await?;
        decode_result(&result)
    }

    /// Asks the user for input through the client (`elicitation/create`), in form or URL mode.
    ///
    /// In the modern era this is one input request of a multi round-trip request (see
    /// [`Context`]); it never returns while the client has not answered it. A URL-mode answer
    /// there means consent only: the retry runs the handler again, which checks whether the
    /// out-of-band interaction is done.
    ///
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] when the client did not declare elicitation in that
    /// mode; otherwise as [`Context::create_message`].
    pub fn elicit(&self, params: wire::ElicitRequestParams) -> Ask<'_, wire::ElicitResult> {
        let checked = self
            .check_elicitation(&params)
            .and_then(|()| to_object(&params));
        Ask::new(self, methods::Elicit::METHOD, checked)
    }

    /// Asks the client to run `elicitation/create` as a task (2025-11-25), and returns the
    /// task at once; see [`Context::create_message_as_task`].
    ///
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] when the client did not declare elicitation in that
    /// mode or `tasks.requests.elicitation.create`; [`Error::is_unsupported`] in the modern
    /// era; otherwise as the request fails.
    #[cfg(feature = "tasks")]
    pub async fn elicit_as_task(
        &self,
        mut params: wire::ElicitRequestParams,
        ttl_ms: Option<i64>,
    ) -> Result<wire::CreateTaskResult, Error> {
        self.legacy_only("tasks on the client")?;
        self.check_elicitation(&params)?;
        let declared = self
            .client_capabilities()
            .tasks
            .and_then(|tasks| tasks.requests)
            .and_then(|requests| requests.elicitation)
            .and_then(|elicitation| elicitation.create);
        if declared.is_none() {
            return Err(Error::capability_missing(
                "tasks.requests.elicitation.create",
            ));
        }
        let task = Some(mcpwire_ext_tasks::task_param(ttl_ms));
        match &mut params {
            wire::ElicitRequestParams::ElicitRequestFormParams(form) => form.task = task,
            wire::ElicitRequestParams::ElicitRequestURLParams(url) => url.task = task,
            wire::ElicitRequestParams::Unknown(_) => {
                return Err(Error::protocol("an elicitation of an unknown mode"));
            }
        }
        let result = self
            .ask(
                methods::Elicit::METHOD,
                to_object(&params)?,
                AskOptions::default(),
            )
            .await?;
        decode_result(&result)
    }

    /// Asks the client for its roots (`roots/list`); in the modern era an input request of a
    /// multi round-trip request (see [`Context`]).
    ///
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] when the client did not declare `roots`; otherwise as
    /// [`Context::create_message`].
    pub fn list_roots(&self) -> Ask<'_, wire::ListRootsResult> {
        let checked = match self.client_capabilities().roots {
            Some(_) => Ok(serde_json::Map::new()),
            None => Err(Error::capability_missing("roots")),
        };
        Ask::new(self, methods::ListRoots::METHOD, checked)
    }

    /// Pings the client.
    ///
    /// # Errors
    ///
    /// Fails when the client does not answer; [`Error::is_unsupported`] in the modern era,
    /// which has no `ping`.
    pub async fn ping(&self) -> Result<(), Error> {
        self.legacy_only("ping")?;
        self.ask(
            methods::Ping::METHOD,
            serde_json::Map::new(),
            AskOptions::default(),
        )
        .await
        .map(drop)
    }

    /// Refuses what only the legacy era has.
    fn legacy_only(&self, what: &str) -> Result<(), Error> {
        match &self.scope {
            Scope::Legacy { .. } => Ok(()),
            Scope::Modern(_) => Err(Error::unsupported(format!(
                "{what} does not exist in the modern era"
            ))),
        }
    }

    fn check_sampling(&self, params: &wire::CreateMessageRequestParams) -> Result<(), Error> {
        check_sampling(&self.client_capabilities(), params)
    }

    fn check_elicitation(&self, params: &wire::ElicitRequestParams) -> Result<(), Error> {
        check_elicitation(&self.client_capabilities(), params)
    }

    /// Sends `method` to the client as part of this request and waits for the raw result: a
    /// request on the session in the legacy era, an input request in the modern era.
    async fn ask(
        &self,
        method: &str,
        params: serde_json::Map<String, Value>,
        options: AskOptions,
    ) -> Result<Box<RawValue>, Error> {
        let (request, session) = match &self.scope {
            Scope::Legacy { request, session } => (request, session),
            Scope::Modern(modern) => return modern.ask(method, params, options.key).await,
        };
        let mut params = params;
        // A request made for a task says so, and the task waits for input meanwhile.
        #[cfg(feature = "tasks")]
        if let Some(task) = &self.task {
            mcpwire_ext_tasks::with_related_task(&mut params, &task.id());
            if let Some(snapshot) = task.set_status(wire::TaskStatus::InputRequired, None) {
                session.notify_task_status(snapshot).await;
            }
        }
        // The client's progress reaches the callback while the request is pending.
        let _route = match options.on_progress {
            Some(callback) => session.route_progress(&mut params, callback),
            None => None,
        };
        let params = mcpwire_jsonrpc::encode_params(&params)
            .map_err(|error| Error::protocol(error.to_string()))?;
        let version = session.version();
        let params = params.map(|params| project_params(version, method, params, true));
        // A cancelled handler stops waiting; dropping the request withdraws it from the client.
        let outcome = tokio::select! {
            outcome = request.request_raw(method, params) => outcome.map_err(Error::rpc),
            () = self.cancellation().cancelled() => Err(Error::cancelled()),
        };
        #[cfg(feature = "tasks")]
        if let Some(task) = &self.task
            && let Some(snapshot) = task.set_status(wire::TaskStatus::Working, None)
        {
            session.notify_task_status(snapshot).await;
        }
        outcome
    }

    async fn notify(&self, method: &str, params: &impl Serialize) -> Result<(), Error> {
        let params = mcpwire_jsonrpc::encode_params(params)
            .map_err(|error| Error::protocol(error.to_string()))?;
        match &self.scope {
            Scope::Legacy { request, session } => {
                let version = session.version();
                let params = params.map(|params| project_params(version, method, params, false));
                request.notify_raw(method, params).await.map_err(Error::rpc)
            }
            // A task's request was answered: its notifications have nowhere to go.
            Scope::Modern(modern) if modern.runs_as_task() => Ok(()),
            Scope::Modern(modern) => modern.link.notify(method, params).await,
        }
    }
}

/// `params` as the JSON object a request carries.
fn to_object(params: &impl Serialize) -> Result<serde_json::Map<String, Value>, Error> {
    match serde_json::to_value(params) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Ok(serde_json::Map::new()),
        Err(error) => Err(Error::protocol(error.to_string())),
    }
}

/// A request to the client (sampling, elicitation, roots), sent when awaited: set its options
/// first, if any. Returned by [`Context::create_message`], [`Context::elicit`] and
/// [`Context::list_roots`].
///
/// ```no_run
/// # async fn run(context: mcpwire_server::Context) -> Result<(), mcpwire_server::Error> {
/// let roots = context
///     .list_roots()
///     .on_progress(|progress| println!("{}", progress.progress))
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "nothing is asked until it is awaited"]
pub struct Ask<'a, R> {
    context: &'a Context,
    method: &'static str,
    /// The params, or why the request may not be sent (reported when awaited).
    params: Result<serde_json::Map<String, Value>, Error>,
    options: AskOptions,
    result: std::marker::PhantomData<fn() -> R>,
}

impl<'a, R> Ask<'a, R> {
    fn new(
        context: &'a Context,
        method: &'static str,
        params: Result<serde_json::Map<String, Value>, Error>,
    ) -> Self {
        Ask {
            context,
            method,
            params,
            options: AskOptions::default(),
            result: std::marker::PhantomData,
        }
    }

    /// Replaces every option of this request with `options`.
    pub fn options(mut self, options: AskOptions) -> Self {
        self.options = options;
        self
    }

    /// Hands the client's progress on this request to `callback`; see
    /// [`AskOptions::on_progress`].
    pub fn on_progress(
        mut self,
        callback: impl Fn(crate::ClientProgress) + Send + Sync + 'static,
    ) -> Self {
        self.options = self.options.on_progress(callback);
        self
    }

    /// Names the request in the modern era; see [`AskOptions::key`].
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.options = self.options.key(key);
        self
    }
}

impl<'a, R> std::future::IntoFuture for Ask<'a, R>
where
    R: serde::de::DeserializeOwned + Send + 'a,
{
    type Output = Result<R, Error>;
    type IntoFuture =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<R, Error>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let params = self.params?;
            let result = self.context.ask(self.method, params, self.options).await?;
            decode_result(&result)
        })
    }
}

impl<R> std::fmt::Debug for Ask<'_, R> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Ask")
            .field("method", &self.method)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}
