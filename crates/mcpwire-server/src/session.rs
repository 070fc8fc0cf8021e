//! One legacy session: what `initialize` settled, the client's log level and resource
//! subscriptions, the session's tasks and the routes of the client's progress, and the
//! [`Session`] handle through which the server reaches the client outside any request.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use mcpwire_jsonrpc::{ErrorObject, decode_params};
use mcpwire_protocol::progress::{Destination, ProgressRoute, ProgressRoutes};
use mcpwire_rpc::Peer;
use mcpwire_schema::ProtocolVersion;
use mcpwire_schema::v2025_11_25 as wire;
use mcpwire_transport::SendOptions;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::Error;
use crate::ask::{
    ClientProgress, ProgressCallback, check_elicitation, check_sampling, decode_result,
};
use crate::version::project_params;

/// What `initialize` settled for a session.
#[derive(Debug)]
struct Negotiated {
    version: ProtocolVersion,
    client_capabilities: wire::ClientCapabilities,
    client_info: wire::Implementation,
}

/// The state of one session, shared by its handler, its handle and the contexts of its requests.
#[derive(Debug)]
pub(crate) struct SessionState {
    negotiated: OnceLock<Negotiated>,
    initialized: AtomicBool,
    log_level: Mutex<Option<wire::LoggingLevel>>,
    subscriptions: Mutex<HashSet<String>>,
    /// The session's tasks (2025-11-25): its own, or those of its principal.
    #[cfg(feature = "tasks")]
    tasks: Arc<mcpwire_ext_tasks::TaskRegistry>,
    /// Whether the tasks are the principal's, which outlive the session.
    #[cfg(feature = "tasks")]
    tasks_outlive_session: bool,
    peer: OnceLock<Peer>,
    /// Where the client's progress on the server's requests goes.
    progress_routes: ProgressRoutes<ProgressCallback>,
    /// The `http::Extensions` of the session's requests, for a session over Streamable HTTP.
    #[cfg(feature = "http")]
    http_extensions: OnceLock<mcpwire_http::server::SessionExtensions>,
    /// The session's link to the other instances of its deployment, when its HTTP service
    /// shares sessions: every change of the state above is saved through it.
    #[cfg(feature = "http")]
    shared: OnceLock<mcpwire_http::server::SharedSession>,
    /// The owner under which the session's tasks are shared with the other instances, when
    /// its server shares tasks and the session.
    #[cfg(all(feature = "tasks", feature = "http"))]
    shared_tasks_owner: OnceLock<[u8; 32]>,
}

/// What a shared session's record holds of its state, for the instances that adopt it: what
/// `initialize` settled, whether the handshake ended, the log level and the subscriptions.
#[cfg(feature = "http")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Record {
    #[serde(rename = "protocolVersion")]
    version: String,
    #[serde(rename = "clientCapabilities")]
    client_capabilities: wire::ClientCapabilities,
    #[serde(rename = "clientInfo")]
    client_info: wire::Implementation,
    #[serde(default)]
    initialized: bool,
    #[serde(rename = "logLevel", default, skip_serializing_if = "Option::is_none")]
    log_level: Option<wire::LoggingLevel>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    subscriptions: Vec<String>,
}

/// Most resource subscriptions one session may hold.
const MAX_SUBSCRIPTIONS: usize = 1024;

/// Most requests to the client whose progress is followed at once; a request beyond it is
/// sent without a progress token.
const MAX_PROGRESS_ROUTES: usize = 1024;

