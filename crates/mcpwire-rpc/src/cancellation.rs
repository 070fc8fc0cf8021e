//! The protocol's cancellation notification, which the engine is taught by the roles.

use mcpwire_jsonrpc::{Notification, RequestId};

/// The protocol's cancellation notification, which the engine itself knows no name of.
///
/// MCP's role crates implement it for `notifications/cancelled`.
pub trait Cancellation: Send + Sync + 'static {
    /// The id of the request that `notification` cancels, if it is a cancellation.
    fn cancelled_request(&self, notification: &Notification) -> Option<RequestId>;

    /// The notification that cancels the outbound request `id`, for the `reason` given.
    fn cancel_notification(&self, id: &RequestId, reason: &str) -> Notification;

    /// Whether the peer may cancel an inbound request of `method`; a cancellation of one it
    /// may not is ignored, and the request runs to its response. Default: every request.
    fn is_cancellable(&self, method: &str) -> bool {
        let _ = method;
        true
    }

    /// Whether the engine serves an inbound request of `method` alone: its handler runs to its
    /// response before the next message is read, so that what the peer sent after it sees
    /// its effect (MCP's `initialize`, which a client may pipeline with what follows). Such a
    /// handler must not wait on the peer. Default: none.
    fn serves_alone(&self, method: &str) -> bool {
        let _ = method;
        false
    }
}
