//! MCP's cancellation notification, taught to the engine.

use mcpwire_jsonrpc::method::{NotificationMethod, RequestMethod};
use mcpwire_jsonrpc::{Notification, RequestId};
use mcpwire_schema::v2025_11_25::CancelledNotificationParams;
use mcpwire_schema::v2025_11_25::methods::{Cancelled, Initialize};

/// `notifications/cancelled` with params `{requestId, reason?}`, in both directions.
///
/// The engine sends it when the future of an outbound request is dropped or times out, and
/// fires the cancellation token of the inbound request it names. `initialize` is the one
/// request that cannot be cancelled (the lifecycle forbids it), so a cancellation racing it
/// cannot leave a session half made.
///
/// ```
/// use mcpwire_jsonrpc::RequestId;
/// use mcpwire_protocol::McpCancellation;
/// use mcpwire_rpc::Cancellation as _;
///
/// let notification = McpCancellation.cancel_notification(&RequestId::from(7), "gone");
/// assert_eq!(notification.method, "notifications/cancelled");
/// assert_eq!(McpCancellation.cancelled_request(&notification), Some(RequestId::from(7)));
/// assert!(!McpCancellation.is_cancellable("initialize"));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct McpCancellation;

impl mcpwire_rpc::Cancellation for McpCancellation {
    fn cancelled_request(&self, notification: &Notification) -> Option<RequestId> {
        if notification.method != Cancelled::METHOD {
            return None;
        }
        // A cancellation without a readable `requestId` names nothing; it goes on to the
        // handler, which ignores it.
        let params: CancelledNotificationParams =
            mcpwire_jsonrpc::decode_params(notification.params.as_deref()).ok()?;
        params.request_id
    }

    fn cancel_notification(&self, id: &RequestId, reason: &str) -> Notification {
        let params = CancelledNotificationParams::new()
            .with_reason(reason.to_owned())
            .with_request_id(id.clone());
        Notification::typed::<Cancelled>(&params)
            .expect("cancellation params always encode as an object")
    }

    fn is_cancellable(&self, method: &str) -> bool {
        method != Initialize::METHOD
    }

    /// `initialize` is served before anything the client sent after it is read: a client
    /// that pipelines `initialize`, `notifications/initialized` and its first request gets
    /// them handled in that order.
    fn serves_alone(&self, method: &str) -> bool {
        method == Initialize::METHOD
    }
}

#[cfg(test)]
mod tests {
    use mcpwire_rpc::Cancellation;

    use super::*;

    #[test]
    fn cancellation_round_trips() {
        let notification = McpCancellation.cancel_notification(&RequestId::from(7), "gone");
        assert_eq!(notification.method, "notifications/cancelled");
        assert_eq!(
            notification.params.as_deref().map(|params| params.get()),
            Some(r#"{"reason":"gone","requestId":7}"#)
        );
        assert_eq!(
            McpCancellation.cancelled_request(&notification),
            Some(RequestId::from(7))
        );
    }

    #[test]
    fn other_notifications_and_missing_ids_name_nothing() {
        let other = Notification::new("notifications/progress", None);
        assert_eq!(McpCancellation.cancelled_request(&other), None);
        let params = serde_json::value::RawValue::from_string(r#"{"reason":"x"}"#.to_owned())
            .expect("valid JSON");
        let without_id = Notification::new("notifications/cancelled", Some(params));
        assert_eq!(McpCancellation.cancelled_request(&without_id), None);
    }

    #[test]
    fn only_initialize_is_uncancellable() {
        assert!(!McpCancellation.is_cancellable("initialize"));
        assert!(McpCancellation.is_cancellable("tools/call"));
        assert!(McpCancellation.is_cancellable("sampling/createMessage"));
    }
}
