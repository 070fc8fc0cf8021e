//! Where a modern request's messages go, whatever transport carries it.

use std::future::Future;
use std::pin::Pin;

use mcpwire_jsonrpc::RequestId;
use mcpwire_rpc::CancellationToken;
use serde_json::value::RawValue;

use crate::Error;

/// Where a modern request's messages go: the notifications it sends before its result
/// (progress, log messages, a subscription's notifications), and the signal that the client
/// gave up on it.
///
/// The engine's [`RequestContext`](mcpwire_rpc::RequestContext) is the link of requests on
/// stdio and in-memory connections; a stateless HTTP exchange is another.
pub(crate) trait Link: Send + Sync + 'static {
    /// The JSON-RPC id of the request.
    fn request_id(&self) -> &RequestId;

    /// Fires when the client cancels the request or goes away.
    fn cancellation(&self) -> &CancellationToken;

    /// Sends a notification on the request's stream, ahead of its result.
    fn notify<'a>(
        &'a self,
        method: &'a str,
        params: Option<Box<RawValue>>,
    ) -> Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>>;

    /// The request's `Mcp-Param-*` headers, on transports that carry headers (HTTP); `None`
    /// elsewhere, where tools' `x-mcp-header` arguments are not mirrored.
    fn param_headers(&self) -> Option<&dyn ParamHeaders> {
        None
    }

    /// The `http::Extensions` of the HTTP request that carried the request; `None` on
    /// other transports.
    #[cfg(feature = "http")]
    fn http_extensions(&self) -> Option<std::sync::Arc<http::Extensions>> {
        None
    }
}

/// The `Mcp-Param-{Name}` headers of one request.
pub(crate) trait ParamHeaders {
    /// The decoded value of `Mcp-Param-{name}` (compared ignoring case), or why it could not
    /// be decoded; `None` when the request has no such header.
    fn get(&self, name: &str) -> Option<Result<&str, String>>;
}

impl Link for mcpwire_rpc::RequestContext {
    fn request_id(&self) -> &RequestId {
        self.id()
    }

    fn cancellation(&self) -> &CancellationToken {
        mcpwire_rpc::RequestContext::cancellation(self)
    }

    fn notify<'a>(
        &'a self,
        method: &'a str,
        params: Option<Box<RawValue>>,
    ) -> Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>> {
        Box::pin(async move { self.notify_raw(method, params).await.map_err(Error::rpc) })
    }
}
