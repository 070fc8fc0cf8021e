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
use crate::session_state::{Session, SessionState};
use crate::{CacheHints, ListKind, Prompt, Resource, ResourceTemplate, Tool};

/// What a [`Server`](crate::Server) shares with every connection and request.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) info: wire::Implementation,
    pub(crate) instructions: Option<String>,
    pub(crate) tools_enabled: bool,
    pub(crate) resources_enabled: bool,
    pub(crate) prompts_enabled: bool,
    pub(crate) tasks_enabled: bool,
    pub(crate) logging: bool,
    pub(crate) page_size: usize,
    /// The one era served, when the server serves only one (`None`: both).
    pub(crate) only_era: Option<Era>,
    /// The cache hints of modern results, unless a resource has its own.
    pub(crate) cache_hints: CacheHints,
    /// The keys and limits of the `requestState` of multi round-trip requests.
    pub(crate) request_state: StateConfig,
    /// The open modern subscriptions (`subscriptions/listen`).
    pub(crate) listeners: Listeners,
    /// Most subscriptions one connection may hold at once.
    pub(crate) max_subscriptions_per_connection: usize,
    pub(crate) tools: RwLock<BTreeMap<String, Tool>>,
    pub(crate) resources: RwLock<BTreeMap<String, Resource>>,
    pub(crate) templates: RwLock<BTreeMap<String, ResourceTemplate>>,
    pub(crate) prompts: RwLock<BTreeMap<String, Prompt>>,
    pub(crate) sessions: Mutex<Vec<Weak<SessionState>>>,
    pub(crate) rpc_config: Config,
    pub(crate) on_initialized: Option<Initialized>,
    pub(crate) on_roots_list_changed: Option<RootsChanged>,
    pub(crate) on_client_task_status: Option<TaskStatusChanged>,
    /// The methods registered with `request` and `request_raw`.
    pub(crate) custom: custom::Methods,
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
    /// Whether the server answers `initialize` and serves legacy sessions.
    pub(crate) fn serves_legacy(&self) -> bool {
        self.only_era != Some(Era::Modern)
    }

    /// Whether this server answers `route` at all: the methods of the capabilities it
    /// declared, and those every server has. (Which era has the method is the route's.)
    pub(crate) fn offers(&self, route: Route) -> bool {
        match route {
            Route::Initialize | Route::Ping | Route::Discover => true,
            Route::Listen => self.tools_enabled || self.resources_enabled || self.prompts_enabled,
            Route::ListTools | Route::CallTool => self.tools_enabled,
            Route::ListResources
            | Route::ListTemplates
            | Route::ReadResource
            | Route::Subscribe
            | Route::Unsubscribe => self.resources_enabled,
            Route::ListPrompts | Route::GetPrompt => self.prompts_enabled,
            Route::Complete => self.resources_enabled || self.prompts_enabled,
            Route::SetLevel => self.logging,
            Route::GetTask | Route::TaskResult | Route::ListTasks | Route::CancelTask => {
                self.tasks_enabled
            }
        }
    }

    /// Whether the server has `list`: whether it declared the list's capability.
    pub(crate) fn has_list(&self, list: ListKind) -> bool {
        match list {
            ListKind::Tools => self.tools_enabled,
            ListKind::Prompts => self.prompts_enabled,
            ListKind::Resources => self.resources_enabled,
        }
    }

    /// Whether the server serves modern requests (those that carry their own `_meta`).
    pub(crate) fn serves_modern(&self) -> bool {
        self.only_era != Some(Era::Legacy)
    }

    pub(crate) fn capabilities(&self) -> wire::ServerCapabilities {
        wire::ServerCapabilities {
            completions: (self.resources_enabled || self.prompts_enabled).then(Default::default),
            logging: self.logging.then(Default::default),
            prompts: self
                .prompts_enabled
                .then_some(wire::ServerCapabilitiesPrompts {
                    list_changed: Some(true),
                }),
            resources: self
                .resources_enabled
                .then_some(wire::ServerCapabilitiesResources {
                    list_changed: Some(true),
                    subscribe: Some(true),
                }),
            tasks: self.tasks_enabled.then(|| wire::ServerCapabilitiesTasks {
                cancel: Some(Default::default()),
                list: Some(Default::default()),
                requests: Some(wire::ServerCapabilitiesTasksRequests {
                    tools: Some(wire::ServerCapabilitiesTasksRequestsTools {
                        call: Some(Default::default()),
                    }),
                }),
            }),
            tools: self.tools_enabled.then_some(wire::ServerCapabilitiesTools {
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
}

impl ServerState for Inner {}

pub(crate) fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    // Every critical section is one insert, remove or clone: a poisoned lock is still consistent.
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
