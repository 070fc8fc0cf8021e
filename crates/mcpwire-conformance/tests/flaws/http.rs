//! Flaws of the http checks.

use crate::support::Case;

pub(crate) const CASES: &[Case] = &[];
