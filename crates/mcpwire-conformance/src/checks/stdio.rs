//! The stdio transport: one message per line, nothing else on stdout, the end of a session.

use crate::check::Check;

pub(crate) fn checks() -> Vec<Check> {
    Vec::new()
}
