//! Paginated listing, both halves: the opaque cursors a lister hands out ([`page`]) and the
//! loop a caller follows them with ([`Page`], [`Cursors`]).

use std::collections::HashSet;

use mcpwire_jsonrpc::ErrorObject;
use mcpwire_schema::v2025_11_25::{
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListTasksResult,
    ListToolsResult, Prompt, Resource, ResourceTemplate, Task, Tool,
};

/// Cursors are the name of the last item of the previous page, behind a prefix that marks
/// them as ours; items are sorted by name, so a page boundary survives additions and removals.
const PREFIX: &str = "after:";

/// Longest cursor accepted.
const MAX_CURSOR: usize = 1024;

/// Returns the page of `names` (sorted) that follows `cursor`, as an index range, and the next
/// cursor when more items follow.
///
/// # Errors
///
/// Invalid params (-32602) for a cursor this function did not hand out.
///
/// ```
/// use mcpwire_protocol::pagination::page;
///
/// let names = ["a", "b", "c"];
/// let (first, next) = page(&names, None, 2).unwrap();
/// assert_eq!(first, 0..2);
/// let (second, next) = page(&names, next.as_deref(), 2).unwrap();
/// assert_eq!((second, next), (2..3, None));
/// ```
pub fn page(
    names: &[&str],
    cursor: Option<&str>,
    page_size: usize,
) -> Result<(std::ops::Range<usize>, Option<String>), ErrorObject> {
    let start = match cursor {
        None => 0,
        Some(cursor) => {
            let after = cursor
                .strip_prefix(PREFIX)
                .filter(|_| cursor.len() <= MAX_CURSOR)
                .ok_or_else(|| ErrorObject::invalid_params("invalid cursor"))?;
            names.partition_point(|name| *name <= after)
        }
    };
    let end = start.saturating_add(page_size.max(1)).min(names.len());
    let next = (end < names.len() && end > 0).then(|| format!("{PREFIX}{}", names[end - 1]));
    Ok((start..end, next))
}

/// The most pages a listing follows before it gives up with an error.
pub const MAX_PAGES: usize = 1000;

/// A page of a paginated listing: its items and the cursor of the next page.
pub trait Page {
    /// What the listing lists.
    type Item;

    /// The items of this page, and the cursor of the next one.
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

macro_rules! pages {
    ($($result:ty => $item:ty, $field:ident;)*) => {
        $(
            impl Page for $result {
                type Item = $item;

                fn into_parts(self) -> (Vec<$item>, Option<String>) {
                    (self.$field, self.next_cursor)
                }
            }
        )*
    };
}

pages! {
    ListToolsResult => Tool, tools;
    ListResourcesResult => Resource, resources;
    ListResourceTemplatesResult => ResourceTemplate, resource_templates;
    ListPromptsResult => Prompt, prompts;
    ListTasksResult => Task, tasks;
}

/// The cursors a listing has followed, to stop a lister that sends one twice.
#[derive(Debug, Default)]
pub struct Cursors {
    seen: HashSet<String>,
}

/// What to do after a page.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Ask for the page at this cursor.
    Page(String),
    /// The listing is complete.
    Done,
    /// The lister sent a cursor it sent before.
    Repeated,
}

impl Cursors {
    /// What follows a page whose next cursor is `cursor`.
    pub fn next(&mut self, cursor: Option<String>) -> Next {
        match cursor {
            None => Next::Done,
            Some(cursor) if self.seen.insert(cursor.clone()) => Next::Page(cursor),
            Some(_) => Next::Repeated,
        }
    }
}

/// Pages through a fixed list from the cursor in `data` (after a byte giving the page size),
/// as a lister does with a cursor a client sent: a cursor that was not handed out is refused
/// with `-32602`, an accepted one gives a range inside the list, and the next cursor it hands
/// out continues exactly where the page ended.
///
/// # Panics
///
/// Panics when one of those breaks.
#[doc(hidden)]
pub fn fuzz_cursor(data: &[u8]) {
    const NAMES: [&str; 7] = ["", "a", "a/b", "ab", "b", "z", "\u{e9}"];
    let Some((&size, cursor)) = data.split_first() else {
        return;
    };
    let size = usize::from(size % 9);
    let cursor = String::from_utf8_lossy(cursor);
    match page(&NAMES, Some(&cursor), size) {
        Ok((range, next)) => {
            assert!(range.start <= range.end && range.end <= NAMES.len());
            if let Some(next) = next {
                let (following, _) = page(&NAMES, Some(&next), size).expect("our own cursor");
                assert_eq!(following.start, range.end, "the next page does not follow");
            }
        }
        Err(error) => assert_eq!(error.code, mcpwire_jsonrpc::ErrorCode::INVALID_PARAMS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_each_other_and_end() {
        let names = ["a", "b", "c", "d", "e"];
        let (range, next) = page(&names, None, 2).expect("page");
        assert_eq!((range, next.as_deref()), (0..2, Some("after:b")));
        let (range, next) = page(&names, next.as_deref(), 2).expect("page");
        assert_eq!((range, next.as_deref()), (2..4, Some("after:d")));
        let (range, next) = page(&names, next.as_deref(), 2).expect("page");
        assert_eq!((range, next), (4..5, None));
    }

    #[test]
    fn foreign_cursors_are_invalid_params() {
        let error = page(&["a"], Some("garbage"), 2).expect_err("invalid");
        assert_eq!(error.code, mcpwire_jsonrpc::ErrorCode::INVALID_PARAMS);
        let long = format!("after:{}", "x".repeat(2000));
        assert!(page(&["a"], Some(&long), 2).is_err());
    }

    #[test]
    fn a_repeated_cursor_stops_the_loop() {
        let mut cursors = Cursors::default();
        assert_eq!(cursors.next(Some("c1".into())), Next::Page("c1".into()));
        assert_eq!(cursors.next(Some("c1".into())), Next::Repeated);
        assert_eq!(cursors.next(None), Next::Done);
    }
}
