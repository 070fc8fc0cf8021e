//! What the application supplies to answer the server's requests: sampling, elicitation and
//! roots.
//!
//! Each is a trait with one async method and a blanket implementation for closures, so either a
//! type of your own or an async closure will do. A closure needs its parameter types written
//! out, because Rust infers closure parameters only from `Fn` bounds:
//!
//! ```
//! use mcpwire_client::{ErrorObject, RequestContext};
//! use mcpwire_schema::v2025_11_25::Root;
//!
//! let roots = |_context: RequestContext| async move {
//!     Ok::<_, ErrorObject>(vec![Root { uri: "file:///projects/demo".to_owned(), name: None, meta: None }])
//! };
//! # let _ = mcpwire_client::Client::builder("x", "1")
//! #     .roots(roots);
//! ```
//!
//! Handlers run concurrently, each in its own task. When the server cancels a request, its
//! handler's [`RequestContext::cancellation`] fires and the handler's future is dropped; no
//! response is sent.

use std::future::Future;
use std::pin::Pin;

use std::sync::Arc;

use mcpwire_jsonrpc::method::NotificationMethod;
use mcpwire_jsonrpc::{ErrorObject, RequestId};
use mcpwire_rpc::{CancellationToken, Peer};
use mcpwire_schema::v2025_11_25::methods::Progress as ProgressMethod;
use mcpwire_schema::v2025_11_25::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult, Root,
};

use crate::Error;

/// The context of one request the server sent to the client.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub(crate) id: RequestId,
    pub(crate) cancellation: CancellationToken,
    pub(crate) progress: Option<ProgressReporter>,
    pub(crate) task_id: Option<String>,
}

/// Where a handler's progress goes: the server's token for the request, over the connection.
#[derive(Clone, Debug)]
pub(crate) struct ProgressReporter {
    pub(crate) peer: Peer,
    pub(crate) updates: Arc<mcpwire_protocol::progress::ProgressReporter>,
}

impl RequestContext {
    /// The id the server gave the request.
    pub fn id(&self) -> &RequestId {
        &self.id
    }

    /// Fires when the server cancels the request (`notifications/cancelled`) or the
    /// connection closes; for a request run as a task, when the task is cancelled
    /// (`tasks/cancel`), expires, or the connection closes.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancellation
    }

    /// The id of the task this request runs as, when the server asked for a task and the
    /// client declared task support for the request (see `ClientBuilder::task_requests`, with
    /// the feature `tasks`).
    pub fn task_id(&self) -> Option<&str> {
        self.task_id.as_deref()
    }

    /// Whether the server asked for progress on this request (it sent a progress token).
    pub fn wants_progress(&self) -> bool {
        self.progress.is_some()
    }

    /// Reports progress to the server (`notifications/progress`), when the request carried a
    /// progress token; otherwise does nothing.
    ///
    /// Progress must increase: a value not above the last one reported, or not finite, is not
    /// sent.
    ///
    /// # Errors
    ///
    /// [`Error::is_closed`] when the connection has closed.
    pub async fn progress(
        &self,
        progress: f64,
        total: Option<f64>,
        message: Option<&str>,
    ) -> Result<(), Error> {
        let Some(reporter) = &self.progress else {
            return Ok(());
        };
        let Some(params) = reporter.updates.update(progress, total, message) else {
            tracing::debug!(progress, "dropping progress that does not increase");
            return Ok(());
        };
        reporter
            .peer
            .notify::<ProgressMethod>(&params)
            .await
            .map_err(|error| Error::rpc(<ProgressMethod as NotificationMethod>::METHOD, error))
    }
}

/// Answers `sampling/createMessage`: the server asks the client's language model for a
/// message.
///
/// Registering one declares the `sampling` capability. Return an [`ErrorObject`] to refuse,
/// for example code `-1` when the user rejected the request.
pub trait SamplingHandler: Send + Sync + 'static {
    /// Creates the message the server asked for.
    fn create_message(
        &self,
        params: CreateMessageRequestParams,
        context: RequestContext,
    ) -> impl Future<Output = Result<CreateMessageResult, ErrorObject>> + Send;
}

