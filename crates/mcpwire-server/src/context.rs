//! What a handler can do while it serves a request.

use std::sync::{Arc, Mutex};

use mcpwire_jsonrpc::RequestId;
use mcpwire_jsonrpc::method::RequestMethod;
use mcpwire_rpc::CancellationToken;
use mcpwire_schema::ProtocolVersion;
use mcpwire_schema::v2025_11_25::{self as wire, methods};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::Error;
use crate::session::SessionState;
use crate::version::project_params;

/// The context of one request a handler serves: cancellation, progress, logging, and requests
/// to the client (sampling, elicitation, roots).
///
/// Asking the client goes through one API whatever the protocol era: in the legacy era it is a
/// request on the session; the modern era will answer it with a multi round-trip result. Each
/// request is checked against the capabilities the client declared first.
#[derive(Clone, Debug)]
pub struct Context {
    pub(crate) request: mcpwire_rpc::RequestContext,
    pub(crate) session: Arc<SessionState>,
    pub(crate) progress_token: Option<RequestId>,
    pub(crate) last_progress: Arc<Mutex<Option<f64>>>,
    /// The task this handler runs as, when the request was task-augmented.
    pub(crate) task: Option<Arc<mcpwire_ext_tasks::TaskEntry>>,
}

impl Context {
    /// Fires when the client cancels the request or the session ends.
    ///
    /// For a tool running as a task, it fires when the task is cancelled (`tasks/cancel`), when
    /// it expires, or when the session ends.
    pub fn cancellation(&self) -> &CancellationToken {
        match &self.task {
            Some(task) => task.cancellation(),
            None => self.request.cancellation(),
        }
    }

