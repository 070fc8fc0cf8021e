//! Notifications from the server, as the client hands them to the application.

use mcpwire_schema::v2025_11_25::{
    ElicitationCompleteNotificationParams, LoggingMessageNotificationParams,
    ResourceUpdatedNotificationParams, TaskStatusNotificationParams,
};
use serde_json::Value;

use crate::Progress;

/// A notification the server sent, decoded.
///
/// Delivered to the callback set with
/// [`ClientBuilder::on_notification`](crate::ClientBuilder::on_notification). Progress for a
/// request made with [`CallOptions::on_progress`](crate::CallOptions::on_progress) goes to that
/// request's callback instead, and `notifications/cancelled` cancels the server's request
/// without reaching the application.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ServerNotification {
    /// `notifications/progress` for a token no call of this client is waiting on.
    Progress(Progress),
    /// `notifications/message`: a log message, at or above the level set with
    /// [`Client::set_logging_level`](crate::Client::set_logging_level).
    LoggingMessage(LoggingMessageNotificationParams),
    /// `notifications/tools/list_changed`.
    ToolListChanged,
    /// `notifications/resources/list_changed`.
    ResourceListChanged,
    /// `notifications/prompts/list_changed`.
    PromptListChanged,
    /// `notifications/resources/updated`: a subscribed resource (or a part of it) changed.
    ResourceUpdated(ResourceUpdatedNotificationParams),
    /// `notifications/elicitation/complete`: the out-of-band interaction of a URL-mode
    /// elicitation this client accepted has finished. Unknown and repeated ids are dropped.
    ElicitationComplete(ElicitationCompleteNotificationParams),
    /// `notifications/tasks/status`: a task this client created changed status (2025-11-25).
    TaskStatus(TaskStatusNotificationParams),
    /// A notification this client does not decode, with its params as received.
    Other {
        /// The method name.
        method: String,
        /// The params, or `None` when absent.
        params: Option<Value>,
    },
}
