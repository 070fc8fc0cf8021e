//! The connected client: typed and raw requests, the convenience calls, progress and
//! timeouts.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "tasks")]
use mcpwire_ext_tasks::FollowLimits;
use mcpwire_jsonrpc::method::{NotificationMethod, RequestMethod};
use mcpwire_jsonrpc::{ErrorCode, encode_params};
use mcpwire_rpc::{Peer, RequestOptions};
use mcpwire_schema::v2025_11_25::methods::{
    Complete, GetPrompt, ListPrompts, ListResourceTemplates, ListResources, ListTools, Ping,
    ReadResource, RootsListChanged, SetLevel, Subscribe, Unsubscribe,
};
use mcpwire_schema::v2025_11_25::{
    ClientCapabilities, CompleteRequestParams, CompleteRequestParamsArgument,
    CompleteRequestParamsRef, CompleteResult, GetPromptRequestParams, GetPromptResult,
    Implementation, ListToolsResult, LoggingLevel, PaginatedRequestParams, Prompt,
    ReadResourceRequestParams, ReadResourceResult, Resource, ResourceTemplate, ServerCapabilities,
    SetLevelRequestParams, SubscribeRequestParams, Tool, UnsubscribeRequestParams,
};
use mcpwire_schema::v2026_07_28::SubscriptionFilter;
use mcpwire_schema::{Era, FromClient, JsonObject, ProtocolVersion};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::cache::ResultCache;
use crate::dispatch::{ProgressRegistration, Shared};
use crate::era::CacheSlot;
use crate::mirrored::MirroredTools;
use crate::modern::{self, Envelope, Outcome};
use crate::subscription::{self, Subscription};
use crate::{CallOptions, Error, capability, mrtr};
use mcpwire_protocol::pagination::{Cursors, MAX_PAGES, Next, Page};

/// A connection to an MCP server, in the era the server speaks: after the `initialize`
/// handshake (legacy era) or `server/discover` (modern era).
///
/// Cheap to clone; every clone uses the same connection. The connection closes on
/// [`Client::close`], when the server closes the transport, or when the last clone is dropped.
///
/// Requests check the server's capabilities first: a method the server did not declare fails
/// with [`Error::is_capability_missing`] and nothing is sent (`ping` needs no capability, and
/// methods outside the specification, sent with [`Client::request_raw`], are not checked).
///
/// The API is the same in both eras. In the modern era every request carries the protocol
/// version, the client's capabilities and info (and the log level set with
/// [`Client::set_logging_level`]) in its `_meta`; a `tools/call`, `prompts/get` or
/// `resources/read` the server answers with `input_required` is answered with the registered
/// handlers and retried, transparently. Methods the modern era removed (`ping`,
/// `resources/subscribe`, ...) fail with [`Error::is_unsupported_in_era`] without being sent;
/// [`Client::listen`] replaces subscriptions.
///
/// # Cancel safety
///
/// Every request method is cancel safe in the protocol's sense: dropping its future withdraws
/// the request and sends `notifications/cancelled` with its id.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    peer: Peer,
    shared: Arc<Shared>,
    session: Session,
    /// The modern era's state; `None` in the legacy era.
    modern: Option<Modern>,
    request_timeout: Option<Duration>,
    progress_maximum: Option<Duration>,
}

/// What a modern connection needs beyond the session.
pub(crate) struct Modern {
    pub(crate) envelope: Envelope,
    pub(crate) max_input_rounds: u32,
    pub(crate) subscription_capacity: usize,
    /// Where the era of this server is remembered, to forget it when it proves wrong.
    pub(crate) cache: Option<CacheSlot>,
    /// The tools' `x-mcp-header` declarations, when the transport sends headers.
    pub(crate) mirrored: Option<MirroredTools>,
    /// How tasks of the tasks extension are followed, when the client declares it.
    #[cfg(feature = "tasks")]
    pub(crate) tasks: Option<FollowLimits>,
}

/// What establishing the connection learnt.
///
/// In the legacy era this comes from `initialize`; in the modern era from `server/discover`.
pub(crate) struct Session {
    pub(crate) protocol_version: ProtocolVersion,
    pub(crate) server_info: Implementation,
    pub(crate) server_capabilities: ServerCapabilities,
    pub(crate) instructions: Option<String>,
    pub(crate) client_capabilities: ClientCapabilities,
    /// The extensions a modern server declared; none in the legacy era.
    pub(crate) server_extensions: BTreeMap<String, JsonObject>,
}

