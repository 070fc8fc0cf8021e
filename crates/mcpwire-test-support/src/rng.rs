//! A small seeded random number generator for property and fault tests, so that a failure
//! names the seed that reproduces it.

/// The environment variable that replaces a test's default seed, to reproduce a failure or to
/// explore other inputs.
pub const SEED_VARIABLE: &str = "MCPWIRE_TEST_SEED";

/// The seed a test runs with: [`SEED_VARIABLE`] when it is set to a number, otherwise
/// `default`, so that the normal test run is deterministic.
///
/// # Panics
///
/// Panics when the variable is set but is not a number.
pub fn test_seed(default: u64) -> u64 {
    match std::env::var(SEED_VARIABLE) {
        Ok(value) => value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{SEED_VARIABLE} must be a number, not {value:?}")),
        Err(_) => default,
    }
}

/// SplitMix64: fast, good enough for choosing test inputs, and the same on every platform.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator that yields the same numbers for the same seed.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut mixed = self.state;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        mixed ^ (mixed >> 31)
    }

    /// A number in `0..bound`.
    ///
    /// # Panics
    ///
    /// Panics when `bound` is zero.
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "an empty range has no member");
        // The modulo bias is far below anything a test could notice.
        self.next_u64() % bound
    }

    /// A number in `low..=high`.
    ///
    /// # Panics
    ///
    /// Panics when `low > high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        assert!(low <= high, "{low}..={high} is empty");
        match (high - low).checked_add(1) {
            Some(span) => low + self.below(span),
            None => self.next_u64(),
        }
    }

    /// `true` with probability `numerator / denominator`.
    pub fn chance(&mut self, numerator: u64, denominator: u64) -> bool {
        self.below(denominator) < numerator
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_numbers_and_ranges_hold() {
        let mut first = Rng::new(7);
        let mut second = Rng::new(7);
        for _ in 0..1000 {
            assert_eq!(first.next_u64(), second.next_u64());
            let value = first.between(3, 9);
            second.between(3, 9);
            assert!((3..=9).contains(&value));
        }
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
        assert_eq!(Rng::new(5).between(4, 4), 4);
    }
}
