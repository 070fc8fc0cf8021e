//! Configuring a client and connecting it.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "tasks")]
use mcpwire_ext_tasks::{FollowLimits, TaskLimits, TaskRegistry};
use mcpwire_rpc::{Config, Peer, RequestOptions};
use mcpwire_schema::v2025_11_25::methods::{Initialize, Initialized};
use mcpwire_schema::v2025_11_25::{
    ClientCapabilities, ClientCapabilitiesElicitation, ClientCapabilitiesRoots,
    ClientCapabilitiesSampling, ClientCapabilitiesTasks, Implementation, InitializeRequestParams,
    InitializeResult,
};
use mcpwire_schema::{Era, JsonObject, ProtocolVersion};
use mcpwire_transport::{MessageSender, Transport};
use tokio::time::Instant;

use crate::cache::ResultCache;
use crate::client::{Client, Modern, Session};
use crate::discover::{Discovery, Found, Mode, discover};
use crate::dispatch::{Dispatcher, NotificationCallback, Shared};
use crate::era::{CacheSlot, Known};
use crate::handlers::{DynElicitation, DynRoots, DynSampling};
use crate::mirrored::MirroredTools;
use crate::modern::{self, Envelope};
use crate::{
    ElicitationHandler, ElicitationModes, EraCache, EraChoice, Error, RootsProvider,
    SamplingHandler, ServerNotification,
};
use mcpwire_protocol::McpCancellation;

/// Configures a [`Client`]: who it is, what it can do for the server, its timeouts, the
/// protocol era and versions it speaks. [`ClientBuilder::connect`] then finds out which era
/// the server speaks and establishes the connection.
///
/// The client's capabilities follow from what is registered: a [`SamplingHandler`] declares
/// `sampling`, an [`ElicitationHandler`] declares `elicitation` with its modes, a
/// [`RootsProvider`] declares `roots`. The same handlers answer a legacy server's requests and
/// a modern server's input requests.
pub struct ClientBuilder {
    client_info: Implementation,
    protocol_version: ProtocolVersion,
    modern_version: ProtocolVersion,
    era: EraChoice,
    discovery_timeout: Duration,
    era_cache: Option<CacheSlot>,
    max_input_rounds: u32,
    subscription_capacity: usize,
    result_cache: usize,
    request_timeout: Option<Duration>,
    progress_maximum: Option<Duration>,
    engine: Config,
    sampling: Option<Arc<dyn DynSampling>>,
    sampling_tools: bool,
    elicitation: Option<Arc<dyn DynElicitation>>,
    elicitation_modes: ElicitationModes,
    roots: Option<Arc<dyn DynRoots>>,
    roots_list_changed: bool,
    on_notification: Option<NotificationCallback>,
    extensions: BTreeMap<String, JsonObject>,
    #[cfg(feature = "tasks")]
    task_limits: Option<TaskLimits>,
    #[cfg(feature = "tasks")]
    tasks_extension: Option<FollowLimits>,
}

impl Client {
    /// Starts configuring a client that introduces itself by `name` and `version` in
    /// `clientInfo`, as [`Server::builder`] does in `serverInfo`; the builder's
    /// [`title`](ClientBuilder::title) and [`description`](ClientBuilder::description) add to
    /// it, and [`ClientBuilder::new`] takes a whole [`Implementation`] (icons, website).
    ///
    /// [`Server::builder`]: https://docs.rs/mcpwire-server/latest/mcpwire_server/struct.Server.html#method.builder
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(Implementation::new(name, version))
    }
}

impl ClientBuilder {
    /// How long a request waits for its response unless its [`CallOptions`](crate::CallOptions)
    /// say otherwise. Default: 60 seconds.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

    /// How long the `server/discover` probe waits for an answer before taking the server for
    /// a legacy one. Default: 5 seconds.
    pub const DEFAULT_DISCOVERY_TIMEOUT: Duration = Duration::from_secs(5);

    /// How many times a modern request may be answered with `input_required` before the call
    /// fails. Default: 10.
    pub const DEFAULT_MAX_INPUT_ROUNDS: u32 = 10;

    /// How many notifications a [`Subscription`](crate::Subscription) keeps unread. Default: 64.
    pub const DEFAULT_SUBSCRIPTION_CAPACITY: usize = 64;