/// What sending a call gave.
pub(crate) enum Sent {
    /// The result of the request.
    Result(Box<RawValue>),
    /// The `CreateTaskResult` of the task of the tasks extension that the request became.
    #[cfg(feature = "tasks")]
    Task(Box<RawValue>),
}

impl Client {
    pub(crate) fn new(
        peer: Peer,
        shared: Arc<Shared>,
        session: Session,
        modern: Option<Modern>,
        request_timeout: Option<Duration>,
        progress_maximum: Option<Duration>,
    ) -> Self {
        Client {
            inner: Arc::new(Inner {
                peer,
                shared,
                session,
                modern,
                request_timeout,
                progress_maximum,
            }),
        }
    }

    /// The protocol version negotiated in the handshake, or agreed through `server/discover`.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.inner.session.protocol_version
    }

    /// The era of the protocol the connection speaks.
    pub fn era(&self) -> Era {
        self.inner.session.protocol_version.era()
    }

    /// The server's name, version and other details from the handshake or discovery (empty
    /// when a modern server did not identify itself).
    pub fn server_info(&self) -> &Implementation {
        &self.inner.session.server_info
    }

    /// The capabilities the server declared in the handshake or discovery.
    pub fn server_capabilities(&self) -> &ServerCapabilities {
        &self.inner.session.server_capabilities
    }

    /// The server's instructions for using it, if it sent any.
    pub fn instructions(&self) -> Option<&str> {
        self.inner.session.instructions.as_deref()
    }

    /// The extensions the server declared in `server/discover` (`capabilities.extensions`),
    /// by identifier, with their settings; empty in the legacy era.
    pub fn server_extensions(&self) -> &BTreeMap<String, JsonObject> {
        &self.inner.session.server_extensions
    }

    /// The capabilities this client declares, in the legacy era's shape. In the modern era
    /// the same registrations are declared in every request, in that era's shape (without
    /// `roots.listChanged` and tasks, which it removed).
    pub fn client_capabilities(&self) -> &ClientCapabilities {
        &self.inner.session.client_capabilities
    }

    /// Sends the notification `M`.
    ///
    /// # Errors
    ///
    /// Fails when the params cannot be encoded or the connection is closed, and with
    /// [`Error::is_unsupported_in_era`] for a notification the modern era removed
    /// (`notifications/initialized`, `notifications/roots/list_changed`).
    pub async fn notify<M>(&self, params: M::Params) -> Result<(), Error>
    where
        M: NotificationMethod + FromClient,
    {
        self.check_era(M::METHOD)?;
        self.inner
            .peer
            .notify::<M>(&params)
            .await
            .map_err(|error| Error::rpc(M::METHOD, error))
    }

    /// Lists every tool, following `nextCursor` through the pages.
    ///
    /// # Errors
    ///
    /// As [`Client::request`], and [`Error::is_pagination`] when the server repeats a cursor
    /// or sends more than 1000 pages.
    pub async fn list_tools(&self) -> Result<Vec<Tool>, Error> {
        self.list_all::<ListTools>().await
    }

    /// Lists every resource, following `nextCursor` through the pages.
    ///
    /// # Errors
    ///
    /// As [`Client::list_tools`].
    pub async fn list_resources(&self) -> Result<Vec<Resource>, Error> {
        self.list_all::<ListResources>().await
    }

    /// Lists every resource template, following `nextCursor` through the pages.
    ///
    /// # Errors
    ///
    /// As [`Client::list_tools`].
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplate>, Error> {
        self.list_all::<ListResourceTemplates>().await
    }

    /// Reads the resource at `uri`.
    ///
    /// # Errors
    ///
    /// As [`Client::request`]; a resource that does not exist is
    /// [`Error::is_resource_not_found`].
    pub async fn read_resource(&self, uri: impl Into<String>) -> Result<ReadResourceResult, Error> {
        let params = ReadResourceRequestParams {
            meta: None,
            uri: uri.into(),
        };
        self.request::<ReadResource>(params).await
    }

    /// Lists every prompt, following `nextCursor` through the pages.
    ///
    /// # Errors
    ///
    /// As [`Client::list_tools`].
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, Error> {
        self.list_all::<ListPrompts>().await
    }

    /// Gets the prompt `name`, filled in with `arguments` (none when empty).
    ///
    /// # Errors
    ///
    /// As [`Client::request`].
    pub async fn get_prompt(
        &self,
        name: impl Into<String>,
        arguments: BTreeMap<String, String>,
    ) -> Result<GetPromptResult, Error> {
        let params = GetPromptRequestParams {
            meta: None,
            arguments: (!arguments.is_empty()).then_some(arguments),
            name: name.into(),
        };
        self.request::<GetPrompt>(params).await
    }

    /// Asks for completions of the argument `argument_name`, typed so far as `value`, of the
    /// prompt or resource template `reference`. For context arguments, send
    /// `request::<Complete>` with the full params.
    ///
    /// # Errors
    ///
    /// As [`Client::request`].
    pub async fn complete(
        &self,
        reference: CompleteRequestParamsRef,
        argument_name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<CompleteResult, Error> {
        let params = CompleteRequestParams {
            meta: None,
            argument: CompleteRequestParamsArgument {
                name: argument_name.into(),
                value: value.into(),
            },
            context: None,
            r#ref: reference,
        };
        self.request::<Complete>(params).await
    }

    /// Subscribes to updates of the resource at `uri`, delivered as
    /// [`ServerNotification::ResourceUpdated`](crate::ServerNotification::ResourceUpdated).
    /// Needs the server's `resources.subscribe` capability.
    ///
    /// # Errors
    ///
    /// As [`Client::request`]; [`Error::is_unsupported_in_era`] in the modern era, where
    /// [`Client::listen`] with `resourceSubscriptions` takes its place.
    pub async fn subscribe(&self, uri: impl Into<String>) -> Result<(), Error> {
        let params = SubscribeRequestParams {
            meta: None,
            uri: uri.into(),
        };
        self.request::<Subscribe>(params).await.map(drop)
    }

    /// Ends a subscription made with [`Client::subscribe`].
    ///
    /// # Errors
    ///
    /// As [`Client::subscribe`].
    pub async fn unsubscribe(&self, uri: impl Into<String>) -> Result<(), Error> {
        let params = UnsubscribeRequestParams {
            meta: None,
            uri: uri.into(),
        };
        self.request::<Unsubscribe>(params).await.map(drop)
    }

    /// Asks the server to send log messages at `level` and above.
    ///
    /// In the legacy era this sends `logging/setLevel`. The modern era has no such request:
    /// the level is remembered and every later request carries it in its `_meta`
    /// (`io.modelcontextprotocol/logLevel`), so the server sends that request's log messages.
    ///
    /// # Errors
    ///
    /// As [`Client::request`] (the server must declare `logging` in both eras).
    pub async fn set_logging_level(&self, level: LoggingLevel) -> Result<(), Error> {
        let Some(modern) = &self.inner.modern else {
            let params = SetLevelRequestParams { meta: None, level };
            return self.request::<SetLevel>(params).await.map(drop);
        };
        let method = <SetLevel as RequestMethod>::METHOD;
        if let Some(capability) =
            capability::missing(&self.inner.session.server_capabilities, method)
        {
            return Err(Error::server_capability_missing(capability, method));
        }
        modern.envelope.set_log_level(&level);
        Ok(())
    }

    /// Opens a `subscriptions/listen` stream (modern era) for the notifications `filter`
    /// asks for, and waits for the server's acknowledgement.
    ///
    /// The [`Subscription`] yields the stream's notifications; dropping it ends the
    /// subscription (on stdio the client sends `notifications/cancelled` for it). Each
    /// subscription is one long-lived request, without a timeout; the acknowledgement must
    /// come within the request timeout.
    ///
    /// # Errors
    ///
    /// [`Error::is_unsupported_in_era`] in the legacy era (use [`Client::subscribe`] and the
    /// notification callback there); [`Error::is_remote`] when the server refuses the
    /// subscription; [`Error::is_timeout`] when no acknowledgement comes in time;
    /// [`Error::is_closed`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before the acknowledgement withdraws the request.
    pub async fn listen(&self, filter: SubscriptionFilter) -> Result<Subscription, Error> {
        let method = subscription::METHOD;
        let inner = &*self.inner;
        let Some(modern) = &inner.modern else {
            return Err(Error::unsupported_in_era(method, Era::Legacy));
        };
        let params = SubscriptionsListenParams {
            notifications: filter,
        };
        let params =
            modern
                .envelope
                .params(method, &params, inner.session.protocol_version, None)?;
        let params = serde_json::value::to_raw_value(&params)
            .map_err(|error| Error::encode(method, error))?;
        subscription::open(
            &inner.peer,
            &inner.shared.subscriptions,
            params,
            modern.subscription_capacity,
            inner.request_timeout,
        )
        .await
    }

    /// Checks that the server is responsive.
    ///
    /// # Errors
    ///
    /// As [`Client::request`]; [`Error::is_unsupported_in_era`] in the modern era, which has
    /// no `ping`.
    pub async fn ping(&self) -> Result<(), Error> {
        self.request::<Ping>(None).await.map(drop)
    }

    /// Tells the server that the roots changed (`notifications/roots/list_changed`).
    ///
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] unless the client declared `roots.listChanged`
    /// ([`ClientBuilder::roots_list_changed`](crate::ClientBuilder::roots_list_changed)); [`Error::is_unsupported_in_era`] in the modern
    /// era, where the server asks for the roots whenever it needs them;
    /// [`Error::is_closed`] when the connection is closed.
    pub async fn notify_roots_list_changed(&self) -> Result<(), Error> {
        self.check_era(<RootsListChanged as NotificationMethod>::METHOD)?;
        let declared = self
            .client_capabilities()
            .roots
            .as_ref()
            .is_some_and(|roots| roots.list_changed == Some(true));
        if !declared {
            return Err(Error::client_capability_missing(
                "roots.listChanged",
                <RootsListChanged as NotificationMethod>::METHOD,
            ));
        }
        self.notify::<RootsListChanged>(None).await
    }

    /// Closes the connection: queued messages are written, the transport is closed, pending
    /// requests fail with [`Error::is_closed`] and running handlers are cancelled.
    pub async fn close(&self) {
        self.inner.peer.close().await;
    }

    /// Waits until the connection has ended, for whatever reason.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn closed(&self) {
        self.inner.peer.closed().await;
    }

    /// Whether the connection is closing or closed.
    pub fn is_closed(&self) -> bool {
        self.inner.peer.is_closed()
    }

    pub(crate) async fn list_all<M>(&self) -> Result<Vec<<M::Result as Page>::Item>, Error>
    where
        M: RequestMethod<Params = Option<PaginatedRequestParams>> + FromClient,
        M::Result: Page,
    {
        let mut items = Vec::new();
        let mut cursors = Cursors::default();
        let mut cursor = None;
        for _ in 0..MAX_PAGES {
            let params = cursor.take().map(|cursor| PaginatedRequestParams {
                meta: None,
                cursor: Some(cursor),
            });
            let (page, next_cursor) = self.request::<M>(params).await?.into_parts();
            items.extend(page);
            match cursors.next(next_cursor) {
                Next::Done => return Ok(items),
                Next::Page(next) => cursor = Some(next),
                Next::Repeated => return Err(Error::repeated_cursor(M::METHOD)),
            }
        }
        Err(Error::too_many_pages(M::METHOD, MAX_PAGES))
    }

    /// Fails for a method the modern era removed, when the connection speaks it.
    fn check_era(&self, method: &str) -> Result<(), Error> {
        if self.inner.modern.is_some() && modern::removed(method) {
            return Err(Error::unsupported_in_era(method, Era::Modern));
        }
        Ok(())
    }

    /// Sends one call of a method that cannot become a task, and returns its result.
    #[cfg(feature = "tasks")]
    pub(crate) async fn send_plain<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
    ) -> Result<Box<RawValue>, Error> {
        match self
            .send_call(method, params, CallOptions::default())
            .await?
        {
            Sent::Result(result) => Ok(result),
            // `modern::outcome` lets a task through only for a method that may become one.
            Sent::Task(_) => Err(Error::invalid_result_type(method, "task")),
        }
    }

    /// The connection's shared state: the handlers that answer input requests.
    #[cfg(feature = "tasks")]
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    /// How this client follows tasks of the tasks extension, when it declares the extension
    /// (modern era only).
    #[cfg(feature = "tasks")]
    pub(crate) fn follow_limits(&self) -> Option<&FollowLimits> {
        self.inner.modern.as_ref()?.tasks.as_ref()
    }

    /// Whether a modern call may be answered with a task: the client declares the tasks
    /// extension and the server declared it too.
    fn accepts_tasks(&self) -> bool {
        #[cfg(feature = "tasks")]
        if self.follow_limits().is_some() {
            return self
                .server_extensions()
                .contains_key(mcpwire_ext_tasks::EXTENSION);
        }
        false
    }

    /// Fails for a method whose capability is missing: the server's, or, for the methods of
    /// the tasks extension in the modern era, the extension on either side.
    fn check_capability(&self, method: &str) -> Result<(), Error> {
        #[cfg(feature = "tasks")]
        if self.inner.modern.is_some() && capability::is_tasks_extension_method(method) {
            use capability::TASKS_EXTENSION as CAPABILITY;
            if self.follow_limits().is_none() {
                return Err(Error::client_capability_missing(CAPABILITY, method));
            }
            if !self.accepts_tasks() {
                return Err(Error::server_capability_missing(CAPABILITY, method));
            }
            return Ok(());
        }
        match capability::missing(&self.inner.session.server_capabilities, method) {
            Some(capability) => Err(Error::server_capability_missing(capability, method)),
            None => Ok(()),
        }
    }

    /// Sends one call: checks the era and the capability, adds a progress token when asked,
    /// keeps the timeout, and in the modern era wraps the params in the envelope and answers
    /// the server's input requests. A task the server made of the call is returned as such.
    pub(crate) async fn send_call<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
        options: CallOptions,
    ) -> Result<Sent, Error> {
        let inner = &*self.inner;
        self.check_era(method)?;
        self.check_capability(method)?;
        let timeout = options.timeout.unwrap_or(inner.request_timeout);
        let maximum = options.progress_maximum.unwrap_or(inner.progress_maximum);
        let registration = if options.on_progress.is_some() || maximum.is_some() {
            inner.shared.route_progress(options.on_progress)
        } else {
            None
        };
        let mut limits = Limits {
            timeout,
            maximum,
            registration: registration.as_ref(),
            param_headers: Vec::new(),
        };
        let Some(modern) = &inner.modern else {
            let params = encode(method, params, registration.as_ref())?;
            return self.send(method, params, &limits).await.map(Sent::Result);
        };
        let token = registration.as_ref().map(ProgressRegistration::token);
        let params =
            modern
                .envelope
                .params(method, params, inner.session.protocol_version, token)?;
        let cache = inner.shared.results.as_ref();
        let key = cache.and_then(|_| ResultCache::key(method, &params));
        if let (Some(cache), Some(key)) = (cache, &key)
            && let Some(cached) = cache.get(key)
        {
            return Ok(Sent::Result(cached));
        }
        let mirrored = modern.mirrored.as_ref();
        let calls_tool = method == "tools/call";
        if let (Some(mirrored), true) = (mirrored, calls_tool) {
            limits.param_headers = mirrored.headers(&params);
        }
        let mut outcome = self.call_modern(modern, method, &params, &limits).await;
        if let (Some(mirrored), true, Err(error)) = (mirrored, calls_tool, &outcome)
            && error
                .remote()
                .is_some_and(|remote| remote.code == ErrorCode::HEADER_MISMATCH)
        {
            // The tool's definition may have changed: list the tools again, then retry once
            // with the headers of the new definition.
            tracing::debug!(%error, "listing the tools again after a header mismatch");
            if let Some(cache) = cache {
                cache.forget_method("tools/list");
            }
            if self.relist_tools(modern, mirrored, timeout).await.is_ok() {
                limits.param_headers = mirrored.headers(&params);
                outcome = self.call_modern(modern, method, &params, &limits).await;
            }
        }
        match outcome {
            Ok((Sent::Result(mut result), answered_input)) => {
                if let (Some(mirrored), "tools/list") = (mirrored, method) {
                    result = mirrored.read_list(result)?;
                }
                if let (Some(cache), Some(key), false) = (cache, key, answered_input) {
                    cache.put(key, &result);
                }
                Ok(Sent::Result(result))
            }
            #[cfg(feature = "tasks")]
            Ok((task @ Sent::Task(_), _)) => Ok(task),
            Err(error) => {
                forget_if_not_modern(modern, &error);
                if let Some(cache) = cache {
                    cache.forget_method(method);
                }
                Err(error)
            }
        }
    }

    /// Lists every tool again so that `mirrored` learns their current `x-mcp-header`
    /// declarations, past the result cache.
    async fn relist_tools(
        &self,
        modern: &Modern,
        mirrored: &MirroredTools,
        timeout: Option<Duration>,
    ) -> Result<(), Error> {
        let method = <ListTools as RequestMethod>::METHOD;
        let limits = Limits {
            timeout,
            maximum: None,
            registration: None,
            param_headers: Vec::new(),
        };
        let mut cursors = Cursors::default();
        let mut cursor = None;
        for _ in 0..MAX_PAGES {
            let request = cursor.take().map(|cursor| PaginatedRequestParams {
                meta: None,
                cursor: Some(cursor),
            });
            let params = modern.envelope.params(
                method,
                &request,
                self.inner.session.protocol_version,
                None,
            )?;
            let page = self
                .send(method, raw_params(method, &params)?, &limits)
                .await?;
            let page: ListToolsResult = decode(method, &mirrored.read_list(page)?)?;
            match cursors.next(page.next_cursor) {
                Next::Done => return Ok(()),
                Next::Page(next) => cursor = Some(next),
                Next::Repeated => return Err(Error::repeated_cursor(method)),
            }
        }
        Err(Error::too_many_pages(method, MAX_PAGES))
    }

    /// The modern era's retry loop: sends `params`, and while the server answers
    /// `input_required`, answers its input requests and retries with the answers. Returns
    /// the result (or the task the server made of the call) and whether input was answered to
    /// get it.
    async fn call_modern(
        &self,
        modern: &Modern,
        method: &str,
        params: &Map<String, Value>,
        limits: &Limits<'_>,
    ) -> Result<(Sent, bool), Error> {
        let mut retry: Option<mrtr::Answers> = None;
        let mut rounds = 0;
        // Each turn sends the request once; the bound on rounds bounds the turns.
        loop {
            let attempt = match retry.take() {
                None => raw_params(method, params)?,
                Some(answers) => raw_params(method, &answers.apply(params))?,
            };
            let result = self.send(method, attempt, limits).await?;
            let asked = match modern::outcome(method, &result, self.accepts_tasks())? {
                Outcome::Complete => return Ok((Sent::Result(result), rounds > 0)),
                #[cfg(feature = "tasks")]
                Outcome::Task => return Ok((Sent::Task(result), rounds > 0)),
                // Never given: without the feature no request declares the extension.
                #[cfg(not(feature = "tasks"))]
                Outcome::Task => return Err(Error::invalid_result_type(method, "task")),
                Outcome::InputRequired(asked) => asked,
            };
            if rounds >= modern.max_input_rounds {
                return Err(Error::input_rounds_exceeded(
                    method,
                    modern.max_input_rounds,
                ));
            }
            rounds += 1;
            retry = Some(mrtr::answer(&self.inner.shared, method, asked).await?);
        }
    }

    /// Sends one request and awaits its result, keeping the timeout; progress updates extend
    /// it when asked.
    async fn send(
        &self,
        method: &str,
        params: Option<Box<RawValue>>,
        limits: &Limits<'_>,
    ) -> Result<Box<RawValue>, Error> {
        let inner = &*self.inner;
        let mut request_options = RequestOptions::default();
        request_options
            .param_headers
            .clone_from(&limits.param_headers);
        let (Some(maximum), Some(registration)) = (limits.maximum, limits.registration) else {
            request_options.timeout = Some(limits.timeout);
            return inner
                .peer
                .request_raw(method, params, request_options)
                .await
                .map_err(|error| Error::rpc(method, error));
        };

        // Progress extends the timeout: the engine enforces the hard maximum, and this loop the
        // time since the last update.
        request_options.timeout = Some(Some(maximum));
        let request = inner.peer.request_raw(method, params, request_options);
        tokio::pin!(request);
        let hard_deadline = Instant::now() + maximum;
        let timeout = limits.timeout;
        let deadline_from = |now: Instant| {
            timeout.map_or(hard_deadline, |timeout| (now + timeout).min(hard_deadline))
        };
        let mut deadline = deadline_from(Instant::now());
        // Each turn ends the call or follows a progress update; the deadlines bound the turns
        // in time.
        loop {
            tokio::select! {
                biased;
                outcome = &mut request => {
                    return outcome.map_err(|error| Error::rpc(method, error));
                }
                () = registration.get().signal.notified() => {
                    deadline = deadline_from(Instant::now());
                }
                () = tokio::time::sleep_until(deadline) => {
                    // Dropping the request on return sends the cancellation.
                    return Err(Error::timeout(method));
                }
            }
        }
    }
}

