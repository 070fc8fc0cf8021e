//! What the engine calls: the handler of inbound messages.

use std::future::Future;

use mcpwire_jsonrpc::{ErrorObject, Notification};
use serde_json::value::RawValue;

use crate::{Peer, RequestContext};

/// Serves the requests and notifications a peer sends.
///
/// Requests run concurrently, each with its own [`RequestContext`]. A request's future is
/// first polled where the engine reads, and moves to a task of its own the first time it
/// waits: a handler that answers at once costs no task, and one that computes for long
/// without awaiting delays reading, so hand long computations to
/// [`spawn_blocking`](tokio::task::spawn_blocking) or another thread.
/// Notifications are handled one at a time in the order they arrive, before the engine reads
/// the next message, so a notification sent before a response is seen before that response.
pub trait Handler: Send + Sync + 'static {
    /// Serves one request and returns its raw result, or the error object to answer with.
    ///
    /// When the peer cancels the request, [`RequestContext::cancellation`] fires and whatever
    /// this returns afterwards is not sent: a cancelled request gets no response.
    fn request(
        &self,
        params: Option<Box<RawValue>>,
        context: RequestContext,
    ) -> impl Future<Output = Result<Box<RawValue>, ErrorObject>> + Send;

    /// Handles one notification.
    ///
    /// Keep this short: the engine reads no further message until it returns.
    fn notification(
        &self,
        notification: Notification,
        peer: &Peer,
    ) -> impl Future<Output = ()> + Send;
}