impl SessionState {
    /// A fresh session whose lists, tasks included, have pages of `page_size`.
    #[cfg_attr(
        not(feature = "tasks"),
        expect(unused_variables, reason = "only the task list is paged per session")
    )]
    pub(crate) fn new(page_size: usize) -> Self {
        SessionState {
            negotiated: OnceLock::new(),
            initialized: AtomicBool::new(false),
            log_level: Mutex::new(None),
            subscriptions: Mutex::new(HashSet::new()),
            #[cfg(feature = "tasks")]
            tasks: Arc::new(mcpwire_ext_tasks::TaskRegistry::new(
                mcpwire_ext_tasks::TaskLimits {
                    page_size,
                    ..mcpwire_ext_tasks::TaskLimits::default()
                },
            )),
            #[cfg(feature = "tasks")]
            tasks_outlive_session: false,
            peer: OnceLock::new(),
            progress_routes: ProgressRoutes::new(MAX_PROGRESS_ROUTES),
            #[cfg(feature = "http")]
            http_extensions: OnceLock::new(),
            #[cfg(feature = "http")]
            shared: OnceLock::new(),
            #[cfg(all(feature = "tasks", feature = "http"))]
            shared_tasks_owner: OnceLock::new(),
        }
    }

    /// Saves every change of the state through `shared`, after taking the state its record
    /// holds when the session was adopted from it.
    #[cfg(feature = "http")]
    pub(crate) fn share(&self, shared: mcpwire_http::server::SharedSession) {
        if let Some(state) = shared.restored() {
            self.restore(state);
        }
        let _ = self.shared.set(shared);
    }

    /// Takes the state a shared session's record holds: what another instance settled or
    /// changed. A record that cannot be read changes nothing.
    #[cfg(feature = "http")]
    pub(crate) fn restore(&self, state: &[u8]) {
        let Ok(record) = serde_json::from_slice::<Record>(state) else {
            tracing::warn!("ignoring a session record that cannot be read");
            return;
        };
        if let Some(version) = ProtocolVersion::from_wire(&record.version) {
            // What `initialize` settled never changes; a copy that has it keeps it.
            let _ = self.negotiated.set(Negotiated {
                version,
                client_capabilities: record.client_capabilities,
                client_info: record.client_info,
            });
        }
        if record.initialized {
            self.initialized.store(true, Ordering::Release);
        }
        *self
            .log_level
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = record.log_level;
        *self
            .subscriptions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = record
            .subscriptions
            .into_iter()
            .take(MAX_SUBSCRIPTIONS)
            .collect();
    }

    /// Whether the server's announcements (lists changed, resources updated) reach the
    /// client through this session: always, unless it is a copy of a shared session that
    /// does not hold the client's standalone stream (the copy that holds it tells the client).
    /// A copy first takes in the changes other instances made to the session's state that
    /// it has not taken yet (a subscription made elsewhere just before the announcement).
    pub(crate) async fn hears_announcements(&self) -> bool {
        #[cfg(feature = "http")]
        if let Some(shared) = self.shared.get() {
            if let Some(state) = shared.catch_up() {
                self.restore(&state);
            }
            return shared.holds_standalone().await;
        }
        true
    }

    /// Saves the state in the session's record, when the session is shared, so that the
    /// client's next request finds it on any instance.
    ///
    /// # Errors
    ///
    /// `-32603` when the record cannot be saved.
    pub(crate) async fn persist(&self) -> Result<(), ErrorObject> {
        #[cfg(feature = "http")]
        if let Some(shared) = self.shared.get() {
            let Some(negotiated) = self.negotiated.get() else {
                return Ok(());
            };
            let record = Record {
                version: negotiated.version.as_str().to_owned(),
                client_capabilities: negotiated.client_capabilities.clone(),
                client_info: negotiated.client_info.clone(),
                initialized: self.is_initialized(),
                log_level: self
                    .log_level
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .clone(),
                subscriptions: self
                    .subscriptions
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .iter()
                    .cloned()
                    .collect(),
            };
            let state = serde_json::to_vec(&record).map_err(|error| {
                ErrorObject::internal_error(format!("the session could not be saved: {error}"))
            })?;
            shared.save(state.into()).await.map_err(|error| {
                if error.is_cancelled() {
                    return ErrorObject::internal_error("the session has ended");
                }
                tracing::warn!(%error, "a session's record could not be saved");
                ErrorObject::internal_error(
                    "the session could not be saved: the session store cannot be reached",
                )
            })?;
        }
        Ok(())
    }

    /// Bounds the session's tasks (2025-11-25) with `limits`.
    #[cfg(feature = "tasks")]
    pub(crate) fn with_task_limits(mut self, limits: mcpwire_ext_tasks::TaskLimits) -> Self {
        self.tasks = Arc::new(mcpwire_ext_tasks::TaskRegistry::new(limits));
        self
    }

    /// Keeps the session's tasks (2025-11-25) in `registry`, its principal's, shared with its
    /// other sessions: they go on when the session ends.
    #[cfg(all(feature = "tasks", feature = "http"))]
    pub(crate) fn with_principal_tasks(
        mut self,
        registry: Arc<mcpwire_ext_tasks::TaskRegistry>,
    ) -> Self {
        self.tasks = registry;
        self.tasks_outlive_session = true;
        self
    }

    /// Shares the session's tasks with the other instances of the deployment: the tasks of
    /// session `session_id`, or those of the principal whose digest is `principal` when they
    /// are the principal's.
    #[cfg(all(feature = "tasks", feature = "http"))]
    pub(crate) fn share_tasks(&self, principal: Option<[u8; 32]>, session_id: &str) {
        let principal = principal.filter(|_| self.tasks_outlive_session);
        let _ = self
            .shared_tasks_owner
            .set(crate::task_book::owner_of(principal, session_id));
    }

    /// The owner under which the session's tasks are shared, when they are.
    #[cfg(all(feature = "tasks", feature = "http"))]
    pub(crate) fn shared_tasks_owner(&self) -> Option<[u8; 32]> {
        self.shared_tasks_owner.get().copied()
    }

    /// Ends the session's tasks, when the session ends, unless they are its principal's.
    #[cfg(feature = "tasks")]
    pub(crate) fn end_tasks(&self) {
        if !self.tasks_outlive_session {
            self.tasks.cancel_all();
        }
    }

    /// Where the extensions of the session's HTTP requests are read.
    #[cfg(feature = "http")]
    pub(crate) fn set_http_extensions(&self, extensions: mcpwire_http::server::SessionExtensions) {
        let _ = self.http_extensions.set(extensions);
    }

    /// The extensions of the session's latest HTTP request, for a session over HTTP.
    #[cfg(feature = "http")]
    pub(crate) fn http_extensions(&self) -> Option<std::sync::Arc<http::Extensions>> {
        self.http_extensions.get()?.latest()
    }

    /// Records what `initialize` settled; `false` when the session was initialized already.
    pub(crate) fn record_negotiation(
        &self,
        version: ProtocolVersion,
        client_capabilities: wire::ClientCapabilities,
        client_info: wire::Implementation,
    ) -> bool {
        let negotiated = Negotiated {
            version,
            client_capabilities,
            client_info,
        };
        self.negotiated.set(negotiated).is_ok()
    }

    /// Records `notifications/initialized`: `true` when it completes the handshake now;
    /// `false` before `initialize` (the notification is ignored) and on a repeat.
    pub(crate) fn complete_handshake(&self) -> bool {
        if self.negotiated.get().is_none() {
            return false;
        }
        !self.initialized.swap(true, Ordering::AcqRel)
    }

    /// Sets the level of the log messages the client wants (`logging/setLevel`).
    pub(crate) fn set_log_level(&self, level: wire::LoggingLevel) {
        *self
            .log_level
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(level);
    }

    /// Subscribes the client to the resource at `uri` (`resources/subscribe`).
    ///
    /// # Errors
    ///
    /// `-32602` when the session holds as many subscriptions as it may.
    pub(crate) fn subscribe(&self, uri: String) -> Result<(), ErrorObject> {
        let mut subscriptions = self
            .subscriptions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if subscriptions.len() >= MAX_SUBSCRIPTIONS && !subscriptions.contains(&uri) {
            return Err(ErrorObject::invalid_params(format!(
                "a session may hold at most {MAX_SUBSCRIPTIONS} subscriptions"
            )));
        }
        subscriptions.insert(uri);
        Ok(())
    }

    /// Ends the client's subscription to the resource at `uri` (`resources/unsubscribe`).
    pub(crate) fn unsubscribe(&self, uri: &str) {
        self.subscriptions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(uri);
    }

    /// The engine's peer of the session's connection, once it started.
    pub(crate) fn peer(&self) -> Option<&Peer> {
        self.peer.get()
    }

    /// Keeps the engine's peer of the session's connection; only the first call counts.
    pub(crate) fn set_peer(&self, peer: Peer) {
        let _ = self.peer.set(peer);
    }

    /// The session's tasks (2025-11-25).
    #[cfg(feature = "tasks")]
    pub(crate) fn tasks(&self) -> &mcpwire_ext_tasks::TaskRegistry {
        &self.tasks
    }

    pub(crate) fn version(&self) -> ProtocolVersion {
        self.negotiated
            .get()
            .map_or(ProtocolVersion::LATEST_LEGACY, |negotiated| {
                negotiated.version
            })
    }

    pub(crate) fn negotiated_version(&self) -> Option<ProtocolVersion> {
        self.negotiated.get().map(|negotiated| negotiated.version)
    }

    pub(crate) fn client_capabilities(&self) -> wire::ClientCapabilities {
        self.negotiated
            .get()
            .map(|negotiated| negotiated.client_capabilities.clone())
            .unwrap_or_default()
    }

    pub(crate) fn client_info(&self) -> Option<wire::Implementation> {
        self.negotiated
            .get()
            .map(|negotiated| negotiated.client_info.clone())
    }

    /// Whether the client finished the handshake (sent `notifications/initialized`).
    pub(crate) fn is_initialized(&self) -> bool {
        self.initialized.load(Ordering::Acquire)
    }

    /// Gives the request `params` a fresh progress token whose updates go to `callback` until
    /// the returned route is dropped; `None` when too many routes are open.
    pub(crate) fn route_progress(
        &self,
        params: &mut serde_json::Map<String, Value>,
        callback: ProgressCallback,
    ) -> Option<ProgressRoute<ProgressCallback>> {
        let route = self.progress_routes.route(callback)?;
        let meta = params
            .entry("_meta")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Value::Object(meta) = meta {
            meta.insert(
                "progressToken".to_owned(),
                serde_json::to_value(route.token()).unwrap_or(Value::Null),
            );
        }
        Some(route)
    }

    /// Hands the client's progress to the request it belongs to, if that is still pending.
    pub(crate) fn route_client_progress(&self, params: Option<&RawValue>) {
        let Ok(params) = decode_params::<wire::ProgressNotificationParams>(params) else {
            tracing::debug!("dropping a progress notification with invalid params");
            return;
        };
        match self.progress_routes.destination(&params.progress_token) {
            Destination::Route(callback) => callback(ClientProgress {
                progress: params.progress,
                total: params.total,
                message: params.message,
            }),
            Destination::Ended => tracing::debug!("dropping progress of an ended request"),
            Destination::Unknown => tracing::debug!("dropping progress for no pending request"),
        }
    }

    /// Tells the client a task's status changed (`notifications/tasks/status`).
    #[cfg(feature = "tasks")]
    pub(crate) async fn notify_task_status(&self, task: wire::Task) {
        if let Some(peer) = self.peer.get() {
            mcpwire_ext_tasks::notify_status(peer, task).await;
        }
    }

    pub(crate) fn is_subscribed(&self, uri: &str) -> bool {
        self.subscriptions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains(uri)
    }

    pub(crate) fn should_log(&self, level: &wire::LoggingLevel) -> bool {
        let threshold = self
            .log_level
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match threshold.as_ref() {
            // Until the client sets a level, every message is sent.
            None => true,
            Some(threshold) => severity(level) >= severity(threshold),
        }
    }
}