/// The time limits of one call.
struct Limits<'a> {
    timeout: Option<Duration>,
    /// The hard maximum, when progress extends the timeout.
    maximum: Option<Duration>,
    registration: Option<&'a ProgressRegistration>,
    /// The `Mcp-Param-*` headers of a `tools/call`.
    param_headers: Vec<(String, String)>,
}

/// The params of `subscriptions/listen` besides `_meta`.
#[derive(Serialize)]
struct SubscriptionsListenParams {
    notifications: SubscriptionFilter,
}

/// Drops the cached era of a server whose answer says it may no longer be modern: `-32600`
/// (what a legacy server answers before `initialize`) or `-32022` (the agreed version is no
/// longer supported). The next connection probes again.
fn forget_if_not_modern(modern: &Modern, error: &Error) {
    let (Some(cache), Some(remote)) = (&modern.cache, error.remote()) else {
        return;
    };
    if matches!(
        remote.code,
        ErrorCode::INVALID_REQUEST | ErrorCode::UNSUPPORTED_PROTOCOL_VERSION
    ) {
        tracing::debug!(code = %remote.code, "forgetting the era of the server");
        cache.forget();
    }
}

fn raw_params(method: &str, params: &Map<String, Value>) -> Result<Option<Box<RawValue>>, Error> {
    serde_json::value::to_raw_value(params)
        .map(Some)
        .map_err(|error| Error::encode(method, error))
}