    /// Starts configuring a client that introduces itself as `client_info`;
    /// [`Client::builder`](crate::Client::builder) is the short form for a name and a version.
    pub fn new(client_info: Implementation) -> Self {
        ClientBuilder {
            client_info,
            protocol_version: ProtocolVersion::LATEST_LEGACY,
            modern_version: ProtocolVersion::LATEST,
            era: EraChoice::Auto,
            discovery_timeout: Self::DEFAULT_DISCOVERY_TIMEOUT,
            era_cache: None,
            max_input_rounds: Self::DEFAULT_MAX_INPUT_ROUNDS,
            subscription_capacity: Self::DEFAULT_SUBSCRIPTION_CAPACITY,
            result_cache: 0,
            request_timeout: Some(Self::DEFAULT_REQUEST_TIMEOUT),
            progress_maximum: None,
            engine: Config::default(),
            sampling: None,
            sampling_tools: false,
            elicitation: None,
            elicitation_modes: ElicitationModes::FORM,
            roots: None,
            roots_list_changed: false,
            on_notification: None,
            #[cfg(feature = "tasks")]
            task_limits: None,
            #[cfg(feature = "tasks")]
            tasks_extension: None,
            extensions: BTreeMap::new(),
        }
    }

    /// Sets the human-readable title in `clientInfo`.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.client_info.title = Some(title.into());
        self
    }

    /// Sets the description in `clientInfo`.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.client_info.description = Some(description.into());
        self
    }

    /// The protocol version the client prefers in the era of `version`: a legacy version is
    /// the one offered in `initialize` (default [`ProtocolVersion::LATEST_LEGACY`],
    /// 2025-11-25), a modern one the one `server/discover` and every modern request carry
    /// (default [`ProtocolVersion::LATEST`], 2026-07-28).
    ///
    /// In `initialize` the server may answer with another version; the client accepts any
    /// revision of the legacy era (2024-11-05 to 2025-11-25) and refuses others. A modern
    /// server that does not support the preferred version names those it does, and the
    /// client picks the newest it speaks.
    pub fn protocol_version(mut self, version: ProtocolVersion) -> Self {
        match version.era() {
            Era::Legacy => self.protocol_version = version,
            Era::Modern => self.modern_version = version,
        }
        self
    }

    /// Which era to speak. Default: [`EraChoice::Auto`], which probes with `server/discover`
    /// and falls back to `initialize` when the server does not answer as a modern server.
    pub fn era(mut self, choice: EraChoice) -> Self {
        self.era = choice;
        self
    }

    /// How long the `server/discover` probe of [`EraChoice::Auto`] waits for an answer before
    /// the client takes the server for a legacy one. The probe is then withdrawn without a
    /// cancellation. Default: [`ClientBuilder::DEFAULT_DISCOVERY_TIMEOUT`].
    pub fn discovery_timeout(mut self, timeout: Duration) -> Self {
        self.discovery_timeout = timeout;
        self
    }

    /// Remembers in `cache`, under `key` (a name for the server: its command line, its
    /// URL...), which era the server speaks, so that the next connection to it with
    /// [`EraChoice::Auto`] skips the probe; see [`EraCache`].
    pub fn era_cache(mut self, cache: EraCache, key: impl Into<String>) -> Self {
        self.era_cache = Some(CacheSlot {
            cache,
            key: key.into(),
        });
        self
    }

    /// How many times, in the modern era, one call may be answered with `input_required`
    /// (each time answered with the registered handlers and retried) before it fails with
    /// [`Error::is_input_rounds_exceeded`]. Default:
    /// [`ClientBuilder::DEFAULT_MAX_INPUT_ROUNDS`].
    pub fn max_input_rounds(mut self, rounds: u32) -> Self {
        self.max_input_rounds = rounds;
        self
    }

    /// Keeps up to `capacity` results the server marks as cacheable (modern era), and answers
    /// a request with the same method and distinguishing param (the cursor of a listing, the
    /// URI of `resources/read`) from the cache while the result is fresh. `0` turns the cache
    /// off, which is the default.
    ///
    /// A result is fresh for its `ttlMs` after it arrived (never when absent or zero). A
    /// list-changed notification forgets that list, `notifications/resources/updated` the
    /// resource, a failed request its method's results. Results of retries that answered
    /// input requests are never kept. The cache belongs to this connection alone.
    pub fn result_cache(mut self, capacity: usize) -> Self {
        self.result_cache = capacity;
        self
    }

    /// How many notifications each [`Subscription`](crate::Subscription) keeps unread (at
    /// least 1); further ones are dropped until it is read. Default:
    /// [`ClientBuilder::DEFAULT_SUBSCRIPTION_CAPACITY`].
    pub fn subscription_capacity(mut self, capacity: usize) -> Self {
        self.subscription_capacity = capacity.max(1);
        self
    }

    /// The default timeout of requests, `initialize` included; `None` waits without limit.
    /// Default: [`ClientBuilder::DEFAULT_REQUEST_TIMEOUT`].
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Lets progress updates restart a request's timeout, but never beyond `maximum` after the
    /// request was sent. Every request then carries a progress token. Off by default; a call
    /// can opt out with [`CallOptions::progress_keeps_timeout`](crate::CallOptions::progress_keeps_timeout).
    pub fn progress_extends_timeout(mut self, maximum: Duration) -> Self {
        self.progress_maximum = Some(maximum);
        self
    }

    /// The engine's bounds (concurrent server requests, pending requests, queue sizes); see
    /// [`Config`]. Its request timeout and cancellation are set by the client.
    pub fn engine_config(mut self, config: Config) -> Self {
        self.engine = config;
        self
    }

    /// Answers `sampling/createMessage` with `handler`, declaring the `sampling` capability.
    pub fn sampling(mut self, handler: impl SamplingHandler) -> Self {
        self.sampling = Some(Arc::new(handler));
        self
    }

    /// Declares `sampling.tools`: the sampling handler accepts requests with `tools` and
    /// `toolChoice`. Without it such requests are refused with `-32602`. Default: off.
    pub fn sampling_tools(mut self, enabled: bool) -> Self {
        self.sampling_tools = enabled;
        self
    }

    /// Answers `elicitation/create` with `handler`, declaring the `elicitation` capability with
    /// the modes set by [`ClientBuilder::elicitation_modes`] (form only by default).
    pub fn elicitation(mut self, handler: impl ElicitationHandler) -> Self {
        self.elicitation = Some(Arc::new(handler));
        self
    }

    /// The elicitation modes declared with the elicitation handler. Default:
    /// [`ElicitationModes::FORM`].
    pub fn elicitation_modes(mut self, modes: ElicitationModes) -> Self {
        self.elicitation_modes = modes;
        self
    }

    /// Answers `roots/list` with `provider`, declaring the `roots` capability.
    pub fn roots(mut self, provider: impl RootsProvider) -> Self {
        self.roots = Some(Arc::new(provider));
        self
    }

    /// Declares `roots.listChanged`: the application promises to call
    /// [`Client::notify_roots_list_changed`] whenever its roots change. Default: off.
    pub fn roots_list_changed(mut self, enabled: bool) -> Self {
        self.roots_list_changed = enabled;
        self
    }

    /// Declares tasks (2025-11-25) for the server's requests: with a sampling handler the
    /// server may ask for `sampling/createMessage` as a task, with an elicitation handler for
    /// `elicitation/create` as a task, and it may list and cancel those tasks. Default: off.
    ///
    /// A task runs the same handler in the background; the server polls `tasks/get`, waits on
    /// `tasks/result`, and the client announces each status change with
    /// `notifications/tasks/status`. Tasks are bounded by `limits` and end with the
    /// connection. Needs the feature `tasks` (on by default).
    #[cfg(feature = "tasks")]
    pub fn task_requests(mut self, limits: TaskLimits) -> Self {
        self.task_limits = Some(limits);
        self
    }

    /// Declares the tasks extension of 2026-07-28 (`io.modelcontextprotocol/tasks`) on every
    /// modern request, so that a server that declares it too may answer a `tools/call` with a
    /// task instead of its result. Default: off.
    ///
    /// Such a call still resolves to the tool's result: [`Client::call_tool`] (and a
    /// `tools/call` sent with [`Client::request`] or [`Client::request_raw`]) follows the task
    /// with `tasks/get` at the server's interval, answers its input requests with the
    /// registered handlers through `tasks/update`, and returns its result or error;
    /// [`Client::start_tool_call`] gives the [`TaskHandle`](crate::TaskHandle) instead. A task
    /// is followed within `limits`: the server's interval kept within bounds, and for no longer
    /// than its time to live or [`FollowLimits::max_follow`]. The legacy era is unaffected.
    /// Needs the feature `tasks` (on by default).
    ///
    /// [`Client::call_tool`]: crate::Client::call_tool
    /// [`Client::request`]: crate::Client::request
    /// [`Client::request_raw`]: crate::Client::request_raw
    /// [`Client::start_tool_call`]: crate::Client::start_tool_call
    #[cfg(feature = "tasks")]
    pub fn tasks_extension(mut self, limits: FollowLimits) -> Self {
        self.tasks_extension = Some(limits);
        self
    }

    /// Declares the extension `id` with `settings` among the capabilities of every request of
    /// the modern era (`_meta`), as the extension's specification asks of a client that
    /// supports it: for the authorization extensions, say, whose work happens in the HTTP
    /// layer (`mcpwire_ext_client_credentials::EXTENSION_ID`, ...). The legacy era's
    /// capabilities have no extensions. A later declaration of the same `id` replaces the
    /// earlier; the tasks extension is declared by [`tasks_extension`](Self::tasks_extension).
    pub fn extension(mut self, id: impl Into<String>, settings: JsonObject) -> Self {
        self.extensions.insert(id.into(), settings);
        self
    }

    /// Hands every notification from the server to `callback`, except progress that a call's
    /// own callback receives.
    ///
    /// The callback runs on the connection's reading task, one notification at a time in the
    /// order they arrive: keep it short. To process notifications elsewhere, forward them
    /// into a bounded channel with `try_send`.
    pub fn on_notification(
        mut self,
        callback: impl Fn(ServerNotification) + Send + Sync + 'static,
    ) -> Self {
        self.on_notification = Some(Arc::new(callback));
        self
    }

    /// The capabilities this configuration declares in `initialize`.
    pub fn capabilities(&self) -> ClientCapabilities {
        ClientCapabilities {
            elicitation: self
                .elicitation
                .as_ref()
                .map(|_| ClientCapabilitiesElicitation {
                    form: self.elicitation_modes.form().then(JsonObject::new),
                    url: self.elicitation_modes.url().then(JsonObject::new),
                }),
            experimental: None,
            roots: self.roots.as_ref().map(|_| ClientCapabilitiesRoots {
                list_changed: self.roots_list_changed.then_some(true),
            }),
            sampling: self.sampling.as_ref().map(|_| ClientCapabilitiesSampling {
                context: None,
                tools: self.sampling_tools.then(JsonObject::new),
            }),
            tasks: self.task_capability(),
        }
    }

    /// The `tasks` capability: declared when [`ClientBuilder::task_requests`] was called.
    #[cfg(feature = "tasks")]
    fn task_capability(&self) -> Option<ClientCapabilitiesTasks> {
        use mcpwire_schema::v2025_11_25::{
            ClientCapabilitiesTasksRequests, ClientCapabilitiesTasksRequestsElicitation,
            ClientCapabilitiesTasksRequestsSampling,
        };

        self.task_limits.as_ref().map(|_| ClientCapabilitiesTasks {
            cancel: Some(JsonObject::new()),
            list: Some(JsonObject::new()),
            requests: Some(ClientCapabilitiesTasksRequests {
                elicitation: self.elicitation.as_ref().map(|_| {
                    ClientCapabilitiesTasksRequestsElicitation {
                        create: Some(JsonObject::new()),
                    }
                }),
                sampling: self
                    .sampling
                    .as_ref()
                    .map(|_| ClientCapabilitiesTasksRequestsSampling {
                        create_message: Some(JsonObject::new()),
                    }),
            }),
        })
    }

    /// The `tasks` capability: never declared without the feature `tasks`.
    #[cfg(not(feature = "tasks"))]
    fn task_capability(&self) -> Option<ClientCapabilitiesTasks> {
        None
    }

    /// Starts the connection on `transport` and establishes it in the era the server speaks.
    ///
    /// With [`EraChoice::Auto`] (unless the [`EraCache`] knows the server) the client first
    /// sends `server/discover` with its preferred modern version. A discovery result, or an
    /// error only a modern server sends (`-32020`, `-32021`, `-32022`), means a modern
    /// server: after `-32022` the client retries once at the newest version of the server's
    /// list that it speaks. Any other answer, or none within the
    /// [discovery timeout](ClientBuilder::discovery_timeout), means a legacy server: the
    /// client performs the `initialize` handshake on the same transport.
    ///
    /// The legacy handshake sends `initialize` with the client's info, capabilities and
    /// offered version, checks the version the server chose, then sends
    /// `notifications/initialized`. Must be called inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// [`Error::is_unsupported_version`] when the server chose, or supports only, versions
    /// this client does not speak; [`Error::is_remote`] when the server refused `initialize`
    /// or answered discovery with a modern error; [`Error::is_timeout`] or
    /// [`Error::is_closed`] when no answer came. The connection is closed in every case.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the connection; `initialize` itself is never cancelled on the
    /// wire.
    pub async fn connect<T: Transport>(self, transport: T) -> Result<Client, Error> {
        let capabilities = self.capabilities();
        let mut modern_capabilities = modern::capabilities(
            self.sampling.as_ref().map(|_| self.sampling_tools),
            self.elicitation.as_ref().map(|_| self.elicitation_modes),
            self.roots.is_some(),
        );
        if !self.extensions.is_empty() {
            modern_capabilities
                .extensions
                .get_or_insert_default()
                .extend(self.extensions.clone());
        }
        #[cfg(feature = "tasks")]
        if self.tasks_extension.is_some() {
            let extensions = modern_capabilities.extensions.get_or_insert_default();
            extensions.insert(mcpwire_ext_tasks::EXTENSION.to_owned(), JsonObject::new());
        }
        let envelope = Envelope::new(&self.client_info, modern_capabilities);
        let mut shared = Shared::new(
            self.sampling.clone(),
            self.sampling_tools,
            self.elicitation.clone(),
            self.elicitation_modes,
            self.roots.clone(),
            self.on_notification.clone(),
        );
        #[cfg(feature = "tasks")]
        {
            shared.tasks = self.task_limits.clone().map(TaskRegistry::new);
        }
        shared.results = (self.result_cache > 0).then(|| ResultCache::new(self.result_cache));
        let shared = Arc::new(shared);
        let config = self
            .engine
            .clone()
            .cancellation(McpCancellation)
            .request_timeout(self.request_timeout);
        let peer = Peer::start(
            transport,
            Dispatcher {
                shared: Arc::clone(&shared),
            },
            config,
        );
        // The tasks the server asked for end with the connection.
        #[cfg(feature = "tasks")]
        if shared.tasks.is_some() {
            let watched = Arc::clone(&shared);
            let closing = peer.clone();
            tokio::spawn(async move {
                closing.closed().await;
                if let Some(tasks) = &watched.tasks {
                    tasks.cancel_all();
                }
            });
        }
        let established = match self.establish(&peer, &envelope, &capabilities).await {
            Ok(established) => established,
            Err(error) => {
                peer.close().await;
                return Err(error);
            }
        };
        let (session, modern) = match established {
            Established::Legacy(session) => {
                if let Some(slot) = &self.era_cache {
                    slot.remember(Known::Legacy);
                }
                (*session, None)
            }
            Established::Modern(discovery) => {
                tracing::debug!(
                    version = %discovery.version,
                    server = %discovery.server_info.name,
                    "discovered a modern server"
                );
                if let Some(slot) = &self.era_cache {
                    slot.remember(Known::Modern {
                        fresh_until: Instant::now() + discovery.ttl,
                        discovery: Arc::clone(&discovery),
                    });
                }
                let session = Session {
                    protocol_version: discovery.version,
                    server_info: discovery.server_info.clone(),
                    server_capabilities: discovery.capabilities.clone(),
                    instructions: discovery.instructions.clone(),
                    client_capabilities: capabilities,
                    server_extensions: discovery.extensions.clone(),
                };
                let modern = Modern {
                    envelope,
                    max_input_rounds: self.max_input_rounds,
                    subscription_capacity: self.subscription_capacity,
                    cache: self.era_cache.clone(),
                    mirrored: <T::Sender as MessageSender>::SENDS_HEADERS
                        .then(MirroredTools::default),
                    #[cfg(feature = "tasks")]
                    tasks: self.tasks_extension.clone(),
                };
                (session, Some(modern))
            }
        };
        Ok(Client::new(
            peer,
            shared,
            session,
            modern,
            self.request_timeout,
            self.progress_maximum,
        ))
    }

    /// Finds out the era, from the choice, the cache and the server's answers.
    async fn establish(
        &self,
        peer: &Peer,
        envelope: &Envelope,
        capabilities: &ClientCapabilities,
    ) -> Result<Established, Error> {
        match self.era {
            EraChoice::Legacy => self.handshake(peer, capabilities).await,
            EraChoice::Modern => {
                let mode = Mode::Modern(self.request_timeout);
                match discover(
                    peer,
                    envelope,
                    self.modern_version,
                    mode,
                    self.request_timeout,
                )
                .await?
                {
                    Found::Modern(discovery) => Ok(Established::Modern(discovery)),
                    Found::NotModern => unreachable!("only a probe takes a server for legacy"),
                }
            }
            EraChoice::Auto => match self.era_cache.as_ref().and_then(CacheSlot::get) {
                None => {
                    self.probe(peer, envelope, capabilities, self.modern_version)
                        .await
                }
                Some(Known::Legacy) => match self.handshake(peer, capabilities).await {
                    Err(error) if error.is_remote() => {
                        tracing::debug!(%error, "a server known as legacy refused initialize");
                        if let Some(slot) = &self.era_cache {
                            slot.forget();
                        }
                        self.probe(peer, envelope, capabilities, self.modern_version)
                            .await
                    }
                    handshake => handshake,
                },
                Some(Known::Modern {
                    discovery,
                    fresh_until,
                }) if Instant::now() < fresh_until => Ok(Established::Modern(discovery)),
                Some(Known::Modern { discovery, .. }) => {
                    self.probe(peer, envelope, capabilities, discovery.version)
                        .await
                }
            },
        }
    }

    /// Probes with `server/discover` at `version`, falling back to the legacy handshake.
    async fn probe(
        &self,
        peer: &Peer,
        envelope: &Envelope,
        capabilities: &ClientCapabilities,
        version: ProtocolVersion,
    ) -> Result<Established, Error> {
        let mode = Mode::Probe(self.discovery_timeout);
        match discover(peer, envelope, version, mode, self.request_timeout).await? {
            Found::Modern(discovery) => Ok(Established::Modern(discovery)),
            Found::NotModern => self.handshake(peer, capabilities).await,
        }
    }

    /// The legacy handshake: `initialize`, the version check, `notifications/initialized`.
    async fn handshake(
        &self,
        peer: &Peer,
        capabilities: &ClientCapabilities,
    ) -> Result<Established, Error> {
        let offered = self.protocol_version;
        let params = InitializeRequestParams {
            meta: None,
            capabilities: capabilities.clone(),
            client_info: self.client_info.clone(),
            protocol_version: offered.as_str().to_owned(),
        };
        let result = initialize(peer, &params, self.request_timeout).await?;
        let negotiated = ProtocolVersion::from_wire(&result.protocol_version)
            .filter(|version| version.era() == Era::Legacy);
        let Some(negotiated) = negotiated else {
            // The lifecycle asks a client that cannot speak the server's choice to disconnect.
            return Err(Error::unsupported_version(
                offered.as_str(),
                &result.protocol_version,
            ));
        };
        peer.notify::<Initialized>(&None).await.map_err(|error| {
            Error::rpc(
                <Initialized as mcpwire_jsonrpc::NotificationMethod>::METHOD,
                error,
            )
        })?;
        tracing::debug!(version = %negotiated, server = %result.server_info.name, "initialized");
        Ok(Established::Legacy(Box::new(Session {
            protocol_version: negotiated,
            server_info: result.server_info,
            server_capabilities: result.capabilities,
            instructions: result.instructions,
            client_capabilities: capabilities.clone(),
            server_extensions: BTreeMap::new(),
        })))
    }
}