    /// Returns `true` once the request is cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancellation().is_cancelled()
    }

    /// The id of the task this handler runs as, when the client asked for a task.
    pub fn task_id(&self) -> Option<String> {
        self.task.as_ref().map(|task| task.id())
    }

    /// The id of the request being served.
    pub fn request_id(&self) -> &RequestId {
        self.request.id()
    }

    /// The session the request came in on, to notify its client after the request is done.
    pub fn session(&self) -> crate::Session {
        crate::Session::new(self.request.peer().clone(), Arc::clone(&self.session))
    }

    /// Closes the connection that carries this request's messages, and goes on serving it.
    ///
    /// On Streamable HTTP this is the polling of SEP-1699: the request's SSE stream ends
    /// after its priming event and what was sent so far, the client reconnects with
    /// `Last-Event-ID` once the server's `retry` interval has passed, and receives the rest,
    /// the result included, on the resumed stream. A long-running tool calls it so that no
    /// connection stays open while it works. Over stdio and in memory it does nothing; for a
    /// tool running as a task, whose request was answered already, neither.
    ///
    /// # Errors
    ///
    /// Fails when the session has ended.
    pub async fn close_stream(&self) -> Result<(), Error> {
        if self.task.is_some() {
            return Ok(());
        }
        self.request.close_stream().await.map_err(Error::rpc)
    }

    /// The revision this session negotiated.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.session.version()
    }

    /// The capabilities the client declared.
    pub fn client_capabilities(&self) -> wire::ClientCapabilities {
        self.session.client_capabilities()
    }

    /// The client's name and version.
    pub fn client_info(&self) -> Option<wire::Implementation> {
        self.session.client_info()
    }

    /// Reports progress, when the request asked for it with a progress token.
    ///
    /// Progress must increase: a value not above the last one reported is not sent.
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
        let Some(token) = &self.progress_token else {
            return Ok(());
        };
        {
            let mut last = self
                .last_progress
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if last.is_some_and(|last| progress <= last) || !progress.is_finite() {
                tracing::debug!(progress, "dropping progress that does not increase");
                return Ok(());
            }
            *last = Some(progress);
        }
        let params = wire::ProgressNotificationParams {
            meta: None,
            message: message.map(str::to_owned),
            progress,
            progress_token: token.clone(),
            total,
        };
        self.notify("notifications/progress", &params).await
    }

    /// Sends a log message, if the client's level lets it through.
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
        if !self.session.should_log(&level) {
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
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] when the client did not declare `sampling` (or
    /// `sampling.tools` when `tools` are given); otherwise as the request fails.
    pub async fn create_message(
        &self,
        params: wire::CreateMessageRequestParams,
    ) -> Result<wire::CreateMessageResult, Error> {
        self.create_message_with(params, AskOptions::default())
            .await
    }

    /// [`Context::create_message`] with options, such as a callback for the client's progress.
    ///
    /// # Errors
    ///
    /// As [`Context::create_message`].
    pub async fn create_message_with(
        &self,
        params: wire::CreateMessageRequestParams,
        options: AskOptions,
    ) -> Result<wire::CreateMessageResult, Error> {
        self.check_sampling(&params)?;
        let result = self
            .ask(methods::CreateMessage::METHOD, &params, options)
            .await?;
        decode_result(&result)
    }

    /// Asks the client to run `sampling/createMessage` as a task (2025-11-25), and returns the
    /// task at once; follow it with [`Session::client_task`](crate::Session::client_task) and
    /// [`Session::client_task_result`](crate::Session::client_task_result). `ttl_ms` asks how
    /// long the client keeps the task.
    ///
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] when the client did not declare `sampling` or
    /// `tasks.requests.sampling.createMessage`; otherwise as the request fails.
    pub async fn create_message_as_task(
        &self,
        mut params: wire::CreateMessageRequestParams,
        ttl_ms: Option<i64>,
    ) -> Result<wire::CreateTaskResult, Error> {
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
        params.task = Some(wire::TaskMetadata { ttl: ttl_ms });
        let result = self
            .ask(
                methods::CreateMessage::METHOD,
                &params,
                AskOptions::default(),
            )
            .await?;
        decode_result(&result)
    }

    /// Asks the user for input through the client (`elicitation/create`), in form or URL mode.
    ///
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] when the client did not declare elicitation in that
    /// mode; otherwise as the request fails.
    pub async fn elicit(
        &self,
        params: wire::ElicitRequestParams,
    ) -> Result<wire::ElicitResult, Error> {
        self.elicit_with(params, AskOptions::default()).await
    }

    /// [`Context::elicit`] with options, such as a callback for the client's progress.
    ///
    /// # Errors
    ///
    /// As [`Context::elicit`].
    pub async fn elicit_with(
        &self,
        params: wire::ElicitRequestParams,
        options: AskOptions,
    ) -> Result<wire::ElicitResult, Error> {
        self.check_elicitation(&params)?;
        let result = self.ask(methods::Elicit::METHOD, &params, options).await?;
        decode_result(&result)
    }

    /// Asks the client to run `elicitation/create` as a task (2025-11-25), and returns the
    /// task at once; see [`Context::create_message_as_task`].
    ///
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] when the client did not declare elicitation in that
    /// mode or `tasks.requests.elicitation.create`; otherwise as the request fails.
    pub async fn elicit_as_task(
        &self,
        mut params: wire::ElicitRequestParams,
        ttl_ms: Option<i64>,
    ) -> Result<wire::CreateTaskResult, Error> {
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
        let task = Some(wire::TaskMetadata { ttl: ttl_ms });
        match &mut params {
            wire::ElicitRequestParams::ElicitRequestFormParams(form) => form.task = task,
            wire::ElicitRequestParams::ElicitRequestURLParams(url) => url.task = task,
            wire::ElicitRequestParams::Unknown(_) => {
                return Err(Error::protocol("an elicitation of an unknown mode"));
            }
        }
        let result = self
            .ask(methods::Elicit::METHOD, &params, AskOptions::default())
            .await?;
        decode_result(&result)
    }

    /// Asks the client for its roots (`roots/list`).
    ///
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] when the client did not declare `roots`; otherwise as
    /// the request fails.
    pub async fn list_roots(&self) -> Result<wire::ListRootsResult, Error> {
        self.list_roots_with(AskOptions::default()).await
    }

    /// [`Context::list_roots`] with options, such as a callback for the client's progress.
    ///
    /// # Errors
    ///
    /// As [`Context::list_roots`].
    pub async fn list_roots_with(
        &self,
        options: AskOptions,
    ) -> Result<wire::ListRootsResult, Error> {
        if self.client_capabilities().roots.is_none() {
            return Err(Error::capability_missing("roots"));
        }
        let result = self
            .ask(methods::ListRoots::METHOD, &serde_json::Map::new(), options)
            .await?;
        decode_result(&result)
    }

    /// Pings the client.
    ///
    /// # Errors
    ///
    /// Fails when the client does not answer.
    pub async fn ping(&self) -> Result<(), Error> {
        self.ask(
            methods::Ping::METHOD,
            &serde_json::Map::new(),
            AskOptions::default(),
        )
        .await
        .map(drop)
    }

    fn check_sampling(&self, params: &wire::CreateMessageRequestParams) -> Result<(), Error> {
        let capabilities = self.client_capabilities();
        let Some(sampling) = capabilities.sampling else {
            return Err(Error::capability_missing("sampling"));
        };
        if (params.tools.is_some() || params.tool_choice.is_some()) && sampling.tools.is_none() {
            return Err(Error::capability_missing("sampling.tools"));
        }
        Ok(())
    }

    fn check_elicitation(&self, params: &wire::ElicitRequestParams) -> Result<(), Error> {
        let capabilities = self.client_capabilities();
        let Some(elicitation) = capabilities.elicitation else {
            return Err(Error::capability_missing("elicitation"));
        };
        match params {
            wire::ElicitRequestParams::ElicitRequestURLParams(_) if elicitation.url.is_none() => {
                Err(Error::capability_missing("elicitation.url"))
            }
            // An empty elicitation capability means form mode only.
            wire::ElicitRequestParams::ElicitRequestFormParams(_)
                if elicitation.form.is_none() && elicitation.url.is_some() =>
            {
                Err(Error::capability_missing("elicitation.form"))
            }
            _ => Ok(()),
        }
    }

    /// Sends `method` to the client as part of this request and waits for the raw result.
    async fn ask(
        &self,
        method: &str,
        params: &impl Serialize,
        options: AskOptions,
    ) -> Result<Box<RawValue>, Error> {
        let mut params = match serde_json::to_value(params) {
            Ok(Value::Object(object)) => object,
            Ok(_) => serde_json::Map::new(),
            Err(error) => return Err(Error::protocol(error.to_string())),
        };
        // A request made for a task says so, and the task waits for input meanwhile.
        if let Some(task) = &self.task {
            mcpwire_ext_tasks::with_related_task(&mut params, &task.id());
            if let Some(snapshot) = task.set_status(wire::TaskStatus::InputRequired, None) {
                self.session.notify_task_status(snapshot).await;
            }
        }
        // The client's progress reaches the callback while the request is pending.
        let _route = match options.on_progress {
            Some(callback) => self.session.route_progress(&mut params, callback),
            None => None,
        };
        let params = mcpwire_jsonrpc::encode_params(&params)
            .map_err(|error| Error::protocol(error.to_string()))?;
        let version = self.session.version();
        let params = params.map(|params| project_params(version, method, params, true));
        // A cancelled handler stops waiting; dropping the request withdraws it from the client.
        let outcome = tokio::select! {
            outcome = self.request.request_raw(method, params) => outcome.map_err(Error::rpc),
            () = self.cancellation().cancelled() => Err(Error::cancelled()),
        };
        if let Some(task) = &self.task
            && let Some(snapshot) = task.set_status(wire::TaskStatus::Working, None)
        {
            self.session.notify_task_status(snapshot).await;
        }
        outcome
    }

    async fn notify(&self, method: &str, params: &impl Serialize) -> Result<(), Error> {
        let params = mcpwire_jsonrpc::encode_params(params)
            .map_err(|error| Error::protocol(error.to_string()))?;
        let version = self.session.version();
        let params = params.map(|params| project_params(version, method, params, false));
        self.request
            .notify_raw(method, params)
            .await
            .map_err(Error::rpc)
    }
}

