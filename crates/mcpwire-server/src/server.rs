//! The server: the `Server` handle (serving connections, changing what it offers and
//! announcing the changes) and the `ServerBuilder`; the state they share is in `state.rs`.

use std::any::Any;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use mcpwire_rpc::{Config, Peer};
use mcpwire_schema::Era;
use mcpwire_schema::v2025_11_25 as wire;
use mcpwire_transport::{SendOptions, Transport};

use crate::connection::ConnectionHandler;
use crate::context::ServerState;
use crate::custom;
use crate::modern::listen::{ListenerSlots, Listeners};
use crate::modern::request_state::StateConfig;
use crate::session::{Session, SessionState};
use crate::state::{Initialized, Inner, RootsChanged, Settings, TaskStatusChanged};
use crate::version::project_params;
use crate::{
    CacheHints, Context, Error, HandlerError, ListKind, Prompt, Resource, ResourceTemplate, Tool,
};

/// An MCP server: its identity, its tools, and the sessions it serves.
///
/// Cheap to clone; clones share the same tools and sessions. Tools can be added and removed
/// at any time; sessions that finished their handshake are told with
/// `notifications/tools/list_changed`.
///
/// ```
/// use mcpwire_server::{Context, Server, Tool, ToolError};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Greet {
///     name: String,
/// }
///
/// let server = Server::builder("greeter", "1.0.0")
///     .instructions("Greets people by name.")
///     .tool(Tool::typed("greet", |arguments: Greet| async move {
///         Ok::<_, ToolError>(format!("Hello, {}!", arguments.name))
///     }))
///     .build()
///     .unwrap();
/// assert_eq!(server.tool_names(), ["greet"]);
/// // Serve it over any transport: `server.serve(transport)`, for example stdio.
/// ```
#[derive(Clone, Debug)]
pub struct Server {
    /// Shared with every connection; transports reach `modern::serve` through it.
    pub(crate) inner: Arc<Inner>,
}

impl Context {
    /// The server serving this request: to add or remove tools, resources or prompts, or to
    /// announce a change ([`Server::notify_list_changed`]).
    pub fn server(&self) -> Server {
        // A context keeps the server's state opaque (see `ServerState`), and `Inner` is the
        // only implementation.
        let state: Arc<dyn ServerState> = Arc::clone(&self.server);
        let state: Arc<dyn Any + Send + Sync> = state;
        let inner = state
            .downcast::<Inner>()
            .expect("a context holds the state of the server that serves it");
        Server { inner }
    }
}

impl Server {
    /// Starts a server with the name and version it reports in `serverInfo`.
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> ServerBuilder {
        ServerBuilder {
            info: wire::Implementation::new(name, version),
            instructions: None,
            tools: Vec::new(),
            resources: Vec::new(),
            templates: Vec::new(),
            prompts: Vec::new(),
            tools_enabled: false,
            resources_enabled: false,
            prompts_enabled: false,
            tasks_enabled: false,
            #[cfg(feature = "tasks")]
            task_limits: mcpwire_ext_tasks::TaskLimits::default(),
            #[cfg(all(feature = "tasks", feature = "http"))]
            shared_tasks: None,
            logging: true,
            page_size: ServerBuilder::DEFAULT_PAGE_SIZE,
            only_era: None,
            cache_hints: CacheHints::default(),
            request_state_keys: None,
            request_state_ttl: StateConfig::DEFAULT_TTL,
            max_request_state: StateConfig::DEFAULT_MAX_SIZE,
            max_input_rounds: StateConfig::DEFAULT_MAX_ROUNDS,
            max_subscriptions: Listeners::DEFAULT_LIMIT,
            max_subscriptions_per_connection: Listeners::DEFAULT_PER_CONNECTION,
            progress_interval: ServerBuilder::DEFAULT_PROGRESS_INTERVAL,
            rpc_config: Config::default(),
            on_roots_list_changed: None,
            on_client_task_status: None,
            on_initialized: None,
            custom: Vec::new(),
        }
    }

