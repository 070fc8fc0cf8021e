//! MCP's cancellation notification, for the engine.

use mcpwire_jsonrpc::{Notification, RequestId, RequestMethod as _};
use mcpwire_schema::v2025_11_25::methods::Initialize;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// `notifications/cancelled`, in both directions.
pub(crate) struct McpCancellation;

pub(crate) const CANCELLED: &str = "notifications/cancelled";

#[derive(Deserialize)]
struct CancelledParams {
    #[serde(rename = "requestId")]
    request_id: Option<RequestId>,
}

#[derive(Serialize)]
struct CancelledParamsOut<'a> {
    #[serde(rename = "requestId")]
    request_id: &'a RequestId,
    reason: &'a str,
}

impl mcpwire_rpc::Cancellation for McpCancellation {
    fn cancelled_request(&self, notification: &Notification) -> Option<RequestId> {
        if notification.method != CANCELLED {
            return None;
        }
        let params: CancelledParams =
            serde_json::from_str(notification.params.as_ref()?.get()).ok()?;
        params.request_id
    }

    /// `initialize` cannot be cancelled (lifecycle: the client MUST NOT cancel it), so a
    /// cancellation racing it cannot leave the session half made.
    fn is_cancellable(&self, method: &str) -> bool {
        method != Initialize::METHOD
    }

    fn cancel_notification(&self, id: &RequestId, reason: &str) -> Notification {
        let params = serde_json::to_string(&CancelledParamsOut {
            request_id: id,
            reason,
        })
        .ok()
        .and_then(|text| RawValue::from_string(text).ok());
        Notification::new(CANCELLED, params)
    }
}
