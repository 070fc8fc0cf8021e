//! Flaws of the features checks.

use crate::support::Case;

pub(crate) const CASES: &[Case] = &[];