    /// Serves one connection over `transport`, on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// Panics when called outside a tokio runtime.
    pub fn serve<T: Transport>(&self, transport: T) -> Session {
        let state = self.inner.new_session();
        self.serve_session(transport, state)
    }

    /// [`Server::serve`], with the session's state made already.
    pub(crate) fn serve_session<T: Transport>(&self, transport: T, state: SessionState) -> Session {
        self.serve_session_from(transport, state, 1)
    }

    /// [`Server::serve_session`], whose requests to the client take ids from
    /// `first_request_id` up.
    pub(crate) fn serve_session_from<T: Transport>(
        &self,
        transport: T,
        state: SessionState,
        first_request_id: i64,
    ) -> Session {
        let settings = self.inner.settings();
        let state = Arc::new(state);
        let handler = ConnectionHandler {
            server: Arc::clone(&self.inner),
            state: Arc::clone(&state),
            listener_slots: Arc::new(ListenerSlots::new(
                settings.max_subscriptions_per_connection,
            )),
        };
        let config = settings
            .rpc_config
            .clone()
            .cancellation(mcpwire_protocol::McpCancellation)
            .first_request_id(first_request_id);
        let peer = Peer::start(transport, handler, config);
        state.set_peer(peer.clone());
        // A session's tasks end with it, unless they are its principal's.
        #[cfg(feature = "tasks")]
        let watched = Arc::downgrade(&state);
        #[cfg(feature = "tasks")]
        {
            let closing = peer.clone();
            tokio::spawn(async move {
                closing.closed().await;
                if let Some(state) = watched.upgrade() {
                    state.end_tasks();
                }
            });
        }
        self.inner.add_session(&state);
        Session::new(peer, state)
    }

    /// Serves one session over this process's stdin and stdout, and waits until the client
    /// closes it. Nothing but MCP messages is written to stdout; log to stderr.
    ///
    /// # Panics
    ///
    /// Panics when called outside a tokio runtime.
    #[cfg(feature = "stdio")]
    pub async fn serve_stdio(&self) {
        self.serve(mcpwire_stdio::stdio()).closed().await;
    }

    /// Adds a tool, or replaces the tool of the same name, and tells the sessions.
    ///
    /// # Errors
    ///
    /// Fails when the server was built without tools support (see [`ServerBuilder::tools`]).
    pub async fn add_tool(&self, tool: Tool) -> Result<(), Error> {
        self.inner.add_tool(tool)?;
        self.notify_list_changed(ListKind::Tools).await;
        Ok(())
    }

    /// Removes a tool, telling the sessions; returns whether it existed.
    pub async fn remove_tool(&self, name: &str) -> bool {
        let removed = self.inner.remove_tool(name);
        self.announce_removal(removed, ListKind::Tools).await
    }

    /// The names of the tools, sorted.
    pub fn tool_names(&self) -> Vec<String> {
        self.inner.tool_names()
    }

    /// Adds a resource, or replaces the one at the same URI, and tells the sessions.
    ///
    /// # Errors
    ///
    /// Fails when the server was built without resources support (see [`ServerBuilder::resources`]).
    pub async fn add_resource(&self, resource: Resource) -> Result<(), Error> {
        self.inner.add_resource(resource)?;
        self.notify_list_changed(ListKind::Resources).await;
        Ok(())
    }

    /// Removes the resource at `uri`, telling the sessions; returns whether it existed.
    pub async fn remove_resource(&self, uri: &str) -> bool {
        let removed = self.inner.remove_resource(uri);
        self.announce_removal(removed, ListKind::Resources).await
    }

    /// Adds a prompt, or replaces the one of the same name, and tells the sessions.
    ///
    /// # Errors
    ///
    /// Fails when the server was built without prompts support (see [`ServerBuilder::prompts`]).
    pub async fn add_prompt(&self, prompt: Prompt) -> Result<(), Error> {
        self.inner.add_prompt(prompt)?;
        self.notify_list_changed(ListKind::Prompts).await;
        Ok(())
    }

