//! Serving over Streamable HTTP (feature `http`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use hyper::body::Incoming;
use mcpwire_http::server::{
    BoxFuture, Config, Exchange, HttpSessionTransport, StatelessHandler, StreamableHttpService,
    serve_layered,
};
use mcpwire_jsonrpc::{Notification, Request, RequestId};
use mcpwire_rpc::CancellationToken;
use serde_json::value::RawValue;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::Layer;
use tower::layer::util::{Identity, Stack};

use crate::modern::{self, Link};
use crate::router::Route;
use crate::state::Inner;
use crate::{Error, Server};

impl Server {
    /// The Streamable HTTP endpoint of this server, for both eras (unless
    /// [`ServerBuilder::only_era`](crate::ServerBuilder::only_era) says otherwise): every session a client
    /// opens with `initialize` is served by [`Server::serve`], and every modern request
    /// (revision 2026-07-28, with `MCP-Protocol-Version: 2026-07-28` and its `_meta`) is served
    /// statelessly on the service's
    /// [stateless lane](mcpwire_http::server::StreamableHttpService::stateless), with the same
    /// tools, resources and prompts.
    ///
    /// On the lane a request never touches a session: the lane checks its headers against its
    /// body, the server answers it as it answers modern requests over stdio, and closing the
    /// connection or the response stream cancels it. A `requestState` the server hands out is
    /// bound to the principal an authorization layer named (`mcpwire-auth`'s), else to the
    /// SHA-256 of the request's `Authorization` header. Shut the server's
    /// subscriptions down with [`Server::close_subscriptions`] before the service, so that
    /// each ends with its result.
    ///
    /// The service is a `tower::Service`; mount it at the MCP endpoint of an existing hyper
    /// or axum application, or run it with [`Server::serve_http`].
    ///
    /// With [`HttpConfig::shared_sessions`](crate::HttpConfig::shared_sessions) (such as
    /// `mcpwire-store-redis`'s `RedisDeployment::configure` gives), the service serves the
    /// sessions of every instance of the deployment, and the server joins its bus: its
    /// announcements (`notify_list_changed`, `notify_resource_updated`) reach the clients of
    /// every instance. Make such a service inside a tokio runtime.
    ///
    /// With the `legacy-sse` feature, a config with `HttpConfig::legacy_sse_endpoints` makes
    /// the service serve clients of the HTTP+SSE transport of 2024-11-05 too: each event
    /// stream such a client opens is a session served by [`Server::serve`] like any other.
    ///
    /// # Examples
    ///
    /// ```
    /// use mcpwire_server::{HttpConfig, Server};
    ///
    /// let server = Server::builder("example", "1.0.0").build().unwrap();
    /// let service = server.http_service(HttpConfig::default().max_sessions(100));
    /// assert_eq!(service.session_count(), 0);
    /// ```
    pub fn http_service(&self, config: Config) -> StreamableHttpService {
        self.http_service_counting(config, Arc::default())
    }

