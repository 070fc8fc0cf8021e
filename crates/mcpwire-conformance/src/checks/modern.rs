//! The modern era's (2026-07-28) own rules: `server/discover`, per-request `_meta`,
//! `resultType`, removed methods and error codes, subscriptions, caching hints.

use crate::check::Check;

pub(crate) fn checks() -> Vec<Check> {
    Vec::new()
}
