//! The state a server shares with every connection and request: its settings, the registries
//! of what it offers, the live legacy sessions and the modern subscriptions.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock, Weak};

use mcpwire_rpc::Config;
use mcpwire_schema::Era;
use mcpwire_schema::v2025_11_25 as wire;

use crate::context::ServerState;
use crate::custom;
use crate::modern::listen::Listeners;
use crate::modern::request_state::StateConfig;
use crate::router::Route;
use crate::session::{Session, SessionState};
use crate::{CacheHints, Error, ListKind, Prompt, Resource, ResourceTemplate, Tool};

/// What a server is built with and keeps unchanged while it serves: its identity, the
/// capabilities it declares, its limits and its callbacks. Plain data, filled by
/// `ServerBuilder::build` and read through [`Inner::settings`].
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) info: wire::Implementation,
    pub(crate) instructions: Option<String>,
    pub(crate) tools_enabled: bool,
    pub(crate) resources_enabled: bool,
    pub(crate) prompts_enabled: bool,
    pub(crate) tasks_enabled: bool,
    /// The bounds of tasks, of every session's and of the extension's.
    #[cfg(feature = "tasks")]
    pub(crate) task_limits: mcpwire_ext_tasks::TaskLimits,
    /// The store the extension's tasks are shared in, and the lease of this instance.
    #[cfg(all(feature = "tasks", feature = "http"))]
    pub(crate) shared_tasks: Option<SharedTaskStore>,
    pub(crate) logging: bool,
    pub(crate) page_size: usize,
    /// The one era served, when the server serves only one (`None`: both).
    pub(crate) only_era: Option<Era>,
    /// The cache hints of modern results, unless a resource has its own.
    pub(crate) cache_hints: CacheHints,
    /// The keys and limits of the `requestState` of multi round-trip requests.
    pub(crate) request_state: StateConfig,
    /// Most subscriptions the server holds at once.
    pub(crate) max_subscriptions: usize,
    /// Most subscriptions one connection may hold at once.
    pub(crate) max_subscriptions_per_connection: usize,
    /// The shortest time between two progress updates of one request.
    pub(crate) progress_interval: std::time::Duration,
    pub(crate) rpc_config: Config,
    pub(crate) on_initialized: Option<Initialized>,
    pub(crate) on_roots_list_changed: Option<RootsChanged>,
    pub(crate) on_client_task_status: Option<TaskStatusChanged>,
}

/// What a [`Server`](crate::Server) shares with every connection and request: its
/// [`Settings`], and behind methods what changes while it serves (the registries of tools,
/// resources, templates and prompts, the live legacy sessions, the modern subscriptions).
#[derive(Debug)]
pub(crate) struct Inner {
    settings: Settings,
    /// The open modern subscriptions (`subscriptions/listen`).
    listeners: Listeners,
    tools: RwLock<BTreeMap<String, Tool>>,
    resources: RwLock<BTreeMap<String, Resource>>,
    templates: RwLock<BTreeMap<String, ResourceTemplate>>,
    prompts: RwLock<BTreeMap<String, Prompt>>,
    /// The legacy sessions, for the notifications of changes.
    sessions: Mutex<Vec<Weak<SessionState>>>,
    /// The methods registered with `request` and `request_raw`.
    custom: custom::Methods,
    /// The tasks of the extension (2026-07-28), of every caller.
    #[cfg(feature = "tasks")]
    tasks: Arc<mcpwire_ext_tasks::TaskStore>,
    /// The tasks of 2025-11-25 that belong to a principal, shared by its sessions (over HTTP,
    /// where a principal authenticates).
    #[cfg(all(feature = "tasks", feature = "http"))]
    principal_tasks: mcpwire_ext_tasks::PrincipalTasks,
    /// The bus of the deployment whose instances hear this server's announcements, once an
    /// HTTP service that shares its sessions joined one.
    #[cfg(feature = "http")]
    broadcaster: std::sync::OnceLock<crate::broadcast::Broadcaster>,
    /// The random number that names this instance of a deployment: on the bus, and as the
    /// holder of the lease of the tasks it runs.
    #[cfg(feature = "http")]
    instance: u64,
    /// Set once this instance renews the lease of its shared tasks.
    #[cfg(all(feature = "tasks", feature = "http"))]
    leasing: tokio::sync::OnceCell<()>,
    /// The shared tasks of sessions (2025-11-25) this instance runs, and the ends announced.
    #[cfg(all(feature = "tasks", feature = "http"))]
    session_tasks: crate::task_book::Book,
}

