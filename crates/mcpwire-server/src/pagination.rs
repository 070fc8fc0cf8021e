//! Opaque cursors over the server's sorted lists.

use mcpwire_jsonrpc::ErrorObject;

/// Cursors are the name of the last item of the previous page, behind a prefix that marks
/// them as ours; items are sorted by name, so a page boundary survives additions and removals.
const PREFIX: &str = "after:";

/// Longest cursor accepted.
const MAX_CURSOR: usize = 1024;

/// Returns the page of `names` (sorted) that follows `cursor`, as an index range, and the next
/// cursor when more items follow.
pub(crate) fn page(
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
}