/// Encodes params, adding `_meta.progressToken` when progress is routed.
fn encode<P: Serialize + ?Sized>(
    method: &str,
    params: &P,
    registration: Option<&ProgressRegistration>,
) -> Result<Option<Box<RawValue>>, Error> {
    let encode_error = |error| Error::encode(method, error);
    let Some(registration) = registration else {
        return encode_params(params).map_err(encode_error);
    };
    let mut value = serde_json::to_value(params).map_err(encode_error)?;
    if value.is_null() {
        value = Value::Object(serde_json::Map::new());
    }
    let not_an_object = |what: &str| {
        encode_error(serde::ser::Error::custom(format!(
            "{what} must be a json object"
        )))
    };
    let Value::Object(object) = &mut value else {
        return Err(not_an_object("params"));
    };
    let meta = object
        .entry("_meta")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    let Value::Object(meta) = meta else {
        return Err(not_an_object("params._meta"));
    };
    let token = serde_json::to_value(registration.token()).map_err(encode_error)?;
    meta.insert("progressToken".to_owned(), token);
    serde_json::value::to_raw_value(&value)
        .map(Some)
        .map_err(encode_error)
}

pub(crate) fn decode<R: DeserializeOwned>(method: &str, result: &RawValue) -> Result<R, Error> {
    serde_json::from_str(result.get()).map_err(|error| Error::decode(method, error))
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle is gone: nobody can use the connection any more, so end it.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let peer = self.peer.clone();
            runtime.spawn(async move { peer.close().await });
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let session = &self.inner.session;
        formatter
            .debug_struct("Client")
            .field("protocol_version", &session.protocol_version)
            .field("server_info", &session.server_info)
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// Tool arguments are a JSON object, or absent (`null`).
pub(crate) fn tool_arguments(
    method: &str,
    arguments: Value,
) -> Result<Option<serde_json::Map<String, Value>>, Error> {
    match arguments {
        Value::Null => Ok(None),
        Value::Object(arguments) => Ok(Some(arguments)),
        _ => Err(Error::encode(
            method,
            serde::ser::Error::custom("tool arguments must be a json object"),
        )),
    }
}