    /// Removes a prompt, telling the sessions; returns whether it existed.
    pub async fn remove_prompt(&self, name: &str) -> bool {
        let removed = self.inner.remove_prompt(name);
        self.announce_removal(removed, ListKind::Prompts).await
    }

    /// Announces a change of `list` when something was `removed` from it; returns `removed`.
    async fn announce_removal(&self, removed: bool, list: ListKind) -> bool {
        if removed {
            self.notify_list_changed(list).await;
        }
        removed
    }

    /// Announces that a list changed without changing it here, for lists that depend on
    /// something else (a database, the caller's permissions...): initialized legacy sessions
    /// get `notifications/<list>/list_changed`, and so do the modern subscriptions
    /// (`subscriptions/listen`) that asked for that list, tagged with their id. Adding or
    /// removing a tool, resource or prompt announces it already.
    ///
    /// When the server's HTTP service shares its sessions with the other instances of a
    /// deployment ([`HttpConfig::shared_sessions`](crate::HttpConfig::shared_sessions)), every
    /// instance tells its clients: each session hears it once, on the instance that holds its
    /// standalone stream.
    pub async fn notify_list_changed(&self, list: ListKind) {
        #[cfg(feature = "http")]
        if let Some(broadcaster) = self.inner.broadcaster() {
            broadcaster
                .announce(&crate::broadcast::Announcement::ListChanged(list))
                .await;
        }
        self.list_changed_here(list).await;
    }

    /// Tells this instance's clients that `list` changed.
    pub(crate) async fn list_changed_here(&self, list: ListKind) {
        let method = list.notification();
        for session in self.inner.live_sessions() {
            if !session.is_initialized() || !session.hears_announcements().await {
                continue;
            }
            if let Some(peer) = session.peer() {
                let params = project_params(session.version(), method, empty_params(), false);
                let _ = peer
                    .notify_raw(method, Some(params), SendOptions::default())
                    .await;
            }
        }
        self.inner.listeners().list_changed(list).await;
    }

    /// Ends every modern subscription (`subscriptions/listen`) gracefully: each is answered
    /// with a complete result carrying its subscription id, as a server shutting down should.
    /// Subscriptions opened afterwards are served as usual.
    pub fn close_subscriptions(&self) {
        self.inner.listeners().close_all();
    }

    /// Tells the clients subscribed to `uri` that the resource changed
    /// (`notifications/resources/updated`): legacy sessions that called `resources/subscribe`,
    /// and modern subscriptions that named it in `resourceSubscriptions`; nobody else hears
    /// anything. Every instance of a deployment tells its clients, as
    /// [`notify_list_changed`](Self::notify_list_changed) does.
    pub async fn notify_resource_updated(&self, uri: &str) {
        #[cfg(feature = "http")]
        if let Some(broadcaster) = self.inner.broadcaster() {
            let announcement = crate::broadcast::Announcement::ResourceUpdated(uri.to_owned());
            broadcaster.announce(&announcement).await;
        }
        self.resource_updated_here(uri).await;
    }

    /// Tells this instance's clients subscribed to `uri` that the resource changed.
    pub(crate) async fn resource_updated_here(&self, uri: &str) {
        let method = "notifications/resources/updated";
        for session in self.inner.live_sessions() {
            // Whether it hears them first: that takes in what other instances changed.
            if !session.hears_announcements().await || !session.is_subscribed(uri) {
                continue;
            }
            let Some(peer) = session.peer() else {
                continue;
            };
            let Ok(params) = serde_json::value::to_raw_value(&serde_json::json!({ "uri": uri }))
            else {
                continue;
            };
            let params = project_params(session.version(), method, params, false);
            let _ = peer
                .notify_raw(method, Some(params), SendOptions::default())
                .await;
        }
        self.inner.listeners().resource_updated(uri).await;
    }
}