/// RFC 5424 severity order, lowest first; unknown levels count as the most severe.
fn severity(level: &wire::LoggingLevel) -> u8 {
    use wire::LoggingLevel::*;
    match level {
        Debug => 0,
        Info => 1,
        Notice => 2,
        Warning => 3,
        Error => 4,
        Critical => 5,
        Alert => 6,
        Emergency => 7,
        Unknown(_) => 8,
    }
}

/// One connection being served.
#[derive(Clone, Debug)]
pub struct Session {
    peer: Peer,
    state: Arc<SessionState>,
}

impl Session {
    pub(crate) fn new(peer: Peer, state: Arc<SessionState>) -> Self {
        Session { peer, state }
    }

    /// Takes into this copy of a shared session every change another instance makes to its
    /// state, until the session ends.
    #[cfg(feature = "http")]
    pub(crate) fn follow_changes(&self, mut changes: mcpwire_http::server::SharedSession) {
        let state = Arc::downgrade(&self.state);
        tokio::spawn(async move {
            while let Some(changed) = changes.changed().await {
                let Some(state) = state.upgrade() else {
                    return;
                };
                state.restore(&changed);
            }
        });
    }

    /// Tells the client that the out-of-band interaction of the URL-mode elicitation
    /// `elicitation_id` is complete (`notifications/elicitation/complete`, 2025-11-25). Sessions
    /// on older revisions, which have no URL elicitation, are not sent anything.
    ///
    /// # Errors
    ///
    /// Fails when the session has ended.
    pub async fn notify_elicitation_complete(&self, elicitation_id: &str) -> Result<(), Error> {
        if self.state.version() < ProtocolVersion::V2025_11_25 {
            return Ok(());
        }
        let params = serde_json::value::to_raw_value(
            &serde_json::json!({ "elicitationId": elicitation_id }),
        )
        .map_err(|error| Error::protocol(error.to_string()))?;
        self.peer
            .notify_raw(
                "notifications/elicitation/complete",
                Some(params),
                SendOptions::default(),
            )
            .await
            .map_err(Error::rpc)
    }

