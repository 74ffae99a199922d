//! Numbers from environment variables (case counts, sequence lengths, seeds), and the proptest
//! settings built on them.

use std::str::FromStr;

use proptest::test_runner::Config;

/// Sets the number of cases of each proptest test (each has its own small default).
pub const PROPTEST_CASES_ENV: &str = "LIGHTNING_PROPTEST_CASES";

/// The number in the environment variable `name`, if it is set; panics if it is not a whole
/// number (a typo must not silently run the default).
pub fn env_number<T: FromStr>(name: &str) -> Option<T> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a whole number")),
    )
}

/// The proptest settings of a model test: `default_cases` cases unless
/// `LIGHTNING_PROPTEST_CASES` sets another number, no regression files, and room to shrink a long
/// failing sequence.
pub fn proptest_config(default_cases: u32) -> Config {
    Config {
        cases: env_number(PROPTEST_CASES_ENV).unwrap_or(default_cases),
        // No regression files are written into the source tree.
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    }
}