    /// [`Server::http_service`], counting in `listens` the subscriptions of the lane not yet
    /// answered.
    fn http_service_counting(
        &self,
        config: Config,
        listens: Arc<watch::Sender<usize>>,
    ) -> StreamableHttpService {
        let server = self.clone();
        // A modern-only server accepts no legacy revision: the service refuses `initialize`.
        let config = if self.inner.serves_legacy() {
            config
        } else {
            config.protocol_versions([])
        };
        let bus = config.get_message_bus().map(Arc::clone);
        let service = StreamableHttpService::new(config, move |transport: HttpSessionTransport| {
            #[cfg(feature = "tasks")]
            let state = server
                .inner
                .new_session_of(mcpwire_ext_tasks::Owner::new(transport.owner_digest()));
            #[cfg(not(feature = "tasks"))]
            let state = server.inner.new_session();
            state.set_http_extensions(transport.request_extensions());
            let first_request_id = transport.first_request_id();
            let follow = transport.shared_session().map(|shared| {
                state.share(shared);
                #[cfg(feature = "tasks")]
                if server.inner.settings().shared_tasks.is_some() {
                    state.share_tasks(transport.owner_digest(), transport.session_id());
                }
                transport.shared_session()
            });
            // The session runs on its own tasks and ends with the HTTP session.
            let session = server.serve_session_from(transport, state, first_request_id);
            if let Some(Some(changes)) = follow {
                session.follow_changes(changes);
            }
        });
        if let Some(bus) = bus {
            // The announcements of the other instances are read on the runtime the service is
            // made on, from the service, after the changes to sessions published before them;
            // a service made outside any runtime does not join the bus.
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    if let Some(instance) = self.inner.join_bus(&bus)
                        && let Some(frames) = service.bus_frames()
                    {
                        runtime.spawn(hear_announcements(
                            Arc::downgrade(&self.inner),
                            frames,
                            instance,
                        ));
                    }
                }
                Err(_) => tracing::warn!(
                    "an HTTP service sharing sessions was made outside a tokio runtime: \
                     the server does not hear the other instances' announcements"
                ),
            }
        }
        if self.inner.serves_modern() {
            service.stateless(ModernLane {
                server: Arc::clone(&self.inner),
                listens,
            })
        } else {
            service
        }
    }

    /// Serves this server over Streamable HTTP on `listener`, when awaited: with the default
    /// [`HttpConfig`](crate::HttpConfig) until the process ends, unless the returned
    /// [`ServeHttp`] is given a [`config`](ServeHttp::config) or a
    /// [`graceful shutdown`](ServeHttp::with_graceful_shutdown).
    ///
    /// The defaults accept only loopback `Host` and `Origin` values: bind to `127.0.0.1`, or
    /// give a config with the allowed hosts of a public name.
    ///
    /// # Errors
    ///
    /// Fails when accepting connections fails for good.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use mcpwire_server::HttpConfig;
    ///
    /// let server = mcpwire_server::Server::builder("example", "1.0.0").build()?;
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// server
    ///     .serve_http(listener)
    ///     .config(HttpConfig::default().session_idle_timeout(std::time::Duration::from_secs(60)))
    ///     .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.unwrap() })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn serve_http(&self, listener: TcpListener) -> ServeHttp<'_> {
        ServeHttp {
            server: self,
            listener,
            config: Config::default(),
            layer: Identity::new(),
            shutdown: Box::pin(std::future::pending()),
        }
    }
}

/// Serving a [`Server`] over Streamable HTTP, started by awaiting it; see
/// [`Server::serve_http`].
#[must_use = "nothing is served until it is awaited"]
pub struct ServeHttp<'a, L = Identity> {
    server: &'a Server,
    listener: TcpListener,
    config: Config,
    layer: L,
    shutdown: Pin<Box<dyn Future<Output = ()> + Send + 'a>>,
}

impl<'a, L> ServeHttp<'a, L> {
    /// Serves with `config` instead of the default one.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Serves the endpoint behind `layer`, a `tower` layer such as `mcpwire-auth`'s
    /// `BearerAuthLayer` (then the server is an OAuth resource server, and handlers find the
    /// caller with [`Context::http_extensions`](crate::Context::http_extensions)). Layers
    /// given before wrap this one's inside.
    pub fn layer<M>(self, layer: M) -> ServeHttp<'a, Stack<M, L>> {
        ServeHttp {
            server: self.server,
            listener: self.listener,
            config: self.config,
            layer: Stack::new(layer, self.layer),
            shutdown: self.shutdown,
        }
    }

    /// Serves until `signal` completes; then every modern subscription is closed with its
    /// final result ([`Server::close_subscriptions`]), every session ends and connections
    /// get the configured grace period.
    pub fn with_graceful_shutdown(mut self, signal: impl Future<Output = ()> + Send + 'a) -> Self {
        self.shutdown = Box::pin(signal);
        self
    }
}

impl<'a, L, B> std::future::IntoFuture for ServeHttp<'a, L>
where
    L: Layer<StreamableHttpService> + Send + 'a,
    L::Service: tower::Service<http::Request<Incoming>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    <L::Service as tower::Service<http::Request<Incoming>>>::Future: Send + 'static,
    <L::Service as tower::Service<http::Request<Incoming>>>::Error:
        Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Output = Result<(), mcpwire_http::server::Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let ServeHttp {
            server: this,
            listener,
            config,
            layer,
            shutdown,
        } = self;
        let server = this.clone();
        let listens = Arc::new(watch::Sender::new(0));
        let mut answered = listens.subscribe();
        let grace = config.get_shutdown_grace();
        let shutdown = async move {
            shutdown.await;
            // A subscription's stream lasts until it is closed: each gets its final result
            // before the lane cancels what is still in flight.
            server.close_subscriptions();
            let all_answered = answered.wait_for(|open| *open == 0);
            if tokio::time::timeout(grace, all_answered).await.is_err() {
                tracing::debug!("subscriptions still open after the shutdown grace period");
            }
        };
        let service = this.http_service_counting(config, listens);
        Box::pin(serve_layered(listener, service, layer, shutdown))
    }
}

