//! The Streamable HTTP transport: statuses, headers, sessions, SSE framing and resumption,
//! Origin and Host checks, and the modern era's request headers.

use crate::check::Check;

pub(crate) fn checks() -> Vec<Check> {
    Vec::new()
}
