//! Configuring a client and connecting it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use mcpwire_ext_tasks::{TaskLimits, TaskRegistry};
use mcpwire_rpc::{Config, Peer, RequestOptions};
use mcpwire_schema::v2025_11_25::methods::{Initialize, Initialized};
use mcpwire_schema::v2025_11_25::{
    ClientCapabilities, ClientCapabilitiesElicitation, ClientCapabilitiesRoots,
    ClientCapabilitiesSampling, ClientCapabilitiesTasks, ClientCapabilitiesTasksRequests,
    ClientCapabilitiesTasksRequestsElicitation, ClientCapabilitiesTasksRequestsSampling,
    Implementation, InitializeRequestParams, InitializeResult,
};
use mcpwire_schema::{Era, JsonObject, ProtocolVersion};
use mcpwire_transport::Transport;

use crate::cancellation::McpCancellation;
use crate::client::{Client, Session};
use crate::dispatch::{Dispatcher, NotificationCallback, Shared};
use crate::handlers::{DynElicitation, DynRoots, DynSampling};
use crate::{
    ElicitationHandler, ElicitationModes, Error, RootsProvider, SamplingHandler, ServerNotification,
};

/// Configures a [`Client`]: who it is, what it can do for the server, its timeouts, and the
/// protocol version it offers. [`ClientBuilder::connect`] then performs the handshake.
///
/// The client's capabilities follow from what is registered: a [`SamplingHandler`] declares
/// `sampling`, an [`ElicitationHandler`] declares `elicitation` with its modes, a
/// [`RootsProvider`] declares `roots`.
pub struct ClientBuilder {
    client_info: Implementation,
    protocol_version: ProtocolVersion,
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
    task_limits: Option<TaskLimits>,
}

impl ClientBuilder {
    /// How long a request waits for its response unless its [`CallOptions`](crate::CallOptions)
    /// say otherwise. Default: 60 seconds.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

    pub(crate) fn new(client_info: Implementation) -> Self {
        ClientBuilder {
            client_info,
            protocol_version: ProtocolVersion::LATEST_LEGACY,
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
            task_limits: None,
        }
    }

    /// The protocol version offered in `initialize`. Default:
    /// [`ProtocolVersion::LATEST_LEGACY`] (2025-11-25).
    ///
    /// The server may answer with another version; the client accepts any revision of the
    /// legacy era (2024-11-05 to 2025-11-25) and refuses others.
    pub fn protocol_version(mut self, version: ProtocolVersion) -> Self {
        self.protocol_version = version;
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
    /// connection.
    pub fn task_requests(mut self, limits: TaskLimits) -> Self {
        self.task_limits = Some(limits);
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
            tasks: self.task_limits.as_ref().map(|_| ClientCapabilitiesTasks {
                cancel: Some(JsonObject::new()),
                list: Some(JsonObject::new()),
                requests: Some(ClientCapabilitiesTasksRequests {
                    elicitation: self.elicitation.as_ref().map(|_| {
                        ClientCapabilitiesTasksRequestsElicitation {
                            create: Some(JsonObject::new()),
                        }
                    }),
                    sampling: self.sampling.as_ref().map(|_| {
                        ClientCapabilitiesTasksRequestsSampling {
                            create_message: Some(JsonObject::new()),
                        }
                    }),
                }),
            }),
        }
    }

    /// Starts the connection on `transport` and performs the `initialize` handshake.
    ///
    /// Sends `initialize` with the client's info, capabilities and offered version, checks the
    /// version the server chose, then sends `notifications/initialized`. Must be called inside
    /// a tokio runtime.
    ///
    /// # Errors
    ///
    /// [`Error::is_unsupported_version`] when the server chose a version this client does not
    /// speak (or the offered version is not of the legacy era); [`Error::is_remote`] when the
    /// server refused `initialize`; [`Error::is_timeout`] or [`Error::is_closed`] when no
    /// answer came. The connection is closed in every case.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the connection; `initialize` itself is never cancelled on the
    /// wire.
    pub async fn connect<T: Transport>(self, transport: T) -> Result<Client, Error> {
        let offered = self.protocol_version;
        if offered.era() != Era::Legacy {
            // The modern era's `server/discover` is not implemented yet.
            return Err(Error::version_not_offered(offered.as_str()));
        }
        let capabilities = self.capabilities();
        let shared = Arc::new(Shared::new(
            self.sampling,
            self.sampling_tools,
            self.elicitation,
            self.elicitation_modes,
            self.roots,
            self.on_notification,
            self.task_limits.map(TaskRegistry::new),
        ));
        let config = self
            .engine
            .cancellation(McpCancellation)
            .request_timeout(self.request_timeout);
        let peer = Peer::start(
            transport,
            Dispatcher {
                shared: Arc::clone(&shared),
            },
            config,
        );
        if shared.tasks.is_some() {
            // The tasks the server asked for end with the connection.
            let watched = Arc::clone(&shared);
            let closing = peer.clone();
            tokio::spawn(async move {
                closing.closed().await;
                if let Some(tasks) = &watched.tasks {
                    tasks.cancel_all();
                }
            });
        }
        let params = InitializeRequestParams {
            meta: None,
            capabilities: capabilities.clone(),
            client_info: self.client_info,
            protocol_version: offered.as_str().to_owned(),
        };
        let result = match initialize(&peer, &params, self.request_timeout).await {
            Ok(result) => result,
            Err(error) => {
                peer.close().await;
                return Err(error);
            }
        };
        let negotiated = ProtocolVersion::from_wire(&result.protocol_version)
            .filter(|version| version.era() == Era::Legacy);
        let Some(negotiated) = negotiated else {
            // The lifecycle asks a client that cannot speak the server's choice to disconnect.
            peer.close().await;
            return Err(Error::unsupported_version(
                offered.as_str(),
                &result.protocol_version,
            ));
        };
        if let Err(error) = peer.notify::<Initialized>(&None).await {
            peer.close().await;
            return Err(Error::rpc(
                <Initialized as mcpwire_jsonrpc::NotificationMethod>::METHOD,
                error,
            ));
        }
        tracing::debug!(version = %negotiated, server = %result.server_info.name, "initialized");
        Ok(Client::new(
            peer,
            shared,
            Session {
                protocol_version: negotiated,
                server_info: result.server_info,
                server_capabilities: result.capabilities,
                instructions: result.instructions,
                client_capabilities: capabilities,
            },
            self.request_timeout,
            self.progress_maximum,
        ))
    }
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
            .field("request_timeout", &self.request_timeout)
            .field("progress_maximum", &self.progress_maximum)
            .field("capabilities", &self.capabilities())
            .finish_non_exhaustive()
    }
}
