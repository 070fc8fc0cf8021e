//! Following `nextCursor` through the pages of a listing.

use std::collections::HashSet;

use mcpwire_schema::v2025_11_25::{
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, Prompt,
    Resource, ResourceTemplate, Tool,
};

/// The most pages a listing follows before it gives up with an error.
pub(crate) const MAX_PAGES: usize = 1000;

/// A page of a paginated listing: its items and the cursor of the next page.
pub(crate) trait Page {
    type Item;

    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

impl Page for ListToolsResult {
    type Item = Tool;

    fn into_parts(self) -> (Vec<Tool>, Option<String>) {
        (self.tools, self.next_cursor)
    }
}

impl Page for ListResourcesResult {
    type Item = Resource;

    fn into_parts(self) -> (Vec<Resource>, Option<String>) {
        (self.resources, self.next_cursor)
    }
}

impl Page for ListResourceTemplatesResult {
    type Item = ResourceTemplate;

    fn into_parts(self) -> (Vec<ResourceTemplate>, Option<String>) {
        (self.resource_templates, self.next_cursor)
    }
}

impl Page for ListPromptsResult {
    type Item = Prompt;

    fn into_parts(self) -> (Vec<Prompt>, Option<String>) {
        (self.prompts, self.next_cursor)
    }
}

/// The cursors a listing has followed, to stop a server that sends one twice.
#[derive(Default)]
pub(crate) struct Cursors {
    seen: HashSet<String>,
}

/// What to do after a page.
pub(crate) enum Next {
    /// Ask for the page at this cursor.
    Page(String),
    /// The listing is complete.
    Done,
    /// The server sent a cursor it sent before.
    Repeated,
}

impl Cursors {
    pub(crate) fn next(&mut self, cursor: Option<String>) -> Next {
        match cursor {
            None => Next::Done,
            Some(cursor) if self.seen.insert(cursor.clone()) => Next::Page(cursor),
            Some(_) => Next::Repeated,
        }
    }
}

impl Page for mcpwire_schema::v2025_11_25::ListTasksResult {
    type Item = mcpwire_schema::v2025_11_25::Task;

    fn into_parts(self) -> (Vec<Self::Item>, Option<String>) {
        (self.tasks, self.next_cursor)
    }
}