fn empty_params() -> Box<serde_json::value::RawValue> {
    serde_json::value::RawValue::from_string("{}".to_owned()).expect("an empty object is JSON")
}

/// Builds a [`Server`].
#[must_use = "call `build` to get the server"]
pub struct ServerBuilder {
    info: wire::Implementation,
    instructions: Option<String>,
    tools: Vec<Result<Tool, Error>>,
    resources: Vec<Resource>,
    templates: Vec<Result<ResourceTemplate, Error>>,
    prompts: Vec<Prompt>,
    tools_enabled: bool,
    resources_enabled: bool,
    prompts_enabled: bool,
    tasks_enabled: bool,
    #[cfg(feature = "tasks")]
    task_limits: mcpwire_ext_tasks::TaskLimits,
    #[cfg(all(feature = "tasks", feature = "http"))]
    shared_tasks: Option<crate::state::SharedTaskStore>,
    logging: bool,
    page_size: usize,
    only_era: Option<Era>,
    cache_hints: CacheHints,
    request_state_keys: Option<([u8; 32], Vec<[u8; 32]>)>,
    request_state_ttl: Duration,
    max_request_state: usize,
    max_input_rounds: u32,
    max_subscriptions: usize,
    max_subscriptions_per_connection: usize,
    progress_interval: Duration,
    rpc_config: Config,
    on_initialized: Option<Initialized>,
    on_roots_list_changed: Option<RootsChanged>,
    on_client_task_status: Option<TaskStatusChanged>,
    custom: Vec<(String, custom::Handler)>,
}

impl ServerBuilder {
    /// Items per page of `tools/list` and the other lists. Default: 100.
    pub const DEFAULT_PAGE_SIZE: usize = 100;

    /// The shortest time between two progress updates of one request, by default: 50 ms.
    pub const DEFAULT_PROGRESS_INTERVAL: Duration = Duration::from_millis(50);