impl<L> std::fmt::Debug for ServeHttp<'_, L> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ServeHttp")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Serves the requests of the stateless lane with the modern dispatch, [`modern::serve`].
struct ModernLane {
    server: Arc<Inner>,
    /// How many subscriptions are not answered yet.
    listens: Arc<watch::Sender<usize>>,
}

/// Counts one subscription in [`ModernLane::listens`] until it is answered.
struct OpenListen(Arc<watch::Sender<usize>>);

impl Drop for OpenListen {
    fn drop(&mut self) {
        self.0.send_modify(|open| *open = open.saturating_sub(1));
    }
}

impl StatelessHandler for ModernLane {
    fn handle(&self, request: Request, exchange: Exchange) -> BoxFuture<'static, ()> {
        let server = Arc::clone(&self.server);
        let _open = (Route::of(&request.method) == Some(Route::Listen)).then(|| {
            self.listens.send_modify(|open| *open += 1);
            OpenListen(Arc::clone(&self.listens))
        });
        Box::pin(async move {
            let _open = _open;
            // The lane decoded and checked `_meta` already: the dispatch takes it as it is.
            let meta = modern::InboundMeta::Decoded(exchange.meta().clone());
            let principal = exchange.authorization_digest();
            let link = Arc::new(ExchangeLink(exchange));
            let inbound = modern::Inbound {
                method: request.method,
                params: request.params,
                meta,
                link: Arc::clone(&link) as Arc<dyn Link>,
                principal,
                // Over HTTP only the server-wide limit of subscriptions applies.
                listener_slots: None,
            };
            let outcome = modern::serve(&server, inbound).await;
            // A cancelled request gets nothing more; the exchange refuses it anyway.
            if let Err(error) = link.0.respond(outcome).await {
                tracing::debug!(%error, "a modern request over HTTP was not answered");
            }
        })
    }
}

/// The [`Link`] of a request on the stateless lane: its notifications go on its exchange,
/// which turns the answer into an SSE stream, and its cancellation is the exchange's.
struct ExchangeLink(Exchange);

impl Link for ExchangeLink {
    fn request_id(&self) -> &RequestId {
        self.0.id()
    }

    fn cancellation(&self) -> &CancellationToken {
        self.0.cancellation()
    }

    fn notify<'a>(
        &'a self,
        method: &'a str,
        params: Option<Box<RawValue>>,
    ) -> Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>> {
        Box::pin(async move {
            // The only failure: the client went, or the request was answered.
            self.0
                .notify(Notification::new(method, params))
                .await
                .map_err(|_| Error::cancelled())
        })
    }

    fn param_headers(&self) -> Option<&dyn modern::ParamHeaders> {
        Some(self.0.param_headers())
    }

    fn http_extensions(&self) -> Option<Arc<http::Extensions>> {
        Some(Arc::clone(self.0.extensions()))
    }
}

impl modern::ParamHeaders for mcpwire_http::server::ParamHeaders {
    fn get(&self, name: &str) -> Option<Result<&str, String>> {
        mcpwire_http::server::ParamHeaders::get(self, name)
            .map(|value| value.map_err(ToString::to_string))
    }
}

/// Tells this instance's clients what the other instances of the deployment announce, until
/// the server or the bus is gone.
async fn hear_announcements(
    server: std::sync::Weak<Inner>,
    mut frames: tokio::sync::mpsc::Receiver<bytes::Bytes>,
    instance: u64,
) {
    while let Some(frame) = frames.recv().await {
        let Some((from, announcement)) = crate::broadcast::Announcement::decode(&frame) else {
            continue;
        };
        if from == instance {
            continue;
        }
        let Some(inner) = server.upgrade() else {
            return;
        };
        let server = Server { inner };
        match announcement {
            crate::broadcast::Announcement::ListChanged(list) => {
                server.list_changed_here(list).await;
            }
            crate::broadcast::Announcement::ResourceUpdated(uri) => {
                server.resource_updated_here(&uri).await;
            }
            #[cfg(feature = "tasks")]
            task @ (crate::broadcast::Announcement::TaskAnswered { .. }
            | crate::broadcast::Announcement::TaskCancelled { .. }
            | crate::broadcast::Announcement::TaskChanged { .. }) => {
                crate::session_tasks::hear(&server.inner, &task);
                crate::modern::hear_task(&server.inner, task);
            }
        }
    }
}