/// The era a connection was established in, with what the server told.
enum Established {
    Legacy(Box<Session>),
    Modern(Arc<Discovery>),
}

/// Sends `initialize` and awaits its result.
///
/// `initialize` must not be cancelled, so the engine gets no timeout for it (it would send a
/// cancellation on expiry); the deadline is kept here, and on expiry the connection is closed
/// before the request is dropped, which sends nothing.
async fn initialize(
    peer: &Peer,
    params: &InitializeRequestParams,
    timeout: Option<Duration>,
) -> Result<InitializeResult, Error> {
    let method = <Initialize as mcpwire_jsonrpc::RequestMethod>::METHOD;
    let mut options = RequestOptions::default();
    options.timeout = Some(None);
    let request = peer.request_with::<Initialize>(params, options);
    tokio::pin!(request);
    let expired = async {
        match timeout {
            Some(timeout) => tokio::time::sleep(timeout).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        outcome = &mut request => outcome.map_err(|error| Error::rpc(method, error)),
        () = expired => {
            peer.close().await;
            Err(Error::timeout(method))
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ClientBuilder")
            .field("client_info", &self.client_info)
            .field("protocol_version", &self.protocol_version)
            .field("modern_version", &self.modern_version)
            .field("era", &self.era)
            .field("request_timeout", &self.request_timeout)
            .field("progress_maximum", &self.progress_maximum)
            .field("capabilities", &self.capabilities())
            .finish_non_exhaustive()
    }
}