    /// Answers requests of the method `M`, one the spec does not give the server: an
    /// extension's method or the application's own, in both eras and on every transport.
    /// `M` names the method and types its params and result (see
    /// [`RequestMethod`](mcpwire_jsonrpc::RequestMethod)); params that do not decode as
    /// `M::Params` get `-32602`. The handler's [`Context`] reports progress, logs and watches
    /// for cancellation as a tool's does; it asks the client only in the legacy era, since
    /// 2026-07-28 allows input rounds on `tools/call`, `prompts/get` and `resources/read`
    /// alone (an ask in a modern request fails).
    ///
    /// ```
    /// use mcpwire_jsonrpc::RequestMethod;
    /// use mcpwire_server::{Context, HandlerError, Server};
    ///
    /// /// `acme/quota`: how many calls the caller has left.
    /// struct Quota;
    ///
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Remaining {
    ///     remaining: u32,
    /// }
    ///
    /// impl RequestMethod for Quota {
    ///     const METHOD: &'static str = "acme/quota";
    ///     type Params = Option<serde_json::Value>;
    ///     type Result = Remaining;
    /// }
    ///
    /// let server = Server::builder("acme", "1.0.0")
    ///     .request::<Quota, _, _>(|_params, _context: Context| async move {
    ///         Ok::<_, HandlerError>(Remaining { remaining: 42 })
    ///     })
    ///     .build()
    ///     .unwrap();
    /// # drop(server);
    /// ```
    ///
    /// [`build`](Self::build) fails when the method is one the server answers itself, or is
    /// registered twice.
    pub fn request<M, F, Fut>(mut self, handler: F) -> Self
    where
        M: mcpwire_jsonrpc::RequestMethod,
        F: Fn(M::Params, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<M::Result, HandlerError>> + Send + 'static,
    {
        self.custom
            .push((M::METHOD.to_owned(), custom::typed::<M, F, Fut>(handler)));
        self
    }

    /// Answers requests of `method` on raw JSON: the params (`null` when absent) and a result
    /// that must be a JSON object. Otherwise as [`request`](Self::request).
    pub fn request_raw<F, Fut>(mut self, method: impl Into<String>, handler: F) -> Self
    where
        F: Fn(serde_json::Value, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<serde_json::Value, HandlerError>> + Send + 'static,
    {
        self.custom.push((method.into(), custom::raw(handler)));
        self
    }

    /// Sets the human-readable title in `serverInfo`.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.info.title = Some(title.into());
        self
    }

    /// Sets the description in `serverInfo`.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.info.description = Some(description.into());
        self
    }

    /// Sets the website address in `serverInfo`.
    pub fn website_url(mut self, url: impl Into<String>) -> Self {
        self.info.website_url = Some(url.into());
        self
    }

    /// Sets the instructions the client may give its model.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Declares the tools capability even with no tool yet, to add tools later.
    pub fn tools(mut self) -> Self {
        self.tools_enabled = true;
        self
    }

    /// Adds a tool (and the tools capability).
    pub fn tool(mut self, tool: crate::ToolBuilder) -> Self {
        self.tools_enabled = true;
        self.tools.push(tool.build());
        self
    }

    /// Declares the resources capability even with no resource yet, to add resources later.
    pub fn resources(mut self) -> Self {
        self.resources_enabled = true;
        self
    }

    /// Adds a resource (and the resources capability, with subscriptions).
    pub fn resource(mut self, resource: Resource) -> Self {
        self.resources_enabled = true;
        self.resources.push(resource);
        self
    }

    /// Adds a resource template (and the resources capability).
    pub fn resource_template(mut self, template: Result<ResourceTemplate, Error>) -> Self {
        self.resources_enabled = true;
        self.templates.push(template);
        self
    }

    /// Declares the prompts capability even with no prompt yet, to add prompts later.
    pub fn prompts(mut self) -> Self {
        self.prompts_enabled = true;
        self
    }

    /// Adds a prompt (and the prompts capability).
    pub fn prompt(mut self, prompt: Prompt) -> Self {
        self.prompts_enabled = true;
        self.prompts.push(prompt);
        self
    }

    /// Calls `callback` with the session once its client has completed the handshake
    /// (`notifications/initialized`), the first moment the server may send it requests: the
    /// place to ask for its roots, or to greet it. Only legacy sessions have a handshake; a
    /// modern request is served without one.
    ///
    /// The callback runs on the session's reading task: keep it short, and spawn anything that
    /// waits for the client (its answers arrive on that same task).
    ///
    /// ```
    /// use mcpwire_server::Server;
    ///
    /// let server = Server::builder("roots-aware", "1.0.0")
    ///     .on_initialized(|session| {
    ///         tokio::spawn(async move {
    ///             if let Ok(roots) = session.list_roots().await {
    ///                 println!("{} roots", roots.roots.len());
    ///             }
    ///         });
    ///     })
    ///     .build()
    ///     .unwrap();
    /// # drop(server);
    /// ```
    pub fn on_initialized(mut self, callback: impl Fn(Session) + Send + Sync + 'static) -> Self {
        self.on_initialized = Some(Initialized(Arc::new(callback)));
        self
    }

    /// Calls `callback` with the session whenever its client says its roots changed
    /// (`notifications/roots/list_changed`); ask for the new list with the session's tools, or
    /// from the next handler's [`Context::list_roots`](crate::Context::list_roots).
    ///
    /// The callback runs on the session's reading task: keep it short, and spawn anything slow.
    pub fn on_roots_list_changed(
        mut self,
        callback: impl Fn(Session) + Send + Sync + 'static,
    ) -> Self {
        self.on_roots_list_changed = Some(RootsChanged(Arc::new(callback)));
        self
    }

    /// Calls `callback` with the session and the task whenever the client announces a status
    /// change of a task it runs for the server (`notifications/tasks/status`), such as one
    /// started by [`Context::create_message_as_task`](crate::Context::create_message_as_task).
    ///
    /// The callback runs on the session's reading task: keep it short, and spawn anything slow.
    #[cfg(feature = "tasks")]
    pub fn on_client_task_status(
        mut self,
        callback: impl Fn(Session, wire::Task) + Send + Sync + 'static,
    ) -> Self {
        self.on_client_task_status = Some(TaskStatusChanged(Arc::new(callback)));
        self
    }

    /// Serves tasks, in both of their forms: tools whose
    /// [`task_support`](crate::ToolBuilder::task_support) allows it run as tasks, in the
    /// background, while the client polls them.
    ///
    /// - 2025-11-25: the server declares the `tasks` capability, and a `tools/call` with a
    ///   `task` param runs as a task that the client polls with `tasks/get`, waits on with
    ///   `tasks/result`, lists and cancels. Over Streamable HTTP behind an authorization layer
    ///   that names the principal (`mcpwire-auth`'s), these tasks belong to that principal:
    ///   they outlive the session that made them, and any session of the same principal finds
    ///   them. Otherwise they belong to their session and end with it.
    /// - 2026-07-28: the server declares the `io.modelcontextprotocol/tasks` extension in
    ///   `server/discover`, and answers a call from a request that declared it with a task
    ///   handle once the handler waits (see
    ///   [`Context::continue_as_task`](crate::Context::continue_as_task)); the client polls it
    ///   with `tasks/get`, answers its input requests with `tasks/update` and cancels it with
    ///   `tasks/cancel`. A `Required` tool called without the extension is refused with
    ///   `-32021`. These tasks belong to the principal whose request made them (over HTTP,
    ///   the one an authorization layer names, else the `Authorization` header; anonymous
    ///   requests share one owner, whom only the unguessable task id separates), and live
    ///   their time to live whatever becomes of the connection.
    ///
    /// Needs the feature `tasks` (on by default).
    #[cfg(feature = "tasks")]
    pub fn tasks(mut self) -> Self {
        self.tasks_enabled = true;
        self
    }

    /// Sets the bounds of tasks (see [`ServerBuilder::tasks`]): how many one session or one
    /// principal holds, how many the server holds in all, the longest time to live (also the
    /// time to live of every task of the extension, reported as its `ttlMs`), and the poll
    /// interval announced. Default: [`TaskLimits::default`](mcpwire_ext_tasks::TaskLimits).
    #[cfg(feature = "tasks")]
    pub fn task_limits(mut self, limits: mcpwire_ext_tasks::TaskLimits) -> Self {
        self.task_limits = limits;
        self
    }

    /// Shares the tasks of the extension (2026-07-28) with the other instances of a
    /// deployment that use the same `store`: each task runs on the instance that made it, and
    /// its record, saved before its `CreateTaskResult` goes out and at each change, lets any
    /// instance answer `tasks/get`; `tasks/update` and `tasks/cancel` reach the instance that
    /// runs the task over the deployment's bus (the one of
    /// [`HttpConfig::shared_sessions`](crate::HttpConfig::shared_sessions)). Each instance
    /// renews a lease every third of `lease`; a task whose instance let its lease lapse (it
    /// died) is answered, and recorded, as `failed` within `lease` of the death.
    ///
    /// The tasks of 2025-11-25 sessions that the HTTP service shares are shared too: any copy
    /// of the session answers `tasks/get`, `tasks/list`, `tasks/cancel` (which stops the work
    /// where it runs) and `tasks/result` (which waits for the task's end, wherever it runs).
    ///
    /// Needs the features `tasks` (on by default) and `http`.
    #[cfg(all(feature = "tasks", feature = "http"))]
    pub fn shared_tasks(
        mut self,
        store: Arc<dyn mcpwire_ext_tasks::SharedTasks>,
        lease: Duration,
    ) -> Self {
        self.shared_tasks = Some(crate::state::SharedTaskStore {
            store,
            lease: lease.max(Duration::from_millis(30)),
        });
        self
    }

    /// Turns the logging capability off (it is on by default).
    pub fn without_logging(mut self) -> Self {
        self.logging = false;
        self
    }

    /// Sets how many items a page of a list holds (at least 1).
    pub fn page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Serves one era only; by default the server serves both, each client in the era it
    /// opens with.
    ///
    /// [`Era::Modern`]: `initialize` is answered with `-32022` (UnsupportedProtocolVersion)
    /// naming the modern revisions, over HTTP with status `400`, so that a legacy client can
    /// tell its user why. [`Era::Legacy`]: the server behaves as a server of 2025 that knows
    /// nothing of the modern era: `server/discover` and `subscriptions/listen` are unknown
    /// methods (`-32601`), a request with a modern `_meta` is served as a legacy request (before
    /// `initialize`, refused as such), and over HTTP a modern `MCP-Protocol-Version` header gets
    /// `400`. Clients that probe fall back to `initialize` on these answers.
    pub fn only_era(mut self, era: Era) -> Self {
        self.only_era = Some(era);
        self
    }

    /// Sets the cache hints (`ttlMs`, `cacheScope`) of the modern era's cacheable results:
    /// `server/discover`, the four lists, and `resources/read` of resources without their own
    /// ([`Resource::cache_hints`]). Default: `ttlMs: 0`, `"private"`.
    pub fn cache_hints(mut self, hints: CacheHints) -> Self {
        self.cache_hints = hints;
        self
    }

    /// Sets the key that signs and verifies the `requestState` of multi round-trip requests
    /// (modern era), an HMAC-SHA256 key of 32 random bytes.
    ///
    /// By default each server draws a random key when it is built. That is right for one
    /// process, but a retry that reaches another instance behind a load balancer, or the same
    /// one after a restart, then fails with `-32602`: deployments of several instances must
    /// give every instance the same key.
    pub fn request_state_key(self, key: [u8; 32]) -> Self {
        self.request_state_keys(key, Vec::new())
    }

    /// Sets the key that signs new `requestState`s and the earlier keys that still verify,
    /// to rotate keys without failing the retries in flight (see
    /// [`ServerBuilder::request_state_key`]).
    pub fn request_state_keys(mut self, current: [u8; 32], previous: Vec<[u8; 32]>) -> Self {
        self.request_state_keys = Some((current, previous));
        self
    }

    /// Sets how long a `requestState` stays valid: a retry after that gets `-32602`.
    /// Default: 10 minutes.
    pub fn request_state_ttl(mut self, ttl: Duration) -> Self {
        self.request_state_ttl = ttl;
        self
    }

    /// Sets the largest `requestState`, in bytes, the server issues or accepts; a request
    /// whose answers outgrow it fails with `-32603`. Default: 64 KiB.
    pub fn max_request_state(mut self, bytes: usize) -> Self {
        self.max_request_state = bytes;
        self
    }

    /// Sets how many rounds of input one request may take before it fails with `-32602`
    /// (at least 1). Default: 16.
    pub fn max_input_rounds(mut self, rounds: u32) -> Self {
        self.max_input_rounds = rounds.max(1);
        self
    }

    /// Sets how many modern subscriptions (`subscriptions/listen`) the server holds at once;
    /// beyond, a new one is refused with `-32602`. Default: 10 000.
    pub fn max_subscriptions(mut self, limit: usize) -> Self {
        self.max_subscriptions = limit;
        self
    }

    /// Sets how many modern subscriptions one stdio or in-memory connection holds at once;
    /// beyond, a new one is refused with `-32602`. Each holds one of the engine's in-flight
    /// requests ([`Config::max_in_flight`]) while it is open. Default: 16.
    pub fn max_subscriptions_per_connection(mut self, limit: usize) -> Self {
        self.max_subscriptions_per_connection = limit;
        self
    }

    /// Sets how often a request's progress may go out once its first ten updates have: a
    /// handler that reports faster has its updates coalesced, the latest value winning, and
    /// one held back is sent at the end of the interval or just before the response (see
    /// [`Context::progress`](crate::Context::progress)). `Duration::ZERO` sends every
    /// update. Default: 50 ms.
    pub fn progress_interval(mut self, interval: Duration) -> Self {
        self.progress_interval = interval;
        self
    }

    /// Sets the engine's limits (in-flight requests, queues, timeouts of requests to the client).
    pub fn rpc_config(mut self, config: Config) -> Self {
        self.rpc_config = config;
        self
    }

    /// Checks every definition and builds the server.
    ///
    /// # Errors
    ///
    /// Fails on the first invalid definition, or when two tools, two resources, two templates or
    /// two prompts share a name (or URI).
    pub fn build(self) -> Result<Server, Error> {
        let (current, previous) = match self.request_state_keys {
            Some(keys) => keys,
            None => {
                let mut key = [0; 32];
                getrandom::fill(&mut key).map_err(|error| {
                    Error::invalid_definition(format!("no random requestState key: {error}"))
                })?;
                (key, Vec::new())
            }
        };
        let mut request_state = StateConfig::new(current, &previous);
        request_state.ttl = self.request_state_ttl;
        request_state.max_size = self.max_request_state;
        request_state.max_rounds = self.max_input_rounds;
        let resources = keyed(self.resources.into_iter().map(Ok), Resource::uri, |uri| {
            format!("two resources have the URI `{uri}`")
        })?;
        let templates = keyed(self.templates, ResourceTemplate::uri_template, |key| {
            format!("two resource templates are `{key}`")
        })?;
        let prompts = keyed(self.prompts.into_iter().map(Ok), Prompt::name, |name| {
            format!("two prompts are named `{name}`")
        })?;
        let tools = keyed(self.tools, Tool::name, |name| {
            format!("two tools are named `{name}`")
        })?;
        let custom = custom::Methods::new(self.custom)?;
        let settings = Settings {
            info: self.info,
            instructions: self.instructions,
            tools_enabled: self.tools_enabled,
            resources_enabled: self.resources_enabled,
            prompts_enabled: self.prompts_enabled,
            tasks_enabled: self.tasks_enabled,
            #[cfg(feature = "tasks")]
            task_limits: self.task_limits,
            #[cfg(all(feature = "tasks", feature = "http"))]
            shared_tasks: self.shared_tasks,
            logging: self.logging,
            page_size: self.page_size,
            only_era: self.only_era,
            cache_hints: self.cache_hints,
            request_state,
            max_subscriptions: self.max_subscriptions,
            max_subscriptions_per_connection: self.max_subscriptions_per_connection,
            progress_interval: self.progress_interval,
            rpc_config: self.rpc_config,
            on_initialized: self.on_initialized,
            on_roots_list_changed: self.on_roots_list_changed,
            on_client_task_status: self.on_client_task_status,
        };
        let inner = Inner::new(settings, tools, resources, templates, prompts, custom);
        Ok(Server {
            inner: Arc::new(inner),
        })
    }
}

/// Collects definitions by their key, refusing the first failed definition and the first key
/// given twice (with the message `duplicate` makes of it).
fn keyed<T>(
    items: impl IntoIterator<Item = Result<T, Error>>,
    key: fn(&T) -> &str,
    duplicate: impl Fn(&str) -> String,
) -> Result<BTreeMap<String, T>, Error> {
    let mut map = BTreeMap::new();
    for item in items {
        let item = item?;
        let name = key(&item).to_owned();
        if map.contains_key(&name) {
            return Err(Error::invalid_definition(duplicate(&name)));
        }
        map.insert(name, item);
    }
    Ok(map)
}