/// Options of a request a handler sends to the client.
#[derive(Clone, Default)]
pub struct AskOptions {
    pub(crate) on_progress: Option<ProgressCallback>,
}

/// A callback for the progress the client reports on a request.
pub(crate) type ProgressCallback = Arc<dyn Fn(ClientProgress) + Send + Sync>;

impl AskOptions {
    /// Default options.
    pub fn new() -> Self {
        AskOptions::default()
    }

    /// Asks the client for progress (the request carries a progress token) and hands each
    /// `notifications/progress` the client sends for it to `callback`, until the request
    /// ends. The callback runs on the session's reading task: keep it short.
    pub fn on_progress(
        mut self,
        callback: impl Fn(ClientProgress) + Send + Sync + 'static,
    ) -> Self {
        self.on_progress = Some(Arc::new(callback));
        self
    }
}

impl std::fmt::Debug for AskOptions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AskOptions")
            .field("on_progress", &self.on_progress.is_some())
            .finish()
    }
}

/// Progress the client reported on a request the server sent it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientProgress {
    /// Progress so far; it increases with each update.
    pub progress: f64,
    /// The total, when the client knows it.
    pub total: Option<f64>,
    /// A human-readable message about the progress.
    pub message: Option<String>,
}

/// Decodes a client's result.
pub(crate) fn decode_result<T: DeserializeOwned>(result: &RawValue) -> Result<T, Error> {
    serde_json::from_str(result.get())
        .map_err(|error| Error::protocol(format!("the client's result is malformed: {error}")))
}
