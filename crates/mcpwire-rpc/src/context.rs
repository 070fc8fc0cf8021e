//! The context an inbound request's handler runs in.

use mcpwire_jsonrpc::{RawParams, RequestId};
use mcpwire_transport::SendOptions;
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;

use crate::{Error, Peer, RequestOptions};

/// The context of one inbound request: its id and method, its cancellation token, and the
/// peer, to send notifications and requests while serving it.
///
/// Messages sent through the context are related to this request (transports that route by
/// request keep them on its stream), and they are written before the request's response.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub(crate) id: RequestId,
    pub(crate) method: String,
    pub(crate) cancellation: CancellationToken,
    pub(crate) peer: Peer,
}

impl RequestContext {
    /// The id of the request.
    pub fn id(&self) -> &RequestId {
        &self.id
    }

    /// The method of the request.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// Fires when the peer cancels the request or the connection closes.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancellation
    }

    /// The peer the request came from.
    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    /// Sends a notification related to this request, ahead of its response.
    ///
    /// # Errors
    ///
    /// Fails when the connection is closed.
    pub async fn notify_raw(&self, method: &str, params: Option<RawParams>) -> Result<(), Error> {
        self.peer
            .notify_raw(method, params, SendOptions::related_to(self.id.clone()))
            .await
    }

    /// Ends the connection that carries this request's messages, without ending the request:
    /// what is sent afterwards, the response included, waits for the peer to reconnect.
    ///
    /// On Streamable HTTP this is the server-initiated disconnection of SEP-1699: the
    /// request's SSE stream closes after its priming event and the events already queued, and
    /// the client resumes it with `Last-Event-ID` after the server's `retry` interval. Use it
    /// for long-running requests, so that no connection is held open while they work.
    /// Transports with a single connection (stdio, in-memory) ignore it.
    ///
    /// # Errors
    ///
    /// Fails when the connection is closed.
    pub async fn close_stream(&self) -> Result<(), Error> {
        self.peer.close_related_stream(self.id.clone()).await
    }

    /// Sends a request to the peer while serving this one, and awaits its raw result.
    ///
    /// # Errors
    ///
    /// As [`Peer::request_raw`].
    pub async fn request_raw(
        &self,
        method: &str,
        params: Option<RawParams>,
    ) -> Result<Box<RawValue>, Error> {
        let options = RequestOptions {
            related_request: Some(self.id.clone()),
            ..RequestOptions::default()
        };
        self.peer.request_raw(method, params, options).await
    }
}
