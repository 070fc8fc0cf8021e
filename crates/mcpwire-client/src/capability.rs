//! Which server capability each client request needs.

use mcpwire_schema::v2025_11_25::ServerCapabilities;

/// The server capability `method` needs, named as in the capability object, or `None` when the
/// method needs none (`initialize`, `ping`) or is not a method of the specification (the raw
/// path lets extensions through unchecked).
pub(crate) fn required_by(method: &str) -> Option<&'static str> {
    Some(match method {
        "tools/list" | "tools/call" => "tools",
        "resources/list" | "resources/templates/list" | "resources/read" => "resources",
        "resources/subscribe" | "resources/unsubscribe" => "resources.subscribe",
        "prompts/list" | "prompts/get" => "prompts",
        "logging/setLevel" => "logging",
        "completion/complete" => "completions",
        "tasks/get" | "tasks/result" => "tasks",
        // Not a method: the capability a task-augmented `tools/call` needs.
        "tools/call as a task" => "tasks.requests.tools.call",
        "tasks/list" => "tasks.list",
        "tasks/cancel" => "tasks.cancel",
        _ => return None,
    })
}

/// The capability the methods of the tasks extension need on both sides, as an error names it.
#[cfg(feature = "tasks")]
pub(crate) const TASKS_EXTENSION: &str = "extensions.io.modelcontextprotocol/tasks";

/// Whether `method` is a request of the tasks extension (2026-07-28), which in the modern era
/// needs [`TASKS_EXTENSION`] instead of the core `tasks` capability of 2025-11-25.
#[cfg(feature = "tasks")]
pub(crate) fn is_tasks_extension_method(method: &str) -> bool {
    ["tasks/get", "tasks/update", "tasks/cancel"].contains(&method)
}

/// Whether `capabilities` declare `capability`, a name [`required_by`] returns.
pub(crate) fn declared(capabilities: &ServerCapabilities, capability: &str) -> bool {
    match capability {
        "tools" => capabilities.tools.is_some(),
        "resources" => capabilities.resources.is_some(),
        "resources.subscribe" => capabilities
            .resources
            .as_ref()
            .is_some_and(|resources| resources.subscribe == Some(true)),
        "prompts" => capabilities.prompts.is_some(),
        "logging" => capabilities.logging.is_some(),
        "completions" => capabilities.completions.is_some(),
        "tasks" => capabilities.tasks.is_some(),
        "tasks.list" => capabilities
            .tasks
            .as_ref()
            .is_some_and(|tasks| tasks.list.is_some()),
        "tasks.cancel" => capabilities
            .tasks
            .as_ref()
            .is_some_and(|tasks| tasks.cancel.is_some()),
        "tasks.requests.tools.call" => capabilities
            .tasks
            .as_ref()
            .and_then(|tasks| tasks.requests.as_ref())
            .and_then(|requests| requests.tools.as_ref())
            .is_some_and(|tools| tools.call.is_some()),
        _ => true,
    }
}

/// The capability `method` needs that `capabilities` lack, if any.
pub(crate) fn missing(capabilities: &ServerCapabilities, method: &str) -> Option<&'static str> {
    required_by(method).filter(|capability| !declared(capabilities, capability))
}

#[cfg(test)]
mod tests {
    use mcpwire_schema::v2025_11_25::{ServerCapabilitiesResources, ServerCapabilitiesTools};

    use super::*;

    #[test]
    fn ping_and_initialize_need_nothing() {
        let none = ServerCapabilities::default();
        assert_eq!(missing(&none, "ping"), None);
        assert_eq!(missing(&none, "initialize"), None);
        assert_eq!(missing(&none, "vendor/extension"), None);
    }

    #[test]
    fn each_family_needs_its_capability() {
        let none = ServerCapabilities::default();
        assert_eq!(missing(&none, "tools/call"), Some("tools"));
        assert_eq!(missing(&none, "resources/read"), Some("resources"));
        assert_eq!(missing(&none, "prompts/get"), Some("prompts"));
        assert_eq!(missing(&none, "logging/setLevel"), Some("logging"));
        assert_eq!(missing(&none, "completion/complete"), Some("completions"));
        assert_eq!(missing(&none, "tasks/list"), Some("tasks.list"));

        let tools_and_resources = ServerCapabilities {
            tools: Some(ServerCapabilitiesTools::default()),
            resources: Some(ServerCapabilitiesResources::default()),
            ..ServerCapabilities::default()
        };
        assert_eq!(missing(&tools_and_resources, "tools/list"), None);
        assert_eq!(missing(&tools_and_resources, "resources/list"), None);
        // Subscribing needs `resources.subscribe: true`, not just `resources`.
        assert_eq!(
            missing(&tools_and_resources, "resources/subscribe"),
            Some("resources.subscribe")
        );
    }
}
