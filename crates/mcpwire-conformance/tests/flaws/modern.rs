//! Flaws of the modern checks.

use crate::support::Case;

pub(crate) const CASES: &[Case] = &[];
