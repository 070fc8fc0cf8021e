//! MCP's cancellation notification, taught to the engine.

use mcpwire_jsonrpc::method::NotificationMethod;
use mcpwire_jsonrpc::{Notification, RequestId};
use mcpwire_schema::v2025_11_25::CancelledNotificationParams;
use mcpwire_schema::v2025_11_25::methods::Cancelled;

/// `notifications/cancelled` with params `{requestId, reason?}`.
///
/// The engine sends it when a request future is dropped or times out, and fires the token of
/// the inbound request it names.
pub(crate) struct McpCancellation;

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
        let params = CancelledNotificationParams {
            meta: None,
            reason: Some(reason.to_owned()),
            request_id: Some(id.clone()),
        };
        Notification::typed::<Cancelled>(&params)
            .expect("cancellation params always encode as an object")
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
}
