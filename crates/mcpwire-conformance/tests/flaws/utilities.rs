//! Flaws of the utilities checks.

use crate::support::Case;

pub(crate) const CASES: &[Case] = &[];