impl<F, Fut> SamplingHandler for F
where
    F: Fn(CreateMessageRequestParams, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<CreateMessageResult, ErrorObject>> + Send,
{
    fn create_message(
        &self,
        params: CreateMessageRequestParams,
        context: RequestContext,
    ) -> impl Future<Output = Result<CreateMessageResult, ErrorObject>> + Send {
        self(params, context)
    }
}

/// Answers `elicitation/create`: the server asks the user for information, through a form
/// (`ElicitRequestParams::ElicitRequestFormParams`) or by sending them to a URL
/// (`ElicitRequestParams::ElicitRequestURLParams`).
///
/// Registering one declares the `elicitation` capability with the modes chosen on the
/// builder; requests in other modes are refused before they reach the handler. For an
/// `accept` of a form, the `default` of each requested field the answer leaves out is filled
/// in.
pub trait ElicitationHandler: Send + Sync + 'static {
    /// Asks the user and returns their answer.
    fn elicit(
        &self,
        params: ElicitRequestParams,
        context: RequestContext,
    ) -> impl Future<Output = Result<ElicitResult, ErrorObject>> + Send;
}

impl<F, Fut> ElicitationHandler for F
where
    F: Fn(ElicitRequestParams, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ElicitResult, ErrorObject>> + Send,
{
    fn elicit(
        &self,
        params: ElicitRequestParams,
        context: RequestContext,
    ) -> impl Future<Output = Result<ElicitResult, ErrorObject>> + Send {
        self(params, context)
    }
}

/// Answers `roots/list`: the directories and files the server may work in.
///
/// Registering one declares the `roots` capability. Root URIs are `file://` URIs; expose only
/// the roots the user allowed.
pub trait RootsProvider: Send + Sync + 'static {
    /// Lists the current roots.
    fn list_roots(
        &self,
        context: RequestContext,
    ) -> impl Future<Output = Result<Vec<Root>, ErrorObject>> + Send;
}

impl<F, Fut> RootsProvider for F
where
    F: Fn(RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<Root>, ErrorObject>> + Send,
{
    fn list_roots(
        &self,
        context: RequestContext,
    ) -> impl Future<Output = Result<Vec<Root>, ErrorObject>> + Send {
        self(context)
    }
}

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`SamplingHandler`] as a trait object.
pub(crate) trait DynSampling: Send + Sync {
    fn create_message(
        &self,
        params: CreateMessageRequestParams,
        context: RequestContext,
    ) -> BoxFuture<'_, Result<CreateMessageResult, ErrorObject>>;
}

impl<T: SamplingHandler> DynSampling for T {
    fn create_message(
        &self,
        params: CreateMessageRequestParams,
        context: RequestContext,
    ) -> BoxFuture<'_, Result<CreateMessageResult, ErrorObject>> {
        Box::pin(SamplingHandler::create_message(self, params, context))
    }
}

/// [`ElicitationHandler`] as a trait object.
pub(crate) trait DynElicitation: Send + Sync {
    fn elicit(
        &self,
        params: ElicitRequestParams,
        context: RequestContext,
    ) -> BoxFuture<'_, Result<ElicitResult, ErrorObject>>;
}

impl<T: ElicitationHandler> DynElicitation for T {
    fn elicit(
        &self,
        params: ElicitRequestParams,
        context: RequestContext,
    ) -> BoxFuture<'_, Result<ElicitResult, ErrorObject>> {
        Box::pin(ElicitationHandler::elicit(self, params, context))
    }
}

/// [`RootsProvider`] as a trait object.
pub(crate) trait DynRoots: Send + Sync {
    fn list_roots(&self, context: RequestContext) -> BoxFuture<'_, Result<Vec<Root>, ErrorObject>>;
}

impl<T: RootsProvider> DynRoots for T {
    fn list_roots(&self, context: RequestContext) -> BoxFuture<'_, Result<Vec<Root>, ErrorObject>> {
        Box::pin(RootsProvider::list_roots(self, context))
    }
}