/// The callback for `notifications/tasks/status` from the client.
#[derive(Clone)]
pub(crate) struct TaskStatusChanged(pub(crate) Arc<dyn Fn(Session, wire::Task) + Send + Sync>);

impl std::fmt::Debug for TaskStatusChanged {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("TaskStatusChanged")
    }
}

/// The callback for `notifications/initialized`.
#[derive(Clone)]
pub(crate) struct Initialized(pub(crate) Arc<dyn Fn(Session) + Send + Sync>);

impl std::fmt::Debug for Initialized {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Initialized")
    }
}

/// The callback for `notifications/roots/list_changed`.
#[derive(Clone)]
pub(crate) struct RootsChanged(pub(crate) Arc<dyn Fn(Session) + Send + Sync>);

impl std::fmt::Debug for RootsChanged {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("RootsChanged")
    }
}

impl Inner {
    /// The state of a server built with `settings` that offers these definitions, checked.
    pub(crate) fn new(
        settings: Settings,
        tools: BTreeMap<String, Tool>,
        resources: BTreeMap<String, Resource>,
        templates: BTreeMap<String, ResourceTemplate>,
        prompts: BTreeMap<String, Prompt>,
        custom: custom::Methods,
    ) -> Self {
        Inner {
            listeners: Listeners::new(settings.max_subscriptions),
            #[cfg(feature = "tasks")]
            tasks: Arc::new(mcpwire_ext_tasks::TaskStore::new(
                settings.task_limits.clone(),
            )),
            #[cfg(all(feature = "tasks", feature = "http"))]
            principal_tasks: mcpwire_ext_tasks::PrincipalTasks::new(
                mcpwire_ext_tasks::TaskLimits {
                    page_size: settings.page_size,
                    ..settings.task_limits.clone()
                },
            ),
            settings,
            tools: RwLock::new(tools),
            resources: RwLock::new(resources),
            templates: RwLock::new(templates),
            prompts: RwLock::new(prompts),
            sessions: Mutex::new(Vec::new()),
            custom,
            #[cfg(feature = "http")]
            broadcaster: std::sync::OnceLock::new(),
            #[cfg(feature = "http")]
            instance: instance_number(),
            #[cfg(all(feature = "tasks", feature = "http"))]
            leasing: tokio::sync::OnceCell::new(),
            #[cfg(all(feature = "tasks", feature = "http"))]
            session_tasks: crate::task_book::Book::default(),
        }
    }

    /// The random number that names this instance of a deployment.
    #[cfg(all(feature = "tasks", feature = "http"))]
    pub(crate) fn instance(&self) -> u64 {
        self.instance
    }

