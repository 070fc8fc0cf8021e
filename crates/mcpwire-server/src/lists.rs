//! The server's lists whose changes clients can follow, in both eras.

/// One of the server's lists, whose changes clients can follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListKind {
    /// The tools (`notifications/tools/list_changed`).
    Tools,
    /// The prompts (`notifications/prompts/list_changed`).
    Prompts,
    /// The resources (`notifications/resources/list_changed`).
    Resources,
}

impl ListKind {
    /// The notification that announces a change of this list.
    pub const fn notification(self) -> &'static str {
        match self {
            ListKind::Tools => "notifications/tools/list_changed",
            ListKind::Prompts => "notifications/prompts/list_changed",
            ListKind::Resources => "notifications/resources/list_changed",
        }
    }

    /// The list's name, as its capability names it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ListKind::Tools => "tools",
            ListKind::Prompts => "prompts",
            ListKind::Resources => "resources",
        }
    }
}
