//! Seeded randomness without a crate, so that a run can be replayed from its seed.

use std::time::{SystemTime, UNIX_EPOCH};

use super::env::env_number;

/// splitmix64: a bijective mix, used for derived sizes and bytes, and the step of [`Rng`].
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A small deterministic PRNG: the same seed gives the same numbers.
pub struct Rng(pub u64);

impl Rng {
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = mix(self.0);
        self.0 % n
    }
}

/// The seed in the environment variable `name` (to replay a run), else a new one from the clock
/// and the process id.
pub fn seed_from_env_or_clock(name: &str) -> u64 {
    env_number(name).unwrap_or_else(|| {
        let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        mix(t.as_nanos() as u64 ^ u64::from(std::process::id()))
    })
}