    /// The capabilities the client declared in `initialize` (empty before it).
    pub fn client_capabilities(&self) -> wire::ClientCapabilities {
        self.state.client_capabilities()
    }

    /// Asks the client for its roots (`roots/list`), outside any request: from the
    /// [`on_initialized`](crate::ServerBuilder::on_initialized) or
    /// [`on_roots_list_changed`](crate::ServerBuilder::on_roots_list_changed) callbacks, or
    /// from any task that holds the session.
    ///
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] when the client did not declare `roots`; otherwise as
    /// the request fails.
    pub async fn list_roots(&self) -> Result<wire::ListRootsResult, Error> {
        if self.state.client_capabilities().roots.is_none() {
            return Err(Error::capability_missing("roots"));
        }
        self.ask_client("roots/list", &serde_json::Map::new()).await
    }

    /// Asks the client's model for a completion (`sampling/createMessage`), outside any
    /// request (see [`Session::list_roots`]).
    ///
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] when the client did not declare `sampling` (or
    /// `sampling.tools` when `tools` are given); otherwise as the request fails.
    pub async fn create_message(
        &self,
        params: wire::CreateMessageRequestParams,
    ) -> Result<wire::CreateMessageResult, Error> {
        check_sampling(&self.state.client_capabilities(), &params)?;
        self.ask_client("sampling/createMessage", &params).await
    }

    /// Asks the user for input through the client (`elicitation/create`), outside any
    /// request (see [`Session::list_roots`]).
    ///
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] when the client did not declare `elicitation` (or the
    /// mode asked for); otherwise as the request fails.
    pub async fn elicit(
        &self,
        params: wire::ElicitRequestParams,
    ) -> Result<wire::ElicitResult, Error> {
        check_elicitation(&self.state.client_capabilities(), &params)?;
        self.ask_client("elicitation/create", &params).await
    }

    /// Pings the client.
    ///
    /// # Errors
    ///
    /// Fails when the client does not answer.
    pub async fn ping(&self) -> Result<(), Error> {
        self.ask_client::<serde_json::Value>("ping", &serde_json::Map::new())
            .await
            .map(drop)
    }

    /// Polls a task the client runs for this server (`tasks/get`).
    ///
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] when the client declared no tasks; otherwise as the
    /// request fails (an unknown task is a remote -32602).
    #[cfg(feature = "tasks")]
    pub async fn client_task(&self, task_id: &str) -> Result<wire::GetTaskResult, Error> {
        self.client_tasks_declared(|_| true, "tasks")?;
        self.client_tasks().get(task_id).await
    }

    /// Waits for the result of a task the client runs for this server (`tasks/result`): the
    /// result the underlying request would have had, such as a
    /// [`CreateMessageResult`](wire::CreateMessageResult) or an
    /// [`ElicitResult`](wire::ElicitResult).
    ///
    /// # Errors
    ///
    /// As [`Session::client_task`]; the underlying request's error as a remote error.
    #[cfg(feature = "tasks")]
    pub async fn client_task_result<R: serde::de::DeserializeOwned>(
        &self,
        task_id: &str,
    ) -> Result<R, Error> {
        self.client_tasks_declared(|_| true, "tasks")?;
        self.client_tasks().result(task_id).await
    }

    /// Follows a task the client runs for this server to its end and returns its result, as
    /// the client follows a tool call the server runs as a task: polls `tasks/get` at the
    /// client's `pollInterval` (within the bounds of
    /// [`FollowLimits::default`](mcpwire_ext_tasks::FollowLimits)) and asks `tasks/result` once
    /// the task is no longer `working`.
    ///
    /// # Errors
    ///
    /// As [`Session::client_task`] and [`Session::client_task_result`].
    #[cfg(feature = "tasks")]
    pub async fn finish_client_task<R: serde::de::DeserializeOwned>(
        &self,
        task_id: &str,
    ) -> Result<R, Error> {
        self.client_tasks_declared(|_| true, "tasks")?;
        self.client_tasks()
            .finish(task_id, &mcpwire_ext_tasks::FollowLimits::default())
            .await
    }

    /// Lists the tasks the client runs for this server, following `nextCursor` through at
    /// most 100 pages.
    ///
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] when the client did not declare `tasks.list`;
    /// otherwise as the requests fail.
    #[cfg(feature = "tasks")]
    pub async fn list_client_tasks(&self) -> Result<Vec<wire::Task>, Error> {
        const MAX_PAGES: usize = 100;
        self.client_tasks_declared(|tasks| tasks.list.is_some(), "tasks.list")?;
        let mut tasks = Vec::new();
        let mut cursor = None;
        for _ in 0..MAX_PAGES {
            let params = wire::PaginatedRequestParams { meta: None, cursor };
            let page: wire::ListTasksResult = self.ask_client("tasks/list", &params).await?;
            tasks.extend(page.tasks);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(tasks),
            }
        }
        Err(Error::protocol(format!(
            "the client's task list has more than {MAX_PAGES} pages"
        )))
    }

    /// Cancels a task the client runs for this server (`tasks/cancel`).
    ///
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] when the client did not declare `tasks.cancel`;
    /// otherwise as the request fails (a finished task is a remote -32602).
    #[cfg(feature = "tasks")]
    pub async fn cancel_client_task(&self, task_id: &str) -> Result<wire::CancelTaskResult, Error> {
        self.client_tasks_declared(|tasks| tasks.cancel.is_some(), "tasks.cancel")?;
        self.client_tasks().cancel(task_id).await
    }

    /// The requestor of the tasks the client runs for this server, which lives in
    /// `mcpwire-ext-tasks` and is shared with the client's requestor of the server's tasks.
    #[cfg(feature = "tasks")]
    fn client_tasks(&self) -> mcpwire_ext_tasks::TaskRequestor<ClientTasks<'_>> {
        mcpwire_ext_tasks::TaskRequestor::new(ClientTasks(self))
    }

    #[cfg(feature = "tasks")]
    fn client_tasks_declared(
        &self,
        declared: impl Fn(&wire::ClientCapabilitiesTasks) -> bool,
        capability: &str,
    ) -> Result<(), Error> {
        let capabilities = self.state.client_capabilities();
        match capabilities.tasks {
            Some(tasks) if declared(&tasks) => Ok(()),
            _ => Err(Error::capability_missing(capability)),
        }
    }

    async fn ask_client<R: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        params: &impl serde::Serialize,
    ) -> Result<R, Error> {
        self.ask_client_with(method, params, mcpwire_rpc::RequestOptions::default())
            .await
    }

    async fn ask_client_with<R: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        params: &impl serde::Serialize,
        options: mcpwire_rpc::RequestOptions,
    ) -> Result<R, Error> {
        let params = mcpwire_jsonrpc::encode_params(params)
            .map_err(|error| Error::protocol(error.to_string()))?;
        // What the negotiated revision defines, as a handler's requests are shaped.
        let version = self.state.version();
        let params = params.map(|params| project_params(version, method, params, true));
        let result = self
            .peer
            .request_raw(method, params, options)
            .await
            .map_err(Error::rpc)?;
        decode_result(&result)
    }

    /// The revision negotiated by `initialize`, once it has been.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.state.negotiated_version()
    }

    /// The client's name and version, once `initialize` has been received.
    pub fn client_info(&self) -> Option<wire::Implementation> {
        self.state.client_info()
    }

    /// Whether the client has completed the handshake.
    pub fn is_initialized(&self) -> bool {
        self.state.is_initialized()
    }

    /// Waits until the connection ends.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn closed(&self) {
        self.peer.closed().await;
    }

    /// Ends the connection.
    pub async fn close(&self) {
        self.peer.close().await;
    }
}

/// The session's connection, as the requestor of the client's tasks sends over it.
#[cfg(feature = "tasks")]
struct ClientTasks<'a>(&'a Session);

#[cfg(feature = "tasks")]
impl mcpwire_ext_tasks::TaskChannel for ClientTasks<'_> {
    type Error = Error;

    async fn send<P, R>(
        &self,
        method: &'static str,
        params: &P,
        patience: mcpwire_ext_tasks::Patience,
    ) -> Result<R, Error>
    where
        P: serde::Serialize + Sync,
        R: serde::de::DeserializeOwned,
    {
        let mut options = mcpwire_rpc::RequestOptions::default();
        if patience == mcpwire_ext_tasks::Patience::Unbounded {
            // The task may run for long: wait for it without the engine's timeout.
            options.timeout = Some(None);
        }
        self.0.ask_client_with(method, params, options).await
    }

    fn cancelled(&self, _task_id: &str) -> Error {
        Error::cancelled()
    }
}
