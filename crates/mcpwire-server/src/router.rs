//! The one table of the methods the server answers itself, keyed by the generated method
//! markers: the dispatchers of both eras look a method up here and match on its [`Route`];
//! no method name is written out anywhere else in them. What each era offers is the route's
//! [`eras`](Route::in_era); what this server offers, its capabilities (`Inner::offers`).

use mcpwire_jsonrpc::{NotificationMethod, RequestMethod};
use mcpwire_schema::Era;
use mcpwire_schema::ext_tasks::methods as tasks;
use mcpwire_schema::v2025_11_25::methods as legacy;
use mcpwire_schema::v2026_07_28::methods as modern;

/// A request method the server answers itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Initialize,
    Ping,
    Discover,
    Listen,
    ListTools,
    CallTool,
    ListResources,
    ListTemplates,
    ReadResource,
    Subscribe,
    Unsubscribe,
    ListPrompts,
    GetPrompt,
    Complete,
    SetLevel,
    GetTask,
    UpdateTask,
    TaskResult,
    ListTasks,
    CancelTask,
}

/// Every route with its method name, from the markers of the revision that defines it, the
/// most frequent first: a lookup walks the table in order.
const ROUTES: [(&str, Route); 20] = [
    (legacy::CallTool::METHOD, Route::CallTool),
    (legacy::ListTools::METHOD, Route::ListTools),
    (legacy::ReadResource::METHOD, Route::ReadResource),
    (legacy::GetPrompt::METHOD, Route::GetPrompt),
    (legacy::Ping::METHOD, Route::Ping),
    (legacy::ListResources::METHOD, Route::ListResources),
    (legacy::ListResourceTemplates::METHOD, Route::ListTemplates),
    (legacy::ListPrompts::METHOD, Route::ListPrompts),
    (legacy::Complete::METHOD, Route::Complete),
    (legacy::Initialize::METHOD, Route::Initialize),
    (modern::Discover::METHOD, Route::Discover),
    (modern::SubscriptionsListen::METHOD, Route::Listen),
    (legacy::Subscribe::METHOD, Route::Subscribe),
    (legacy::Unsubscribe::METHOD, Route::Unsubscribe),
    (legacy::SetLevel::METHOD, Route::SetLevel),
    (legacy::GetTask::METHOD, Route::GetTask),
    (tasks::UpdateTask::METHOD, Route::UpdateTask),
    (legacy::GetTaskPayload::METHOD, Route::TaskResult),
    (legacy::ListTasks::METHOD, Route::ListTasks),
    (legacy::CancelTask::METHOD, Route::CancelTask),
];

impl Route {
    /// The route of `method`, when the server answers it itself in some era.
    pub(crate) fn of(method: &str) -> Option<Route> {
        ROUTES
            .iter()
            .find(|(name, _)| *name == method)
            .map(|&(_, route)| route)
    }

    /// The method's name on the wire.
    pub(crate) fn method(self) -> &'static str {
        ROUTES
            .iter()
            .find(|&&(_, route)| route == self)
            .map_or("", |&(name, _)| name)
    }

    /// Whether the method exists in `era`: the modern era removed the handshake, `ping`,
    /// logging levels, resource subscriptions and the core tasks' `tasks/result` and
    /// `tasks/list`, and added discovery, subscription streams and the tasks extension's
    /// `tasks/update` (its `tasks/get` and `tasks/cancel` keep their names).
    pub(crate) fn in_era(self, era: Era) -> bool {
        match self {
            Route::Discover | Route::Listen | Route::UpdateTask => era == Era::Modern,
            Route::Initialize
            | Route::Ping
            | Route::Subscribe
            | Route::Unsubscribe
            | Route::SetLevel
            | Route::TaskResult
            | Route::ListTasks => era == Era::Legacy,
            Route::GetTask
            | Route::CancelTask
            | Route::ListTools
            | Route::CallTool
            | Route::ListResources
            | Route::ListTemplates
            | Route::ReadResource
            | Route::ListPrompts
            | Route::GetPrompt
            | Route::Complete => true,
        }
    }

    /// Whether the method is one of the tasks' (2025-11-25 or the extension).
    #[cfg_attr(
        not(feature = "tasks"),
        expect(
            dead_code,
            reason = "without tasks, the session answers no task method"
        )
    )]
    pub(crate) fn is_task(self) -> bool {
        matches!(
            self,
            Route::GetTask
                | Route::UpdateTask
                | Route::TaskResult
                | Route::ListTasks
                | Route::CancelTask
        )
    }
}

/// A notification from the client that the server acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Notice {
    Initialized,
    RootsListChanged,
    Progress,
    TaskStatus,
}

const NOTICES: [(&str, Notice); 4] = [
    (legacy::Initialized::METHOD, Notice::Initialized),
    (legacy::RootsListChanged::METHOD, Notice::RootsListChanged),
    (legacy::Progress::METHOD, Notice::Progress),
    (legacy::TaskStatus::METHOD, Notice::TaskStatus),
];

impl Notice {
    /// The notice of `method`, when the server acts on it.
    pub(crate) fn of(method: &str) -> Option<Notice> {
        NOTICES
            .iter()
            .find(|(name, _)| *name == method)
            .map(|&(_, notice)| notice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_round_trips_through_its_name() {
        for (name, route) in ROUTES {
            assert_eq!(Route::of(name), Some(route));
            assert_eq!(route.method(), name);
        }
        assert_eq!(Route::of("acme/quota"), None);
        assert_eq!(
            Notice::of("notifications/initialized"),
            Some(Notice::Initialized)
        );
        assert_eq!(Notice::of("notifications/unknown"), None);
    }

    #[test]
    fn the_eras_offer_what_their_revisions_define() {
        assert!(Route::Discover.in_era(Era::Modern) && !Route::Discover.in_era(Era::Legacy));
        assert!(Route::Ping.in_era(Era::Legacy) && !Route::Ping.in_era(Era::Modern));
        assert!(Route::CallTool.in_era(Era::Legacy) && Route::CallTool.in_era(Era::Modern));
        assert!(Route::TaskResult.is_task() && !Route::CallTool.is_task());
        assert!(Route::GetTask.in_era(Era::Legacy) && Route::GetTask.in_era(Era::Modern));
        assert!(Route::UpdateTask.in_era(Era::Modern) && !Route::UpdateTask.in_era(Era::Legacy));
        assert!(!Route::TaskResult.in_era(Era::Modern) && !Route::ListTasks.in_era(Era::Modern));
    }
}