    /// Renews this instance's lease once, then every third of the lease in the background
    /// while the server lives, the first time a shared task is made.
    ///
    /// # Errors
    ///
    /// When the first renewal cannot reach the store: no task is made that other instances
    /// would take for one of a dead instance.
    #[cfg(all(feature = "tasks", feature = "http"))]
    pub(crate) async fn hold_lease(
        self: &Arc<Self>,
        store: &Arc<dyn mcpwire_ext_tasks::SharedTasks>,
        lease: std::time::Duration,
    ) -> Result<(), mcpwire_ext_tasks::SharedTasksError> {
        let instance = self.instance;
        self.leasing
            .get_or_try_init(|| async {
                store.renew_lease(instance, lease).await?;
                let weak = Arc::downgrade(self);
                let store = Arc::clone(store);
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(lease / 3).await;
                        if weak.strong_count() == 0 {
                            return;
                        }
                        if let Err(error) = store.renew_lease(instance, lease).await {
                            tracing::warn!(%error, "the lease of this instance's tasks could not be renewed");
                        }
                    }
                });
                Ok::<(), mcpwire_ext_tasks::SharedTasksError>(())
            })
            .await
            .map(|_| ())
    }

    /// The shared tasks of sessions (2025-11-25) this instance runs.
    #[cfg(all(feature = "tasks", feature = "http"))]
    pub(crate) fn session_tasks(&self) -> &crate::task_book::Book {
        &self.session_tasks
    }

    /// The bus this server announces on, if it joined one.
    #[cfg(feature = "http")]
    pub(crate) fn broadcaster(&self) -> Option<&crate::broadcast::Broadcaster> {
        self.broadcaster.get()
    }

    /// Joins the deployment's `bus` to announce on it, unless the server joined one already:
    /// returns this instance's number on the bus.
    #[cfg(feature = "http")]
    pub(crate) fn join_bus(&self, bus: &Arc<dyn mcpwire_http::server::MessageBus>) -> Option<u64> {
        if self.broadcaster.get().is_some() {
            return None;
        }
        let instance = self.instance;
        let broadcaster = crate::broadcast::Broadcaster::new(Arc::clone(bus), instance);
        self.broadcaster.set(broadcaster).ok()?;
        Some(instance)
    }

    /// What the server was built with.
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Whether the server answers `initialize` and serves legacy sessions.
    pub(crate) fn serves_legacy(&self) -> bool {
        self.settings.only_era != Some(Era::Modern)
    }

    /// Whether this server answers `route` at all: the methods of the capabilities it
    /// declared, and those every server has. (Which era has the method is the route's.)
    pub(crate) fn offers(&self, route: Route) -> bool {
        match route {
            Route::Initialize | Route::Ping | Route::Discover => true,
            Route::Listen => {
                self.settings.tools_enabled
                    || self.settings.resources_enabled
                    || self.settings.prompts_enabled
            }
            Route::ListTools | Route::CallTool => self.settings.tools_enabled,
            Route::ListResources
            | Route::ListTemplates
            | Route::ReadResource
            | Route::Subscribe
            | Route::Unsubscribe => self.settings.resources_enabled,
            Route::ListPrompts | Route::GetPrompt => self.settings.prompts_enabled,
            Route::Complete => self.settings.resources_enabled || self.settings.prompts_enabled,
            Route::SetLevel => self.settings.logging,
            Route::GetTask
            | Route::UpdateTask
            | Route::TaskResult
            | Route::ListTasks
            | Route::CancelTask => self.settings.tasks_enabled,
        }
    }

    /// Whether the server has `list`: whether it declared the list's capability.
    pub(crate) fn has_list(&self, list: ListKind) -> bool {
        match list {
            ListKind::Tools => self.settings.tools_enabled,
            ListKind::Prompts => self.settings.prompts_enabled,
            ListKind::Resources => self.settings.resources_enabled,
        }
    }

    /// Whether the server serves modern requests (those that carry their own `_meta`).
    pub(crate) fn serves_modern(&self) -> bool {
        self.settings.only_era != Some(Era::Legacy)
    }

    /// The state of a new legacy session of this server.
    pub(crate) fn new_session(&self) -> SessionState {
        let state = SessionState::new(self.settings.page_size);
        #[cfg(feature = "tasks")]
        let state = state.with_task_limits(mcpwire_ext_tasks::TaskLimits {
            page_size: self.settings.page_size,
            ..self.settings.task_limits.clone()
        });
        state
    }

    /// A fresh session of the principal `owner` names: its tasks (2025-11-25) are the
    /// principal's, which outlive the session; an anonymous session, or one whose principal
    /// finds no room, keeps its tasks to itself.
    #[cfg(all(feature = "tasks", feature = "http"))]
    pub(crate) fn new_session_of(&self, owner: mcpwire_ext_tasks::Owner) -> SessionState {
        let state = self.new_session();
        match self.principal_tasks.registry(owner) {
            Some(registry) => state.with_principal_tasks(registry),
            None => state,
        }
    }

    /// The tasks of the extension.
    #[cfg(feature = "tasks")]
    pub(crate) fn task_store(&self) -> &Arc<mcpwire_ext_tasks::TaskStore> {
        &self.tasks
    }

    /// The extensions the server declares in the modern era (`capabilities.extensions`): the
    /// tasks extension when it serves tasks.
    pub(crate) fn extensions(&self) -> mcpwire_schema::JsonObject {
        #[cfg_attr(not(feature = "tasks"), allow(unused_mut))]
        let mut extensions = mcpwire_schema::JsonObject::new();
        #[cfg(feature = "tasks")]
        if self.settings.tasks_enabled {
            extensions.insert(
                mcpwire_ext_tasks::EXTENSION.to_owned(),
                serde_json::Value::Object(mcpwire_schema::JsonObject::new()),
            );
        }
        extensions
    }

    /// The capabilities the server declares.
    pub(crate) fn capabilities(&self) -> wire::ServerCapabilities {
        let settings = &self.settings;
        wire::ServerCapabilities {
            completions: (settings.resources_enabled || settings.prompts_enabled)
                .then(Default::default),
            logging: settings.logging.then(Default::default),
            prompts: settings
                .prompts_enabled
                .then_some(wire::ServerCapabilitiesPrompts {
                    list_changed: Some(true),
                }),
            resources: settings
                .resources_enabled
                .then_some(wire::ServerCapabilitiesResources {
                    list_changed: Some(true),
                    subscribe: Some(true),
                }),
            tasks: settings
                .tasks_enabled
                .then(|| wire::ServerCapabilitiesTasks {
                    cancel: Some(Default::default()),
                    list: Some(Default::default()),
                    requests: Some(wire::ServerCapabilitiesTasksRequests {
                        tools: Some(wire::ServerCapabilitiesTasksRequestsTools {
                            call: Some(Default::default()),
                        }),
                    }),
                }),
            tools: settings
                .tools_enabled
                .then_some(wire::ServerCapabilitiesTools {
                    list_changed: Some(true),
                }),
            ..Default::default()
        }
    }

    /// The resources, sorted by URI.
    pub(crate) fn resources_snapshot(&self) -> Vec<Resource> {
        read(&self.resources).values().cloned().collect()
    }

    /// The resource templates, sorted by template.
    pub(crate) fn templates_snapshot(&self) -> Vec<ResourceTemplate> {
        read(&self.templates).values().cloned().collect()
    }

    /// The prompts, sorted by name.
    pub(crate) fn prompts_snapshot(&self) -> Vec<Prompt> {
        read(&self.prompts).values().cloned().collect()
    }

    pub(crate) fn resource(&self, uri: &str) -> Option<Resource> {
        read(&self.resources).get(uri).cloned()
    }

    pub(crate) fn template(&self, uri_template: &str) -> Option<ResourceTemplate> {
        read(&self.templates).get(uri_template).cloned()
    }

    pub(crate) fn prompt(&self, name: &str) -> Option<Prompt> {
        read(&self.prompts).get(name).cloned()
    }

    pub(crate) fn tool(&self, name: &str) -> Option<Tool> {
        read(&self.tools).get(name).cloned()
    }

    /// The tools, sorted by name.
    pub(crate) fn tools_snapshot(&self) -> Vec<Tool> {
        read(&self.tools).values().cloned().collect()
    }

    /// The names of the tools, sorted.
    pub(crate) fn tool_names(&self) -> Vec<String> {
        read(&self.tools).keys().cloned().collect()
    }

    /// Adds a tool, or replaces the tool of the same name.
    ///
    /// # Errors
    ///
    /// Fails when the server was built without tools support.
    pub(crate) fn add_tool(&self, tool: Tool) -> Result<(), Error> {
        let name = tool.name().to_owned();
        self.insert(ListKind::Tools, &self.tools, name, tool)
    }

    /// Removes a tool; returns whether it existed.
    pub(crate) fn remove_tool(&self, name: &str) -> bool {
        write(&self.tools).remove(name).is_some()
    }

    /// Adds a resource, or replaces the one at the same URI.
    ///
    /// # Errors
    ///
    /// Fails when the server was built without resources support.
    pub(crate) fn add_resource(&self, resource: Resource) -> Result<(), Error> {
        let uri = resource.uri().to_owned();
        self.insert(ListKind::Resources, &self.resources, uri, resource)
    }

    /// Removes the resource at `uri`; returns whether it existed.
    pub(crate) fn remove_resource(&self, uri: &str) -> bool {
        write(&self.resources).remove(uri).is_some()
    }

    /// Adds a prompt, or replaces the one of the same name.
    ///
    /// # Errors
    ///
    /// Fails when the server was built without prompts support.
    pub(crate) fn add_prompt(&self, prompt: Prompt) -> Result<(), Error> {
        let name = prompt.name().to_owned();
        self.insert(ListKind::Prompts, &self.prompts, name, prompt)
    }

    /// Removes a prompt; returns whether it existed.
    pub(crate) fn remove_prompt(&self, name: &str) -> bool {
        write(&self.prompts).remove(name).is_some()
    }

    /// Inserts into the registry of `list`, when the server has that list.
    fn insert<T>(
        &self,
        list: ListKind,
        registry: &RwLock<BTreeMap<String, T>>,
        key: String,
        item: T,
    ) -> Result<(), Error> {
        if !self.has_list(list) {
            return Err(Error::invalid_definition(format!(
                "this server was built without the {} capability",
                list.name()
            )));
        }
        write(registry).insert(key, item);
        Ok(())
    }

    /// The handler of the custom method `method`, if one is registered.
    pub(crate) fn custom_method(&self, method: &str) -> Option<&custom::Handler> {
        self.custom.get(method)
    }

    /// The open modern subscriptions.
    pub(crate) fn listeners(&self) -> &Listeners {
        &self.listeners
    }

    /// Keeps `session` for the notifications of changes, and forgets the sessions that ended.
    pub(crate) fn add_session(&self, session: &Arc<SessionState>) {
        let mut sessions = lock(&self.sessions);
        sessions.retain(|session| session.strong_count() > 0);
        sessions.push(Arc::downgrade(session));
    }

    /// The legacy sessions still served.
    pub(crate) fn live_sessions(&self) -> Vec<Arc<SessionState>> {
        let mut sessions = lock(&self.sessions);
        sessions.retain(|session| session.strong_count() > 0);
        sessions.iter().filter_map(Weak::upgrade).collect()
    }
}

impl ServerState for Inner {}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    // Every critical section is one insert, remove or clone: a poisoned lock is still consistent.
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every critical section is a retain, a push or a copy: a poisoned lock is still consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The store the extension's tasks are shared in, and the lease of this instance's tasks.
#[cfg(all(feature = "tasks", feature = "http"))]
#[derive(Clone)]
pub(crate) struct SharedTaskStore {
    pub(crate) store: Arc<dyn mcpwire_ext_tasks::SharedTasks>,
    pub(crate) lease: std::time::Duration,
}

#[cfg(all(feature = "tasks", feature = "http"))]
impl std::fmt::Debug for SharedTaskStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SharedTaskStore")
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

/// A random instance number; 0 when the operating system has no randomness to give.
#[cfg(feature = "http")]
fn instance_number() -> u64 {
    let mut bytes = [0u8; 8];
    match getrandom::fill(&mut bytes) {
        Ok(()) => u64::from_be_bytes(bytes),
        Err(_) => 0,
    }
}
